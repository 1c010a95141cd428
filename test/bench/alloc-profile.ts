/**
 * Bytes allocated per request, by allocating function: the gateway under the legacy PUT (cache
 * warm, VERIFY_CACHED_WRITES=false), the legacy GET by email and the V4 pass-through GET, and the
 * hand-written pipe under the PATCH and GET they become. Allocation drives how often V8
 * scavenges; this says who allocates, garbage included (alloc-sampler.ts). A sample, not a
 * count: figures move by a few per cent between runs.
 *
 *   tsc -p tsconfig.bench.json && node dist/test/bench/alloc-profile.js
 *   env ALLOC_SECONDS (4), ALLOC_TOP (25 functions per run)
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load';
import { FieldRules } from '../../src/translation/field-rules';
import { runMain, SimProcess, startGateway, startPipeProxy, stopChild, type ServiceProcess } from './children';
import { hotPathLoads } from './fixtures';
import { runLoad, type LoadRequest } from './load';
import { warmGatewayCache } from './serve';

const KEY = 'alloc-key';
const USERS = 256;
const SECONDS = Number(process.env.ALLOC_SECONDS ?? 4);
const TOP = Number(process.env.ALLOC_TOP ?? 25);
const SAMPLER = join(__dirname, 'alloc-sampler.js');

interface HeapNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly HeapNode[];
}

/** Self bytes by function (name, file, line), summed over every stack the function was on top of. */
function bytesByFunction(head: HeapNode): Map<string, number> {
  const byFunction = new Map<string, number>();
  const pending: HeapNode[] = [head];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^.*\/(dist|node_modules)\//, '$1/');
    const name = `${functionName === '' ? '(anonymous)' : functionName} ${where}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
    pending.push(...node.children);
  }
  return byFunction;
}

async function sampled(name: string, target: ServiceProcess, sim: SimProcess, requests: LoadRequest[]): Promise<void> {
  const base = { url: target.url, connections: 32, targetPid: target.pid, simPid: sim.child.pid ?? 0, sim };
  await runLoad({ ...base, durationS: 2, requests, measure: false });
  const file = join(tmpdir(), `alloc-${target.pid}.heapprofile`);
  rmSync(file, { force: true });
  process.kill(target.pid, 'SIGUSR2');
  const result = await runLoad({ ...base, durationS: SECONDS, requests });
  process.kill(target.pid, 'SIGUSR2');
  for (let i = 0; i < 50 && !existsSync(file); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };
  rmSync(file, { force: true });
  const rows = [...bytesByFunction(profile.head)].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, bytes]) => sum + bytes, 0);
  process.stdout.write(`\n== ${name}: ${result.completed} requests sampled, ${Math.round(total / result.completed)} bytes allocated per request ==\n`);
  for (const [fn, bytes] of rows.slice(0, TOP)) process.stdout.write(`${String(Math.round(bytes / result.completed)).padStart(8)}  ${fn}\n`);
}

async function main(): Promise<void> {
  const rules = new FieldRules(loadConfig({ env: {} }).fieldRules);
  const sim = await SimProcess.start({ [KEY]: 1_000 });
  const gateway = await startGateway({ v4BaseUrl: sim.url, apiKey: KEY, verifyCachedWrites: false, logLevel: 'info', nodeArgs: ['-r', SAMPLER] });
  const pipe = await startPipeProxy(sim.url, ['-r', SAMPLER]);
  try {
    const ids = await sim.ids(KEY, USERS);
    const failed = await warmGatewayCache(gateway.url, ids.length);
    if (failed > 0) throw new Error(`cache warm-up: ${failed} of ${ids.length} legacy GETs failed`);
    const { legacyGets, v4Gets, puts, patches } = hotPathLoads(rules, ids, KEY);
    await sampled('gateway legacy PUT (verify off)', gateway, sim, puts);
    await sampled('pipe PATCH', pipe, sim, patches);
    await sampled('gateway legacy GET by email', gateway, sim, legacyGets);
    await sampled('gateway V4 pass-through GET', gateway, sim, v4Gets);
    await sampled('pipe GET', pipe, sim, v4Gets);
  } finally {
    await Promise.all([stopChild(gateway.child), stopChild(pipe.child), stopChild(sim.child)]);
  }
}

runMain('alloc-profile', main);
