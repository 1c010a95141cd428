/**
 * CPU profiles of the gateway (cache warm, VERIFY_CACHED_WRITES=false, LOG_LEVEL=info) under the
 * legacy PUT load, the V4 pass-through GET and the legacy GET by email, and of a baseline proxy
 * under the PATCH the PUT becomes and the same GET (each run in its own time window of its
 * process's profile): the hand-written node:http pipe (issue 14's reference), or with
 * PROFILE_BASELINE=bare, bare Express + http-proxy-middleware. Both with `node --cpu-prof`, each
 * under load alone (the other idle), and a summary of the samples taken during the measured run
 * only (cpuprofile-summary.ts).
 *
 *   tsc -p tsconfig.bench.json && node dist/test/bench/profile.js
 *   env PROFILE_SECONDS (6), PROFILE_CONNECTIONS (32), PROFILE_BASELINE (pipe | bare),
 *   PROFILE_GATEWAY_ARGS (more node flags for the gateway, e.g. --no-turbo-inlining to see inlined functions)
 * Profiles and the summary go to bench-results/profile-<date>/.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load';
import { FieldRules } from '../../src/translation/field-rules';
import { runMain, SimProcess, startBareProxy, startGateway, startPipeProxy, stopChild, type ServiceProcess } from './children';
import { formatSummary, summarizeProfile, type ProfileSummary } from './cpuprofile-summary';
import { runLoad, type LoadRequest, type LoadResult } from './load';
import { warmGatewayCache } from './serve';
import { hotPathLoads } from './fixtures';

const KEY = 'profile-key';
const USERS = 256;
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 6);
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 32);
const BASELINE = process.env.PROFILE_BASELINE === 'bare' ? 'bare' : 'pipe';

function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

async function main(): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(process.cwd(), 'bench-results', `profile-${stamp}`);
  mkdirSync(dir, { recursive: true });
  const rules = new FieldRules(loadConfig({ env: {} }).fieldRules);

  const sim = await SimProcess.start({ [KEY]: 1_000 });
  const simPid = sim.child.pid ?? 0;
  const profArgs = (name: string): string[] => ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.cpuprofile`];
  const gateway = await startGateway({ v4BaseUrl: sim.url, apiKey: KEY, verifyCachedWrites: false, logLevel: 'info', nodeArgs: [...profArgs('gateway'), ...(process.env.PROFILE_GATEWAY_ARGS ?? '').split(' ').filter((a) => a !== '')] });
  const baseline = BASELINE === 'bare' ? await startBareProxy(sim.url, profArgs('bare')) : await startPipeProxy(sim.url, profArgs('pipe'));
  const ids = await sim.ids(KEY, USERS);

  const failed = await warmGatewayCache(gateway.url, ids.length);
  if (failed > 0) throw new Error(`cache warm-up: ${failed} of ${ids.length} legacy GETs failed`);
  const { legacyGets, v4Gets, puts, patches } = hotPathLoads(rules, ids, KEY);

  const measure = async (target: ServiceProcess, requests: LoadRequest[]): Promise<{ result: LoadResult; window: { fromUs: number; toUs: number } }> => {
    await runLoad({ url: target.url, connections: CONNECTIONS, durationS: 1, requests, targetPid: target.pid, simPid, sim, measure: false }); // warm-up
    const fromUs = nowUs();
    const result = await runLoad({ url: target.url, connections: CONNECTIONS, durationS: SECONDS, requests, targetPid: target.pid, simPid, sim });
    return { result, window: { fromUs, toUs: nowUs() } };
  };
  // Each runs alone (the other server idle); the gateway's and the baseline's runs alternate.
  const runs = {
    'gateway legacy PUT (verify off)': { profile: 'gateway', run: await measure(gateway, puts) },
    [`${BASELINE} PATCH`]: { profile: BASELINE, run: await measure(baseline, patches) },
    'gateway V4 pass-through GET': { profile: 'gateway', run: await measure(gateway, v4Gets) },
    [`${BASELINE} GET`]: { profile: BASELINE, run: await measure(baseline, v4Gets) },
    'gateway legacy GET by email': { profile: 'gateway', run: await measure(gateway, legacyGets) },
  };
  // SIGTERM: both shut down through process.exit, which writes the profile.
  await Promise.all([stopChild(gateway.child, 10_000), stopChild(baseline.child, 10_000)]);
  await stopChild(sim.child);

  const files = readdirSync(dir);
  const summaries: Record<string, ProfileSummary> = {};
  const text: string[] = [];
  for (const [name, { profile, run }] of Object.entries(runs)) {
    // Several runs share one process and so one profile: each is summarised over its own time window.
    const file = files.find((f) => f.startsWith(`${profile}.`));
    if (file === undefined) throw new Error(`no profile written for ${profile} in ${dir}`);
    const summary = summarizeProfile(join(dir, file), run.window, 30);
    summaries[name] = summary;
    text.push(
      `== ${name}: ${run.result.rps} req/s, p50 ${run.result.p50Ms} ms, ${run.result.targetCpuUsPerReq} µs CPU/req (whole process, from /proc), V4 calls/call ${run.result.upstreamPerCall} ==`,
      formatSummary(summary, run.result.completed),
      '',
    );
  }
  process.stdout.write(text.join('\n') + '\n');
  writeFileSync(join(dir, 'summary.txt'), text.join('\n') + '\n');
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ runs, summaries }, null, 2) + '\n');
  process.stdout.write(`Profiles and summary: ${dir}\n`);
}

runMain('profile', main);
