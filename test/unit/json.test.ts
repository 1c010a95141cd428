import { findKey, isJsonObject, jsonEqual, parseJsonObjectFlagging, type JsonObject, type JsonValue } from '../../src/translation/json';

function parseJsonObject(text: string): JsonObject {
  return parseJsonObjectFlagging(text, null).body;
}
import { gatewayErrorOf } from './helpers';

describe('parseJsonObjectFlagging (no flag)', () => {
  it('returns the parsed object', () => {
    expect(parseJsonObject('{"cid":"C1","contact_details":{"email":"a@b.c"},"user_flags":[1,{"x":null}]}')).toEqual({
      cid: 'C1',
      contact_details: { email: 'a@b.c' },
      user_flags: [1, { x: null }],
    });
    expect(parseJsonObject('  {}  ')).toEqual({});
  });

  it.each(['', ' ', '{', '{"a":1,}', "{'a':1}", '{"a":undefined}', 'undefined', '{"a":1}}', 'NaN', '{"a":01}'])(
    'broken JSON %j → INVALID_JSON',
    (text) => {
      const err = gatewayErrorOf(() => parseJsonObject(text), 'INVALID_JSON');
      expect(err.message).toMatch(/not valid JSON/);
    },
  );

  it.each(['1', '"text"', 'true', 'false', 'null', '[]', '[{"a":1}]', '[[]]'])('non-object %s → INVALID_JSON', (text) => {
    const err = gatewayErrorOf(() => parseJsonObject(text), 'INVALID_JSON');
    expect(err.message).toMatch(/must be a JSON object/);
  });

  it.each<[string, string, string]>([
    ['__proto__ at the top', '{"__proto__":{"polluted":true}}', '__proto__'],
    ['constructor at the top', '{"constructor":{"prototype":{"polluted":true}}}', 'constructor'],
    ['prototype at the top', '{"prototype":1}', 'prototype'],
    ['__proto__ nested', '{"a":{"b":{"__proto__":{"polluted":true}}}}', '__proto__'],
    ['constructor nested', '{"contact_details":{"constructor":1}}', 'constructor'],
    ['__proto__ inside an array', '{"user_flags":[{"__proto__":{"polluted":true}}]}', '__proto__'],
    ['prototype inside nested arrays', '{"a":[1,[2,[{"prototype":null}]]]}', 'prototype'],
    ['constructor after harmless keys', '{"a":1,"b":[{"c":2}],"d":{"e":{"constructor":"x"}}}', 'constructor'],
  ])('%s → INVALID_JSON naming the key', (_where, text, key) => {
    const err = gatewayErrorOf(() => parseJsonObject(text), 'INVALID_JSON');
    expect(err.message).toContain(`"${key}"`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts keys and values that only resemble prototype keys', () => {
    const text = '{"my_constructor":1,"Prototype":2,"__proto":3,"name":"__proto__","list":["constructor"]}';
    expect(parseJsonObject(text)).toEqual({ my_constructor: 1, Prototype: 2, __proto: 3, name: '__proto__', list: ['constructor'] });
  });
});

describe('isJsonObject', () => {
  it.each<[unknown, boolean]>([
    [{}, true],
    [{ a: 1 }, true],
    [[], false],
    [null, false],
    ['x', false],
    [1, false],
    [undefined, false],
  ])('%j → %s', (value, expected) => {
    expect(isJsonObject(value)).toBe(expected);
  });
});

describe('findKey', () => {
  const isTarget = (key: string): boolean => key === 'target';

  it.each<[string, JsonValue, string | null]>([
    ['at the top', { a: 1, target: 2 }, 'target'],
    ['nested in objects', { a: { b: { target: null } } }, 'target'],
    ['inside an array in an object', { a: [1, { target: 1 }] }, 'target'],
    ['in a top-level array', [1, 'x', { target: true }], 'target'],
    ['in nested arrays', [[[{ target: 0 }]]], 'target'],
    ['nowhere', { a: { b: [1, { c: 'target' }] } }, null],
    ['only as a value', { a: 'target', b: ['target'] }, null],
    ['on a string', 'target', null],
    ['on null', null, null],
    ['on a number', 1, null],
    ['on an empty object', {}, null],
  ])('%s', (_where, value, expected) => {
    expect(findKey(value, isTarget)).toBe(expected);
  });

  it('returns the first matching key in document order', () => {
    expect(findKey({ a: { x1: 1 }, x2: 2 }, (key) => key.startsWith('x'))).toBe('x1');
    expect(findKey({ x0: { x1: 1 } }, (key) => key.startsWith('x'))).toBe('x0');
  });

  it('tests every key at every depth', () => {
    const seen: string[] = [];
    findKey({ a: { b: [{ c: 1 }, { d: [{ e: 2 }] }] }, f: null }, (key) => {
      seen.push(key);
      return false;
    });
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });
});

describe('jsonEqual', () => {
  it.each<[string, JsonValue | undefined, JsonValue | undefined, boolean]>([
    ['equal strings', 'a', 'a', true],
    ['different strings', 'a', 'b', false],
    ['number and string', 1, '1', false],
    ['null and null', null, null, true],
    ['null and empty object', null, {}, false],
    ['empty object and null', {}, null, false],
    ['empty array and empty object', [], {}, false],
    ['empty object and empty array', {}, [], false],
    ['undefined and undefined', undefined, undefined, true],
    ['undefined and null', undefined, null, false],
    ['objects in another key order', { a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }, true],
    ['objects with different values', { a: 1 }, { a: 2 }, false],
    ['objects with different keys, same size', { a: 1 }, { b: 1 }, false],
    ['object with an extra key', { a: 1 }, { a: 1, b: 2 }, false],
    ['object with an extra key, other side', { a: 1, b: 2 }, { a: 1 }, false],
    ['arrays in the same order', [1, { a: [true] }], [1, { a: [true] }], true],
    ['arrays in another order', [1, 2], [2, 1], false],
    ['arrays of different length', [1], [1, 1], false],
    ['deep difference', { a: [{ b: { c: 'x' } }] }, { a: [{ b: { c: 'y' } }] }, false],
    ['true and false', true, false, false],
  ])('%s', (_what, a, b, expected) => {
    expect(jsonEqual(a, b)).toBe(expected);
    expect(jsonEqual(b, a)).toBe(expected);
  });
});
