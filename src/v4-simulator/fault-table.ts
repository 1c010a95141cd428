// Fault rules in the order they were added; the first one matching a request applies and is
// used up after `times` requests.
import type { FaultKind, FaultRule } from './types';

const KINDS: ReadonlySet<FaultKind> = new Set<FaultKind>(['delay', 'status', 'garbage', 'reset', 'hang', 'huge']);

interface ActiveRule {
  rule: FaultRule;
  method: string | undefined;
  remaining: number;
}

export class FaultTable {
  private rules: ActiveRule[] = [];
  /** How many requests each kind of fault has been applied to, for chaos runs' reports. */
  readonly applied: Record<FaultKind, number> = { delay: 0, status: 0, garbage: 0, reset: 0, hang: 0, huge: 0 };

  /** Rules are checked when added, so a typo fails the test that adds it, not a later request. */
  add(rule: FaultRule): void {
    if (!KINDS.has(rule.kind)) throw new TypeError(`Unknown fault kind ${JSON.stringify(rule.kind)}.`);
    const times = rule.times ?? Infinity;
    if (!(times >= 0)) throw new TypeError(`Fault times must be ≥ 0; got ${String(rule.times)}.`);
    if (rule.kind === 'delay' && !(rule.delayMs !== undefined && rule.delayMs >= 0)) {
      throw new TypeError('A delay fault needs delayMs ≥ 0.');
    }
    if (times === 0) return;
    this.rules.push({ rule: { ...rule }, method: rule.method?.toUpperCase(), remaining: times });
  }

  clear(): void {
    this.rules = [];
  }

  /** The rule that applies to this request, if any; counts it as used. */
  take(method: string, path: string): FaultRule | undefined {
    if (this.rules.length === 0) return undefined; // the common case, kept cheap
    const i = this.rules.findIndex((r) => matches(r, method, path));
    const active = this.rules[i];
    if (active === undefined) return undefined;
    if (--active.remaining <= 0) this.rules.splice(i, 1);
    this.applied[active.rule.kind] += 1;
    return active.rule;
  }
}

function matches(active: ActiveRule, method: string, path: string): boolean {
  if (active.method !== undefined && active.method !== method) return false;
  const p = active.rule.path;
  if (p === undefined) return true;
  if (typeof p === 'string') return p === path;
  p.lastIndex = 0; // a /g or /y RegExp keeps state between test() calls
  return p.test(path);
}
