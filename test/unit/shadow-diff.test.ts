import fc from 'fast-check';
import { diffAnswers, LIST_RULES } from '../../src/shadow/diff';
import { ValueMasker } from '../../src/shadow/mask';
import type { ShadowAnswer } from '../../src/shadow/types';
import type { JsonObject, JsonValue } from '../../src/translation/json';
import { jsonArbitrary } from './helpers';

const masker = new ValueMasker('a-test-hash-key-0123456789');
const ok = (body: JsonValue | undefined): ShadowAnswer => ({ status: 200, body });
const diff = (legacy: JsonValue | undefined, v4: JsonValue | undefined, maxDifferences?: number) =>
  diffAnswers(ok(legacy), ok(v4), { masker, ...(maxDifferences === undefined ? {} : { maxDifferences }) });

const user = (i: number, extra: JsonObject = {}): JsonObject => ({
  id: `id-${i}`,
  name: `User ${i}`,
  email: `user${i}@example.com`,
  cid: `CUST-${i}`,
  user_flags: [],
  contact_details: { telephone_number_E123: '+44 20 7946 0958' },
  registration_information: { registration_state: 'UNREGISTERED', registration_time: 1732790400 },
  ...extra,
});

const safeKey = fc.string({ maxLength: 8 }).filter((key) => !['__proto__', 'constructor', 'prototype'].includes(key));
const json = jsonArbitrary(safeKey);

/** The same JSON with every object's keys in reverse order. */
function reverseKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value).reverse()) out[key] = reverseKeys(value[key] as JsonValue);
  return out;
}

describe('diffAnswers: properties', () => {
  it('finds nothing between a value and itself (and a deep copy of it)', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(diff(value, value).differences).toEqual([]);
        expect(diff(value, JSON.parse(JSON.stringify(value)) as JsonValue).differences).toEqual([]);
      }),
      { seed: 1101, numRuns: 300 },
    );
  });

  it('never minds key order', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(diff(value, reverseKeys(value)).differences).toEqual([]);
      }),
      { seed: 1102, numRuns: 300 },
    );
  });

  it('never minds the order of a user list or of user_flags', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 12 }).map((ids) => [...new Set(ids)]), fc.integer(), (ids, seed) => {
        const users = ids.map((i) => user(i, { user_flags: ['A', 'B', String(i)] }));
        const shuffled = [...users].sort((a, b) => ((Number(String(a.id).slice(3)) * 7919 + seed) % 97) - ((Number(String(b.id).slice(3)) * 7919 + seed) % 97));
        const flipped = shuffled.map((u) => ({ ...u, user_flags: [...(u.user_flags as string[])].reverse() }));
        expect(diff(users, flipped).differences).toEqual([]);
      }),
      { seed: 1103, numRuns: 100 },
    );
  });

  it('finds a difference whenever two values differ (differences are empty only for equal JSON)', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        const same = JSON.stringify(reverseKeysSorted(a)) === JSON.stringify(reverseKeysSorted(b));
        const found = diff(a, b).differences.length > 0;
        // user lists and flags are compared as sets, so order-only differences there are no difference
        if (!Array.isArray(a) && !Array.isArray(b)) expect(found).toBe(!same);
        else if (!same && !found) expect(sameAsMultiset(a, b)).toBe(true);
      }),
      { seed: 1104, numRuns: 300 },
    );
  });
});

function reverseKeysSorted(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(reverseKeysSorted);
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value).sort()) out[key] = reverseKeysSorted(value[key] as JsonValue);
  return out;
}

function sameAsMultiset(a: JsonValue, b: JsonValue): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  const norm = (list: JsonValue[]): string[] => list.map((v) => JSON.stringify(reverseKeysSorted(v))).sort();
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

