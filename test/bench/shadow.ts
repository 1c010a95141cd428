/**
 * `npm run bench:shadow`: what the shadow comparison (SHADOW_MODE=v4-primary) costs the client,
 * beside shadowing off, in one run (issue 11, "Never in the way").
 *
 * Processes, all on loopback:
 *   sim        the V4 simulator and a legacy simulator sharing its tenant's users, in one process
 *              (sim-process.ts with BENCH_LEGACY_TENANT; sharing needs one process): equal data, so the shadow finds
 *              the answers equal; it counts each simulator's requests apart
 *   off        the gateway (node dist/src/server.js), SHADOW_MODE=off
 *   shadow100  SHADOW_MODE=v4-primary, SHADOW_SAMPLE_RATE=1: every read also goes to the legacy simulator
 *   shadow10   SHADOW_MODE=v4-primary, SHADOW_SAMPLE_RATE=0.1
 * The three gateways differ only in SHADOW_MODE and SHADOW_SAMPLE_RATE (LEGACY_BASE_URL is set on all,
 * LOG_LEVEL=info, VERIFY_CACHED_WRITES as shipped, SHADOW_TIMEOUT_MS and SHADOW_MAX_CONCURRENCY at their
 * defaults). The load is legacy GET by email of 256 users whose cache entries are warm (1 V4 GET
 * by id per call), from this process (autocannon).
 *
 * ROUNDS interleaved rounds; in each, every gateway is measured at BENCH_CONNECTIONS connections
 * (throughput) and at 1 connection (latency), each measured run right after an unmeasured burst
 * of the same load on the same gateway, the gateways' order rotated from round to round. Ratios
 * and differences are taken within a round (off measured seconds before or after), then the
 * median over the rounds, with the lowest–highest round beside it. Legacy calls per gateway call
 * (the legacy simulator's request count ÷ requests sent) shows the shadow ran: ≈ 1 at 100 %,
 * ≈ 0.1 at 10 %, 0 when off. At the end each shadowing gateway's /migration/diffs totals.
 *
 * On a 2-core machine the simulators share the cores with the gateway and autocannon: at 100 %
 * the backend process answers two requests per call, so the throughput ratio holds the backend's
 * extra work too; the gateway's own CPU µs per request is the cost that is the gateway's alone.
 *
 * Settings (environment): BENCH_SECONDS (4), BENCH_LATENCY_SECONDS (2), BENCH_ROUNDS (3),
 * BENCH_CONNECTIONS (32), BENCH_GATEWAY_LOG_DIR (keep each gateway's log there instead of /dev/null).
 * No targets and no exit code from the figures: it fails only when the bench itself fails
 * (a gateway not answering 2xx in a warm-up, a shadow that never ran).
 */
import type { DiffStoreJson } from '../../src/shadow/diff-store';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { runMain, SimProcess, startGateway, stopChild, type GatewayProcess } from './children';
import { legacyUserPath } from './fixtures';
import { median, noiseReport, round, runLoad, type LoadRequest, type LoadResult } from './load';
import { call, runPool } from './serve';
import { intEnv } from './child-server';

const started = performance.now();

const SETTINGS = {
  throughputS: intEnv('BENCH_SECONDS', 4, 1, 60),
  latencyS: intEnv('BENCH_LATENCY_SECONDS', 2, 1, 60),
  rounds: intEnv('BENCH_ROUNDS', 3, 1, 10),
  connections: intEnv('BENCH_CONNECTIONS', 32, 1, 512),
  /** Unmeasured requests right before each measured run, per connection / at 1 connection. */
  warmUpPerConnection: 16,
  latencyWarmUp: 200,
  users: 1_000,
  hotUsers: 256,
  /** After a measured run, time for the shadows still in flight to reach the legacy simulator. */
  shadowSettleMs: 300,
} as const;

const KEY = 'bench-shadow-key';

