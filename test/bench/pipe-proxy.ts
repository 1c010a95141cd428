/**
 * The least a Node proxy can do: a hand-written `node:http` pipe. The request is piped to V4 over
 * a keep-alive http.Agent and the answer is piped back with its status and headers; nothing else
 * (no parsing, no logging, no request id, no header rewriting beyond Host). Same server limits as
 * the gateway (src/server.ts createServer). The reference of issue 14's targets.
 *   env BENCH_TARGET  the V4 base URL
 * Prints one JSON line `{"port":…,"url":…}` on stdout once it listens.
 */
import http from 'node:http';
import { createServer } from '../../src/server';
import { runChild, serveAsChild } from './child-server';

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
  await serveAsChild(server, () => agent.destroy());
}

runChild('pipe-proxy', main);
