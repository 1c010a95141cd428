import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createApp, type GatewayApp } from '../../src/app';
import { loadConfig } from '../../src/config/load';
import { createMemoryLogger } from './memory-logger';
import { keepForSweep } from './log-sweep';
import { serveOnFreePort } from './live-http';

/**
 * The pass-through (V4 paths, and the legacy backend for paths the gateway does not translate),
 * on real sockets: a scripted upstream on port 0 records what it received, the gateway on port 0
 * forwards to it, and a plain node client calls the gateway.
 */

const KEY = 'pt-test-key-0001';
const V4 = '/api/user/management/v4/users';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  body: string;
  closedEarly: boolean;
}

type Script = (req: http.IncomingMessage, res: http.ServerResponse, received: Received) => void;

/** An upstream whose answer to each path is scripted by the test. */
async function startUpstream(): Promise<{ url: string; port: number; received: Received[]; script: Map<string, Script>; close(): Promise<void> }> {
  const received: Received[] = [];
  const script = new Map<string, Script>();
  const server = http.createServer((req, res) => {
    const record: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '', closedEarly: false };
    received.push(record);
    req.on('data', (chunk: Buffer) => (record.body += chunk.toString('utf8')));
    res.on('close', () => {
      if (!res.writableFinished) record.closedEarly = true;
    });
    const path = (req.url ?? '').split('?')[0] ?? '';
    const answer = script.get(path);
    if (answer !== undefined) {
      answer(req, res, record);
      return;
    }
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Answer {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: string;
}

/** One call on a fresh connection, with a deadline; `rawHeaders` as the client received them. */
function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false, timeout: 5_000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, rawHeaders: res.rawHeaders, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 5 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

function until(check: () => boolean, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

describe('the pass-through on real sockets', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let gateway: GatewayApp;
  let served: { port: number; close(): Promise<void> };
  let lines: string[];
  let plainEmails = false;

  beforeAll(async () => {
    upstream = await startUpstream();
    const memory = createMemoryLogger('debug');
    lines = memory.lines;
    // The upstream is both V4 (with a base path, to check the join) and the legacy backend.
    const config = loadConfig({ env: {}, overrides: { v4BaseUrl: `${upstream.url}/base/`, v4ApiKey: KEY, legacyBaseUrl: upstream.url, upstreamTimeoutMs: 300 } });
    plainEmails = config.logEmails === 'plain';
    gateway = createApp(config, { logger: memory.logger, translations: memory.translations });
    served = await serveOnFreePort(gateway.listener);
  });

  afterAll(async () => {
    keepForSweep(lines, plainEmails);
    await served.close();
    gateway.close();
    await upstream.close();
  });

  beforeEach(() => {
    upstream.received.length = 0;
    upstream.script.clear();
  });

  const lineOf = (requestId: string): Record<string, unknown> | undefined =>
    lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.message === 'translation' && line.request_id === requestId);

  it('forwards method, path and query, the caller’s headers minus hop-by-hop ones, Host rewritten, X-Request-Id added, no X-Forwarded-*', async () => {
    const res = await call(served.port, 'GET', `${V4}?limit=2&x=a%20b`, {
      authorization: 'Apikey caller-own-key',
      'x-custom': 'kept',
      connection: 'close, x-private',
      'x-private': 'hop-by-hop because Connection names it',
      'keep-alive': 'timeout=1',
      te: 'trailers',
      'proxy-connection': 'keep-alive',
    });
    expect(res.status).toBe(200);
    expect(res.body).toBe('{"ok":true}');
    expect(upstream.received).toHaveLength(1);
    const got = upstream.received[0] as Received;
    expect(got.method).toBe('GET');
    expect(got.url).toBe(`/base${V4}?limit=2&x=a%20b`);
    expect(got.headers.host).toBe(`127.0.0.1:${upstream.port}`);
    expect(got.headers['x-request-id']).toBe(res.headers['x-request-id']);
    expect(got.headers.authorization).toBe('Apikey caller-own-key');
    expect(got.headers['x-custom']).toBe('kept');
    for (const gone of ['x-private', 'keep-alive', 'te', 'proxy-connection', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port']) {
      expect(got.headers[gone]).toBeUndefined();
    }
    // The gateway's own keep-alive socket to the upstream, whatever the caller asked of its own.
    expect(got.headers.connection).toBe('keep-alive');
    expect(lineOf(res.headers['x-request-id'] as string)).toMatchObject({ route: 'v4-passthrough', v4_method: 'GET', v4_path: `${V4}`, v4_status: 200, v4_calls: 1, legacy_status: 200 });
  });

  it('gives a V4 call without Authorization the configured key, and the legacy backend the request as it came', async () => {
    await call(served.port, 'GET', V4);
    await call(served.port, 'GET', '/api/management/roles');
    expect(upstream.received.map((r) => [r.url, r.headers.authorization])).toEqual([
      [`/base${V4}`, `Apikey ${KEY}`],
      ['/api/management/roles', undefined],
    ]);
  });

  it('answers with the upstream’s status, reason and headers (duplicates kept), minus hop-by-hop ones', async () => {
    upstream.script.set('/api/management/teapot', (req, res) => {
      req.resume();
      res.statusMessage = 'Made Here';
      res.setHeader('content-type', 'text/plain');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('x-answer', 'kept');
      res.setHeader('connection', 'keep-alive, x-answer-private');
      res.setHeader('x-answer-private', 'hop-by-hop');
      res.setHeader('keep-alive', 'timeout=1');
      res.writeHead(201);
      res.end('made');
    });
    const res = await call(served.port, 'POST', '/api/management/teapot', { 'content-type': 'text/plain' }, 'hello');
    expect({ status: res.status, reason: res.statusMessage, body: res.body }).toEqual({ status: 201, reason: 'Made Here', body: 'made' });
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers['x-answer']).toBe('kept');
    expect(res.headers['x-answer-private']).toBeUndefined();
    // The client's connection is the gateway's: not the upstream's Keep-Alive timeout.
    expect(res.headers['keep-alive']).toBeUndefined();
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(upstream.received[0]?.body).toBe('hello');
  });

  it('never follows a redirect: the client gets it, the upstream saw one request', async () => {
    upstream.script.set('/api/management/moved', (req, res) => {
      req.resume();
      res.writeHead(302, { location: `${upstream.url}/api/management/elsewhere` });
      res.end();
    });
    const res = await call(served.port, 'GET', '/api/management/moved');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`${upstream.url}/api/management/elsewhere`);
    expect(upstream.received.map((r) => r.url)).toEqual(['/api/management/moved']);
  });

  it('sends a DELETE without a body with no framing at all (RFC 9110 §8.6), and it arrives whole', async () => {
    const res = await call(served.port, 'DELETE', `${V4}/u-1`);
    expect(res.status).toBe(200);
    expect(upstream.received[0]).toMatchObject({ method: 'DELETE', url: `/base${V4}/u-1`, body: '' });
    expect(upstream.received[0]?.headers['content-length']).toBeUndefined();
    expect(upstream.received[0]?.headers['transfer-encoding']).toBeUndefined();
  });

  it('answers 504 UPSTREAM_TIMEOUT when the upstream’s first byte is late, and ends the upstream call', async () => {
    upstream.script.set(`/base${V4}/slow`, () => {
      // never answers
    });
    const res = await call(served.port, 'GET', `${V4}/slow`, { 'x-request-id': 'pt-slow-1' });
    expect(res.status).toBe(504);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'UPSTREAM_TIMEOUT', request_id: 'pt-slow-1' } });
    expect(lineOf('pt-slow-1')).toMatchObject({ route: 'v4-passthrough', error_code: 'UPSTREAM_TIMEOUT', upstream_failure: 'timeout', legacy_status: 504, v4_calls: 1 });
    await until(() => upstream.received[0]?.closedEarly === true, 'the upstream to see its request end');
  });

  it('cuts the client’s connection when the upstream fails mid-answer', async () => {
    upstream.script.set('/api/management/half', (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await expect(call(served.port, 'GET', '/api/management/half', { 'x-request-id': 'pt-half-1' })).rejects.toThrow(/aborted|hang up|ECONNRESET/);
    await until(() => lineOf('pt-half-1') !== undefined, 'the log line');
    expect(lineOf('pt-half-1')).toMatchObject({ route: 'legacy-backend', legacy_status: 200, reason: expect.stringMatching(/^upstream failed mid-answer/) as unknown, client_aborted: true });
  });

  it('cuts the client’s connection when the upstream stalls mid-answer past the deadline', async () => {
    upstream.script.set('/api/management/stall', (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data":[');
      // and nothing more
    });
    await expect(call(served.port, 'GET', '/api/management/stall', { 'x-request-id': 'pt-stall-1' })).rejects.toThrow(/aborted|hang up|ECONNRESET/);
    await until(() => lineOf('pt-stall-1') !== undefined, 'the log line');
    expect(lineOf('pt-stall-1')).toMatchObject({ reason: expect.stringMatching(/stalled mid-answer/) as unknown });
    await until(() => upstream.received[0]?.closedEarly === true, 'the upstream answer to be ended');
  });

  it('says a write that timed out may have been applied (outcome unknown), a read that timed out not', async () => {
    upstream.script.set(`/base${V4}`, (req) => {
      req.resume(); // received, never answered
    });
    const write = await call(served.port, 'POST', V4, { 'content-type': 'application/json', 'x-request-id': 'pt-write-1' }, '{"name":"x"}');
    expect(write.status).toBe(504);
    expect((JSON.parse(write.body) as { error: { message: string } }).error.message).toMatch(/may or may not have been applied/);
    expect(lineOf('pt-write-1')).toMatchObject({ error_code: 'UPSTREAM_TIMEOUT', outcome_unknown: true });
    const read = await call(served.port, 'GET', V4, { 'x-request-id': 'pt-read-1' });
    expect(read.status).toBe(504);
    expect((JSON.parse(read.body) as { error: { message: string } }).error.message).not.toMatch(/may or may not/);
    expect(lineOf('pt-read-1')?.outcome_unknown).toBeUndefined();
  });

  it('keeps the gateway’s own X-Request-Id over an upstream’s', async () => {
    upstream.script.set('/api/management/own-id', (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'upstream-made-id', link: '</next>; rel="next"' });
      res.end('{}');
    });
    const res = await call(served.port, 'GET', '/api/management/own-id', { 'x-request-id': 'pt-own-1' });
    expect(res.headers['x-request-id']).toBe('pt-own-1');
    expect(res.headers.link).toBe('</next>; rel="next"');
  });

  it('ends the upstream request when the client leaves first', async () => {
    upstream.script.set('/api/management/hold', () => {
      // holds the request until the client gives up
    });
    const client = http.request({ host: '127.0.0.1', port: served.port, method: 'GET', path: '/api/management/hold', agent: false });
    client.on('error', () => undefined);
    client.end();
    await until(() => upstream.received.length === 1, 'the upstream to get the request');
    client.destroy();
    await until(() => upstream.received[0]?.closedEarly === true, 'the upstream request to end');
  });

  it('answers a caller’s Expect: 100-continue itself and sends the body on without the Expect header', async () => {
    const answer = await new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5_000);
      const body = '{"name":"continued"}';
      const client = http.request(
        { host: '127.0.0.1', port: served.port, method: 'POST', path: `${V4}`, agent: false, headers: { expect: '100-continue', 'content-type': 'application/json', 'content-length': String(body.length) } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, rawHeaders: res.rawHeaders, body: text });
          });
        },
      );
      client.on('continue', () => client.end(body));
      client.on('error', reject);
    });
    expect(answer).toMatchObject({ status: 200, body: '{"ok":true}' });
    expect(upstream.received[0]).toMatchObject({ method: 'POST', body: '{"name":"continued"}' });
    expect(upstream.received[0]?.headers.expect).toBeUndefined();
  });

  it('closes the client’s connection after an upstream answered before the request body was all in (its next request would wait for nothing)', async () => {
    upstream.script.set('/api/management/early', (_req, res) => {
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
      res.end('too big');
    });
    const seen = await new Promise<{ head: string; closed: boolean }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('neither an answer nor a close within 5 s')), 5_000);
      const socket = net.connect(served.port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        // The answer arrived: ask again on the same connection, as a keep-alive client would.
        if (text.includes('too big') && !socket.writableEnded) socket.write('GET /api/management/again HTTP/1.1\r\nhost: x\r\n\r\n');
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ head: text.split('\r\n\r\n')[0] ?? '', closed: true });
      });
      socket.on('error', () => undefined);
      socket.write('POST /api/management/early HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ncontent-length: 1000000\r\n\r\n');
      socket.write('a'.repeat(64 * 1024));
    });
    expect(seen.head).toMatch(/^HTTP\/1\.1 413 /);
    expect(seen.head.toLowerCase()).toContain('connection: close');
    expect(seen.closed).toBe(true);
  });

  it('streams the request body: the upstream answers before the client has sent all of it', async () => {
    upstream.script.set('/api/management/stream', (req, res, record) => {
      req.once('data', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first chunk seen;');
      });
      req.on('end', () => res.end(`all ${record.body.length} bytes`));
    });
    const text = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5_000);
      const client = http.request({ host: '127.0.0.1', port: served.port, method: 'PUT', path: '/api/management/stream', agent: false, headers: { 'content-type': 'text/plain' } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
          // Only once the answer began does the client send the rest: a buffering proxy would wait forever.
          if (body === 'first chunk seen;') client.end('b'.repeat(999));
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve(body);
        });
      });
      client.on('error', reject);
      client.write('a'.repeat(1_000));
    });
    expect(text).toBe('first chunk seen;all 1999 bytes');
    expect(upstream.received[0]?.headers['transfer-encoding']).toBe('chunked');
  });

  it('answers 502 UPSTREAM_ERROR when the upstream cannot be reached', async () => {
    const closed = await startUpstream();
    await closed.close();
    const memory = createMemoryLogger('debug');
    const config = loadConfig({ env: {}, overrides: { v4BaseUrl: closed.url, v4ApiKey: KEY, legacyBaseUrl: closed.url, upstreamTimeoutMs: 1_000 } });
    const orphan = createApp(config, { logger: memory.logger, translations: memory.translations });
    const server = await serveOnFreePort(orphan.listener);
    try {
      for (const path of [V4, '/api/management/roles']) {
        const res = await call(server.port, 'GET', path);
        expect(res.status).toBe(502);
        expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'UPSTREAM_ERROR', request_id: res.headers['x-request-id'] } });
      }
      expect(memory.lines.filter((line) => line.includes('"upstream_failure":"connect"'))).toHaveLength(2);
    } finally {
      keepForSweep(memory.lines, config.logEmails === 'plain');
      await server.close();
      orphan.close();
    }
  });
});
