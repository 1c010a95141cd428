/** Counters of the resolution layer; the metrics module reads them, the benchmarks print them. */
export class ResolutionStats {
  hits = 0;
  misses = 0;
  coalesced = 0;
  verifications = 0;
  verificationMismatches = 0;
  selfHeals = 0;
  lookupsFailed = 0;
  evictions = 0;
  /** Shared cache (REDIS_URL): local misses answered by Redis. */
  sharedHits = 0;
  /** Shared cache: cold lookups that waited for another replica's lookup (its lock was held). */
  lockWaits = 0;
  /** Shared cache: of those, the ones the other replica's answer served (no V4 lookup here). */
  lockWaitsServed = 0;
  /** Shared cache: operations that went on without Redis (down, failed or late). */
  sharedFallbacks = 0;
  /** Shared cache: invalidations this replica published (a write changed or dropped an entry). */
  invalidationsSent = 0;
  /** Shared cache: invalidations from other replicas received on the channel. */
  invalidationsReceived = 0;
  /** Shared cache: local entries dropped because another replica invalidated them. */
  localEntriesInvalidated = 0;
  /** Shared cache: times the whole local level was dropped (the channel dropped or came back). */
  localCacheDrops = 0;
  /** Shared cache: lookup answers not kept because an invalidation came after the lookup began. */
  staleFillsRefused = 0;
}

/** How the user_id of one legacy call was found; one word in the translation log. */
export type ResolutionOutcome = 'hit' | 'miss' | 'coalesced' | 'verified' | 'healed' | 'not_found' | 'ambiguous';
