// Runs shadow calls beside the client's: the client's answer is already on its way (the runner
// is handed it as a value), so the shadow can never delay or change it. Each shadow call has its
// own deadline, a place under a concurrency cap (a call over the cap is skipped and counted) and
// a sampling rate; a shadow that fails, hangs or answers garbage is counted as shadow_failed and
// nothing else happens. Nothing here ever throws at its caller or rejects a promise it returns.
import type { Logger } from 'winston';
import type { ShadowComparator } from './comparator';
import type { DiffStore, DiffStoreJson } from './diff-store';
import type { ShadowMetrics, ShadowResult } from './shadow-metrics';
import { ShadowFailure, type ClassifiedDifference, type Comparison, type ShadowAnswer, type ShadowFailureKind } from './types';

export type ShadowMode = 'off' | 'v4-primary' | 'legacy-primary';

export interface ShadowSettings {
  /** Which side answered the client: the other one is the shadow. */
  readonly mode: ShadowMode;
  /** SHADOW_SAMPLE_RATE: the share of calls shadowed, 0..1. */
  readonly sampleRate: number;
  /** SHADOW_TIMEOUT_MS: the deadline of one shadow call (and of the primary's second answer). */
  readonly timeoutMs: number;
  /** SHADOW_MAX_CONCURRENCY: shadow calls in flight at most; more are skipped. */
  readonly maxConcurrency: number;
}

export interface ShadowRunnerDeps {
  readonly comparator: ShadowComparator;
  readonly store: DiffStore;
  readonly logger: Logger;
  readonly metrics?: ShadowMetrics;
  /** For tests of the sampling; default Math.random. */
  readonly random?: () => number;
}

/** A shadowed read: the primary's answer to the client, and how to get the other side's. */
export interface ShadowCall {
  /** Route id (`get-user`, `list-users`, …), as in the log and the migration report. */
  readonly route: string;
  /** Credential fingerprint of the caller (RequestState.credential); null: none. */
  readonly client: string | null;
  readonly requestId?: string;
  /** The answer the client got, in the legacy shape (status + parsed JSON body). */
  readonly primary: ShadowAnswer;
  /** The same legacy call to the other side, in the legacy shape; must honour `signal`. */
  readonly shadow: (signal: AbortSignal) => Promise<ShadowAnswer>;
  /** The same call to the primary once more, for learnt noise (used for SHADOW_NOISE_SAMPLES calls per route). */
  readonly primaryAgain?: (signal: AbortSignal) => Promise<ShadowAnswer>;
}

/** SHADOW_VERIFY_WRITES: after a write the primary answered, the user read back from both sides. */
export interface ReadBackCall {
  readonly route: string;
  readonly client: string | null;
  readonly requestId?: string;
  readonly readPrimary: (signal: AbortSignal) => Promise<ShadowAnswer>;
  readonly readShadow: (signal: AbortSignal) => Promise<ShadowAnswer>;
}

export type SubmitResult = 'started' | 'off' | 'not_sampled' | 'skipped';

export interface ShadowReportJson extends DiffStoreJson {
  readonly generated_at: string;
  readonly mode: ShadowMode;
  readonly sample_rate: number;
  readonly timeout_ms: number;
  readonly max_concurrency: number;
  readonly in_flight: number;
  /** Patterns learnt as noise, by route. */
  readonly learnt_noise: Record<string, string[]>;
}

type Reader = (signal: AbortSignal) => Promise<ShadowAnswer>;

/** The abort reason of a comparison that is over: readers still open just stop. */
const FINISHED = new ShadowFailure('error', 'the comparison is over');

export class ShadowRunner {
  private active = 0;
  private readonly running = new Set<Promise<void>>();
  private readonly random: () => number;

  constructor(
    readonly settings: ShadowSettings,
    private readonly deps: ShadowRunnerDeps,
  ) {
    if (!(settings.sampleRate >= 0 && settings.sampleRate <= 1)) throw new RangeError('sampleRate must be within 0..1');
    if (!(settings.timeoutMs > 0) || !(settings.maxConcurrency >= 1)) throw new RangeError('timeoutMs must be > 0 and maxConcurrency ≥ 1');
    this.random = deps.random ?? Math.random;
  }

  get inFlight(): number {
    return this.active;
  }

  /** Starts the shadow of a read in the background; returns at once, never throws. */
  submit(call: ShadowCall): SubmitResult {
    const primary = call.primary;
    return this.start(call.route, call.client, call.requestId, () => Promise.resolve(primary), call.shadow, call.primaryAgain);
  }

  /** Starts the read-back of a written user from both sides in the background; returns at once. */
  submitReadBack(call: ReadBackCall): SubmitResult {
    return this.start(call.route, call.client, call.requestId, call.readPrimary, call.readShadow, undefined);
  }