type GatewayName = 'off' | 'shadow100' | 'shadow10';
const GATEWAYS: readonly { readonly name: GatewayName; readonly mode: 'off' | 'v4-primary'; readonly rate: number }[] = [
  { name: 'off', mode: 'off', rate: 1 },
  { name: 'shadow100', mode: 'v4-primary', rate: 1 },
  { name: 'shadow10', mode: 'v4-primary', rate: 0.1 },
];
const LABEL: Record<GatewayName, string> = { off: 'shadow off', shadow100: 'shadow 100 %', shadow10: 'shadow 10 %' };
/** What legacy calls per gateway call should be near, to show the shadow ran as set. */
const EXPECTED_LEGACY_PER_CALL: Record<GatewayName, number> = { off: 0, shadow100: 1, shadow10: 0.1 };

type Kind = 'throughput' | 'latency';

interface Run extends LoadResult {
  /** Requests the legacy simulator received during the run (the shadows), per request sent. */
  readonly legacyPerCall: number;
}

interface Range {
  readonly min: number;
  readonly max: number;
}

interface Summary {
  readonly gateway: GatewayName;
  readonly kind: Kind;
  readonly connections: number;
  readonly rounds: readonly Run[];
  readonly rps: number;
  readonly rpsRange: Range;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly gatewayCpuUsPerReq: number;
  readonly simCpuUsPerReq: number;
  readonly v4PerCall: number;
  readonly legacyPerCall: number;
  readonly failed: number;
  readonly otherCpuCores: number;
  readonly loadgenCpuPct: number;
  /** Median of per-round req/s ÷ off's req/s of the same round, and its range. */
  readonly rpsVsOff: number;
  readonly rpsVsOffRange: Range;
  /** Median of per-round p50 − off's p50 of the same round, ms, and its range. */
  readonly addedP50Ms: number;
  readonly addedP50Range: Range;
  /** Median of per-round gateway CPU µs/req − off's. */
  readonly addedCpuUsPerReq: number;
}

/** What `/migration/diffs` reports in total (the diff store's own type). */
type DiffTotals = DiffStoreJson['totals'];

function log(message: string): void {
  process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}

function fmt(n: number | null | undefined, digits = 2): string {
  return n === undefined || n === null || !Number.isFinite(n) ? '—' : n.toFixed(digits);
}

