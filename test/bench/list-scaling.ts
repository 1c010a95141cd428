/**
 * Peak RSS of a fresh gateway answering one list of N users, for several N: does memory stay
 * flat however many users there are? `tsc -p tsconfig.bench.json && node dist/test/bench/list-scaling.js`
 * env LIST_SIZES (comma-separated, default 10000,50000,100000,200000); GATEWAY_NODE_ARGS (node
 * flags for the gateway, e.g. `--max-semi-space-size=4` or `--trace-gc`); GATEWAY_LOG (a file for
 * the gateway's output, else /dev/null).
 */
import http from 'node:http';
import { memoryMb, runMain, SimProcess, startGateway, stopChild } from './children';
import { authorization, LEGACY_USERS } from './fixtures';

function fetchAll(base: string, key: string): Promise<{ status: number; bytes: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const url = new URL(LEGACY_USERS, base);
    const req = http.request({ hostname: url.hostname, port: url.port, path: url.pathname, headers: { authorization: authorization(key) }, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: Math.round(performance.now() - started) }));
      res.on('error', reject);
    });
    req.setTimeout(300_000, () => req.destroy(new Error('list timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const sizes = (process.env.LIST_SIZES ?? '10000,50000,100000,200000').split(',').map(Number);
  const sim = await SimProcess.start({});
  try {
    for (const n of sizes) {
      const key = `scale-${n}`;
      await sim.seed(key, n);
      const nodeArgs = (process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
      const gw = await startGateway({ v4BaseUrl: sim.url, apiKey: key, verifyCachedWrites: true, logLevel: 'info', nodeArgs, logFile: process.env.GATEWAY_LOG });
      const before = memoryMb(gw.pid);
      const list = await fetchAll(gw.url, key);
      const after = memoryMb(gw.pid);
      await stopChild(gw.child);
      process.stdout.write(`${n} users: ${list.status}, ${(list.bytes / 1048576).toFixed(1)} MB in ${list.ms} ms; peak RSS ${before.peakMb} → ${after.peakMb} MB\n`);
    }
  } finally {
    await stopChild(sim.child);
  }
}

runMain('list-scaling', main);