  /** Resolves once no shadow call is in flight (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  toJson(): ShadowReportJson {
    const s = this.settings;
    return {
      generated_at: new Date().toISOString(),
      mode: s.mode,
      sample_rate: s.sampleRate,
      timeout_ms: s.timeoutMs,
      max_concurrency: s.maxConcurrency,
      in_flight: this.active,
      ...this.deps.store.toJson(),
      learnt_noise: this.deps.comparator.noise.toJson(),
    };
  }

  private start(route: string, client: string | null, requestId: string | undefined, primary: Reader, shadow: Reader, again: Reader | undefined): SubmitResult {
    try {
      if (this.settings.mode === 'off') return 'off';
      if (!(this.random() < this.settings.sampleRate)) {
        this.countOnly(route, client, 'not_sampled');
        return 'not_sampled';
      }
      if (this.active >= this.settings.maxConcurrency) {
        this.countOnly(route, client, 'skipped');
        return 'skipped';
      }
      this.active += 1;
      const run = this.run(route, client, requestId ?? null, primary, shadow, again)
        .catch((error: unknown) => {
          this.deps.logger.error('shadow comparison failed (a bug)', { route, error: error instanceof Error ? error.message : String(error) });
        })
        .finally(() => {
          this.active -= 1;
          this.running.delete(run);
        });
      this.running.add(run);
      return 'started';
    } catch (error) {
      // A bug in the bookkeeping must not reach the client's call.
      this.deps.logger.error('shadow submit failed (a bug)', { route, error: error instanceof Error ? error.message : String(error) });
      return 'skipped';
    }
  }

  private async run(route: string, client: string | null, requestId: string | null, primaryRead: Reader, shadowRead: Reader, againRead: Reader | undefined): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new ShadowFailure('timeout', `no answer within ${this.settings.timeoutMs} ms`)), this.settings.timeoutMs);
    timer.unref();
    // Rejects at the deadline even if a reader ignores the signal, so the slot is always freed.
    let onAbort = (): void => undefined;
    const deadline = new Promise<never>((_, reject) => {
      onAbort = () => reject(failureOf(controller.signal.reason));
      controller.signal.addEventListener('abort', onAbort, { once: true });
    });
    deadline.catch(() => undefined);
    const askAgain = againRead !== undefined && this.deps.comparator.noise.takeSample(route);
    try {
      const again = askAgain ? Promise.race([againRead(controller.signal), deadline]).catch(() => undefined) : Promise.resolve(undefined);
      let primary: ShadowAnswer;
      let shadow: ShadowAnswer;
      try {
        [primary, shadow] = await Promise.race([Promise.all([primaryRead(controller.signal), shadowRead(controller.signal)]), deadline]);
        if (shadow.status >= 500 && primary.status < 500) throw new ShadowFailure('status_5xx', `the shadow answered ${shadow.status}`);
      } catch (error) {
        const failure = failureOf(error);
        this.countOnly(route, client, 'shadow_failed', failure.kind);
        this.deps.logger.debug('shadow call failed', { route, client, request_id: requestId, kind: failure.kind });
        return;
      }
      const second = await again;
      if (second !== undefined) this.deps.comparator.learn(route, primary, second);
      const [legacy, v4] = this.settings.mode === 'legacy-primary' ? [primary, shadow] : [shadow, primary];
      const comparison = this.deps.comparator.compare(route, legacy, v4);
      this.deps.store.recordComparison(route, client, requestId, comparison);
      this.deps.metrics?.count(route, comparison.outcome);
      this.log(route, client, requestId, comparison);
    } finally {
      clearTimeout(timer);
      // Ends whatever a reader still has open. With a ready-made reason and the deadline's listener
      // gone: after a call that finished in time, nothing is built that nobody reads (the profile
      // of a 100 % shadow showed ~5 % of the gateway's busy time in that DOMException and failure).
      controller.signal.removeEventListener('abort', onAbort);
      controller.abort(FINISHED);
    }
  }

  private countOnly(route: string, client: string | null, result: Exclude<ShadowResult, Comparison['outcome']>, failure?: ShadowFailureKind): void {
    this.deps.store.count(route, client, result, failure);
    this.deps.metrics?.count(route, result);
  }

  /** One line per difference: regressions at warn, the explained ones (expected, noise) at debug. */
  private log(route: string, client: string | null, requestId: string | null, comparison: Comparison): void {
    for (const d of comparison.differences) this.deps.logger.log(d.class === 'regression' ? 'warn' : 'debug', 'shadow difference', lineOf(route, client, requestId, d));
    if (comparison.truncated) this.deps.logger.warn('shadow differences truncated', { route, client, request_id: requestId, shown: comparison.differences.length });
  }
}

function lineOf(route: string, client: string | null, requestId: string | null, d: ClassifiedDifference): Record<string, unknown> {
  return { route, client, request_id: requestId, path: d.path, pattern: d.pattern, kind: d.kind, class: d.class, reason: d.reason || undefined, legacy: d.legacy, v4: d.v4, item: d.item };
}

/** Any error of a shadow call as a counted kind. */
export function failureOf(error: unknown): ShadowFailure {
  if (error instanceof ShadowFailure) return error;
  const e = error as { name?: string; code?: string; message?: string } | undefined;
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return new ShadowFailure('timeout', 'aborted at the deadline');
  if (e?.code === 'ECONNRESET' || e?.code === 'EPIPE' || e?.message === 'socket hang up') return new ShadowFailure('reset', 'connection reset');
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOTFOUND' || e?.code === 'EHOSTUNREACH') return new ShadowFailure('connect', 'could not connect');
  if (error instanceof SyntaxError) return new ShadowFailure('invalid_answer', 'the answer is not JSON');
  return new ShadowFailure('error', e?.message ?? String(error));
}
