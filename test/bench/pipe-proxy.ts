/**
 * The least a Node proxy can do: a hand-written `node:http` pipe. The request is piped to V4 over
 * a keep-alive http.Agent and the answer is piped back with its status and headers; nothing else
 * (no parsing, no logging, no request id, no header rewriting beyond Host). Same server limits as
 * the gateway (src/server.ts createServer). The reference of issue 14's targets.
 *   env BENCH_TARGET  the V4 base URL
 * Prints one JSON line `{"port":…,"url":…}` on stdout once it listens.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from '../../src/server';
import type { ListeningLine } from './protocol';

async function main(): Promise<void> {
  const target = process.env.BENCH_TARGET;
  if (target === undefined || target === '') throw new Error('BENCH_TARGET is not set');
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const server = createServer((req, res) => {
    const headers = { ...req.headers, host: upstream.host };
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    // A bench never sees these; they keep a broken upstream from hanging the caller.
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const line: ListeningLine = { port, url: `http://127.0.0.1:${port}` };
  process.stdout.write(`${JSON.stringify(line)}\n`);

  const stop = (): void => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    agent.destroy();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  if (process.send !== undefined) {
    process.on('disconnect', () => process.exit(0));
    process.channel?.unref();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`pipe-proxy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
