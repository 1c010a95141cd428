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
  resolve(credential: string, normalisedEmail: string, scope: CallScope): Promise<Resolved>;
  /**
   * A write showed that the email maps to `userId`. Settles once every replica can learn of it
   * (in memory: at once); never rejects.
   */
  remember(credential: string, normalisedEmail: string, userId: string): void | Promise<void>;
  /** The email may no longer map to what is cached: drop it everywhere. Never rejects. */
  forget(credential: string, normalisedEmail: string): void | Promise<void>;
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

  async resolve(credential: string, normalisedEmail: string, scope: CallScope): Promise<Resolved> {
    const cached = this.cache.get(lookupKey(credential, normalisedEmail));
    if (cached !== undefined) {
      this.stats.hits += 1;
      return { userId: unpackUserId(cached), fromCache: true, outcome: 'hit' };
    }
    const context: FetchContext = { email: normalisedEmail, scope, started: false };
    const pending = this.cache.fetch(storedKey(credential, normalisedEmail), { context });
    if (context.started) this.stats.misses += 1;
    else this.stats.coalesced += 1;
    // A caller that joined someone else's lookup still answers by its own deadline.
    const stored = context.started ? await pending : await withinDeadline(pending, scope);
    if (stored === undefined) throw userNotFound();
    return { userId: unpackUserId(stored), fromCache: false, outcome: context.started ? 'miss' : 'coalesced' };
  }

  remember(credential: string, normalisedEmail: string, userId: string): void {
    this.cache.set(storedKey(credential, normalisedEmail), packUserId(userId));
  }

  forget(credential: string, normalisedEmail: string): void {
    this.cache.delete(lookupKey(credential, normalisedEmail));
  }
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
