// Which differences count: expected (the translation explains them), noise (ignored or learnt),
// or regression (everything else; the only class that counts against a client's match rate).
import type { FieldRuleConfig } from '../config/schema';
import type { JsonValue } from '../translation/json';
import { isJsonObject } from '../translation/json';
import type { ClassifiedDifference, Difference, ShadowAnswer, ShownValue } from './types';

/** A pattern (`/*\/registration_information/registration_time`) as a dotted field path without list indices. */
export function dottedFieldPath(pattern: string): string {
  return pattern
    .split('/')
    .slice(1)
    .filter((segment) => segment !== '*')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function atOrUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix + '.');
}

/** Null, an empty object or an empty array: "nothing" in either shape. */
function isEmptyShown(value: ShownValue | undefined): boolean {
  if (value === null) return true;
  if (typeof value !== 'object' || value === undefined) return false;
  return 'object_keys' in value ? value.object_keys === 0 : value.array_length === 0;
}

interface Explanation {
  readonly explains: (field: string, difference: Difference) => boolean;
  readonly reason: string;
}

/**
 * The expected differences, derived from the field-rule table (no list of field names here):
 *   - a rule without a V4 field (`service`): V4 has no such field, so any difference at or under
 *     the rule's legacy field is the removal, said with the rule's id;
 *   - a rule that renames or moves a field (`cid` ↔ `external_id`, `email` ↔
 *     `contact_details.email`): one side having nothing there (absent) and the other null or an
 *     empty container at the rule's legacy field, its V4 field, or a container on the way to it
 *     (`contact_details: {}`, which the move empties and drops), is one fact in two shapes.
 * A rename whose two sides hold different values (a `cid` that is not the `external_id`) is not
 * explained by anything: it is a regression.
 */
function explanations(rules: readonly FieldRuleConfig[]): Explanation[] {
  const out: Explanation[] = [];
  for (const rule of rules) {
    if (rule.v4 === null) {
      out.push({ explains: (field) => atOrUnder(field, rule.legacy), reason: `field rule ${rule.id}: V4 has no ${rule.legacy}` });
      continue;
    }
    const v4Parts = rule.v4.split('.');
    const places = new Set([rule.legacy, rule.v4, ...v4Parts.slice(0, -1).map((_, i) => v4Parts.slice(0, i + 1).join('.'))]);
    out.push({
      explains: (field, d) => places.has(field) && ((d.kind === 'missing' && isEmptyShown(d.legacy)) || (d.kind === 'extra' && isEmptyShown(d.v4))),
      reason: `field rule ${rule.id}: renamed or moved by the translation; nothing on one side, empty on the other`,
    });
  }
  return out;
}

function errorCodeOf(body: JsonValue | undefined): string | undefined {
  if (!isJsonObject(body) || !isJsonObject(body.error)) return undefined;
  return typeof body.error.code === 'string' ? body.error.code : undefined;
}

export class DifferenceClassifier {
  private readonly expected: readonly Explanation[];
  private readonly ignored: readonly string[];
  /** The error codes the gateway refuses removed fields with (rule `code`), and why. */
  private readonly refusals: ReadonlyMap<string, string>;

  /** `ignorePaths`: dotted field paths (SHADOW_IGNORE_PATHS), each covering what lies under it. */
  constructor(fieldRules: readonly FieldRuleConfig[], ignorePaths: readonly string[]) {
    this.expected = explanations(fieldRules);
    this.ignored = [...ignorePaths];
    this.refusals = new Map(
      fieldRules
        .filter((rule) => rule.v4 === null)
        .map((rule) => [rule.code ?? 'SERVICE_PARAMETER_REMOVED', `field rule ${rule.id}: the gateway refuses ${rule.legacy}, which V4 has no place for`]),
    );
  }

  /**
   * Why the V4 side's answer is a refusal the translation makes on purpose (a `service` the
   * legacy backend still took): the status difference it causes is expected. Null otherwise.
   */
  refusalReason(v4: ShadowAnswer): string | null {
    if (v4.status < 400 || v4.status >= 500) return null;
    const code = errorCodeOf(v4.body);
    return code === undefined ? null : (this.refusals.get(code) ?? null);
  }

  /** `learnt`: patterns learnt as noise for this call's route; `refusal`: refusalReason of the call's V4 answer. */
  classify(difference: Difference, learnt: ReadonlySet<string>, refusal: string | null = null): ClassifiedDifference {
    const field = dottedFieldPath(difference.pattern);
    if (difference.kind === 'status' && refusal !== null) return { ...difference, class: 'expected', reason: refusal };
    if (difference.kind !== 'status') {
      const explanation = this.expected.find((e) => e.explains(field, difference));
      if (explanation !== undefined) return { ...difference, class: 'expected', reason: explanation.reason };
      const ignored = this.ignored.find((path) => atOrUnder(field, path));
      if (ignored !== undefined) return { ...difference, class: 'noise', reason: `ignored path ${ignored} (SHADOW_IGNORE_PATHS)` };
    }
    if (learnt.has(difference.pattern)) return { ...difference, class: 'noise', reason: 'learnt noise: differs between two answers of the primary to one call' };
    return { ...difference, class: 'regression', reason: '' };
  }
}
