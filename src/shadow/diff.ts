// The semantic diff of two legacy-shape answers: JSON compared as JSON, not as text.
//   - key order never matters (objects are compared key by key);
//   - numbers are compared as numbers (`1`, `1.0` and `1e0` are one value once parsed);
//   - list order is ignored where the legacy API promises none (LIST_RULES below), and kept
//     everywhere else;
//   - when the statuses differ, that is the one difference (an error and a user have nothing
//     else in common); when both are errors, only `error.code` is compared: messages and
//     request ids differ by design between two backends.
import { normaliseEmail } from '../translation/email';
import { isJsonObject, type JsonObject, type JsonValue } from '../translation/json';
import type { ValueMasker } from './mask';
import type { DiffKind, Difference, ShadowAnswer, ShownValue } from './types';

/**
 * Lists whose order the legacy API does not promise, by pattern (JSON pointer, indices as `*`):
 *   - the user list (the root array of `GET /api/management/user`, with or without filters):
 *     the contract promises the users, not an order; two backends with two storage engines
 *     order them differently. Users are matched by identity, which in the legacy API is the
 *     email (case-insensitive): every legacy path names a user by it. A user only one side
 *     has is one `missing`/`extra` difference, a user both have is compared field by field.
 *     (Within one offset/limit page this shows as different members, which they are.)
 *   - `user_flags`, in a user or a list's users: a set of flags; `[A, B]` and `[B, A]` grant
 *     the same. Compared as a multiset of values.
 * Every other array (none in today's user) is compared by position.
 */
export type ListRule = { readonly pattern: string; readonly by: 'key'; readonly key: string } | { readonly pattern: string; readonly by: 'set' };

export const LIST_RULES: readonly ListRule[] = [
  { pattern: '', by: 'key', key: 'email' },
  { pattern: '/user_flags', by: 'set' },
  { pattern: '/*/user_flags', by: 'set' },
];

export const DEFAULT_MAX_DIFFERENCES = 100;

export interface DiffOptions {
  readonly masker: ValueMasker;
  /** Stop after this many differences (the rest is `truncated`); default 100. */
  readonly maxDifferences?: number;
  readonly listRules?: readonly ListRule[];
}

export interface DiffResult {
  readonly differences: Difference[];
  readonly truncated: boolean;
}

/** Differences of the V4 answer from the legacy one, both in the legacy shape. */
export function diffAnswers(legacy: ShadowAnswer, v4: ShadowAnswer, options: DiffOptions): DiffResult {
  const walker = new Walker(options);
  if (legacy.status !== v4.status) {
    walker.add({ path: '', pattern: '', kind: 'status', legacy: legacy.status, v4: v4.status });
  } else if (legacy.status >= 400) {
    walker.walk(errorCodeOf(legacy.body), errorCodeOf(v4.body), '/error/code', '/error/code', 'code');
  } else {
    walker.walk(legacy.body, v4.body, '', '', undefined);
  }
  return { differences: walker.out, truncated: walker.truncated };
}

function errorCodeOf(body: JsonValue | undefined): JsonValue | undefined {
  if (!isJsonObject(body)) return body;
  const error = body.error;
  return isJsonObject(error) ? error.code : undefined;
}

type JsonType = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

function typeOf(value: JsonValue): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as 'boolean' | 'number' | 'string' | 'object';
}

class Walker {
  readonly out: Difference[] = [];
  truncated = false;
  private readonly max: number;
  private readonly rules: readonly ListRule[];

  constructor(private readonly options: DiffOptions) {
    this.max = options.maxDifferences ?? DEFAULT_MAX_DIFFERENCES;
    this.rules = options.listRules ?? LIST_RULES;
  }

  add(difference: Difference): void {
    if (this.out.length >= this.max) this.truncated = true;
    else this.out.push(difference);
  }

  private get full(): boolean {
    return this.out.length >= this.max;
  }

  private shown(value: JsonValue, key: string | undefined): ShownValue {
    return this.options.masker.show(value, key);
  }

  walk(a: JsonValue | undefined, b: JsonValue | undefined, path: string, pattern: string, key: string | undefined, item?: string): void {
    if (this.full) {
      if (!sameJson(a, b)) this.truncated = true;
      return;
    }
    if (a === undefined && b === undefined) return;
    const base = item === undefined ? { path, pattern } : { path, pattern, item };
    if (a === undefined) return this.add({ ...base, kind: 'extra', v4: this.shown(b as JsonValue, key) });
    if (b === undefined) return this.add({ ...base, kind: 'missing', legacy: this.shown(a, key) });
    const ta = typeOf(a);
    if (ta !== typeOf(b)) return this.add({ ...base, kind: 'type', legacy: this.shown(a, key), v4: this.shown(b, key) });
    if (ta === 'object') return this.objects(a as JsonObject, b as JsonObject, path, pattern, item);
    if (ta === 'array') return this.arrays(a as JsonValue[], b as JsonValue[], path, pattern, item);
    if (a !== b) this.add({ ...base, kind: 'changed' as DiffKind, legacy: this.shown(a, key), v4: this.shown(b, key) });
  }

