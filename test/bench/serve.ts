import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { legacyUserPath } from './fixtures';
import { round } from './load';

/** Listens on 127.0.0.1, port 0; resolves the base URL and a closer. */
export async function listenLocal(listener: http.RequestListener): Promise<{ url: string; port: number; close: () => Promise<void> }> {
  const server = http.createServer(listener);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One HTTP request over a shared keep-alive agent; resolves status and body. */
export function call(agent: http.Agent, base: string, method: string, path: string, body?: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = http.request({ hostname: url.hostname, port: url.port, path: url.pathname + url.search, method, agent, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('bench request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `total` tasks with at most `concurrency` in flight. */
export async function runPool(total: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const index = next;
      next += 1;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
}

/** One streamed GET; counts bytes without keeping more than the body (parsed for its length). */
export function fetchList(base: string, path: string, authorization: string): Promise<{ status: number; bytes: number; users: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = http.request({ hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers: { authorization }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        chunks.push(chunk);
      });
      res.on('end', () => {
        let users = -1;
        try {
          const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString());
          users = Array.isArray(parsed) ? parsed.length : -1;
        } catch {
          users = -1;
        }
        resolve({ status: res.statusCode ?? 0, bytes, users, ms: round(performance.now() - started, 0) });
      });
      res.on('error', reject);
    });
    req.setTimeout(300_000, () => req.destroy(new Error('list request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Looks every one of the first `users` seeded users up once through a gateway (its cache warm); how many GETs failed. */
export async function warmGatewayCache(gatewayUrl: string, users: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let failed = 0;
  try {
    await runPool(users, 8, async (i) => {
      const res = await call(agent, gatewayUrl, 'GET', legacyUserPath(i));
      if (res.status !== 200) failed += 1;
    });
  } finally {
    agent.destroy();
  }
  return failed;
}
