/**
 * `npm run bench:workers`: the gateway's throughput at WORKERS=2 against WORKERS=1, in one run.
 * Both gateways (VERIFY_CACHED_WRITES=false, LOG_LEVEL=info) run beside the simulator; the load
 * comes from this process (autocannon), all on loopback, so on a 2-core machine the two workers
 * share the cores with the simulator and the load generator: the ratio is what this machine gives,
 * not what two free cores would. ROUNDS interleaved rounds, each run right after an unmeasured
 * burst of the same load; medians of per-round ratios, lowest–highest round beside them.
 * Settings (environment): BENCH_SECONDS (4), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32).
 */
import os from 'node:os';
import { loadConfig } from '../../src/config/load';
import { FieldRules } from '../../src/translation/field-rules';
import { runMain, SimProcess, startGateway, stopChild, type GatewayProcess } from './children';
import { median, round, runLoad, type LoadRequest, type LoadResult } from './load';
import { authorization as auth, legacyUserPath, putBodies, v4UserPath } from './fixtures';
import { intEnv } from './child-server';

const SECONDS = intEnv('BENCH_SECONDS', 4, 1, 60);
const ROUNDS = intEnv('BENCH_ROUNDS', 3, 1, 10);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 32, 1, 512);
const KEY = 'bench-workers-key';
const USERS = 1_000;
const HOT = 256;

async function main(): Promise<void> {
  process.stdout.write(`bench:workers: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}; ${ROUNDS} rounds × ${SECONDS} s at ${CONNECTIONS} connections\n`);
  const rules = new FieldRules(loadConfig({ env: {} }).fieldRules);
  const sim = await SimProcess.start({ [KEY]: USERS });
  const simPid = sim.child.pid ?? 0;
  const ids = await sim.ids(KEY, HOT);
  const gateways: Record<'1' | '2', GatewayProcess> = {
    '1': await startGateway({ v4BaseUrl: sim.url, apiKey: KEY, verifyCachedWrites: false, logLevel: 'info', env: { WORKERS: '1' } }),
    '2': await startGateway({ v4BaseUrl: sim.url, apiKey: KEY, verifyCachedWrites: false, logLevel: 'info', env: { WORKERS: '2' } }),
  };
  const json = { 'content-type': 'application/json' };
  const scenarios: { name: string; requests: () => LoadRequest[] }[] = [
    { name: 'legacy GET by email', requests: () => ids.map((_, i) => ({ method: 'GET', path: legacyUserPath(i) })) },
    { name: 'legacy PUT, verify off', requests: () => ids.map((_, i) => ({ method: 'PUT', path: legacyUserPath(i), headers: json, body: putBodies(rules, i).legacy })) },
    { name: 'V4 pass-through GET', requests: () => ids.map((id) => ({ method: 'GET', path: v4UserPath(id), headers: { authorization: auth(KEY) } })) },
  ];
  const results = new Map<string, LoadResult[]>();
  for (let roundNo = 1; roundNo <= ROUNDS; roundNo++) {
    for (const s of scenarios) {
      for (const workers of ['1', '2'] as const) {
        const g = gateways[workers];
        const base = { url: g.url, connections: CONNECTIONS, targetPid: g.pid, simPid, sim };
        // The burst also fills every worker's own cache (each looks up what it has not seen).
        const warm = await runLoad({ ...base, durationS: 0, amount: CONNECTIONS * 32, requests: s.requests(), measure: false });
        if (roundNo === 1 && (warm.non2xx > 0 || warm.completed === 0)) throw new Error(`warm-up of ${s.name} at WORKERS=${workers}: ${JSON.stringify(warm.statusCodes)}`);
        const r = await runLoad({ ...base, durationS: SECONDS, requests: s.requests() });
        const key = `${s.name}|${workers}`;
        results.set(key, [...(results.get(key) ?? []), r]);
        process.stdout.write(`round ${roundNo}/${ROUNDS}  ${s.name.padEnd(24)} WORKERS=${workers}  ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  failed ${r.non2xx + r.errors}  others ${r.otherCpuCores.toFixed(2)} cores\n`);
      }
    }
  }
  await Promise.all([gateways['1'], gateways['2']].map((g) => stopChild(g.child)));
  await stopChild(sim.child);

  const lines = ['', 'scenario                  WORKERS=1 req/s  WORKERS=2 req/s  2 ÷ 1 (median of rounds)  lowest–highest round  failed'];
  for (const s of scenarios) {
    const one = results.get(`${s.name}|1`) ?? [];
    const two = results.get(`${s.name}|2`) ?? [];
    const ratios = two.map((r, i) => r.rps / (one[i]?.rps ?? NaN));
    const failed = [...one, ...two].reduce((n, r) => n + r.non2xx + r.errors, 0);
    lines.push(
      `${s.name.padEnd(24)}  ${median(one.map((r) => r.rps)).toFixed(0).padStart(15)}  ${median(two.map((r) => r.rps)).toFixed(0).padStart(15)}  ${round(median(ratios), 2).toFixed(2).padStart(24)}  ${`${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`.padStart(20)}  ${failed}`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

runMain('bench:workers', main);
