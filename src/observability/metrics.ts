import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { CountedCounter, type CounterLeaf } from './counted-counter';
import { CountedHistogram, observeInto, type HistogramLeaf } from './counted-histogram';
import type { LabelKey, LabelTree } from './label-tree';
import type { RequestState } from '../http/request-state';
import type { ResolutionStats } from '../resolution/resolution-stats';

/** What the resolution counters are read from (the gateway's Resolver). */
export interface ResolverSource {
  readonly stats: ResolutionStats;
  readonly size: number;
}

/** The V4 call counters of the translated calls (the gateway's V4Api). */
export interface V4CallSource {
  readonly calls: Readonly<Record<'lookup' | 'read' | 'write' | 'retries', number>>;
}

export interface ProbeSource {
  readonly counts: Readonly<{ ok: number; failed: number }>;
  readonly lastSuccess: number | null;
  problem(): string | null;
}

export interface ReportSource {
  readonly clientCount: number;
  readonly overflowCalls: number;
}

/** The shared cache's link to Redis and its staleness bound (REDIS_URL set). */
export interface SharedCacheSource {
  readonly link: {
    readonly state: 'up' | 'down';
    readonly stats: Readonly<{ enteredUp: number; enteredDown: number; commandFailures: number }>;
  };
  readonly staleness: { boundSeconds(): number; readonly lagSumSeconds: number };
  readonly stats: ResolutionStats;
}

/** Everything read at scrape time rather than counted per call; any may be missing. */
export interface MetricSources {
  readonly resolver?: ResolverSource;
  /** Present only with Redis: its metrics exist only then. */
  readonly shared?: SharedCacheSource;
  readonly v4?: V4CallSource;
  readonly probe?: ProbeSource | null;
  readonly report?: ReportSource;
}

const PREFIX = 'legacy_gateway_';
/** The `legacy_status` of a call whose answer was not completely written. */
const ABORTED = -1;
/** The `v4_status` of a call that got no V4 answer. */
const NO_V4 = -1;

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function statusLabel(status: LabelKey): string {
  return status === ABORTED ? 'aborted' : String(status);
}

function v4StatusLabel(status: LabelKey): string {
  return status === NO_V4 ? 'none' : String(status);
}

/** Label values that are strings as counted (route ids, phases, outcomes, codes, kinds). */
const asStrings = (keys: readonly LabelKey[]): string[] => keys.map(String);

/** How a call failed upstream, or null: the kinds of `legacy_gateway_upstream_errors_total`. */
export function upstreamErrorKind(record: RequestState['record']): string | null {
  if (record.upstreamFailure !== undefined) return record.upstreamFailure;
  if (record.errorCode === 'UPSTREAM_TIMEOUT') return 'timeout';
  // No failure kind: V4 answered, but with something unreadable (not JSON, a redirect, not a
  // user). The error handler also answers the gateway's own unexpected failures so: they land here too.
  if (record.errorCode === 'UPSTREAM_ERROR') return 'invalid_answer';
  if (record.errorCode === undefined && record.v4Status !== undefined && record.v4Status >= 500) return 'v4_5xx';
  return null;
}

