import { Registry } from 'prom-client';
import { loadConfig } from '../../src/config/load';
import { createMemoryLogger } from '../integration/memory-logger';
import { ShadowComparator } from '../../src/shadow/comparator';
import { DiffStore } from '../../src/shadow/diff-store';
import { ShadowRunner, type ShadowSettings } from '../../src/shadow/runner';
import { ShadowMetrics } from '../../src/shadow/shadow-metrics';
import { ShadowFailure, type ShadowAnswer } from '../../src/shadow/types';
import { deepFreeze } from './helpers';

const rules = loadConfig({ env: {} }).fieldRules;
const jane = { id: 'u1', name: 'Jane', email: 'jane@example.com', cid: 'CUST-1' };
const answer = (body: Record<string, unknown> = jane, status = 200): ShadowAnswer => ({ status, body: body as ShadowAnswer['body'] });

function makeRunner(settings: Partial<ShadowSettings> = {}, random?: () => number) {
  const { logger, lines } = createMemoryLogger('debug');
  const registry = new Registry();
  const store = new DiffStore();
  const comparator = new ShadowComparator({ fieldRules: rules, ignorePaths: [], noiseSamples: 2, hashKey: 'a-test-hash-key-0123456789' });
  const runner = new ShadowRunner(
    { mode: 'v4-primary', sampleRate: 1, timeoutMs: 2_000, maxConcurrency: 4, ...settings },
    { comparator, store, logger, metrics: new ShadowMetrics(registry), ...(random === undefined ? {} : { random }) },
  );
  const metric = async (route: string, result: string): Promise<number> => {
    const values = (await registry.getSingleMetric('gateway_shadow_comparisons_total')?.get())?.values ?? [];
    return values.find((v) => v.labels.route === route && v.labels.result === result)?.value ?? 0;
  };
  const entry = () => store.toJson().entries[0];
  return { runner, lines, metric, entry };
}

