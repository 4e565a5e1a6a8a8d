/**
 * An in-memory B+tree of byte-string keys: the memtable's sorted index, used for range scans.
 * Keys are only ever added (a delete is a tombstone version, not a removal), which keeps the
 * tree simple. Each key may carry a value (the memtable keeps its chain slot there, so a scan
 * reaches a key's versions without a hash lookup). Cursors survive concurrent inserts: each records the tree's modification count
 * and re-seeks past its last key when the tree changed under it.
 */
import { assert } from '../base/index.js';

const LEAF_KEYS_MAX = 128;
const BRANCH_KEYS_MAX = 128;

interface Leaf<V> {
  leaf: true;
  keys: string[];
  /** values[i] belongs to keys[i]. */
  values: V[];
  next: Leaf<V> | null;
  prev: Leaf<V> | null;
}

interface Branch<V> {
  leaf: false;
  /** keys[i] is the smallest key under children[i + 1]. */
  keys: string[];
  children: Node<V>[];
}

type Node<V> = Leaf<V> | Branch<V>;

/** First index i with keys[i] >= key (or > key when `after`). */
function lowerBound(keys: readonly string[], key: string, after = false): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid]!;
    if (k < key || (after && k === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function childIndex(keys: readonly string[], key: string): number {
  // Child i holds keys in [keys[i-1], keys[i]).
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class KeyIndex<V = undefined> {
  private root: Node<V> = { leaf: true, keys: [], values: [], next: null, prev: null };
  private first: Leaf<V> = this.root as Leaf<V>;
  private last: Leaf<V> = this.root as Leaf<V>;
  private count = 0;
  /** Bumped on every insert; cursors compare it to know when to re-seek. */
  modifications = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `key` with `value`; requires that it is not present (the memtable checks its map first). */
  insert(key: string, value?: V): void {
    this.modifications++;
    this.count++;
    const split = this.insertInto(this.root, key, value as V);
    if (split !== undefined) {
      this.root = { leaf: false, keys: [split.separator], children: [this.root, split.right] };
    }
  }

  private insertInto(
    node: Node<V>,
    key: string,
    value: V,
  ): { separator: string; right: Node<V> } | undefined {
    if (node.leaf) {
      const at = lowerBound(node.keys, key);
      assert(node.keys[at] !== key, 'key already indexed');
      node.keys.splice(at, 0, key);
      node.values.splice(at, 0, value);
      if (node.keys.length <= LEAF_KEYS_MAX) return undefined;
      const half = node.keys.length >>> 1;
      const right: Leaf<V> = {
        leaf: true,
        keys: node.keys.slice(half),
        values: node.values.slice(half),
        next: node.next,
        prev: node,
      };
      node.keys.length = half;
      node.values.length = half;
      if (node.next !== null) node.next.prev = right;
      else this.last = right;
      node.next = right;
      return { separator: right.keys[0]!, right };
    }
    const i = childIndex(node.keys, key);
    const split = this.insertInto(node.children[i]!, key, value);
    if (split === undefined) return undefined;
    node.keys.splice(i, 0, split.separator);
    node.children.splice(i + 1, 0, split.right);
    if (node.keys.length <= BRANCH_KEYS_MAX) return undefined;
    const half = node.keys.length >>> 1;
    const separator = node.keys[half]!;
    const right: Branch<V> = {
      leaf: false,
      keys: node.keys.slice(half + 1),
      children: node.children.slice(half + 1),
    };
    node.keys.length = half;
    node.children.length = half + 1;
    return { separator, right };
  }

  /** The leaf and position of the first key >= `key` (or > `key` when `after`). */
  private seek(key: string, after: boolean): { leaf: Leaf<V>; at: number } {
    let node = this.root;
    while (!node.leaf) node = node.children[childIndex(node.keys, key)]!;
    return { leaf: node, at: lowerBound(node.keys, key, after) };
  }

  /**
   * Keys in `[start, end)` ascending, or descending when `reverse`; `undefined` bounds are open.
   * Safe against inserts made while iterating: those after the cursor are seen, those before not.
   */
  range(start: string | undefined, end: string | undefined, reverse = false): Generator<string> {
    return this.walk(start, end, reverse, (leaf, at) => leaf.keys[at]!);
  }

  /** The values of the keys range() would yield, in the same order. */
  rangeValues(start: string | undefined, end: string | undefined, reverse = false): Generator<V> {
    return this.walk(start, end, reverse, (leaf, at) => leaf.values[at] as V);
  }

  private *walk<T>(
    start: string | undefined,
    end: string | undefined,
    reverse: boolean,
    pick: (leaf: Leaf<V>, at: number) => T,
  ): Generator<T> {
    if (!reverse) {
      let pos = start === undefined ? { leaf: this.first, at: 0 } : this.seek(start, false);
      let seen = this.modifications;
      for (;;) {
        while (pos.at >= pos.leaf.keys.length) {
          if (pos.leaf.next === null) return;
          pos = { leaf: pos.leaf.next, at: 0 };
        }
        const key = pos.leaf.keys[pos.at]!;
        if (end !== undefined && key >= end) return;
        yield pick(pos.leaf, pos.at);
        if (seen !== this.modifications) {
          pos = this.seek(key, true);
          seen = this.modifications;
        } else pos.at++;
      }
    }
    let pos: { leaf: Leaf<V>; at: number };
    if (end === undefined) pos = { leaf: this.last, at: this.last.keys.length - 1 };
    else {
      const s = this.seek(end, false);
      pos = { leaf: s.leaf, at: s.at - 1 };
    }
    let seen = this.modifications;
    for (;;) {
      while (pos.at < 0) {
        if (pos.leaf.prev === null) return;
        pos = { leaf: pos.leaf.prev, at: pos.leaf.prev.keys.length - 1 };
      }
      const key = pos.leaf.keys[pos.at]!;
      if (start !== undefined && key < start) return;
      yield pick(pos.leaf, pos.at);
      if (seen !== this.modifications) {
        const s = this.seek(key, false);
        pos = { leaf: s.leaf, at: s.at - 1 };
        seen = this.modifications;
      } else pos.at--;
    }
  }
}
