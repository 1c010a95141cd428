import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'winston';
import { GatewayError } from '../errors';
import { RedisUnavailable, type RedisLink } from '../redis/redis-link';
import type { CallScope, LookupResult } from '../v4/api';
import { ResolutionStats } from './resolution-stats';
import { userNotFound, withinDeadline, type BulkFill, type LookupFunction, type Resolved, type Resolver, type ResolverOptions } from './resolver';
import { CHANGE_SCRIPT, entryKey, FILL_SCRIPT, lockKey, parseEntry, parseInvalidation, POLL_SCRIPT, UNLOCK_SCRIPT, type SharedEntry } from './shared-entries';
import { StalenessGauge } from './staleness';

interface LocalEntry {
  readonly userId: string;
  /** The Redis generation the id was stored under: an invalidation of a newer one drops it. */
  readonly generation: number;
}

/** What one lookup (or a wait on another replica's) found; `fromCache`: it came from Redis. */
interface Found {
  readonly userId: string;
  readonly fromCache: boolean;
}

export interface SharedResolverOptions extends ResolverOptions {
  readonly link: RedisLink;
  readonly keyPrefix: string;
  /** How long a cold lookup's lock is held at most. */
  readonly lockMs: number;
  /** How long a tombstone (and a remembered invalidation) lives: longer than any lookup can take. */
  readonly lookupWindowMs: number;
  readonly logger: Logger;
  /** Keys changed while Redis was down, invalidated when it is back; past this many, the rest are counted. */
  readonly maxPendingInvalidations?: number;
}

const POLL_START_MS = 2;
const POLL_MAX_MS = 25;

/**
 * The two-level resolution cache (REDIS_URL): this process's lru-cache in front, Redis behind,
 * invalidations on Redis pub/sub.
 *
 * - A local hit costs no Redis call. A local miss asks Redis; a Redis miss takes a short lock
 *   (`SET NX PX`) so that one replica does the V4 lookup and the others wait for its answer;
 *   concurrent misses in one process share one attempt.
 * - Every entry has a generation. A write (`remember`/`forget`) bumps it, stores the new id or
 *   a tombstone and publishes the invalidation in one Lua script; a lookup stores its answer
 *   only if the generation it began with is still current (in Redis, and in the invalidations
 *   this process has seen), so a lookup that started before an invalidation cannot put the old
 *   id back.
 * - Redis down, failed or slow (RedisLink): the local cache and V4 lookups carry on as in
 *   memory; every change of the link's state drops the whole local level (invalidations may
 *   have been missed), and the keys written meanwhile are invalidated when Redis is back.
 */
export class SharedResolver implements Resolver {
  readonly stats = new ResolutionStats();
  readonly staleness: StalenessGauge;
  private readonly local: LRUCache<string, LocalEntry>;
  /** Newest generation an invalidation named, per key, kept for the time a lookup can take. */
  private readonly invalidated: LRUCache<string, number>;
  private readonly inflight = new Map<string, Promise<Found>>();
  /**
   * A logical clock of local changes: `touched` holds when each key was last written or
   * forgotten here, `droppedAt` when the whole level was last dropped. A lookup keeps its answer
   * only if neither happened since it began (as lru-cache's fetch does in memory).
   */
  private clock = 0;
  private droppedAt = 0;
  private readonly touched: LRUCache<string, number>;
  private readonly pending = new Set<string>();
  private pendingOverflow = 0;
  private readonly link: RedisLink;

