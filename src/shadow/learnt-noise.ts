// Learnt noise, as Diffy learns it: for a few calls the primary is asked twice, and any path
// at which its two answers differ (a timestamp, a counter, a random id) is noise for that
// route from then on: the shadow cannot be expected to match what the primary does not match
// itself. Bounded: a fixed number of routes, and of patterns per route.
import type { Difference } from './types';

export const MAX_NOISE_ROUTES = 64;
export const MAX_NOISE_PATTERNS = 256;

export class LearntNoise {
  private readonly patterns = new Map<string, Set<string>>();
  private readonly samplesTaken = new Map<string, number>();
  private static readonly EMPTY: ReadonlySet<string> = new Set();

  /** `samplesPerRoute`: SHADOW_NOISE_SAMPLES, how many calls of each route get the primary asked twice. */
  constructor(private readonly samplesPerRoute: number) {}

  /** Whether this call of `route` should ask the primary twice; counts it when so. */
  takeSample(route: string): boolean {
    const taken = this.samplesTaken.get(route);
    if (taken === undefined && this.samplesTaken.size >= MAX_NOISE_ROUTES) return false;
    if ((taken ?? 0) >= this.samplesPerRoute) return false;
    this.samplesTaken.set(route, (taken ?? 0) + 1);
    return true;
  }

  /** Learns every pattern at which the primary's two answers differ. A status that differs is not learnt: it is not a field. */
  learn(route: string, differences: readonly Difference[]): void {
    let set = this.patterns.get(route);
    for (const d of differences) {
      if (d.kind === 'status') continue;
      if (set === undefined) {
        if (this.patterns.size >= MAX_NOISE_ROUTES) return;
        set = new Set();
        this.patterns.set(route, set);
      }
      if (set.size < MAX_NOISE_PATTERNS) set.add(d.pattern);
    }
  }

  of(route: string): ReadonlySet<string> {
    return this.patterns.get(route) ?? LearntNoise.EMPTY;
  }

  toJson(): Record<string, string[]> {
    return Object.fromEntries([...this.patterns].map(([route, set]) => [route, [...set].sort()]));
  }
}
