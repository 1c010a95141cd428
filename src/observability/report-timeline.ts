import type { RequestState } from '../http/request-state';
import { REPORT_LEGACY_ROUTES } from './migration-report';

/** The series of the chart: the five legacy routes, the rest of the legacy path, V4 pass-through. */
export const TIMELINE_SERIES = [...REPORT_LEGACY_ROUTES, 'legacy-other', 'v4-passthrough'] as const;
export type TimelineSeries = (typeof TIMELINE_SERIES)[number];
/** The series that are calls to the legacy API (every one but `v4-passthrough`). */
export type LegacySeries = Exclude<TimelineSeries, 'v4-passthrough'>;
export const LEGACY_SERIES: readonly LegacySeries[] = TIMELINE_SERIES.filter((series): series is LegacySeries => series !== 'v4-passthrough');

const SERIES_COUNT = TIMELINE_SERIES.length;
const SERIES_OF: ReadonlyMap<string, number> = new Map<string, number>([
  ...REPORT_LEGACY_ROUTES.map((route, index): [string, number] => [route, index]),
  ['legacy-options', REPORT_LEGACY_ROUTES.length],
  ['legacy-method-not-allowed', REPORT_LEGACY_ROUTES.length],
  ['v4-passthrough', REPORT_LEGACY_ROUTES.length + 1],
]);

export const DEFAULT_TIMELINE_BUCKETS = 48;
export const DEFAULT_TIMELINE_MAX_CLIENTS = 1_000;

interface ClientSeries {
  readonly credential: string | null;
  readonly address: string;
  /** Which absolute bucket (time / bucketMs) each ring slot holds; -1: never used. */
  readonly slotBucket: Float64Array;
  /** Counts, slot-major: `counts[slot * SERIES_COUNT + series]`. */
  readonly counts: Uint32Array;
  /** The newest bucket this client called in. */
  lastBucket: number;
}

export interface TimelineClient {
  /** As in the migration report: the credential fingerprint (null: none) and the address. */
  readonly credential: string | null;
  readonly address: string;
  /** Calls per bucket, oldest first, aligned with `bucket_starts`. */
  readonly series: Record<TimelineSeries, number[]>;
}

export interface TimelineJson {
  readonly bucket_seconds: number;
  /** Start of each bucket of the window, oldest first; the last one holds the current time. */
  readonly bucket_starts: string[];
  readonly max_clients: number;
  readonly clients_tracked: number;
  /** Charted calls of clients the full timeline had no room for. */
  readonly overflow_calls: number;
  readonly clients: TimelineClient[];
}

export interface TimelineOptions {
  readonly bucketMs: number;
  readonly buckets?: number;
  readonly maxClients?: number;
  readonly now?: () => number;
}

/**
 * Calls per client per time bucket, for the migration page's charts: a call observer beside the
 * migration report, identifying clients as it does (credential fingerprint and address), and
 * counting legacy-route and V4 pass-through calls only. Bounded: a fixed ring of `buckets` per
 * client and at most `maxClients` clients. When full, clients silent for the whole window are
 * dropped (at most one sweep per bucket, so a flood of new clients costs no more than that);
 * if none are, the newcomer's calls are counted in `overflow_calls` only.
 */
export class ReportTimeline {
  readonly bucketMs: number;
  readonly buckets: number;
  readonly maxClients: number;
  private readonly now: () => number;
  /** By credential, then address: the per-call lookup builds no key string. */
  private readonly clients = new Map<string, Map<string, ClientSeries>>();
  private size = 0;
  private overflowCalls = 0;
  private lastSweep = -1;

  constructor(options: TimelineOptions) {
    if (!Number.isInteger(options.bucketMs) || options.bucketMs < 1) throw new Error('bucketMs must be a positive whole number');
    this.bucketMs = options.bucketMs;
    this.buckets = options.buckets ?? DEFAULT_TIMELINE_BUCKETS;
    this.maxClients = options.maxClients ?? DEFAULT_TIMELINE_MAX_CLIENTS;
    this.now = options.now ?? Date.now;
  }

