import { loadConfig } from '../../src/config/load';
import { dottedFieldPath, DifferenceClassifier } from '../../src/shadow/classify';
import { ShadowComparator } from '../../src/shadow/comparator';
import type { Difference, ShadowAnswer } from '../../src/shadow/types';
import type { JsonObject } from '../../src/translation/json';

const rules = loadConfig({ env: {} }).fieldRules;
const NONE: ReadonlySet<string> = new Set();
const d = (pattern: string, kind: Difference['kind'], values: Partial<Pick<Difference, 'legacy' | 'v4'>> = {}): Difference => ({ path: pattern.replace('*', '0'), pattern, kind, ...values });

describe('DifferenceClassifier', () => {
  const classifier = new DifferenceClassifier(rules, ['registration_information.registration_time']);

  it('reads dotted field paths out of patterns (list indices dropped, RFC 6901 escapes undone)', () => {
    expect(dottedFieldPath('/*/registration_information/registration_time')).toBe('registration_information.registration_time');
    expect(dottedFieldPath('')).toBe('');
    expect(dottedFieldPath('/a~1b/c~0d')).toBe('a/b.c~d');
  });

  it('service, which the rules remove, is expected, with the rule id, at any depth of a list', () => {
    for (const pattern of ['/service', '/*/service']) {
      const c = classifier.classify(d(pattern, 'missing', { legacy: 'premium' }), NONE);
      expect(c.class).toBe('expected');
      expect(c.reason).toContain('service-removed');
    }
  });

  it('an emptied container or a null on one side of a renamed/moved field is expected; a different value is a regression', () => {
    expect(classifier.classify(d('/contact_details', 'missing', { legacy: { object_keys: 0 } }), NONE).class).toBe('expected');
    expect(classifier.classify(d('/*/cid', 'missing', { legacy: null }), NONE).reason).toContain('cid-is-external-id');
    expect(classifier.classify(d('/contact_details', 'missing', { legacy: { object_keys: 1 } }), NONE).class).toBe('regression');
    expect(classifier.classify(d('/cid', 'changed', { legacy: 'CUST-1', v4: 'CUST-2' }), NONE).class).toBe('regression');
    expect(classifier.classify(d('/email', 'changed', { legacy: 'h:a', v4: 'h:b' }), NONE).class).toBe('regression');
  });

  it('derives the expected fields from the rule table, not from a list of names', () => {
    const other = new DifferenceClassifier([{ id: 'plan-removed', description: 'V4 has no plan.', legacy: 'plan', v4: null }], []);
    expect(other.classify(d('/plan', 'missing', { legacy: 'gold' }), NONE)).toMatchObject({ class: 'expected', reason: expect.stringContaining('plan-removed') });
    expect(other.classify(d('/service', 'missing', { legacy: 'premium' }), NONE).class).toBe('regression');
  });

  it('configured ignored paths are noise, and so is everything under them', () => {
    expect(classifier.classify(d('/*/registration_information/registration_time', 'changed', { legacy: 1, v4: 2 }), NONE)).toMatchObject({ class: 'noise', reason: expect.stringContaining('SHADOW_IGNORE_PATHS') });
    const parent = new DifferenceClassifier(rules, ['registration_information']);
    expect(parent.classify(d('/registration_information/registration_state', 'changed', { legacy: 'A', v4: 'B' }), NONE).class).toBe('noise');
    expect(classifier.classify(d('/registration_information/registration_state', 'changed', { legacy: 'A', v4: 'B' }), NONE).class).toBe('regression');
  });

  it('learnt patterns are noise; a status difference is never ignored by path', () => {
    expect(classifier.classify(d('/name', 'changed', { legacy: 'a', v4: 'b' }), new Set(['/name'])).class).toBe('noise');
    expect(classifier.classify(d('', 'status', { legacy: 200, v4: 404 }), NONE).class).toBe('regression');
  });
});