function table(header: readonly string[], rows: readonly (readonly string[])[], rightFrom = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i >= rightFrom ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function rangeOf(values: readonly number[]): Range {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? { min: NaN, max: NaN } : { min: round(Math.min(...finite), 3), max: round(Math.max(...finite), 3) };
}

function withRange(value: number, range: Range, digits: number): string {
  return `${fmt(value, digits)} (${fmt(range.min, digits)}–${fmt(range.max, digits)})`;
}

/** The totals of a gateway's GET /migration/diffs, or null when it has none (SHADOW_MODE=off: 404). */
async function diffTotals(agent: http.Agent, gateway: GatewayProcess): Promise<{ totals: DiffTotals; inFlight: number } | null> {
  const res = await call(agent, gateway.adminUrl, 'GET', '/migration/diffs');
  if (res.status === 404) return null;
  if (res.status !== 200) throw new Error(`GET /migration/diffs answered ${res.status}`);
  const report = JSON.parse(res.body) as { totals: DiffTotals; in_flight: number };
  return { totals: report.totals, inFlight: report.in_flight };
}

async function main(): Promise<void> {
  const machine = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, loadAverageAtStart: os.loadavg().map((n) => round(n, 2)) };
  log(`bench:shadow: ${machine.cores} × ${machine.cpu}, node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`);
  log(`settings: ${SETTINGS.rounds} rounds × 3 gateways × (${SETTINGS.throughputS} s at ${SETTINGS.connections} connections + ${SETTINGS.latencyS} s at 1 connection)`);

  const sim = await SimProcess.start({ [KEY]: SETTINGS.users }, { BENCH_LEGACY_TENANT: KEY });
  const simPid = sim.child.pid ?? 0;
  const legacyUrl = sim.legacyUrl;
  if (legacyUrl === undefined) throw new Error('the shadow simulator process gave no legacy URL');
  log(`simulators pid ${simPid}: V4 at ${sim.url}, legacy (sharing ${SETTINGS.users} users) at ${legacyUrl}`);

  const logDir = process.env.BENCH_GATEWAY_LOG_DIR;
  if (logDir !== undefined && logDir !== '') mkdirSync(logDir, { recursive: true });
  const started3 = await Promise.all(
    GATEWAYS.map((g) =>
      startGateway({
        v4BaseUrl: sim.url,
        apiKey: KEY,
        verifyCachedWrites: true,
        logLevel: 'info',
        ...(logDir === undefined || logDir === '' ? {} : { logFile: join(logDir, `${g.name}.log`) }),
        env: { LEGACY_BASE_URL: legacyUrl, SHADOW_MODE: g.mode, SHADOW_SAMPLE_RATE: String(g.rate) },
      }),
    ),
  );
  const gateways = Object.fromEntries(GATEWAYS.map((g, i) => [g.name, started3[i]])) as Record<GatewayName, GatewayProcess>;
  log(`gateways: ${GATEWAYS.map((g) => `${g.name} pid ${gateways[g.name].pid} (SHADOW_MODE=${g.mode}${g.mode === 'off' ? '' : `, SHADOW_SAMPLE_RATE=${g.rate}`})`).join('; ')}`);

  // --- every gateway's cache: each hot user looked up once (so each call is 1 V4 GET by id) ---
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  for (const g of GATEWAYS) {
    let failed = 0;
    await runPool(SETTINGS.hotUsers, 8, async (i) => {
      const res = await call(agent, gateways[g.name].url, 'GET', legacyUserPath(i));
      if (res.status !== 200) failed += 1;
    });
    if (failed > 0) throw new Error(`warming the cache of ${g.name}: ${failed} of ${SETTINGS.hotUsers} legacy GETs failed`);
  }
  const afterWarm = await diffTotals(agent, gateways.shadow100);
  log(`caches warm: ${SETTINGS.hotUsers} users in each gateway; shadow100 so far: ${JSON.stringify(afterWarm?.totals)}`);

  const requests = (): LoadRequest[] => Array.from({ length: SETTINGS.hotUsers }, (_, i) => ({ method: 'GET', path: legacyUserPath(i) }));
  const results = new Map<string, Run[]>();
  const keyOf = (name: GatewayName, kind: Kind): string => `${name}|${kind}`;

  for (let roundNo = 1; roundNo <= SETTINGS.rounds; roundNo++) {
    // Rotated: no gateway is always measured first (or right after another's burst).
    const order = GATEWAYS.map((_, i) => GATEWAYS[(i + roundNo - 1) % GATEWAYS.length]).filter((g) => g !== undefined);
    for (const kind of ['throughput', 'latency'] as const) {
      for (const g of order) {
        const gw = gateways[g.name];
        const connections = kind === 'throughput' ? SETTINGS.connections : 1;
        const base = { url: gw.url, connections, targetPid: gw.pid, simPid, sim };
        const warmUp = kind === 'throughput' ? connections * SETTINGS.warmUpPerConnection : SETTINGS.latencyWarmUp;
        const warm = await runLoad({ ...base, durationS: 0, amount: warmUp, requests: requests(), measure: false });
        if (roundNo === 1 && (warm.non2xx > 0 || warm.completed === 0)) {
          throw new Error(`warm-up of ${g.name} (${kind}) failed: ${warm.completed} answers, status codes ${JSON.stringify(warm.statusCodes)}, ${warm.errors} errors`);
        }
        const r = await runLoad({ ...base, durationS: kind === 'throughput' ? SETTINGS.throughputS : SETTINGS.latencyS, requests: requests() });
        // runLoad counted from its reset; the counter keeps going until the next run's reset.
        await new Promise((resolve) => setTimeout(resolve, SETTINGS.shadowSettleMs));
        const counts = await sim.counts();
        const run: Run = { ...r, legacyPerCall: round((counts.legacy ?? NaN) / Math.max(1, r.sent), 3) };
        results.set(keyOf(g.name, kind), [...(results.get(keyOf(g.name, kind)) ?? []), run]);
        const flag = r.non2xx > 0 || r.errors > 0 ? `  !! ${r.non2xx} non-2xx ${JSON.stringify(r.statusCodes)}, ${r.errors} errors` : '';
        log(
          `round ${roundNo}/${SETTINGS.rounds}  ${LABEL[g.name].padEnd(13)} ${String(connections).padStart(3)} conns  ${fmt(r.rps, 0).padStart(6)} req/s  p50 ${fmt(r.p50Ms, 3)} ms  p99 ${fmt(r.p99Ms, 3)} ms  ` +
            `gw ${fmt(r.targetCpuUsPerReq, 0)} µs CPU/req  sim ${fmt(r.simCpuUsPerReq, 0)} µs CPU/req  V4/call ${fmt(r.upstreamPerCall, 3)}  legacy/call ${fmt(run.legacyPerCall, 3)}  others ${fmt(r.otherCpuCores, 2)} cores${flag}`,
        );
      }
    }
  }

  const totalsAtEnd: Record<GatewayName, { totals: DiffTotals; inFlight: number } | null> = {
    off: await diffTotals(agent, gateways.off),
    shadow100: await diffTotals(agent, gateways.shadow100),
    shadow10: await diffTotals(agent, gateways.shadow10),
  };
  agent.destroy();
  await Promise.all(GATEWAYS.map((g) => stopChild(gateways[g.name].child)));
  await stopChild(sim.child);

  // --- summaries: per round against off of the same round, then medians ---
  const summaries: Summary[] = [];
  for (const kind of ['throughput', 'latency'] as const) {
    const off = results.get(keyOf('off', kind)) ?? [];
    for (const g of GATEWAYS) {
      const rs = results.get(keyOf(g.name, kind)) ?? [];
      const perRound = (f: (x: Run, o: Run) => number): number[] => rs.map((x, i) => { const o = off[i]; return o === undefined ? NaN : f(x, o); });
      const ratios = perRound((x, o) => x.rps / o.rps);
      const added = perRound((x, o) => x.p50Ms - o.p50Ms);
      summaries.push({
        gateway: g.name,
        kind,
        connections: kind === 'throughput' ? SETTINGS.connections : 1,
        rounds: rs,
        rps: round(median(rs.map((r) => r.rps)), 1),
        rpsRange: rangeOf(rs.map((r) => r.rps)),
        p50Ms: round(median(rs.map((r) => r.p50Ms)), 3),
        p99Ms: round(median(rs.map((r) => r.p99Ms)), 3),
        gatewayCpuUsPerReq: round(median(rs.map((r) => r.targetCpuUsPerReq)), 1),
        simCpuUsPerReq: round(median(rs.map((r) => r.simCpuUsPerReq)), 1),
        v4PerCall: round(median(rs.map((r) => r.upstreamPerCall)), 3),
        legacyPerCall: round(median(rs.map((r) => r.legacyPerCall)), 3),
        failed: rs.reduce((n, r) => n + r.non2xx + r.errors, 0),
        otherCpuCores: round(median(rs.map((r) => r.otherCpuCores)), 2),
        loadgenCpuPct: round(median(rs.map((r) => r.loadgenCpuPct)), 1),
        rpsVsOff: round(median(ratios), 3),
        rpsVsOffRange: rangeOf(ratios),
        addedP50Ms: round(median(added), 3),
        addedP50Range: rangeOf(added),
        addedCpuUsPerReq: round(median(perRound((x, o) => x.targetCpuUsPerReq - o.targetCpuUsPerReq)), 1),
      });
    }
  }

  // --- the shadow ran as set, or the figures measure nothing ---
  const problems: string[] = [];
  for (const s of summaries) {
    const want = EXPECTED_LEGACY_PER_CALL[s.gateway];
    // Bounds wide enough for sampling and in-flight calls, narrow enough to catch a shadow that did not run.
    if (want === 0 ? s.legacyPerCall !== 0 : !(s.legacyPerCall > want * 0.7 && s.legacyPerCall < want * 1.3)) {
      problems.push(`${LABEL[s.gateway]} (${s.kind}): ${s.legacyPerCall} legacy calls per call, expected ≈ ${want}`);
    }
  }

  // --- print ---
  const out: string[] = [''];
  out.push(
    `Legacy GET by email (cache warm), ${SETTINGS.rounds} interleaved rounds; medians. ×off and added: per round against shadow off of the same round, median (lowest–highest round).`,
  );
  out.push('gw CPU: the gateway process’s CPU per request (its shadow work included); sim CPU: the simulators’ process (V4 and legacy) per request. V4/legacy per call: requests each simulator received per request sent.');
  const row = (s: Summary): string[] => [
    LABEL[s.gateway],
    String(s.connections),
    fmt(s.rps, 0),
    s.gateway === 'off' ? '1' : withRange(s.rpsVsOff, s.rpsVsOffRange, 3),
    fmt(s.p50Ms, 3),
    s.gateway === 'off' ? '0' : withRange(s.addedP50Ms, s.addedP50Range, 3),
    fmt(s.p99Ms, 3),
    fmt(s.gatewayCpuUsPerReq, 0),
    s.gateway === 'off' ? '0' : fmt(s.addedCpuUsPerReq, 0),
    fmt(s.simCpuUsPerReq, 0),
    fmt(s.v4PerCall, 3),
    fmt(s.legacyPerCall, 3),
    fmt(s.otherCpuCores, 2),
    fmt(s.loadgenCpuPct, 0),
    String(s.failed),
  ];
  const header = ['gateway', 'conns', 'req/s', 'req/s ×off (range)', 'p50 ms', 'added p50 ms (range)', 'p99 ms', 'gw CPU µs/req', 'added gw CPU µs', 'sim CPU µs/req', 'V4/call', 'legacy/call', 'other cores', 'loadgen %', 'failed'];
  out.push(table(header, summaries.filter((s) => s.kind === 'throughput').map(row)));
  out.push('');
  out.push(table(header, summaries.filter((s) => s.kind === 'latency').map(row)));
  out.push('');
  out.push('GET /migration/diffs totals at the end (cache warm-up, warm-up bursts and measured runs):');
  out.push(
    table(
      ['gateway', 'compared', 'equal', 'expected', 'noise', 'different', 'shadow_failed', 'skipped', 'not_sampled', 'match rate', 'in flight'],
      GATEWAYS.map((g) => {
        const d = totalsAtEnd[g.name];
        if (d === null) return [LABEL[g.name], '— (no /migration/diffs when off)', '', '', '', '', '', '', '', '', ''];
        const t = d.totals;
        return [LABEL[g.name], String(t.compared), String(t.equal), String(t.expected), String(t.noise), String(t.different), String(t.shadow_failed), String(t.skipped), String(t.not_sampled), fmt(t.match_rate, 3), String(d.inFlight)];
      }),
    ),
  );
  const allRuns = [...results.values()].flat();
  const { noise, line: noiseLine } = noiseReport(allRuns, machine.cores, machine.loadAverageAtStart);
  out.push('');
  out.push(noiseLine);
  if (problems.length > 0) out.push(`!! The shadow did not run as set: ${problems.join('; ')}`);
  const elapsedS = round((performance.now() - started) / 1000, 1);
  out.push(`Elapsed: ${elapsedS} s.`);
  process.stdout.write(out.join('\n') + '\n');

  const report = {
    date: new Date().toISOString(),
    machine,
    settings: SETTINGS,
    gateways: GATEWAYS,
    scenarios: summaries,
    diffsAfterCacheWarmUp: afterWarm,
    diffsAtEnd: totalsAtEnd,
    problems,
    noise,
    elapsedS,
  };
  const dir = join(process.cwd(), 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `shadow-${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`Results: ${file}\n`);
  if (problems.length > 0) throw new Error('the shadow did not run as set (see above)');
}

runMain('bench:shadow', main);