  /** How far back the chart reaches. */
  get windowMs(): number {
    return this.bucketMs * this.buckets;
  }

  get clientCount(): number {
    return this.size;
  }

  /** The CallObserver: a map lookup and an increment. */
  readonly observe = (state: RequestState, _legacyStatus: number, _completed: boolean): void => {
    const series = SERIES_OF.get(state.record.route);
    if (series === undefined) return; // not charted (and 403s never count: they are not clients)
    const bucket = Math.floor(this.now() / this.bucketMs);
    const entry = this.entryFor(state.credential ?? null, state.clientAddress, bucket);
    if (entry === null) {
      this.overflowCalls += 1;
      return;
    }
    const slot = bucket % this.buckets;
    if (entry.slotBucket[slot] !== bucket) {
      entry.slotBucket[slot] = bucket;
      entry.counts.fill(0, slot * SERIES_COUNT, (slot + 1) * SERIES_COUNT);
    }
    const index = slot * SERIES_COUNT + series;
    entry.counts[index] = (entry.counts[index] ?? 0) + 1;
    entry.lastBucket = bucket;
  };

  private entryFor(credential: string | null, address: string, bucket: number): ClientSeries | null {
    const byAddress = this.clients.get(credential ?? '');
    const found = byAddress?.get(address);
    if (found !== undefined) return found;
    if (this.size >= this.maxClients && !this.sweep(bucket)) return null;
    const entry: ClientSeries = {
      credential,
      address,
      slotBucket: new Float64Array(this.buckets).fill(-1),
      counts: new Uint32Array(this.buckets * SERIES_COUNT),
      lastBucket: bucket,
    };
    let addresses = this.clients.get(credential ?? '');
    if (addresses === undefined) {
      addresses = new Map();
      this.clients.set(credential ?? '', addresses);
    }
    addresses.set(address, entry);
    this.size += 1;
    return entry;
  }

  /** Drops the clients with no call in the window; true when that made room. */
  private sweep(bucket: number): boolean {
    if (this.lastSweep === bucket) return false;
    this.lastSweep = bucket;
    for (const [credential, addresses] of this.clients) {
      for (const [address, entry] of addresses) {
        if (entry.lastBucket > bucket - this.buckets) continue;
        addresses.delete(address);
        this.size -= 1;
      }
      if (addresses.size === 0) this.clients.delete(credential);
    }
    return this.size < this.maxClients;
  }

  private *entries(): IterableIterator<ClientSeries> {
    for (const addresses of this.clients.values()) yield* addresses.values();
  }

  toJson(): TimelineJson {
    const current = Math.floor(this.now() / this.bucketMs);
    const first = current - this.buckets + 1;
    const bucketStarts: string[] = [];
    for (let bucket = first; bucket <= current; bucket += 1) bucketStarts.push(new Date(bucket * this.bucketMs).toISOString());
    const clients: TimelineClient[] = [];
    for (const entry of this.entries()) {
      const series = Object.fromEntries(TIMELINE_SERIES.map((name) => [name, new Array<number>(this.buckets).fill(0)])) as Record<TimelineSeries, number[]>;
      for (let slot = 0; slot < this.buckets; slot += 1) {
        const bucket = entry.slotBucket[slot] ?? -1;
        if (bucket < first || bucket > current) continue;
        TIMELINE_SERIES.forEach((name, index) => {
          series[name][bucket - first] = entry.counts[slot * SERIES_COUNT + index] ?? 0;
        });
      }
      clients.push({ credential: entry.credential, address: entry.address, series });
    }
    return {
      bucket_seconds: this.bucketMs / 1000,
      bucket_starts: bucketStarts,
      max_clients: this.maxClients,
      clients_tracked: this.size,
      overflow_calls: this.overflowCalls,
      clients,
    };
  }
}