describe('diffAnswers: kinds and paths', () => {
  it('numbers are compared as numbers', () => {
    expect(diff(JSON.parse('{"t": 1.0}') as JsonValue, JSON.parse('{"t": 1e0}') as JsonValue).differences).toEqual([]);
    expect(diff({ t: 1 }, { t: '1' }).differences).toEqual([{ path: '/t', pattern: '/t', kind: 'type', legacy: 1, v4: '1' }]);
  });

  it('missing, extra, changed, type, each with a JSON pointer and both values', () => {
    const legacy = user(1, { service: 'premium' });
    const v4 = { ...user(1), name: 'Jane', contact_details: [], extra_field: true };
    expect(diff(legacy, v4).differences).toEqual([
      { path: '/contact_details', pattern: '/contact_details', kind: 'type', legacy: { object_keys: 1 }, v4: { array_length: 0 } },
      { path: '/extra_field', pattern: '/extra_field', kind: 'extra', v4: true },
      { path: '/name', pattern: '/name', kind: 'changed', legacy: 'User 1', v4: 'Jane' },
      { path: '/service', pattern: '/service', kind: 'missing', legacy: 'premium' },
    ]);
  });

  it('a status difference is the only one; two errors are compared by error.code only', () => {
    expect(diffAnswers({ status: 404, body: { error: { code: 'USER_NOT_FOUND' } } }, ok(user(1)), { masker }).differences).toEqual([
      { path: '', pattern: '', kind: 'status', legacy: 404, v4: 200 },
    ]);
    const notFound = (requestId: string, message: string): ShadowAnswer => ({ status: 404, body: { error: { code: 'USER_NOT_FOUND', message, request_id: requestId } } });
    expect(diffAnswers(notFound('a', 'x'), notFound('b', 'y'), { masker }).differences).toEqual([]);
    expect(diffAnswers(notFound('a', 'x'), { status: 404, body: { error: { code: 'NOT_FOUND' } } }, { masker }).differences).toEqual([
      { path: '/error/code', pattern: '/error/code', kind: 'changed', legacy: 'USER_NOT_FOUND', v4: 'NOT_FOUND' },
    ]);
  });

  it('matches list users by email (case-insensitive), not position: a changed field, a user only one side has', () => {
    const legacy = [user(1), user(2), user(3)];
    const v4 = [{ ...user(3), email: 'USER3@example.com' }, { ...user(2), name: 'Renamed' }, user(4)];
    const found = diff(legacy, v4).differences;
    expect(found.map(({ path, pattern, kind }) => ({ path, pattern, kind }))).toEqual([
      { path: '/0', pattern: '/*', kind: 'missing' },
      { path: '/1/name', pattern: '/*/name', kind: 'changed' },
      { path: '/2/email', pattern: '/*/email', kind: 'changed' },
      { path: '/2', pattern: '/*', kind: 'extra' },
    ]);
    expect(found[0]?.item).toBe(masker.email('user1@example.com'));
    expect(found[3]?.item).toBe(masker.email('user4@example.com'));
    expect(found[2]?.v4).toBe(`${masker.email('user3@example.com')} (mixed case)`);
  });

  it('user_flags are a multiset: a missing flag is one difference, whatever the order', () => {
    const found = diff(user(1, { user_flags: ['A', 'B', 'B'] }), user(1, { user_flags: ['B', 'A'] })).differences;
    expect(found).toEqual([{ path: '/user_flags/2', pattern: '/user_flags/*', kind: 'missing', legacy: 'B' }]);
  });

  it('other arrays keep their order', () => {
    expect(diff({ list: [1, 2] }, { list: [2, 1] }).differences.map((d) => d.path)).toEqual(['/list/0', '/list/1']);
    expect(LIST_RULES.map((r) => r.pattern)).toEqual(['', '/user_flags', '/*/user_flags']);
  });

  it('shows no email and no key in clear, and bounds long strings', () => {
    const legacy = { email: 'Jane+billing@Example.com', note: 'x'.repeat(500), auth: 'Apikey k1-test-key-0001', 'a@b.c': 1 };
    const v4 = { email: 'jane@example.com', note: 'y'.repeat(500), auth: 'Apikey other', 'a@b.c': 2 };
    const text = JSON.stringify(diff(legacy, v4).differences);
    expect(text).not.toMatch(/@/);
    expect(text).not.toContain('k1-test-key-0001');
    expect(text).toContain('[credentials]');
    expect(text).toContain(masker.email('a@b.c'));
    for (const d of diff(legacy, v4).differences) expect(JSON.stringify(d).length).toBeLessThan(400);
  });

  it('stops at maxDifferences and says it was truncated', () => {
    const legacy = Array.from({ length: 30 }, (_, i) => user(i));
    const v4 = legacy.map((u) => ({ ...u, name: 'x' }));
    const result = diff(legacy, v4, 10);
    expect(result.differences).toHaveLength(10);
    expect(result.truncated).toBe(true);
    expect(diff(legacy, legacy, 10).truncated).toBe(false);
  });

  it('an absent body (204) on both sides is equal; on one side it is missing/extra', () => {
    expect(diff(undefined, undefined).differences).toEqual([]);
    expect(diff(undefined, {}).differences).toEqual([{ path: '', pattern: '', kind: 'extra', v4: { object_keys: 0 } }]);
  });
});
