/**
 * The baseline a team might hand-roll: bare Express 5 + http-proxy-middleware 3, passing every
 * request through to V4 unchanged over keep-alive sockets. Same server limits as the gateway
 * (src/server.ts createServer), nothing else: no request id, no logging, no translation.
 *   env BENCH_TARGET  the V4 base URL
 * Prints one JSON line `{"port":…,"url":…}` on stdout once it listens.
 */
import http from 'node:http';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { createServer } from '../../src/server';
import { runChild, serveAsChild } from './child-server';

async function main(): Promise<void> {
  const target = process.env.BENCH_TARGET;
  if (target === undefined || target === '') throw new Error('BENCH_TARGET is not set');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const app = express();
  app.use(createProxyMiddleware({ target, changeOrigin: true, agent }));
  const server = createServer(app);
  await serveAsChild(server, () => agent.destroy());
}

runChild('bare-proxy', main);
