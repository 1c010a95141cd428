import fc from 'fast-check';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { CountedCounter } from '../../src/observability/counted-counter';
import { CountedHistogram, observeInto } from '../../src/observability/counted-histogram';
import type { LabelKey, LabelTree } from '../../src/observability/label-tree';

// The per-call metrics are counted in plain numbers and handed over at scrape time; these
// properties hold them to what prom-client's own Histogram and Counter export for the same
// observations: the same text exposition, the same getMetricsAsJSON (values, key order, labels),
// the same after resetMetrics, the same once aggregated as the cluster primary aggregates.

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LABEL_NAMES = ['route', 'legacy_status', 'v4_status'];

/** Label values with what the exposition must escape (quote, backslash, newline) and unicode incl. a lone surrogate. */
const labelValue = fc.oneof(
  fc.constantFrom('get-user', 'update-user', '200', 'aborted', 'a"b', 'back\\slash', 'new\nline', 'ünï €', '\ud800', ''),
  fc.string({ maxLength: 6 }),
);

/** Durations on, just below and just above every bound, beyond the last one, zero, negative, and any finite double. */
const duration = fc.oneof(
  fc.constantFrom(...BUCKETS),
  fc.constantFrom(...BUCKETS.map((bound) => bound * (1 - Number.EPSILON))),
  fc.constantFrom(...BUCKETS.map((bound) => bound * (1 + Number.EPSILON))),
  fc.constantFrom(0, -0, -1, 31, 1e9),
  fc.double({ min: 0, max: 40, noNaN: true }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const depth = fc.constantFrom(1, 2, 3);
/** A few distinct label sets per run, each seen many times: the tree and prom-client's hash map must agree on them. */
const observations = (labels: number): fc.Arbitrary<Array<{ set: number; value: number }>> =>
  fc.array(fc.record({ set: fc.nat({ max: labels - 1 }), value: duration }), { maxLength: 60 });
const labelSets = (n: number): fc.Arbitrary<string[][]> => fc.array(fc.array(labelValue, { minLength: n, maxLength: n }), { minLength: 1, maxLength: 6 });

function leafOf<Leaf>(tree: LabelTree<Leaf>, keys: readonly LabelKey[]): Leaf {
  const [a, b, c] = keys as [LabelKey, LabelKey, LabelKey];
  if (keys.length === 1) return tree.leaf1(a);
  if (keys.length === 2) return tree.leaf2(a, b);
  return tree.leaf3(a, b, c);
}

interface Pair {
  counted: Registry;
  reference: Registry;
  feed(labels: readonly string[], value: number): void;
}

function histogramPair(labelNames: string[]): Pair {
  const counted = new Registry();
  const reference = new Registry();
  const config = { name: 'legacy_gateway_request_duration_seconds', help: 'Time from the request "arriving"\\ to its answer\nfinishing.', labelNames };
  const ours = new CountedHistogram({ ...config, labelValues: (keys) => keys.map(String), buckets: BUCKETS, registry: counted });
  const theirs = new Histogram({ ...config, buckets: BUCKETS, registers: [reference] });
  return {
    counted,
    reference,
    feed(labels, value) {
      observeInto(leafOf(ours.tree, labels), value);
      theirs.labels(...labels).observe(value);
    },
  };
}

function counterPair(labelNames: string[]): Pair {
  const counted = new Registry();
  const reference = new Registry();
  const config = { name: 'legacy_gateway_requests_total', help: 'Calls answered, by route id.', labelNames };
  const ours = new CountedCounter({ ...config, labelValues: (keys) => keys.map(String), registry: counted });
  const theirs = new Counter({ ...config, registers: [reference] });
  return {
    counted,
    reference,
    feed(labels) {
      leafOf(ours.tree, labels).value += 1;
      theirs.labels(...labels).inc();
    },
  };
}

/** Text and JSON of both registries: identical, JSON key order included. */
async function expectSameExport(pair: Pair): Promise<void> {
  expect(await pair.counted.metrics()).toBe(await pair.reference.metrics());
  const ours = await pair.counted.getMetricsAsJSON();
  const theirs = await pair.reference.getMetricsAsJSON();
  expect(ours).toStrictEqual(theirs);
  expect(JSON.stringify(ours)).toBe(JSON.stringify(theirs));
}

const scenario = depth.chain((n) => fc.tuple(fc.constant(n), labelSets(n)).chain(([n, sets]) => fc.tuple(fc.constant(n), fc.constant(sets), observations(sets.length), observations(sets.length))));

describe.each([
  ['histogram', histogramPair],
  ['counter', counterPair],
])('a counted %s', (_kind, makePair) => {
  it('exports exactly what prom-client exports for the same observations, before and after resetMetrics', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ([n, sets, before, after]) => {
        const pair = makePair(LABEL_NAMES.slice(0, n));
        await expectSameExport(pair); // nothing observed yet
        for (const { set, value } of before) pair.feed(sets[set] as string[], value);
        await expectSameExport(pair);
        await expectSameExport(pair); // a scrape changes nothing
        pair.counted.resetMetrics();
        pair.reference.resetMetrics();
        await expectSameExport(pair);
        for (const { set, value } of after) pair.feed(sets[set] as string[], value);
        await expectSameExport(pair);
      }),
      { numRuns: 300, seed: 14 },
    );
  });

  it('aggregates across workers as prom-client does (the cluster primary)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ([n, sets, first, second]) => {
        const workers = [makePair(LABEL_NAMES.slice(0, n)), makePair(LABEL_NAMES.slice(0, n))];
        [first, second].forEach((calls, i) => {
          for (const { set, value } of calls) workers[i]!.feed(sets[set] as string[], value);
        });
        const ours = AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w.counted.getMetricsAsJSON())));
        const theirs = AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w.reference.getMetricsAsJSON())));
        expect(await ours.metrics()).toBe(await theirs.metrics());
      }),
      { numRuns: 100, seed: 14 },
    );
  });
});

describe('a counted histogram', () => {
  it('leaves out a value that is not a finite number (prom-client would throw from inside the observer)', async () => {
    const registry = new Registry();
    const histogram = new CountedHistogram({ name: 'h_seconds', help: 'h', labelNames: ['route'], labelValues: (keys) => keys.map(String), buckets: BUCKETS, registry });
    const leaf = histogram.tree.leaf1('get-user');
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) observeInto(leaf, value);
    observeInto(leaf, 0.02);
    expect(await registry.metrics()).toContain('h_seconds_count{route="get-user"} 1\n');
    expect(await registry.metrics()).toContain('h_seconds_sum{route="get-user"} 0.02\n');
  });

  it('refuses the reserved label name le, as prom-client does', () => {
    expect(() => new CountedHistogram({ name: 'h_seconds', help: 'h', labelNames: ['le'], labelValues: (keys) => keys.map(String), buckets: BUCKETS, registry: new Registry() })).toThrow('le is a reserved label keyword');
  });
});
