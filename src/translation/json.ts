import { GatewayError } from '../errors';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Keys that would reach an object's prototype if a consumer ever merged the body naively. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses a request body that must be one JSON object without prototype-polluting keys at any
 * depth. JSON.parse itself never pollutes (it defines `__proto__` as an own key), but a body
 * like that can only be an attack or a bug, and V4 or a later merge must never see it. Also
 * reports the first key, at any depth, for which `flag` holds, in the same walk (the request's
 * hot path reads every key once, not once per check).
 */
export function parseJsonObjectFlagging(text: string, flag: ((key: string) => boolean) | null): { body: JsonObject; flagged: string | null } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatewayError('INVALID_JSON', 'The request body is not valid JSON; send one JSON object.');
  }
  if (!isJsonObject(value)) {
    throw new GatewayError('INVALID_JSON', 'The request body must be a JSON object ({...}).');
  }
  let flagged: string | null = null;
  const badKey = findKey(value, (key) => {
    if (PROTOTYPE_KEYS.has(key)) return true;
    if (flagged === null && flag !== null && flag(key)) flagged = key;
    return false;
  });
  if (badKey !== null) {
    throw new GatewayError('INVALID_JSON', `The request body uses the reserved key "${badKey}"; rename or remove it.`);
  }
  return { body: value, flagged };
}

/** The first key at any depth (objects inside arrays included) for which `test` holds, or null. */
export function findKey(value: JsonValue, test: (key: string) => boolean): string | null {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findKey(item, test);
      if (found !== null) return found;
    }
    return null;
  }
  if (!isJsonObject(value)) return null;
  // for…in rather than Object.keys: no array of keys made per object on the request's hot path.
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (test(key)) return key;
    const child = value[key];
    if (typeof child === 'object' && child !== null) {
      const found = findKey(child, test);
      if (found !== null) return found;
    }
  }
  return null;
}

export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => jsonEqual(item, b[index]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && jsonEqual(a[key], b[key]));
}
