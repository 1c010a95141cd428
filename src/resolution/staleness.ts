import type { RedisState } from '../redis/redis-link';

/** What the gauge needs of the link. */
interface LinkState {
  readonly state: RedisState;
  readonly stateSince: number;
}

/** Lags are kept per window of this length; the bound reads the current and the previous one. */
const WINDOW_MS = 30_000;

/**
 * How stale the local level of the shared cache may be, for the metric
 * `legacy_gateway_cache_local_staleness_seconds`:
 * - Redis up: another replica's write reaches this one's local level as fast as its
 *   invalidation is delivered, so the bound is the largest delivery lag seen in the last
 *   30-60 s (publisher's clock to receiver's: replicas are assumed NTP-synced).
 * - Redis down: nothing is delivered; an entry cached since may be as old as the time Redis has
 *   been down, at most CACHE_TTL_MS (writes are still verified by a read before them).
 * Changes made behind the gateway's back (straight to V4) are outside this figure in any mode.
 */
export class StalenessGauge {
  private currentMax = 0;
  private previousMax = 0;
  private windowStart = Date.now();
  /** All lags seen, for a mean: count and sum in seconds. */
  lagCount = 0;
  lagSumSeconds = 0;

  constructor(
    private readonly link: LinkState,
    private readonly ttlMs: number,
  ) {}

  observeLag(ms: number): void {
    const lag = Math.max(0, ms);
    this.roll();
    if (lag > this.currentMax) this.currentMax = lag;
    this.lagCount += 1;
    this.lagSumSeconds += lag / 1000;
  }

  private roll(): void {
    const now = Date.now();
    if (now - this.windowStart < WINDOW_MS) return;
    this.previousMax = now - this.windowStart < 2 * WINDOW_MS ? this.currentMax : 0;
    this.currentMax = 0;
    this.windowStart = now;
  }

  /** The bound, in seconds. */
  boundSeconds(): number {
    if (this.link.state === 'down') return Math.min(Date.now() - this.link.stateSince, this.ttlMs) / 1000;
    this.roll();
    return Math.max(this.currentMax, this.previousMax) / 1000;
  }
}