describe('ShadowComparator: learnt noise (Diffy)', () => {
  const base: JsonObject = { id: 'u1', name: 'Jane', email: 'jane@example.com', cid: 'CUST-1', last_read: 0 };
  let reads = 0;
  /** The primary: a field that changes on every read. */
  const primaryRead = (): ShadowAnswer => ({ status: 200, body: { ...base, last_read: ++reads } });

  it('a field that changes on every read becomes noise once learnt; a real rename mismatch stays a regression', () => {
    const comparator = new ShadowComparator({ fieldRules: rules, ignorePaths: [], noiseSamples: 1, hashKey: 'a-test-hash-key-0123456789' });
    const shadow: ShadowAnswer = { status: 200, body: { ...base, cid: 'CUST-WRONG', last_read: 999 } };
    const before = comparator.compare('get-user', primaryRead(), shadow);
    expect(before.differences.map((x) => [x.pattern, x.class])).toEqual([
      ['/cid', 'regression'],
      ['/last_read', 'regression'],
    ]);
    expect(comparator.noise.takeSample('get-user')).toBe(true);
    expect(comparator.noise.takeSample('get-user')).toBe(false); // SHADOW_NOISE_SAMPLES=1 per route
    comparator.learn('get-user', primaryRead(), primaryRead());
    const after = comparator.compare('get-user', primaryRead(), shadow);
    expect(after.differences.map((x) => [x.pattern, x.class])).toEqual([
      ['/cid', 'regression'],
      ['/last_read', 'noise'],
    ]);
    expect(after.outcome).toBe('different');
    // Learnt for that route only.
    expect(comparator.compare('list-users', primaryRead(), shadow).differences.find((x) => x.pattern === '/last_read')?.class).toBe('regression');
    expect(comparator.noise.toJson()).toEqual({ 'get-user': ['/last_read'] });
    const onlyNoise = comparator.compare('get-user', primaryRead(), { status: 200, body: { ...base, last_read: -1 } });
    expect(onlyNoise.outcome).toBe('noise');
  });

  it('outcomes: equal, expected, noise, different; truncation never passes for a match', () => {
    const comparator = new ShadowComparator({ fieldRules: rules, ignorePaths: ['name'], noiseSamples: 0, hashKey: null, maxDifferences: 1 });
    expect(comparator.compare('r', { status: 200, body: base }, { status: 200, body: base }).outcome).toBe('equal');
    expect(comparator.compare('r', { status: 200, body: { ...base, service: 'x' } }, { status: 200, body: base }).outcome).toBe('expected');
    expect(comparator.compare('r', { status: 200, body: base }, { status: 200, body: { ...base, name: 'B' } }).outcome).toBe('noise');
    const truncated = comparator.compare('r', { status: 200, body: base }, { status: 200, body: { ...base, name: 'B', id: 'x' } });
    expect(truncated).toMatchObject({ outcome: 'different', truncated: true });
  });

  it('a status difference is expected only when the V4 side is the translation\'s refusal of a removed field', () => {
    const comparator = new ShadowComparator({ fieldRules: rules, ignorePaths: [], noiseSamples: 0, hashKey: null });
    const refusal = { status: 400, body: { error: { code: 'SERVICE_PARAMETER_REMOVED', message: 'm', request_id: 'r' } } };
    const took = comparator.compare('list-users', { status: 200, body: [] }, refusal);
    expect(took.outcome).toBe('expected');
    expect(took.differences).toEqual([expect.objectContaining({ kind: 'status', class: 'expected', reason: expect.stringContaining('service-removed') as unknown })]);
    // Any other refusal, or a server error, stays a regression.
    const other = { status: 400, body: { error: { code: 'INVALID_QUERY', message: 'm', request_id: 'r' } } };
    expect(comparator.compare('list-users', { status: 200, body: [] }, other).outcome).toBe('different');
    expect(comparator.compare('list-users', { status: 200, body: [] }, { status: 502, body: refusal.body }).outcome).toBe('different');
  });
});