/** A promise and its resolver, to hold a shadow open for as long as a test wants. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ShadowRunner', () => {
  it('off: nothing is called and nothing is counted', async () => {
    const { runner, entry } = makeRunner({ mode: 'off' });
    const shadow = jest.fn(() => Promise.resolve(answer()));
    expect(runner.submit({ route: 'get-user', client: 'c1', primary: answer(), shadow })).toBe('off');
    await runner.idle();
    expect(shadow).not.toHaveBeenCalled();
    expect(entry()).toBeUndefined();
  });

  it('returns before the shadow answers, leaves the primary answer untouched, then compares and counts', async () => {
    const { runner, metric, entry, lines } = makeRunner();
    const held = deferred<ShadowAnswer>();
    const primary = deepFreeze(answer());
    const before = JSON.stringify(primary);
    expect(runner.submit({ route: 'get-user', client: 'c1', requestId: 'r-1', primary, shadow: () => held.promise })).toBe('started');
    expect(runner.inFlight).toBe(1); // the submit returned while the shadow was still open
    held.resolve(answer({ ...jane, name: 'Janet' }));
    await runner.idle();
    expect(JSON.stringify(primary)).toBe(before);
    expect(entry()).toMatchObject({ route: 'get-user', client: 'c1', compared: 1, different: 1, match_rate: 0, top_paths: [{ path: '/name', kind: 'changed', class: 'regression', count: 1 }] });
    expect(entry()?.examples[0]).toMatchObject({ request_id: 'r-1', outcome: 'different' });
    expect(await metric('get-user', 'different')).toBe(1);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'shadow difference');
    expect(logged).toEqual([expect.objectContaining({ level: 'warn', path: '/name', kind: 'changed', class: 'regression', legacy: 'Janet', v4: 'Jane', request_id: 'r-1' })]);
  });

  it('in legacy-primary mode the primary is the legacy side of the diff', async () => {
    const { runner, entry } = makeRunner({ mode: 'legacy-primary' });
    runner.submit({ route: 'get-user', client: null, primary: answer({ ...jane, service: 'premium' }), shadow: () => Promise.resolve(answer()) });
    await runner.idle();
    expect(entry()).toMatchObject({ client: null, expected: 1, top_paths: [{ path: '/service', kind: 'missing', class: 'expected' }] });
  });

  it('a shadow that hangs (ignoring its signal) fails at its deadline and frees its slot', async () => {
    const { runner, entry, metric } = makeRunner({ timeoutMs: 30, maxConcurrency: 1 });
    let aborted = false;
    runner.submit({
      route: 'get-user',
      client: 'c1',
      primary: answer(),
      shadow: (signal) => {
        signal.addEventListener('abort', () => (aborted = true));
        return new Promise<ShadowAnswer>(() => undefined);
      },
    });
    await runner.idle();
    expect(aborted).toBe(true);
    expect(runner.inFlight).toBe(0);
    expect(entry()).toMatchObject({ compared: 0, shadow_failed: 1, shadow_failures: { timeout: 1 } });
    expect(await metric('get-user', 'shadow_failed')).toBe(1);
  });

  it.each([
    ['garbage', () => Promise.reject(new SyntaxError('Unexpected end of JSON input')), 'invalid_answer'],
    ['a reset', () => Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), 'reset'],
    ['a counted failure', () => Promise.reject(new ShadowFailure('too_large', 'big')), 'too_large'],
    ['a 503', () => Promise.resolve(answer({ error: { code: 'X' } }, 503)), 'status_5xx'],
    ['a synchronous throw', () => {
      throw new Error('bug in the shadow function');
    }, 'error'],
  ])('%s is counted as shadow_failed, never thrown', async (_what, shadow, kind) => {
    const { runner, entry } = makeRunner();
    expect(runner.submit({ route: 'list-users', client: 'c1', primary: answer(), shadow: shadow as () => Promise<ShadowAnswer> })).toBe('started');
    await runner.idle();
    expect(entry()).toMatchObject({ shadow_failed: 1, shadow_failures: { [kind]: 1 } });
  });

  it('over the concurrency cap a call is skipped and counted', async () => {
    const { runner, entry, metric } = makeRunner({ maxConcurrency: 1 });
    const held = deferred<ShadowAnswer>();
    expect(runner.submit({ route: 'get-user', client: 'c1', primary: answer(), shadow: () => held.promise })).toBe('started');
    const second = jest.fn(() => Promise.resolve(answer()));
    expect(runner.submit({ route: 'get-user', client: 'c1', primary: answer(), shadow: second })).toBe('skipped');
    expect(second).not.toHaveBeenCalled();
    held.resolve(answer());
    await runner.idle();
    expect(entry()).toMatchObject({ compared: 1, equal: 1, skipped: 1 });
    expect(await metric('get-user', 'skipped')).toBe(1);
  });

  it('samples at SHADOW_SAMPLE_RATE', async () => {
    const draws = [0.1, 0.5, 0.29, 0.3, 0.99];
    const { runner, entry } = makeRunner({ sampleRate: 0.3 }, () => draws.shift() ?? 1);
    const results = [1, 2, 3, 4, 5].map(() => runner.submit({ route: 'get-user', client: 'c1', primary: answer(), shadow: () => Promise.resolve(answer()) }));
    expect(results).toEqual(['started', 'not_sampled', 'started', 'not_sampled', 'not_sampled']);
    await runner.idle();
    expect(entry()).toMatchObject({ compared: 2, not_sampled: 3 });
  });

  it('asks the primary again for SHADOW_NOISE_SAMPLES calls per route, and learns from it', async () => {
    const { runner, entry } = makeRunner();
    let reads = 0;
    const again = jest.fn(() => Promise.resolve(answer({ ...jane, seen: ++reads })));
    for (let i = 0; i < 4; i += 1) {
      runner.submit({ route: 'get-user', client: 'c1', primary: answer({ ...jane, seen: 100 + i }), shadow: () => Promise.resolve(answer({ ...jane, seen: 0 })), primaryAgain: again });
      await runner.idle();
    }
    expect(again).toHaveBeenCalledTimes(2);
    expect(entry()).toMatchObject({ compared: 4, noise: 4, different: 0 });
    expect(runner.toJson().learnt_noise).toEqual({ 'get-user': ['/seen'] });
  });

  it('read-back of a write compares both reads', async () => {
    const { runner, entry } = makeRunner();
    runner.submitReadBack({ route: 'update-user', client: 'c1', readPrimary: () => Promise.resolve(answer()), readShadow: () => Promise.resolve(answer({ ...jane, cid: 'OTHER' })) });
    await runner.idle();
    expect(entry()).toMatchObject({ route: 'update-user', different: 1, top_paths: [{ path: '/cid', kind: 'changed', class: 'regression' }] });
  });

  it('refuses impossible settings', () => {
    expect(() => makeRunner({ sampleRate: 1.5 })).toThrow(RangeError);
    expect(() => makeRunner({ maxConcurrency: 0 })).toThrow(RangeError);
  });
});

describe('DiffStore bounds', () => {
  const comparison = (pattern: string) => ({
    outcome: 'different' as const,
    truncated: false,
    differences: [{ path: pattern, pattern, kind: 'changed' as const, class: 'regression' as const, reason: '', legacy: 1, v4: 2 }],
  });

  it('keeps at most maxEntries route/client pairs; the rest is counted in overflow and totals', () => {
    const store = new DiffStore({ maxEntries: 2 });
    for (let i = 0; i < 5; i += 1) store.recordComparison('get-user', `client-${i}`, null, comparison('/name'));
    store.count('get-user', 'client-9', 'shadow_failed', 'timeout');
    const json = store.toJson();
    expect(json.entries_tracked).toBe(2);
    expect(json.overflow).toMatchObject({ different: 3, shadow_failed: 1 });
    expect(json.totals).toMatchObject({ compared: 5, different: 5, shadow_failed: 1, match_rate: 0 });
  });

  it('keeps at most maxPaths paths and maxExamples examples of maxExampleDifferences each', () => {
    const store = new DiffStore({ maxPaths: 3, maxExamples: 2, maxExampleDifferences: 1 });
    for (let i = 0; i < 10; i += 1) store.recordComparison('get-user', 'c', `r-${i}`, comparison(`/f${i % 5}`));
    const entry = store.toJson().entries[0];
    expect(entry?.top_paths).toHaveLength(3);
    expect(entry?.top_paths.reduce((n, p) => n + p.count, 0)).toBe(6);
    expect(entry?.other_paths).toBe(4);
    expect(entry?.examples.map((e) => e.request_id)).toEqual(['r-9', 'r-8']);
  });
});