  private objects(a: JsonObject, b: JsonObject, path: string, pattern: string, item: string | undefined): void {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of [...keys].sort()) {
      const segment = '/' + escapeSegment(this.options.masker.text(key));
      this.walk(own(a, key), own(b, key), path + segment, pattern + segment, key, item);
    }
  }

  private arrays(a: JsonValue[], b: JsonValue[], path: string, pattern: string, item: string | undefined): void {
    const rule = this.rules.find((r) => r.pattern === pattern);
    const itemPattern = `${pattern}/*`;
    if (rule?.by === 'set') return this.sets(a, b, path, itemPattern, item);
    if (rule?.by === 'key') return this.keyed(a, b, rule.key, path, itemPattern);
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n && !this.full; i += 1) this.walk(a[i], b[i], `${path}/${i}`, itemPattern, undefined, item);
    if (this.full && !sameJson(a, b)) this.truncated = true;
  }

  /** Multiset of values: each value of one side is paired with an equal one of the other. */
  private sets(a: JsonValue[], b: JsonValue[], path: string, itemPattern: string, item: string | undefined): void {
    const unpaired = b.map((value, index) => ({ value, index, text: canonical(value) }));
    const missing: number[] = [];
    a.forEach((value, index) => {
      const text = canonical(value);
      const at = unpaired.findIndex((u) => u.text === text);
      if (at === -1) missing.push(index);
      else unpaired.splice(at, 1);
    });
    const base = (index: number): { path: string; pattern: string; item?: string } =>
      item === undefined ? { path: `${path}/${index}`, pattern: itemPattern } : { path: `${path}/${index}`, pattern: itemPattern, item };
    for (const index of missing) this.add({ ...base(index), kind: 'missing', legacy: this.shown(a[index] as JsonValue, undefined) });
    for (const u of unpaired) this.add({ ...base(u.index), kind: 'extra', v4: this.shown(u.value, undefined) });
  }

  /** Items matched by a key (the user's email, case-insensitive); items without one by position among themselves. */
  private keyed(a: JsonValue[], b: JsonValue[], key: string, path: string, itemPattern: string): void {
    const keyOf = (value: JsonValue): string | undefined => {
      const k = isJsonObject(value) ? value[key] : undefined;
      return typeof k === 'string' ? normaliseEmail(k) : undefined;
    };
    const byKey = new Map<string, number[]>();
    const unkeyedB: number[] = [];
    b.forEach((value, index) => {
      const k = keyOf(value);
      if (k === undefined) unkeyedB.push(index);
      else byKey.set(k, [...(byKey.get(k) ?? []), index]);
    });
    const unkeyedA: number[] = [];
    a.forEach((value, index) => {
      const k = keyOf(value);
      if (k === undefined) return void unkeyedA.push(index);
      const item = this.options.masker.email(k);
      const match = byKey.get(k)?.shift();
      if (match === undefined) this.add({ path: `${path}/${index}`, pattern: itemPattern, item, kind: 'missing', legacy: this.shown(value, undefined) });
      else this.walk(value, b[match], `${path}/${index}`, itemPattern, undefined, item);
    });
    for (const [k, indexes] of byKey) {
      for (const index of indexes) this.add({ path: `${path}/${index}`, pattern: itemPattern, item: this.options.masker.email(k), kind: 'extra', v4: this.shown(b[index] as JsonValue, undefined) });
    }
    const n = Math.max(unkeyedA.length, unkeyedB.length);
    for (let i = 0; i < n; i += 1) {
      const ia = unkeyedA[i];
      const ib = unkeyedB[i];
      this.walk(ia === undefined ? undefined : a[ia], ib === undefined ? undefined : b[ib], `${path}/${ia ?? ib ?? i}`, itemPattern, undefined);
    }
  }
}

function own(object: JsonObject, key: string): JsonValue | undefined {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
function escapeSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A text form in which key order does not matter: multiset members are compared by it. */
function canonical(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isJsonObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k] as JsonValue)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Whether two values are the same JSON, key order aside (used only once the diff is full). */
function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonical(a) === canonical(b);
}
