import { baseParameterName, parseQuery, uniqueParameters } from '../../src/translation/query';
import { gatewayErrorOf } from './helpers';

describe('parseQuery', () => {
  it.each<[string, Array<[string, string]>]>([
    ['', []],
    ['email=jane@example.com', [['email', 'jane@example.com']]],
    ['email=jane+news@example.com', [['email', 'jane+news@example.com']]],
    ['email=jane%2Bnews%40example.com', [['email', 'jane+news@example.com']]],
    ['email=jane%20doe', [['email', 'jane doe']]],
    ['email=a%252Bb', [['email', 'a%2Bb']]],
    ['offset=10&limit=20', [['offset', '10'], ['limit', '20']]],
    ['a=1&&b=2&', [['a', '1'], ['b', '2']]],
    ['flag', [['flag', '']]],
    ['flag=', [['flag', '']]],
    ['=value', [['', 'value']]],
    ['a=b=c', [['a', 'b=c']]],
    ['se%72vice=x', [['service', 'x']]],
    ['a%5B%5D=1', [['a[]', '1']]],
    ['email=a&email=b', [['email', 'a'], ['email', 'b']]],
    ['k=j%C3%B6rg', [['k', 'jörg']]],
  ])('%j → %j', (raw, pairs) => {
    expect(parseQuery(raw)).toEqual(pairs);
  });

  it.each([
    'email=%E0%A4%A',
    'email=%',
    'email=100%',
    'email=%ZZ',
    'email=%FF',
    '%E0%A4%A=x',
    'ok=1&bad=%',
  ])('malformed percent-encoding %j → INVALID_QUERY', (raw) => {
    const err = gatewayErrorOf(() => parseQuery(raw), 'INVALID_QUERY');
    expect(err.message).toContain('not valid percent-encoding');
  });

  it('names the offending parameter when it is a short plain word', () => {
    const err = gatewayErrorOf(() => parseQuery('good=1&page=%'), 'INVALID_QUERY');
    expect(err.message).toContain('"page"');
  });

  it.each(['k'.repeat(100), 'jane@example.com', 'k1-test-key-0001'])('never repeats a name that could be an email or a key: %s', (name) => {
    const err = gatewayErrorOf(() => parseQuery(`good=1&${name}=%`), 'INVALID_QUERY');
    expect(err.message).not.toContain(name);
  });
});

describe('baseParameterName', () => {
  it.each<[string, string]>([
    ['email', 'email'],
    ['service[]', 'service'],
    ['a[b][c]', 'a'],
    ['[x]', ''],
    ['', ''],
  ])('%j → %j', (key, name) => {
    expect(baseParameterName(key)).toBe(name);
  });
});

describe('uniqueParameters', () => {
  it('maps each parameter given once by its base name', () => {
    const map = uniqueParameters([
      ['email', 'jane@example.com'],
      ['offset', '0'],
      ['limit[]', '5'],
    ]);
    expect([...map.entries()]).toEqual([
      ['email', 'jane@example.com'],
      ['offset', '0'],
      ['limit', '5'],
    ]);
  });

  it('accepts no parameters', () => {
    expect(uniqueParameters([]).size).toBe(0);
  });

  it.each<[string, Array<[string, string]>, string]>([
    ['the same name twice', [['email', 'a'], ['email', 'b']], 'email'],
    ['the same name twice with equal values', [['email', 'a'], ['email', 'a']], 'email'],
    ['a[] and a', [['a[]', '1'], ['a', '2']], 'a'],
    ['a and a[]', [['a', '1'], ['a[]', '2']], 'a'],
    ['a[] twice', [['a[]', '1'], ['a[]', '2']], 'a'],
    ['a[x] and a[y]', [['a[x]', '1'], ['a[y]', '2']], 'a'],
    ['a duplicate after others', [['offset', '0'], ['limit', '1'], ['offset', '2']], 'offset'],
  ])('%s → INVALID_QUERY', (_what, pairs, name) => {
    const err = gatewayErrorOf(() => uniqueParameters(pairs), 'INVALID_QUERY');
    expect(err.message).toContain(JSON.stringify(name));
    expect(err.message).toContain('more than once');
  });

  it('refuses duplicates parsed from a raw query string', () => {
    gatewayErrorOf(() => uniqueParameters(parseQuery('email=a%40b.c&email=d%40e.f')), 'INVALID_QUERY');
    gatewayErrorOf(() => uniqueParameters(parseQuery('ids[]=1&ids=2')), 'INVALID_QUERY');
  });
});
