/**
 * One bounded load run with autocannon's programmatic API, in this (the parent) process, and
 * what it cost each process: CPU time of the process under test and of the simulator (from
 * /proc), CPU of this load generator, V4 requests the simulator saw.
 *
 * Latencies are collected here from autocannon's `response` event (float milliseconds from
 * hrtime): autocannon's own latency histogram has a resolution of 1 ms, too coarse for a p50
 * that is a fraction of a millisecond on loopback.
 */
import os from 'node:os';
import autocannon from 'autocannon';
import { cpuMs, machineCpuMs, type SimProcess } from './children';

export type LoadRequest = autocannon.Request;

export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  /** Stop after this many requests instead (every one answered: exact V4 calls per call). */
  readonly amount?: number;
  readonly requests: LoadRequest[];
  /** The process whose CPU per request is reported (the server under test). */
  readonly targetPid: number;
  readonly simPid: number;
  readonly sim: SimProcess;
  /** false: a warm-up burst; skips the garbage collection, the settling and the V4 counts. */
  readonly measure?: boolean;
}

export interface LoadResult {
  readonly completed: number;
  /** Requests written, answered or not (a timed run ends with up to `connections` in flight). */
  readonly sent: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  readonly durationS: number;
  /** CPU of the process under test per completed request, µs. */
  readonly targetCpuUsPerReq: number;
  /** CPU of the simulator per completed request, µs (equal to the above for direct runs). */
  readonly simCpuUsPerReq: number;
  /** CPU of this process (autocannon) as % of one core over the run. */
  readonly loadgenCpuPct: number;
  /**
   * CPU the rest of the machine used meanwhile (other processes, and kernel work not charged to
   * ours), in cores: the noise this run was measured under.
   */
  readonly otherCpuCores: number;
  /** Time the hypervisor gave our vCPUs to someone else, % of one core. */
  readonly stealPct: number;
  /**
   * Requests the simulator received during the run, per request sent: the calls in flight when
   * a timed run stops still go upstream (the server does not know the client left), so they count.
   */
  readonly upstreamPerCall: number;
}

class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

export function percentile(sorted: Float64Array | readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? (finite[mid] ?? NaN) : ((finite[mid - 1] ?? NaN) + (finite[mid] ?? NaN)) / 2;
}

const gc = (globalThis as { gc?: () => void }).gc;

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const measure = spec.measure ?? true;
  if (measure) {
    gc?.(); // the parent's garbage from the previous run is not collected during this one
    await spec.sim.reset();
  }
  const latencies = new Samples();
  let sum = 0;
  const targetCpuBefore = cpuMs(spec.targetPid);
  const simCpuBefore = spec.simPid === spec.targetPid ? targetCpuBefore : cpuMs(spec.simPid);
  const ownCpuBefore = process.cpuUsage();
  const machineBefore = machineCpuMs();
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        ...(spec.amount === undefined ? { duration: spec.durationS } : { amount: spec.amount }),
        requests: spec.requests,
        timeout: 20,
        // autocannon ends a run (its time is up, or `amount` answered) at its next sample tick:
        // every 100 ms instead of every second keeps short warm-ups short.
        sampleInt: 100,
      },
      (err: unknown, res: autocannon.Result) => {
        if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve(res);
      },
    );
    instance.on('response', (_client: autocannon.Client, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
      sum += responseTime;
    });
  });
  const elapsedMs = performance.now() - started;
  const ownCpu = process.cpuUsage(ownCpuBefore);
  const targetCpu = cpuMs(spec.targetPid) - targetCpuBefore;
  const simCpu = spec.simPid === spec.targetPid ? targetCpu : cpuMs(spec.simPid) - simCpuBefore;
  const machineAfter = machineCpuMs();
  const ownMs = (ownCpu.user + ownCpu.system) / 1000;
  const foreignMs = machineAfter.busyMs - machineBefore.busyMs - targetCpu - (spec.simPid === spec.targetPid ? 0 : simCpu) - ownMs;
  // Calls in flight when the run stopped still reach V4: let them land before counting.
  if (measure) await new Promise((resolve) => setTimeout(resolve, 100));
  const counts = measure ? await spec.sim.counts() : { total: NaN };

  const completed = result.requests.total;
  const sorted = latencies.sorted();
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  return {
    completed,
    sent: result.requests.sent,
    rps: round(completed / result.duration, 1),
    p50Ms: round(percentile(sorted, 50), 3),
    p99Ms: round(percentile(sorted, 99), 3),
    meanMs: round(latencies.length === 0 ? NaN : sum / latencies.length, 3),
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
    durationS: result.duration,
    targetCpuUsPerReq: round((targetCpu * 1000) / Math.max(1, completed), 1),
    simCpuUsPerReq: round((simCpu * 1000) / Math.max(1, completed), 1),
    loadgenCpuPct: round((ownMs / elapsedMs) * 100, 1),
    otherCpuCores: round(Math.max(0, foreignMs) / elapsedMs, 2),
    stealPct: round(((machineAfter.stealMs - machineBefore.stealMs) / elapsedMs) * 100, 1),
    upstreamPerCall: round(counts.total / Math.max(1, result.requests.sent), 3),
  };
}

export function round(n: number, digits: number): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** How busy the rest of the machine was during a bench's runs: the figures and the line a bench prints. */
export function noiseReport(runs: readonly LoadResult[], cores: number, loadAverageAtStart: readonly number[]): {
  noise: { otherCpuCoresMedian: number; otherCpuCoresMax: number; stealPctMedian: number; loadAverageAtEnd: number[] };
  line: string;
} {
  const noise = {
    otherCpuCoresMedian: round(median(runs.map((r) => r.otherCpuCores)), 2),
    otherCpuCoresMax: round(Math.max(...runs.map((r) => r.otherCpuCores)), 2),
    stealPctMedian: round(median(runs.map((r) => r.stealPct)), 1),
    loadAverageAtEnd: os.loadavg().map((n) => round(n, 2)),
  };
  const line =
    `Noise: other processes used ${noise.otherCpuCoresMedian.toFixed(2)} cores (median; max ${noise.otherCpuCoresMax.toFixed(2)}) of ${cores} during the runs; steal ${noise.stealPctMedian.toFixed(1)}%; ` +
    `load average ${loadAverageAtStart.join(' ')} at start, ${noise.loadAverageAtEnd.join(' ')} at the end. Compare ratios, not absolute figures.`;
  return { noise, line };
}
