import { Counter, type Registry } from 'prom-client';
import { labelSet, LabelTree, type LabelKey, type Labels } from './label-tree';

/** One label set of a counter: its labels (made once) and its count, a plain number. */
export interface CounterLeaf {
  readonly labels: Labels;
  value: number;
}

export interface CountedCounterConfig {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** The label values of a label set, from the keys the call counted it under. Runs once per label set. */
  readonly labelValues: (keys: readonly LabelKey[]) => string[];
  readonly registry: Registry;
}

/**
 * A counter counted per call in plain numbers (`tree.leafN(...).value += 1`) and handed to
 * prom-client only at scrape time: prom-client's own `inc`, even through a cached child, hashes
 * the label object on every call, which was most of the observer's cost (issue 14). The scrape
 * is prom-client's Counter, so the exposition and the JSON are prom-client's own.
 */
export class CountedCounter extends Counter<string> {
  readonly tree: LabelTree<CounterLeaf>;

  constructor(config: CountedCounterConfig) {
    const tree = new LabelTree<CounterLeaf>((keys) => ({ labels: labelSet(config.labelNames, config.labelValues(keys)), value: 0 }));
    super({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      registers: [config.registry],
      collect() {
        // prom-client's reset of the exported values only: this class's reset() drops the counts themselves.
        Counter.prototype.reset.call(this);
        for (const leaf of tree.leaves) this.inc(leaf.labels, leaf.value);
      },
    });
    this.tree = tree;
  }

  /** registry.resetMetrics(): the counts start again from zero, as with prom-client's own counters. */
  override reset(): void {
    super.reset();
    // prom-client's constructor calls reset() before this constructor has set `tree`.
    const tree: LabelTree<CounterLeaf> | undefined = this.tree;
    tree?.clear();
  }
}
