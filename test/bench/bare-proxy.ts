/**
 * The baseline a team might hand-roll: bare Express 5 + http-proxy-middleware 3, passing every
 * request through to V4 unchanged over keep-alive sockets. Same server limits as the gateway
 * (src/server.ts createServer), nothing else: no request id, no logging, no translation.
 *   env BENCH_TARGET  the V4 base URL
 * Prints one JSON line `{"port":…,"url":…}` on stdout once it listens.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { createServer } from '../../src/server';
import type { ListeningLine } from './protocol';

async function main(): Promise<void> {
  const target = process.env.BENCH_TARGET;
  if (target === undefined || target === '') throw new Error('BENCH_TARGET is not set');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const app = express();
  app.use(createProxyMiddleware({ target, changeOrigin: true, agent }));
  const server = createServer(app);
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
  process.stderr.write(`bare-proxy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
