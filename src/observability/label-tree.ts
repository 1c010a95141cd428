/** A label value as the call has it: numbers (statuses) stay numbers until the scrape. */
export type LabelKey = string | number;

/** A label set as prom-client holds it: label name to value, in the order of the label names. */
export type Labels = Readonly<Record<string, string>>;

/**
 * The leaves of one labelled metric (plain records of numbers), found by walking nested Maps keyed
 * by the label values as they come: the per-call path builds no string and no label object, and
 * calls nothing of prom-client's. A tree is used at one depth (its number of labels): `leaf1`,
 * `leaf2` or `leaf3`, never a mix.
 *
 * `leaves` lists the leaves in the order they were made: prom-client exports label sets in the
 * insertion order of its hash map, which is that order, so the exposition reads as it did.
 */
export class LabelTree<Leaf> {
  private root = new Map<LabelKey, unknown>();
  private made: Leaf[] = [];

  /** `make` runs once per label set, on its first call: it may build strings and objects. */
  constructor(private readonly make: (keys: readonly LabelKey[]) => Leaf) {}

  get leaves(): readonly Leaf[] {
    return this.made;
  }

  leaf1(a: LabelKey): Leaf {
    const leaves = this.root as Map<LabelKey, Leaf>;
    return leaves.get(a) ?? this.grow(leaves, a, [a]);
  }

  leaf2(a: LabelKey, b: LabelKey): Leaf {
    const leaves = this.branch(this.root, a) as Map<LabelKey, Leaf>;
    return leaves.get(b) ?? this.grow(leaves, b, [a, b]);
  }

  leaf3(a: LabelKey, b: LabelKey, c: LabelKey): Leaf {
    const leaves = this.branch(this.branch(this.root, a), b) as Map<LabelKey, Leaf>;
    return leaves.get(c) ?? this.grow(leaves, c, [a, b, c]);
  }

  /** Drops every leaf (prom-client's reset: no label set is exported until it is seen again). */
  clear(): void {
    this.root = new Map<LabelKey, unknown>();
    this.made = [];
  }

  private branch(map: Map<LabelKey, unknown>, key: LabelKey): Map<LabelKey, unknown> {
    let next = map.get(key) as Map<LabelKey, unknown> | undefined;
    if (next === undefined) {
      next = new Map<LabelKey, unknown>();
      map.set(key, next);
    }
    return next;
  }

  private grow(leaves: Map<LabelKey, Leaf>, key: LabelKey, keys: readonly LabelKey[]): Leaf {
    const leaf = this.make(keys);
    leaves.set(key, leaf);
    this.made.push(leaf);
    return leaf;
  }
}

/** The label set of `names` with `values` (same length, same order), keys in the order of the names as prom-client's `labels()` makes it. */
export function labelSet(names: readonly string[], values: readonly string[]): Labels {
  if (names.length !== values.length) throw new Error(`${values.length} label values for ${names.length} label names (${names.join(', ')})`);
  const labels: Record<string, string> = {};
  names.forEach((name, i) => {
    labels[name] = values[i] as string;
  });
  return labels;
}
