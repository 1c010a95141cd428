import { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors';
import type { CallScope, LookupResult } from '../v4/api';
import { lookupKey, packUserId, storedKey, unpackUserId } from './compact-entry';
import type { ResolutionOutcome } from './resolution-stats';
import { ResolutionStats } from './resolution-stats';

/** Does the V4 lookup for one email with one caller's credentials. */
export type LookupFunction = (normalisedEmail: string, scope: CallScope) => Promise<LookupResult>;

interface FetchContext {
  readonly email: string;
  readonly scope: CallScope;
  /** Set by the fetchMethod: this caller started the lookup (the others joined it). */
  started: boolean;
}

export interface Resolved {
  readonly userId: string;
  /** True when the id came from the cache rather than from a lookup made for this call. */
  readonly fromCache: boolean;
  readonly outcome: ResolutionOutcome;
}

export interface ResolverOptions {
  readonly max: number;
  readonly ttlMs: number;
}

/**
 * email → user_id for the operations: what they resolve, what they learn from a write
 * (`remember`), what they find to be wrong (`forget`). In memory (MemoryResolver, the default)
 * or two-level with Redis behind (SharedResolver, REDIS_URL).
 */
export interface Resolver {
  readonly stats: ResolutionStats;
  /** Entries in this process's cache. */
  readonly size: number;
  /** The id this process has cached, without a lookup. */
  peek(credential: string, normalisedEmail: string): string | undefined;
  /**
   * The id this process has cached, counted as a hit, without a promise (most calls are hits:
   * they need not wait a turn); undefined on a miss, and then `resolve` finds it.
   */
  hit(credential: string, normalisedEmail: string): Resolved | undefined;
  resolve(credential: string, normalisedEmail: string, scope: CallScope): Promise<Resolved>;
  /**
   * A write showed that the email maps to `userId`. Settles once every replica can learn of it
   * (in memory: at once); never rejects.
   */
  remember(credential: string, normalisedEmail: string, userId: string): void | Promise<void>;
  /** The email may no longer map to what is cached: drop it everywhere. Never rejects. */
  forget(credential: string, normalisedEmail: string): void | Promise<void>;
  /**
   * A bulk fill (the warm-up) that read the index over a while: from now on the keys written are
   * noted, so that it keeps nothing a write overtook. Close it when done.
   */
  openFill(): BulkFill;
}

export interface BulkFill {
  /** Keeps what the fill read, unless the key was written since the fill opened or holds an entry already. Never rejects. */
  keep(credential: string, normalisedEmail: string, userId: string): boolean | Promise<boolean>;
  close(): void;
}

/**
 * email → user_id, cached per (credentials, email), in this process only. Concurrent misses for
 * one key share one V4 lookup (lru-cache fetch); a lookup that fails or finds nobody stores
 * nothing, and every caller waiting on it gets its error.
 */
export class MemoryResolver implements Resolver {
  readonly stats = new ResolutionStats();
  private readonly cache: LRUCache<string, string, FetchContext>;

  constructor(lookup: LookupFunction, options: ResolverOptions) {
    this.cache = new LRUCache<string, string, FetchContext>({
      max: options.max,
      ttl: options.ttlMs,
      // A stale entry is never served: an expired id is looked up again.
      allowStale: false,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') this.stats.evictions += 1;
      },
      fetchMethod: async (_key, _stale, { context }) => {
        context.started = true;
        let result: LookupResult;
        try {
          result = await lookup(context.email, context.scope);
        } catch (err) {
          // Two users with the email is an answer, not a failure of the lookup.
          if (!(err instanceof GatewayError && err.code === 'AMBIGUOUS_EMAIL')) this.stats.lookupsFailed += 1;
          throw err;
        }
        if (result === null) throw userNotFound();
        return packUserId(result.userId);
      },
    });
  }

  get size(): number {
    return this.cache.size;
  }

  // Entries are stored compactly (compact-entry.ts): values go in through packUserId and come
  // out through unpackUserId; keys are stored flat (storedKey) and looked up as lookupKey.

  /** The cached id, without a lookup. */
  peek(credential: string, normalisedEmail: string): string | undefined {
    const stored = this.cache.get(lookupKey(credential, normalisedEmail));
    return stored === undefined ? undefined : unpackUserId(stored);
  }

  hit(credential: string, normalisedEmail: string): Resolved | undefined {
    const cached = this.cache.get(lookupKey(credential, normalisedEmail));
    if (cached === undefined) return undefined;
    this.stats.hits += 1;
    return { userId: unpackUserId(cached), fromCache: true, outcome: 'hit' };
  }

  async resolve(credential: string, normalisedEmail: string, scope: CallScope, retried = false): Promise<Resolved> {
    const cached = this.hit(credential, normalisedEmail);
    if (cached !== undefined) return cached;
    const context: FetchContext = { email: normalisedEmail, scope, started: false };
    const pending = this.cache.fetch(storedKey(credential, normalisedEmail), { context });
    if (context.started) this.stats.misses += 1;
    else this.stats.coalesced += 1;
    // A caller that joined someone else's lookup still answers by its own deadline.
    let stored: string | undefined;
    try {
      stored = context.started ? await pending : await withinDeadline(pending, scope);
    } catch (err) {
      // A write (remember/forget) on the key while its lookup ran aborts the lookup (lru-cache
      // rejects with its reason): its answer may be out of date. Resolve once more: the written
      // id, or a fresh lookup. Any other failure is the lookup's own.
      if (retried || !isAbortedByWrite(err)) throw err;
      return this.resolve(credential, normalisedEmail, scope, true);
    }
    if (stored === undefined) throw userNotFound();
    return { userId: unpackUserId(stored), fromCache: false, outcome: context.started ? 'miss' : 'coalesced' };
  }

  /** Keys written while a bulk fill is open, one set per fill (none: nothing to note). */
  private readonly fills = new Set<Set<string>>();

  remember(credential: string, normalisedEmail: string, userId: string): void {
    const key = storedKey(credential, normalisedEmail);
    this.noteWrite(key);
    this.cache.set(key, packUserId(userId));
  }

  forget(credential: string, normalisedEmail: string): void {
    const key = lookupKey(credential, normalisedEmail);
    this.noteWrite(key);
    this.cache.delete(key);
  }

  private noteWrite(key: string): void {
    if (this.fills.size === 0) return;
    for (const written of this.fills) written.add(key);
  }

  openFill(): BulkFill {
    const written = new Set<string>();
    this.fills.add(written);
    return {
      keep: (credential, normalisedEmail, userId) => {
        const key = storedKey(credential, normalisedEmail);
        if (written.has(key) || this.cache.has(key)) return false;
        this.cache.set(key, packUserId(userId));
        return true;
      },
      close: () => {
        this.fills.delete(written);
      },
    };
  }
}

/** lru-cache's reasons for aborting a fetch whose key was written or evicted meanwhile. */
const ABORT_REASONS = new Set(['deleted', 'replaced', 'evicted']);

function isAbortedByWrite(err: unknown): boolean {
  return err instanceof Error && err.constructor === Error && ABORT_REASONS.has(err.message);
}

/** `new Resolver(...)` (app.ts) makes the in-memory one; the type `Resolver` is the interface above. */
export const Resolver = MemoryResolver;

/** Makes the resolver of an app (app.ts calls it with its V4 lookup and the cache settings). */
export type ResolverFactory = (lookup: LookupFunction, options: ResolverOptions) => Resolver;

export function withinDeadline<T>(pending: Promise<T>, scope: CallScope): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new GatewayError('UPSTREAM_TIMEOUT', 'V4 did not answer in time; try again later.', { detail: 'timeout: waited for a shared lookup' })), scope.deadline.remainingMs());
  });
  return Promise.race([pending, expired]).finally(() => clearTimeout(timer));
}

export function userNotFound(): GatewayError {
  return new GatewayError('USER_NOT_FOUND', 'V4 holds no user with this email; check the address, or create the user with POST /api/management/user.');
}
