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
}

/** How the user_id of one legacy call was found; one word in the translation log. */
export type ResolutionOutcome = 'hit' | 'miss' | 'coalesced' | 'verified' | 'healed' | 'not_found' | 'ambiguous';
