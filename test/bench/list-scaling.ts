/**
 * Peak RSS of a fresh gateway answering one list of N users, for several N: does memory stay
 * flat however many users there are? `tsc -p tsconfig.bench.json && node dist/test/bench/list-scaling.js`
 * env LIST_SIZES (comma-separated, default 10000,50000,100000,200000); GATEWAY_NODE_ARGS (node
 * flags for the gateway, e.g. `--max-semi-space-size=4` or `--trace-gc`); GATEWAY_LOG (a file for
 * the gateway's output, else /dev/null).
 */
import { memoryMb, runMain, SimProcess, startGateway, stopChild } from './children';
import { authorization, LEGACY_USERS } from './fixtures';
import { fetchList } from './serve';

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
      const list = await fetchList(gw.url, LEGACY_USERS, authorization(key));
      const after = memoryMb(gw.pid);
      await stopChild(gw.child);
      if (list.status !== 200 || list.users !== n) throw new Error(`list of ${n} users answered ${list.status} with ${list.users} users`);
      process.stdout.write(`${n} users: ${list.status}, ${(list.bytes / 1048576).toFixed(1)} MB in ${list.ms} ms; peak RSS ${before.peakMb} → ${after.peakMb} MB\n`);
    }
  } finally {
    await stopChild(sim.child);
  }
}

runMain('list-scaling', main);
