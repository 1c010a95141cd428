// What GET /migration/diffs shows: per route and client, the counts of every result, the
// paths that differ most, and a few examples. Bounded whatever the traffic: a fixed number of
// route/client entries (later ones are counted in `overflow` only), of paths per entry (later
// ones are counted in `other_paths`), of examples per entry (the newest kept) and of
// differences per example. Nothing in it is an email or a key: values come masked from the diff,
// clients are credential fingerprints.
import type { ShadowResult } from './shadow-metrics';
import type { ClassifiedDifference, Comparison, DiffClass, DiffKind, ShadowFailureKind } from './types';

export const DEFAULT_MAX_ENTRIES = 1_000;
export const DEFAULT_MAX_PATHS = 50;
export const DEFAULT_MAX_EXAMPLES = 5;
export const DEFAULT_MAX_EXAMPLE_DIFFERENCES = 10;

type Counts = Record<ShadowResult, number>;

const zeroCounts = (): Counts => ({ equal: 0, expected: 0, noise: 0, different: 0, shadow_failed: 0, skipped: 0, not_sampled: 0 });

export interface PathCount {
  readonly path: string;
  readonly kind: DiffKind;
  readonly class: DiffClass;
  readonly count: number;
}

export interface DiffExample {
  readonly at: string;
  readonly request_id: string | null;
  readonly outcome: Comparison['outcome'];
  /** Differences of the call beyond the ones shown (the example's bound, or the diff's own). */
  readonly more: number;
  readonly differences: readonly ClassifiedDifference[];
}

export interface DiffEntryJson {
  readonly route: string;
  /** Credential fingerprint of the calls (as in the migration report); null: no credentials. */
  readonly client: string | null;
  /** Comparisons made: equal + expected + noise + different. */
  readonly compared: number;
  readonly equal: number;
  readonly expected: number;
  readonly noise: number;
  readonly different: number;
  readonly shadow_failed: number;
  readonly shadow_failures: Partial<Record<ShadowFailureKind, number>>;
  readonly skipped: number;
  readonly not_sampled: number;
  /** (compared − different) / compared, to 4 places; null before the first comparison. */
  readonly match_rate: number | null;
  /** Most frequent first; by pattern (list indices as `*`), kind and class. */
  readonly top_paths: readonly PathCount[];
  /** Differences at paths the entry had no room left to count separately. */
  readonly other_paths: number;
  /** The newest comparisons that found a difference, newest first. */
  readonly examples: readonly DiffExample[];
}

export interface DiffStoreJson {
  readonly since: string;
  readonly max_entries: number;
  readonly entries_tracked: number;
  /** Results of route/client pairs that arrived once the store was full. */
  readonly overflow: Counts;
  readonly totals: Counts & { readonly compared: number; readonly match_rate: number | null };
  /** Most differences (regressions) first. */
  readonly entries: readonly DiffEntryJson[];
}

interface Entry {
  readonly route: string;
  readonly client: string | null;
  readonly counts: Counts;
  readonly failures: Map<ShadowFailureKind, number>;
  readonly paths: Map<string, { path: string; kind: DiffKind; class: DiffClass; count: number }>;
  otherPaths: number;
  readonly examples: DiffExample[];
}

export interface DiffStoreOptions {
  readonly maxEntries?: number;
  readonly maxPaths?: number;
  readonly maxExamples?: number;
  readonly maxExampleDifferences?: number;
  readonly now?: () => number;
}

export class DiffStore {
  private readonly entries = new Map<string, Entry>();
  private readonly overflow = zeroCounts();
  private readonly maxEntries: number;
  private readonly maxPaths: number;
  private readonly maxExamples: number;
  private readonly maxExampleDifferences: number;
  private readonly now: () => number;
  private readonly since: number;