/**
 * The gateway's Prometheus metrics, in a registry of their own (several gateways in one process,
 * as in tests, never share counters). Per-call metrics are counted by `observe` (a CallObserver);
 * the resolution, V4, probe and report figures are read from their owners at scrape time.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private sources: MetricSources = {};

  private readonly requests: LabelTree<CounterLeaf>;
  private readonly duration: LabelTree<HistogramLeaf>;
  private readonly v4Duration: LabelTree<HistogramLeaf>;
  private readonly resolutions: LabelTree<CounterLeaf>;
  private readonly rejections: LabelTree<CounterLeaf>;
  private readonly upstreamErrors: LabelTree<CounterLeaf>;
  private readonly outcomeUnknown: LabelTree<CounterLeaf>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registry = this.registry;
    const registers = [registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

    // Counted per call in plain numbers, handed to prom-client at scrape time (counted-counter.ts,
    // counted-histogram.ts). Registered in this order: the exposition lists them so.
    this.requests = new CountedCounter({
      name: `${PREFIX}requests_total`,
      help: 'Calls answered, by route id, the status the client got (aborted: the answer was not completely written) and the status V4 answered (none: no V4 answer).',
      labelNames: ['route', 'legacy_status', 'v4_status'],
      labelValues: ([route, status, v4Status]) => [String(route), statusLabel(status as LabelKey), v4StatusLabel(v4Status as LabelKey)],
      registry,
    }).tree;

    this.duration = new CountedHistogram({
      name: `${PREFIX}request_duration_seconds`,
      help: 'Time from the request arriving to its answer finishing, by route id and the status the client got.',
      labelNames: ['route', 'legacy_status'],
      labelValues: ([route, status]) => [String(route), statusLabel(status as LabelKey)],
      buckets: SECONDS,
      registry,
    }).tree;

    this.v4Duration = new CountedHistogram({
      name: `${PREFIX}v4_duration_seconds`,
      help: 'Time a translated call spent on V4, by route id and phase (lookup: resolving the email, verifying included; forward: the translated call).',
      labelNames: ['route', 'phase'],
      labelValues: asStrings,
      buckets: SECONDS,
      registry,
    }).tree;

    this.resolutions = new CountedCounter({
      name: `${PREFIX}resolution_outcomes_total`,
      help: 'How the user_id of each call was found (the resolution field of the log), by route id.',
      labelNames: ['route', 'outcome'],
      labelValues: asStrings,
      registry,
    }).tree;

    this.rejections = new CountedCounter({
      name: `${PREFIX}rejections_total`,
      help: 'Calls the gateway answered with one of its own 4xx errors, by route id and error code.',
      labelNames: ['route', 'code'],
      labelValues: asStrings,
      registry,
    }).tree;

    this.upstreamErrors = new CountedCounter({
      name: `${PREFIX}upstream_errors_total`,
      help: 'Calls that failed upstream, by route id and kind (connect, timeout, reset, too_large, invalid_answer, v4_5xx, internal: a gateway bug, not V4).',
      labelNames: ['route', 'kind'],
      labelValues: asStrings,
      registry,
    }).tree;

    this.outcomeUnknown = new CountedCounter({
      name: `${PREFIX}outcome_unknown_writes_total`,
      help: 'Writes that failed after they may have reached V4 (the client was told the outcome is unknown), by route id.',
      labelNames: ['route'],
      labelValues: asStrings,
      registry,
    }).tree;

    this.registerReadMetrics(registers);
  }

  /** The sources read at scrape time (the app's resolver and V4 API, the probe, the report). Once each. */
  attach(sources: MetricSources): void {
    const probe = sources.probe;
    if (probe !== undefined && probe !== null) {
      if (this.sources.probe !== undefined && this.sources.probe !== null) throw new Error('a probe is attached already');
      this.registerProbeMetrics(probe);
    }
    if (sources.shared !== undefined) {
      if (this.sources.shared !== undefined) throw new Error('a shared cache is attached already');
      this.registerSharedMetrics(sources.shared);
    }
    this.sources = { ...this.sources, ...sources };
  }

  /** The CallObserver: Map lookups and additions to plain numbers only (no prom-client call, no label object). */
  readonly observe = (state: RequestState, legacyStatus: number, completed: boolean): void => {
    const record = state.record;
    const route = record.route;
    const status = completed ? legacyStatus : ABORTED;
    this.requests.leaf3(route, status, record.v4Status ?? NO_V4).value += 1;
    observeInto(this.duration.leaf2(route, status), (performance.now() - state.startedAt) / 1000);
    if (record.lookupMs !== undefined) observeInto(this.v4Duration.leaf2(route, 'lookup'), record.lookupMs / 1000);
    if (record.forwardMs !== undefined) observeInto(this.v4Duration.leaf2(route, 'forward'), record.forwardMs / 1000);
    if (record.resolution !== undefined) this.resolutions.leaf2(route, record.resolution).value += 1;
    if (record.errorCode !== undefined && legacyStatus < 500) this.rejections.leaf2(route, record.errorCode).value += 1;
    const kind = upstreamErrorKind(record);
    if (kind !== null) this.upstreamErrors.leaf2(route, kind).value += 1;
    if (record.outcomeUnknown === true) this.outcomeUnknown.leaf1(route).value += 1;
  };

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Counters and gauges whose values live elsewhere: set from their owner on every scrape. */
  private registerReadMetrics(registers: Registry[]): void {
    const sources = (): MetricSources => this.sources;
    const fromStats = (name: string, help: string, read: (stats: ResolutionStats) => number): void => {
      new Counter({
        name: PREFIX + name,
        help,
        registers,
        collect() {
          const stats = sources().resolver?.stats;
          this.reset();
          if (stats !== undefined) this.inc(read(stats));
        },
      });
    };
    new Counter({
      name: `${PREFIX}resolver_resolutions_total`,
      help: 'Email to user_id resolutions by result: hit (from the cache), miss (a V4 lookup), coalesced (joined a lookup already running).',
      labelNames: ['result'] as const,
      registers,
      collect() {
        const stats = sources().resolver?.stats;
        this.reset();
        if (stats === undefined) return;
        this.inc({ result: 'hit' }, stats.hits);
        this.inc({ result: 'miss' }, stats.misses);
        this.inc({ result: 'coalesced' }, stats.coalesced);
      },
    });
    fromStats('resolver_verifications_total', 'By-id reads before a write with a cached user_id (VERIFY_CACHED_WRITES).', (s) => s.verifications);
    fromStats('resolver_verification_mismatches_total', 'Verifications that found the cached user no longer holds the email (entry dropped, looked up afresh).', (s) => s.verificationMismatches);
    fromStats('resolver_self_heals_total', 'Cached user_ids V4 answered 404 for: dropped, looked up once more, call retried.', (s) => s.selfHeals);
    fromStats('resolver_lookups_failed_total', 'V4 lookups that failed (timeout, 5xx, unreadable); never cached.', (s) => s.lookupsFailed);
    fromStats('cache_evictions_total', 'Cache entries evicted to stay within CACHE_MAX.', (s) => s.evictions);
    new Gauge({
      name: `${PREFIX}cache_entries`,
      help: 'Email to user_id entries in the cache now.',
      registers,
      collect() {
        this.set(sources().resolver?.size ?? 0);
      },
    });
    new Counter({
      name: `${PREFIX}v4_requests_total`,
      help: 'Requests the translated calls sent to V4, by kind (lookup, read, write; retry: a request sent again). Pass-through calls are not included.',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        const calls = sources().v4?.calls;
        this.reset();
        if (calls === undefined) return;
        this.inc({ kind: 'lookup' }, calls.lookup);
        this.inc({ kind: 'read' }, calls.read);
        this.inc({ kind: 'write' }, calls.write);
        this.inc({ kind: 'retry' }, calls.retries);
      },
    });
    new Gauge({
      name: `${PREFIX}migration_report_clients`,
      help: 'Clients (credential fingerprint and address) the migration report holds.',
      registers,
      collect() {
        this.set(sources().report?.clientCount ?? 0);
      },
    });
    new Counter({
      name: `${PREFIX}migration_report_overflow_calls_total`,
      help: 'Calls of clients the migration report had no room for (past its bound); counted only in its overflow totals.',
      registers,
      collect() {
        const report = sources().report;
        this.reset();
        if (report !== undefined) this.inc(report.overflowCalls);
      },
    });
  }

  /** Redis's metrics exist only with REDIS_URL, so that no alert fires on an in-memory gateway. */
  private registerSharedMetrics(shared: SharedCacheSource): void {
    const registers = [this.registry];
    new Gauge({
      name: `${PREFIX}redis_up`,
      help: 'Whether the shared cache counts Redis as up (1: commands and the invalidation channel answer) or down (0: serving from the local cache and V4).',
      registers,
      collect() {
        this.set(shared.link.state === 'up' ? 1 : 0);
      },
    });
    new Counter({
      name: `${PREFIX}redis_state_changes_total`,
      help: 'Changes of the Redis link state, by the state entered (up, down). Each drops the whole local cache.',
      labelNames: ['to'] as const,
      registers,
      collect() {
        const counts = shared.link.stats;
        this.reset();
        this.inc({ to: 'up' }, counts.enteredUp);
        this.inc({ to: 'down' }, counts.enteredDown);
      },
    });
    new Counter({
      name: `${PREFIX}redis_command_failures_total`,
      help: 'Redis commands that failed or missed REDIS_TIMEOUT_MS (each one switched the gateway to memory and V4 until Redis answers again).',
      registers,
      collect() {
        this.reset();
        this.inc(shared.link.stats.commandFailures);
      },
    });
    const events: ReadonlyArray<[string, (stats: ResolutionStats) => number]> = [
      ['shared_hit', (s) => s.sharedHits],
      ['lock_wait', (s) => s.lockWaits],
      ['lock_wait_served', (s) => s.lockWaitsServed],
      ['fallback', (s) => s.sharedFallbacks],
      ['invalidation_sent', (s) => s.invalidationsSent],
      ['invalidation_received', (s) => s.invalidationsReceived],
      ['local_entry_invalidated', (s) => s.localEntriesInvalidated],
      ['local_cache_dropped', (s) => s.localCacheDrops],
      ['stale_fill_refused', (s) => s.staleFillsRefused],
    ];
    new Counter({
      name: `${PREFIX}shared_cache_events_total`,
      help: 'Shared cache events: shared_hit (a local miss Redis answered), lock_wait (waited for another replica\'s lookup), lock_wait_served (and its answer served), fallback (went on without Redis), invalidation_sent/received, local_entry_invalidated, local_cache_dropped (the channel dropped or came back), stale_fill_refused (a lookup answer older than an invalidation, not kept).',
      labelNames: ['event'] as const,
      registers,
      collect() {
        this.reset();
        for (const [event, read] of events) this.inc({ event }, read(shared.stats));
      },
    });
    new Gauge({
      name: `${PREFIX}cache_local_staleness_seconds`,
      help: 'How stale the local cache level may be against the fleet: with Redis up, the largest invalidation delivery lag of the last 30-60 s; with Redis down, the time it has been down (at most CACHE_TTL_MS).',
      registers,
      collect() {
        this.set(shared.staleness.boundSeconds());
      },
    });
    new Counter({
      name: `${PREFIX}cache_invalidation_lag_seconds_total`,
      help: 'Sum of the delivery lags of the invalidations received (divide by the invalidation_received events for the mean).',
      registers,
      collect() {
        this.reset();
        this.inc(shared.staleness.lagSumSeconds);
      },
    });
  }

  /** The probe's metrics exist only when there is a probe (a key is configured), so that no alert fires on a gateway without one. */
  private registerProbeMetrics(probe: ProbeSource): void {
    const registers = [this.registry];
    new Gauge({
      name: `${PREFIX}v4_probe_up`,
      help: 'Whether the readiness probe of V4 with the configured key counts as up (1: its latest probe succeeded and is recent) or not (0).',
      registers,
      collect() {
        this.set(probe.problem() === null ? 1 : 0);
      },
    });
    new Gauge({
      name: `${PREFIX}v4_probe_last_success_timestamp_seconds`,
      help: 'When the readiness probe of V4 last succeeded (Unix seconds); 0 before the first success.',
      registers,
      collect() {
        this.set((probe.lastSuccess ?? 0) / 1000);
      },
    });
    new Counter({
      name: `${PREFIX}v4_probes_total`,
      help: 'Readiness probes of V4, by result (ok, failed).',
      labelNames: ['result'] as const,
      registers,
      collect() {
        this.reset();
        this.inc({ result: 'ok' }, probe.counts.ok);
        this.inc({ result: 'failed' }, probe.counts.failed);
      },
    });
  }
}
