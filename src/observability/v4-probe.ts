import { randomUUID } from 'node:crypto';
import type { Logger } from 'winston';
import { v4Authorization, v4IndexPath } from '../v4/adapter';
import { UpstreamFailure, V4Client } from '../v4/client';
import { Deadline } from '../v4/deadline';

/** What one probe found. `ok`: V4 answered and did not refuse the key. */
export interface ProbeResult {
  readonly ok: boolean;
  /** When the probe finished (ms since the epoch). */
  readonly at: number;
  readonly ms: number;
  /** V4's status, when it answered. */
  readonly status?: number;
  /** Why the probe failed (never holds the key). */
  readonly problem?: string;
}

export interface V4ProbeOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly intervalMs: number;
  /** Deadline of one probe; default: the interval. */
  readonly timeoutMs?: number;
  /** A success older than this no longer counts (a stalled timer); default: three intervals. */
  readonly staleAfterMs?: number;
  readonly logger: Logger;
}

/** The cheapest authenticated V4 call there is: the first user of the index. */
export const PROBE_PATH = v4IndexPath({ limit: 1 });

/**
 * The readiness probe of V4: `GET …/v4/users?limit=1` with the configured key, made when
 * /readyz is asked and the last probe is older than the interval, never in the background. So an
 * idle gateway sends V4 nothing it was not asked to (a test or audit of "nothing reached V4"
 * stays true), and an orchestrator polling /readyz gets at most one probe per interval.
 * Ready means the latest probe succeeded and is recent. A probe succeeds when V4 answers 2xx, or
 * 429 (reachable, and throttling is not a refusal of the key: taking every replica out of
 * rotation because V4 rate-limits the probe would turn a slowdown into an outage). 401 and 403
 * (the key is refused: every keyless legacy call would fail), any other status (V4_BASE_URL
 * points at something that is not V4, or V4 is failing) and no answer at all are failures.
 * Only changes of state are logged, not every probe.
 */
export class V4Probe {
  readonly counts = { ok: 0, failed: 0 };
  private readonly client: V4Client;
  private readonly authorization: string;
  private readonly timeoutMs: number;
  private readonly staleAfterMs: number;
  private running: Promise<ProbeResult> | null = null;
  private latest: ProbeResult | null = null;
  private lastSuccessAt: number | null = null;
  private stopped = false;

  constructor(private readonly options: V4ProbeOptions) {
    this.client = new V4Client(options.baseUrl, { maxSockets: 1, maxResponseBytes: 1024 * 1024 });
    this.authorization = v4Authorization(options.apiKey);
    this.timeoutMs = options.timeoutMs ?? options.intervalMs;
    this.staleAfterMs = options.staleAfterMs ?? 3 * options.intervalMs;
  }

  /** Frees the socket; a probe in flight is dropped unrecorded. */
  stop(): void {
    this.stopped = true;
    this.client.close();
  }

  /** For /readyz: probes first when the latest result is older than the interval, then judges. */
  async check(now = Date.now()): Promise<string | null> {
    const latest = this.latest;
    if (!this.stopped && (latest === null || now - latest.at >= this.options.intervalMs)) await this.probe();
    return this.problem();
  }

  /** The latest finished probe, or null before the first one ends. */
  get result(): ProbeResult | null {
    return this.latest;
  }

  /** When a probe last succeeded (ms since the epoch), or null. */
  get lastSuccess(): number | null {
    return this.lastSuccessAt;
  }

  /** Null when the latest probe succeeded within staleAfterMs; otherwise why V4 does not count as ready. */
  problem(now = Date.now()): string | null {
    const latest = this.latest;
    if (latest === null) return 'V4 not probed yet';
    if (!latest.ok) return `V4 probe failed: ${latest.problem ?? 'unknown'}`;
    const age = now - latest.at;
    if (age > this.staleAfterMs) return `V4 probe stale: last answer ${Math.round(age / 1000)} s ago`;
    return null;
  }

  /** One probe; a call while one runs shares it. Never rejects. */
  probe(): Promise<ProbeResult> {
    if (this.running === null) {
      this.running = this.run().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async run(): Promise<ProbeResult> {
    const started = performance.now();
    let result: ProbeResult;
    try {
      const response = await this.client.send(
        { method: 'GET', path: PROBE_PATH, headers: ['authorization', this.authorization, 'x-request-id', `readiness-probe-${randomUUID()}`, 'accept', 'application/json'] },
        new Deadline(this.timeoutMs),
      );
      const status = response.status;
      const ok = (status >= 200 && status < 300) || status === 429;
      const problem = ok ? undefined : status === 401 || status === 403 ? `V4 refused the configured key (${status})` : `V4 answered ${status}`;
      result = { ok, at: Date.now(), ms: elapsed(started), status, problem };
    } catch (err) {
      const problem = err instanceof UpstreamFailure ? `${err.kind}: ${err.message}` : err instanceof Error ? err.message : String(err);
      result = { ok: false, at: Date.now(), ms: elapsed(started), problem };
    }
    this.record(result);
    return result;
  }

  private record(result: ProbeResult): void {
    if (this.stopped) return;
    const previous = this.latest;
    this.latest = result;
    if (result.ok) {
      this.counts.ok += 1;
      this.lastSuccessAt = result.at;
    } else {
      this.counts.failed += 1;
    }
    if (previous === null || previous.ok !== result.ok || previous.problem !== result.problem) {
      if (result.ok) this.options.logger.info('V4 probe ok', { status: result.status, ms: result.ms });
      else this.options.logger.warn('V4 probe failing: not ready', { problem: result.problem, status: result.status, ms: result.ms });
    }
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