  constructor(
    private readonly lookup: LookupFunction,
    private readonly options: SharedResolverOptions,
  ) {
    this.link = options.link;
    this.staleness = new StalenessGauge(options.link, options.ttlMs);
    this.local = new LRUCache<string, LocalEntry>({
      max: options.max,
      ttl: options.ttlMs,
      allowStale: false,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') this.stats.evictions += 1;
      },
    });
    this.invalidated = new LRUCache<string, number>({ max: options.max, ttl: options.lookupWindowMs });
    this.touched = new LRUCache<string, number>({ max: options.max, ttl: options.lookupWindowMs });
    this.link.onMessage((message) => this.onInvalidation(message));
    this.link.onState((state) => this.onLinkState(state));
  }

  get size(): number {
    return this.local.size;
  }

  private key(credential: string, normalisedEmail: string): string {
    return entryKey(this.options.keyPrefix, credential, normalisedEmail);
  }

  peek(credential: string, normalisedEmail: string): string | undefined {
    return this.local.get(this.key(credential, normalisedEmail))?.userId;
  }

  hit(credential: string, normalisedEmail: string): Resolved | undefined {
    const cached = this.local.get(this.key(credential, normalisedEmail));
    if (cached === undefined) return undefined;
    this.stats.hits += 1;
    return { userId: cached.userId, fromCache: true, outcome: 'hit' };
  }

  async resolve(credential: string, normalisedEmail: string, scope: CallScope): Promise<Resolved> {
    const cached = this.hit(credential, normalisedEmail);
    if (cached !== undefined) return cached;
    const key = this.key(credential, normalisedEmail);
    const running = this.inflight.get(key);
    if (running !== undefined) {
      this.stats.coalesced += 1;
      // A caller that joined someone else's lookup still answers by its own deadline.
      const found = await withinDeadline(running, scope);
      // An id that came from Redis is a cached id: a write with it is verified first.
      return { userId: found.userId, fromCache: found.fromCache, outcome: found.fromCache ? 'hit' : 'coalesced' };
    }
    const attempt: Promise<Found> = this.find(key, normalisedEmail, scope).finally(() => {
      // A write may have replaced this lookup meanwhile (touch, applyInvalidation): leave the newer one.
      if (this.inflight.get(key) === attempt) this.inflight.delete(key);
    });
    this.inflight.set(key, attempt);
    const found = await attempt;
    if (!found.fromCache) this.stats.misses += 1;
    return { userId: found.userId, fromCache: found.fromCache, outcome: found.fromCache ? 'hit' : 'miss' };
  }

  /** Redis, then (under the lock, or after waiting for whoever holds it) V4. */
  private async find(key: string, email: string, scope: CallScope): Promise<Found> {
    const epoch = this.clock;
    let entry: SharedEntry;
    try {
      entry = parseEntry(await this.link.command<string | null>(['GET', key]));
    } catch (err) {
      return this.fallBack(err, key, email, scope, epoch);
    }
    if (entry.userId !== null) {
      this.stats.sharedHits += 1;
      this.keepLocally(key, entry.userId, entry.generation, epoch);
      return { userId: entry.userId, fromCache: true };
    }
    const token = randomBytes(9).toString('base64url');
    let locked: boolean;
    try {
      locked = (await this.link.command<string | null>(['SET', lockKey(key), token, 'NX', 'PX', String(this.options.lockMs)])) === 'OK';
    } catch (err) {
      return this.fallBack(err, key, email, scope, epoch);
    }
    if (!locked) {
      this.stats.lockWaits += 1;
      const waited = await this.waitForFill(key, scope);
      if (waited.userId !== null) {
        this.stats.lockWaitsServed += 1;
        this.keepLocally(key, waited.userId, waited.generation, epoch);
        return { userId: waited.userId, fromCache: true };
      }
      entry = waited;
    }
    try {
      const userId = await this.lookUp(email, scope);
      // An answer a write overtook meanwhile is not vouched for: it counts as cached, so a
      // write with it reads the user first (VERIFY_CACHED_WRITES) and a gone user is looked up again.
      const kept = await this.fill(key, userId, entry.generation, epoch);
      return { userId, fromCache: !kept };
    } finally {
      if (locked) this.link.command(['EVAL', UNLOCK_SCRIPT, '1', lockKey(key), token]).catch(() => undefined);
    }
  }

  /**
   * Waits while another replica's lookup holds the lock: until its answer is in Redis, the lock
   * is gone (its lookup failed or found nobody), the lock's time is up, or half of this call's
   * time is spent. Returns the entry as last seen (no id: look it up here).
   */
  private async waitForFill(key: string, scope: CallScope): Promise<SharedEntry> {
    const until = Math.min(Date.now() + this.options.lockMs, Date.now() + scope.deadline.remainingMs() / 2);
    let pause = POLL_START_MS;
    let last: SharedEntry = { generation: 0, userId: null };
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, POLL_MAX_MS);
      let reply: [string | null, number];
      try {
        reply = await this.link.command<[string | null, number]>(['EVAL', POLL_SCRIPT, '2', key, lockKey(key)]);
      } catch {
        this.stats.sharedFallbacks += 1;
        return last;
      }
      last = parseEntry(reply[0]);
      if (last.userId !== null || reply[1] === 0) return last;
    }
    return last;
  }

  /** Keeps a lookup's answer in Redis and here, unless an invalidation came since it began. */
  /** True when the answer was kept (no write overtook it). */
  private async fill(key: string, userId: string, generation: number, epoch: number): Promise<boolean> {
    let stored: number;
    try {
      stored = await this.link.command<number>(['EVAL', FILL_SCRIPT, '1', key, String(generation), userId, String(this.options.ttlMs)]);
    } catch {
      this.stats.sharedFallbacks += 1;
      // Redis went down meanwhile (the link dropped the local level): kept as memory-only would.
      return this.keepLocally(key, userId, 0, epoch, true);
    }
    if (stored === 1) return this.keepLocally(key, userId, generation, epoch);
    this.stats.staleFillsRefused += 1;
    return false;
  }

  /** Redis failed or is down: the lookup goes to V4 and its answer is kept here only. */
  private async fallBack(err: unknown, key: string, email: string, scope: CallScope, epoch: number): Promise<Found> {
    if (!(err instanceof RedisUnavailable)) throw err;
    this.stats.sharedFallbacks += 1;
    const userId = await this.lookUp(email, scope);
    const kept = this.keepLocally(key, userId, 0, epoch, true);
    return { userId, fromCache: !kept };
  }

  private async lookUp(email: string, scope: CallScope): Promise<string> {
    let result: LookupResult;
    try {
      result = await this.lookup(email, scope);
    } catch (err) {
      // Two users with the email is an answer, not a failure of the lookup.
      if (!(err instanceof GatewayError && err.code === 'AMBIGUOUS_EMAIL')) this.stats.lookupsFailed += 1;
      throw err;
    }
    if (result === null) throw userNotFound();
    return result.userId;
  }

  /**
   * Into the local level, unless the level was dropped, the key changed here, or an invalidation
   * of a newer generation came, since the value was read (at `since` on the clock).
   */
  private keepLocally(key: string, userId: string, generation: number, since: number, memoryOnly = false): boolean {
    // A memory-only answer (Redis down) survives the level's drop, never a local write since `since`.
    if ((!memoryOnly && since < this.droppedAt) || (this.touched.get(key) ?? -1) > since) {
      this.stats.staleFillsRefused += 1;
      return false;
    }
    const newest = this.invalidated.get(key);
    if (newest !== undefined && newest > generation) {
      this.stats.staleFillsRefused += 1;
      return false;
    }
    this.local.set(key, { userId, generation });
    return true;
  }

  async remember(credential: string, normalisedEmail: string, userId: string): Promise<void> {
    const key = this.key(credential, normalisedEmail);
    // A read that confirmed the id it had changes nothing: no write, no invalidation.
    if (this.local.get(key)?.userId === userId) return;
    this.touch(key);
    await this.change(key, userId);
  }

  /**
   * The warm-up's fill: a key is kept only if nothing wrote it here since the fill opened, no
   * invalidation of it is known, and Redis holds nothing for it (FILL at generation 0: a write
   * anywhere in the fleet leaves an entry or a tombstone there). Kept without an invalidation:
   * nothing changed.
   */
  openFill(): BulkFill {
    const mark = this.clock;
    // Every key written here or invalidated by another replica while the fill is open, however
    // long the pass takes (`touched` and tombstones expire; this does not, until close).
    const written = new Set<string>();
    this.fills.add(written);
    const keep = async (credential: string, normalisedEmail: string, userId: string): Promise<boolean> => {
      const key = this.key(credential, normalisedEmail);
      if (written.has(key) || (this.touched.get(key) ?? -1) > mark || this.invalidated.has(key) || this.local.has(key)) return false;
      try {
        const stored = await this.link.command<number>(['EVAL', FILL_SCRIPT, '1', key, '0', userId, String(this.options.ttlMs)]);
        return stored === 1 && this.keepLocally(key, userId, 0, mark);
      } catch {
        this.stats.sharedFallbacks += 1;
        return this.keepLocally(key, userId, 0, mark, true);
      }
    };
    return { keep, close: () => this.fills.delete(written) };
  }

  /** Open bulk fills (warm-up), each noting the keys written while it runs. */
  private readonly fills = new Set<Set<string>>();

  private noteForFills(key: string): void {
    if (this.fills.size === 0) return;
    for (const written of this.fills) written.add(key);
  }

  async forget(credential: string, normalisedEmail: string): Promise<void> {
    const key = this.key(credential, normalisedEmail);
    this.touch(key);
    await this.change(key, null);
  }

  /** A local change of `key`: its entry goes, and lookups that began before keep nothing. */
  private touch(key: string): void {
    this.noteForFills(key);
    this.local.delete(key);
    // A lookup already running began before this write: later callers must not join it.
    this.inflight.delete(key);
    this.clock += 1;
    this.touched.set(key, this.clock);
  }

  /** A write's news: into Redis with a new generation, published to every replica, kept here. */
  private async change(key: string, userId: string | null): Promise<void> {
    const since = this.clock;
    try {
      const generation = await this.link.command<number>([
        'EVAL',
        CHANGE_SCRIPT,
        '1',
        key,
        userId ?? '',
        String(this.options.ttlMs),
        String(this.options.lookupWindowMs),
        this.link.channel,
        `${this.link.replicaId} ${Date.now()}`,
      ]);
      this.stats.invalidationsSent += 1;
      this.applyInvalidation(key, generation);
      if (userId !== null) this.keepLocally(key, userId, generation, since);
    } catch {
      // Down: as in memory, and the key is invalidated fleet-wide once Redis is back.
      this.stats.sharedFallbacks += 1;
      this.rememberPending(key);
      if (userId !== null) this.keepLocally(key, userId, 0, since, true);
    }
  }

  /** Another replica's write: drop what is older here, and remember it for lookups in flight. */
  private onInvalidation(message: string): void {
    const invalidation = parseInvalidation(message);
    if (invalidation === null || invalidation.replica === this.link.replicaId) return;
    this.stats.invalidationsReceived += 1;
    this.staleness.observeLag(Date.now() - invalidation.sentAt);
    this.applyInvalidation(invalidation.key, invalidation.generation);
  }

  private applyInvalidation(key: string, generation: number): void {
    this.noteForFills(key);
    if ((this.invalidated.get(key) ?? -1) < generation) this.invalidated.set(key, generation);
    // A lookup already running may hold the old answer: later callers start their own.
    this.inflight.delete(key);
    const entry = this.local.peek(key);
    if (entry !== undefined && entry.generation < generation) {
      this.local.delete(key);
      this.stats.localEntriesInvalidated += 1;
    }
  }

  /**
   * The channel dropped or came back: invalidations may have been missed, so nothing local is
   * trusted any more. Back up: the keys written meanwhile are invalidated fleet-wide.
   */
  private onLinkState(state: 'up' | 'down'): void {
    this.clock += 1;
    this.droppedAt = this.clock;
    this.local.clear();
    this.invalidated.clear();
    this.stats.localCacheDrops += 1;
    if (state === 'up') void this.replayPending();
  }

  private rememberPending(key: string): void {
    if (this.pending.size < (this.options.maxPendingInvalidations ?? 10_000)) this.pending.add(key);
    else this.pendingOverflow += 1;
  }

  private async replayPending(): Promise<void> {
    const keys = [...this.pending];
    this.pending.clear();
    if (this.pendingOverflow > 0) {
      this.options.logger.warn('redis: more keys were written while Redis was down than are kept for replay; their Redis entries may be stale until they expire (writes are still verified)', {
        not_replayed: this.pendingOverflow,
      });
      this.pendingOverflow = 0;
    }
    for (const key of keys) {
      if (this.link.state !== 'up') {
        this.rememberPending(key);
        continue;
      }
      await this.change(key, null);
    }
  }
}
