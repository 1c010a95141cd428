// Users of one tenant in creation order, with O(1) append/delete and index pages that cost
// O(page) (no deletions pending) or O(page · log n) (deletions pending), never O(n).
// Deleted slots become tombstones; a Fenwick tree over live-slot counts finds the k-th live
// user, and the array is compacted once tombstones outnumber live users.

const MIN_TOMBSTONES_TO_COMPACT = 1024;

export interface Slotted {
  /** Index in the slot array; maintained here, rewritten on compaction. */
  slot: number;
}

export class OrderedSlots<T extends Slotted> {
  private items: (T | undefined)[] = [];
  /** 1-based Fenwick tree of 1 (live) / 0 (tombstone) per slot; tree[0] unused. */
  private tree: number[] = [0];
  private live = 0;

  get size(): number {
    return this.live;
  }

  append(item: T): void {
    item.slot = this.items.length;
    this.items.push(item);
    this.live++;
    // A new Fenwick node i covers (i - lowbit(i), i]: its value is 1 plus the slots before it in that range.
    const i = this.items.length;
    this.tree.push(1 + this.prefix(i - 1) - this.prefix(i - (i & -i)));
  }

  remove(item: T): void {
    if (this.items[item.slot] !== item) return;
    this.items[item.slot] = undefined;
    this.live--;
    for (let i = item.slot + 1; i < this.tree.length; i += i & -i) this.tree[i] = (this.tree[i] ?? 0) - 1;
    const tombstones = this.items.length - this.live;
    if (tombstones > MIN_TOMBSTONES_TO_COMPACT && tombstones > this.live) this.compact();
  }

  /** Live items [offset, offset + limit) in order. */
  page(offset: number, limit: number): T[] {
    const end = Math.min(offset + limit, this.live);
    const out: T[] = [];
    const dense = this.items.length === this.live;
    for (let k = offset; k < end; k++) {
      const item = this.items[dense ? k : this.select(k)];
      if (item !== undefined) out.push(item);
    }
    return out;
  }

  all(): T[] {
    return this.items.filter((item): item is T => item !== undefined);
  }

  /** Number of live slots among the first i slots. */
  private prefix(i: number): number {
    let sum = 0;
    for (; i > 0; i -= i & -i) sum += this.tree[i] ?? 0;
    return sum;
  }

  /** Slot of the k-th (0-based) live item; k < live. Binary lifting over the tree. */
  private select(k: number): number {
    const n = this.tree.length - 1;
    let pos = 0;
    let remaining = k + 1;
    for (let step = 1 << (31 - Math.clz32(n)); step > 0; step >>= 1) {
      const next = pos + step;
      const count = this.tree[next];
      if (next <= n && count !== undefined && count < remaining) {
        pos = next;
        remaining -= count;
      }
    }
    return pos; // 1-based position pos + 1 is 0-based slot pos
  }

  private compact(): void {
    this.items = this.all();
    this.items.forEach((item, slot) => {
      if (item !== undefined) item.slot = slot;
    });
    // Every slot is live, so each Fenwick node holds the size of its range: lowbit(i).
    this.tree = Array.from({ length: this.items.length + 1 }, (_, i) => i & -i);
  }
}
