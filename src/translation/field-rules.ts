import { GatewayError, type ErrorCode } from '../errors';
import type { FieldRuleConfig } from '../config/schema';
import { isJsonObject, jsonEqual, parseJsonObjectFlagging, type JsonObject, type JsonValue } from './json';

/**
 * The body translation of the contract: a table of named field rules (config/default.json),
 * compiled once, applied by one function per direction. Both work on a body the gateway parsed
 * for this call alone: what a rule leaves as it was is not copied (a copy of every user grew a
 * 100,000-user list's memory: README, Performance), but an object a field is removed from is
 * rebuilt without it rather than changed by `delete`, which would leave V8 a slow dictionary
 * object for the JSON.stringify that follows (measured: a rename by `delete` cost 0.4–0.5 µs more
 * per body than the rebuild). Use the body each returns. A rule with a V4 path renames or moves a field (request:
 * legacy → V4; answer: back). A rule without one names a field V4 removed: rejected, with the
 * rule's own code and message, wherever it stands in a request; never produced in an answer.
 */
interface MoveRule {
  readonly id: string;
  readonly legacy: readonly string[];
  readonly v4: readonly string[];
}

interface RemovedRule {
  readonly id: string;
  readonly legacy: readonly string[];
  /** Lower-cased key name matched at any depth and in any case. */
  readonly name: string;
  readonly code: ErrorCode;
  readonly message: string;
}

export interface RequestTranslation {
  readonly body: JsonObject;
  /** Ids of the rules that changed something, for the translation log. */
  readonly applied: readonly string[];
}

export class FieldRules {
  private readonly moves: readonly MoveRule[];
  private readonly removed: readonly RemovedRule[];
  /** Removed names by lower-cased name, and their lengths: most keys are ruled out by length alone. */
  private readonly removedByName: ReadonlyMap<string, RemovedRule>;
  private readonly removedLengths: ReadonlySet<number>;
  private readonly isRemovedKey = (key: string): boolean => this.removedLengths.has(key.length) && this.removedByName.has(key.toLowerCase());

  constructor(rules: readonly FieldRuleConfig[]) {
    const ids = new Set<string>();
    const legacyPaths = new Set<string>();
    const moves: MoveRule[] = [];
    const removed: RemovedRule[] = [];
    for (const rule of rules) {
      if (ids.has(rule.id)) throw new Error(`field rule ${rule.id}: duplicate id`);
      ids.add(rule.id);
      if (legacyPaths.has(rule.legacy)) throw new Error(`field rule ${rule.id}: another rule already maps legacy field ${rule.legacy}`);
      legacyPaths.add(rule.legacy);
      if (rule.v4 === null) {
        const name = lastOf(rule.legacy).toLowerCase();
        removed.push({
          id: rule.id,
          legacy: rule.legacy.split('.'),
          name,
          code: rule.code ?? 'SERVICE_PARAMETER_REMOVED',
          message: rule.message ?? `The ${name} parameter was removed in User Management V4.`,
        });
      } else {
        if (rule.v4 === rule.legacy) throw new Error(`field rule ${rule.id}: maps ${rule.legacy} onto itself, so it can match nothing`);
        moves.push({ id: rule.id, legacy: rule.legacy.split('.'), v4: rule.v4.split('.') });
      }
    }
    // A V4 path that is another rule's legacy path would make the result depend on rule order.
    for (const move of moves) {
      const target = move.v4.join('.');
      if (legacyPaths.has(target)) throw new Error(`field rule ${move.id}: its V4 field ${target} is another rule's legacy field`);
    }
    this.moves = moves;
    this.removed = removed;
    this.removedByName = new Map(removed.map((rule) => [rule.name, rule]));
    this.removedLengths = new Set(removed.map((rule) => rule.name.length));
  }

  /** The rule for a removed parameter name (query string or body), or null. */
  removedRuleFor(name: string): RemovedRule | null {
    return this.isRemovedKey(name) ? (this.removedByName.get(name.toLowerCase()) ?? null) : null;
  }

  removedError(rule: RemovedRule, where: string): GatewayError {
    return new GatewayError(rule.code, rule.message, { detail: `${rule.id} in ${where}` });
  }