  constructor(options: DiffStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.maxPaths = options.maxPaths ?? DEFAULT_MAX_PATHS;
    this.maxExamples = options.maxExamples ?? DEFAULT_MAX_EXAMPLES;
    this.maxExampleDifferences = options.maxExampleDifferences ?? DEFAULT_MAX_EXAMPLE_DIFFERENCES;
    this.now = options.now ?? Date.now;
    this.since = this.now();
  }

  /** A result without a comparison: shadow failed, skipped, not sampled. */
  count(route: string, client: string | null, result: Exclude<ShadowResult, Comparison['outcome']>, failure?: ShadowFailureKind): void {
    const entry = this.entryFor(route, client);
    if (entry === null) {
      this.overflow[result] += 1;
      return;
    }
    entry.counts[result] += 1;
    if (failure !== undefined) entry.failures.set(failure, (entry.failures.get(failure) ?? 0) + 1);
  }

  recordComparison(route: string, client: string | null, requestId: string | null, comparison: Comparison): void {
    const entry = this.entryFor(route, client);
    if (entry === null) {
      this.overflow[comparison.outcome] += 1;
      return;
    }
    entry.counts[comparison.outcome] += 1;
    if (comparison.differences.length === 0) return;
    for (const d of comparison.differences) {
      const key = `${d.kind} ${d.class} ${d.pattern}`;
      const counted = entry.paths.get(key);
      if (counted !== undefined) counted.count += 1;
      else if (entry.paths.size < this.maxPaths) entry.paths.set(key, { path: d.pattern, kind: d.kind, class: d.class, count: 1 });
      else entry.otherPaths += 1;
    }
    const shown = comparison.differences.slice(0, this.maxExampleDifferences);
    const more = comparison.differences.length - shown.length + (comparison.truncated ? 1 : 0);
    entry.examples.unshift({ at: new Date(this.now()).toISOString(), request_id: requestId, outcome: comparison.outcome, more, differences: shown });
    if (entry.examples.length > this.maxExamples) entry.examples.pop();
  }

  private entryFor(route: string, client: string | null): Entry | null {
    const key = `${route}\u0000${client ?? ''}`;
    const found = this.entries.get(key);
    if (found !== undefined) return found;
    if (this.entries.size >= this.maxEntries) return null;
    const entry: Entry = { route, client, counts: zeroCounts(), failures: new Map(), paths: new Map(), otherPaths: 0, examples: [] };
    this.entries.set(key, entry);
    return entry;
  }

  toJson(): DiffStoreJson {
    const totals = zeroCounts();
    const entries = [...this.entries.values()].map((entry) => {
      for (const result of Object.keys(totals) as ShadowResult[]) totals[result] += entry.counts[result];
      return entryJson(entry);
    });
    for (const result of Object.keys(totals) as ShadowResult[]) totals[result] += this.overflow[result];
    entries.sort((a, b) => b.different - a.different || b.compared - a.compared || a.route.localeCompare(b.route));
    const compared = comparedOf(totals);
    return {
      since: new Date(this.since).toISOString(),
      max_entries: this.maxEntries,
      entries_tracked: this.entries.size,
      overflow: { ...this.overflow },
      totals: { compared, ...totals, match_rate: matchRate(compared, totals.different) },
      entries,
    };
  }
}

function comparedOf(counts: Counts): number {
  return counts.equal + counts.expected + counts.noise + counts.different;
}

function matchRate(compared: number, different: number): number | null {
  return compared === 0 ? null : Math.round(((compared - different) / compared) * 10_000) / 10_000;
}

function entryJson(entry: Entry): DiffEntryJson {
  const compared = comparedOf(entry.counts);
  return {
    route: entry.route,
    client: entry.client,
    compared,
    ...entry.counts,
    shadow_failures: Object.fromEntries([...entry.failures].sort(([a], [b]) => a.localeCompare(b))),
    match_rate: matchRate(compared, entry.counts.different),
    top_paths: [...entry.paths.values()].sort((a, b) => b.count - a.count || a.path.localeCompare(b.path)).map((p) => ({ ...p })),
    other_paths: entry.otherPaths,
    examples: [...entry.examples],
  };
}
