import type { Metric, Registry } from 'prom-client';
import { labelSet, LabelTree, type LabelKey, type Labels } from './label-tree';

/** One label set of a histogram, in plain numbers: per-bucket (not cumulative) counts, sum and count. */
export interface HistogramLeaf {
  readonly labels: Labels;
  readonly upperBounds: readonly number[];
  /** counts[i]: observations in (upperBounds[i-1], upperBounds[i]]; those above the last bound are only in `count`. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * Counts one observation, as prom-client's Histogram does (a value on a bound falls in that
 * bound's bucket). A value that is not a finite number is left out: prom-client would throw,
 * and an observer that throws would cut the other observers of the call short.
 */
export function observeInto(leaf: HistogramLeaf, value: number): void {
  if (!Number.isFinite(value)) return;
  leaf.sum += value;
  leaf.count += 1;
  const bounds = leaf.upperBounds;
  for (let i = 0; i < bounds.length; i += 1) {
    if (value <= (bounds[i] as number)) {
      leaf.counts[i] = (leaf.counts[i] as number) + 1;
      return;
    }
  }
}

export interface CountedHistogramConfig {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** The label values of a label set, from the keys the call counted it under. Runs once per label set. */
  readonly labelValues: (keys: readonly LabelKey[]) => string[];
  /** Ascending. */
  readonly buckets: readonly number[];
  readonly registry: Registry;
}

/** One exported sample, with the fields (and their order) prom-client's Histogram gives it. */
interface Sample {
  labels: Record<string, string | number>;
  sharedLabels?: Labels;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

interface Exported {
  name: string;
  help: string;
  type: 'histogram';
  values: Sample[];
  aggregator: 'sum';
}

/**
 * A histogram counted per call in plain numbers (`observeInto(tree.leafN(...), seconds)`) and
 * exported at scrape time as prom-client's Histogram exports itself. prom-client has no public
 * way to set a histogram's bucket counts, so this is a metric object of its own that the
 * registry takes as it takes prom-client's: `getForPromString()` for the text exposition,
 * `get()` for getMetricsAsJSON (and so the cluster's AggregatorRegistry), `reset()` for
 * resetMetrics. Both give what prom-client 15's Histogram gives (lib/histogram.js:
 * extractBucketValuesForExport, addSumAndCountForExport, splayLabels): per label set, in the
 * order the label sets were first seen, cumulative `_bucket` samples labelled `le` first, then
 * `+Inf` (the count), `_sum`, `_count`. test/unit/counted-metrics.test.ts holds it to that.
 */
export class CountedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly tree: LabelTree<HistogramLeaf>;
  private readonly upperBounds: readonly number[];

  constructor(config: CountedHistogramConfig) {
    if (config.labelNames.includes('le')) throw new Error('le is a reserved label keyword');
    const upperBounds = Object.freeze([...config.buckets]);
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    this.upperBounds = upperBounds;
    this.tree = new LabelTree<HistogramLeaf>((keys) => ({
      labels: labelSet(config.labelNames, config.labelValues(keys)),
      upperBounds,
      counts: new Float64Array(upperBounds.length),
      sum: 0,
      count: 0,
    }));
    // The registry calls only name, type, get, getForPromString and reset; its signature takes
    // prom-client's own metric classes, which this object stands in for.
    config.registry.registerMetric(this as unknown as Metric);
  }

  /** For the text exposition: labels of a label set as `sharedLabels`, as prom-client gives them. */
  async getForPromString(): Promise<Exported> {
    return this.exported(false);
  }

  /** For getMetricsAsJSON: labels splayed into each sample (`le` first), as prom-client's get() gives them. */
  async get(): Promise<Exported> {
    return this.exported(true);
  }

  reset(): void {
    this.tree.clear();
  }

  private exported(splay: boolean): Exported {
    const bucketName = `${this.name}_bucket`;
    const sumName = `${this.name}_sum`;
    const countName = `${this.name}_count`;
    const values: Sample[] = [];
    const sample = (labels: Record<string, string | number>, shared: Labels, value: number, metricName: string, exemplar: null | undefined): Sample =>
      splay ? { value, metricName, exemplar, labels: Object.assign(labels, shared) } : { labels, sharedLabels: shared, value, metricName, exemplar };
    for (const leaf of this.tree.leaves) {
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += leaf.counts[i] as number;
        values.push(sample({ le }, leaf.labels, cumulative, bucketName, null));
      });
      values.push(sample({ le: '+Inf' }, leaf.labels, leaf.count, bucketName, null));
      values.push(sample({}, leaf.labels, leaf.sum, sumName, undefined));
      values.push(sample({}, leaf.labels, leaf.count, countName, undefined));
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