  /**
   * A legacy request body, as text → V4 body: parsed (INVALID_JSON), checked for removed fields
   * at any depth in the same walk (their rule's error), translated (CONFLICTING_FIELDS when a
   * body sets a field under both names with different values).
   */
  requestToV4(text: string): RequestTranslation {
    const parsed = parseJsonObjectFlagging(text, this.removed.length > 0 ? this.isRemovedKey : null);
    let { body } = parsed;
    const { flagged } = parsed;
    if (flagged !== null) throw this.removedError(this.removedRuleFor(flagged) as RemovedRule, 'body');
    const applied: string[] = [];
    for (const rule of this.moves) {
      const legacyValue = getPath(body, rule.legacy);
      if (legacyValue === undefined) continue;
      const v4Value = getPath(body, rule.v4);
      if (v4Value !== undefined && !jsonEqual(legacyValue, v4Value)) {
        throw new GatewayError(
          'CONFLICTING_FIELDS',
          `The body sets both ${rule.legacy.join('.')} and ${rule.v4.join('.')} to different values; send only ${rule.legacy.join('.')}.`,
        );
      }
      body = withoutPath(body, rule.legacy) ?? body;
      setPath(body, rule.v4, legacyValue, () => new GatewayError('CONFLICTING_FIELDS', `The body's ${rule.v4.join('.')} must sit in an object for rule ${rule.id}.`));
      applied.push(rule.id);
    }
    return { body, applied };
  }

  /**
   * A V4 user → the legacy user (the answer was parsed for this call alone: only the objects a
   * field leaves are rebuilt; use the body returned). A V4 answer that cannot take the legacy
   * shape is V4's fault: UPSTREAM_ERROR, never a client's 400.
   */
  toLegacy(v4: JsonObject): JsonObject {
    let body = v4;
    for (const rule of this.removed) body = withoutPath(body, rule.legacy) ?? body;
    for (const rule of this.moves) {
      const v4Value = getPath(body, rule.v4);
      if (v4Value === undefined) continue;
      body = withoutPath(body, rule.v4) ?? body;
      setPath(body, rule.legacy, v4Value, () =>
        new GatewayError('UPSTREAM_ERROR', 'V4 answered with a user the gateway cannot translate; try again later.', { detail: `V4 user cannot take rule ${rule.id}` }),
      );
    }
    return body;
  }
}

/**
 * `body` without the field at `path`: the object holding the field is rebuilt without it (its
 * parents keep their shape: only a value changes), and containers left empty by the removal go
 * too (a container that was empty before stays). Undefined when there is nothing to remove.
 */
function withoutPath(body: JsonObject, path: readonly string[], from = 0): JsonObject | undefined {
  // Walks the path by index, so that no rest array is allocated per level on every call.
  const head = path[from];
  if (head === undefined || !Object.prototype.hasOwnProperty.call(body, head)) return undefined;
  if (from + 1 < path.length) {
    const child = body[head];
    if (!isJsonObject(child)) return undefined;
    const rest = withoutPath(child, path, from + 1);
    if (rest === undefined) return undefined;
    if (hasOwnKey(rest)) {
      setOwn(body, head, rest);
      return body;
    }
  }
  return copyWithout(body, head);
}

/** A copy of `body` without `key`, its other keys in their order. */
function copyWithout(body: JsonObject, key: string): JsonObject {
  const copy: JsonObject = {};
  // for…in rather than Object.keys: no array of keys made per object (own keys only, checked).
  for (const name in body) if (name !== key && Object.prototype.hasOwnProperty.call(body, name)) setOwn(copy, name, body[name] as JsonValue);
  return copy;
}

function hasOwnKey(body: JsonObject): boolean {
  for (const name in body) if (Object.prototype.hasOwnProperty.call(body, name)) return true;
  return false;
}

/** Sets `value` at `path` in `body` itself, creating objects on the way; `blocked` when a non-object is in the way. */
function setPath(body: JsonObject, path: readonly string[], value: JsonValue, blocked: () => GatewayError, from = 0): void {
  const head = path[from];
  if (head === undefined) return;
  if (from + 1 === path.length) {
    setOwn(body, head, value);
    return;
  }
  const existing = Object.prototype.hasOwnProperty.call(body, head) ? body[head] : undefined;
  if (existing !== undefined && !isJsonObject(existing)) throw blocked();
  const child = existing ?? {};
  setPath(child, path, value, blocked, from + 1);
  if (existing === undefined) setOwn(body, head, child);
}

/** `body[key] = value`, except that a `__proto__` key stays a key instead of becoming the prototype. */
function setOwn(body: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(body, key, { value, enumerable: true, writable: true, configurable: true });
  else body[key] = value;
}

function lastOf(path: string): string {
  const parts = path.split('.');
  return parts[parts.length - 1] ?? path;
}

function getPath(body: JsonObject, path: readonly string[]): JsonValue | undefined {
  let current: JsonValue | undefined = body;
  for (const key of path) {
    if (!isJsonObject(current) || !Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = current[key];
  }
  return current;
}
