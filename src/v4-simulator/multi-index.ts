// A secondary index key → items, each list kept in creation order (by seq) so filtered index
// pages come out ordered without sorting. Almost every key has one item, which is stored
// bare rather than in an array: with 100,000 users that saves 100,000 arrays per index.
// Lists hold more items only for duplicates seeded on purpose (allowDuplicateEmail) or a
// shared external_id.

export interface Sequenced {
  /** Creation order within the tenant. */
  seq: number;
}

export class MultiIndex<T extends Sequenced> {
  private readonly map = new Map<string, T | T[]>();

  get(key: string): readonly T[] {
    const entry = this.map.get(key);
    if (entry === undefined) return [];
    return Array.isArray(entry) ? entry : [entry];
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  add(key: string, item: T): void {
    const entry = this.map.get(key);
    if (entry === undefined) {
      this.map.set(key, item);
      return;
    }
    const list = Array.isArray(entry) ? entry : [entry];
    let i = list.length;
    while (i > 0 && (list[i - 1]?.seq ?? -1) > item.seq) i--;
    list.splice(i, 0, item);
    this.map.set(key, list);
  }

  remove(key: string, item: T): void {
    const entry = this.map.get(key);
    if (entry === item) {
      this.map.delete(key);
      return;
    }
    if (!Array.isArray(entry)) return;
    const rest = entry.filter((x) => x !== item);
    const [only] = rest;
    if (rest.length === 0) this.map.delete(key);
    else this.map.set(key, rest.length === 1 && only !== undefined ? only : rest);
  }
}
