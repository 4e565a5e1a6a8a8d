/**
 * The graph's adjacency cache: per graph keyspace (branch and space), the keys of its edge rows
 * held in memory as integer arrays, so a traverse or a path search expands a node by reading a
 * slice of an array instead of one storage range scan per node. User guide: docs/graph.md
 * ("The adjacency cache"); the byte bound: docs/limits.md.
 *
 * It is derived state and never changes a result: a read uses it only when it is exact for the
 * read's version, and lists each node's rows in their key order, (type, other end), as a range
 * scan does. It holds no props; a weighted path search memoises the weights it reads.
 *
 * - Nodes and edge types are interned to small integers. Each direction (out-rows, in-rows) is
 *   a compressed table built by one key-order scan (`offsets`, `others`, `types`), plus an
 *   overlay of whole lists for the nodes changed since (kept sorted; folded back into the table
 *   when it grows).
 * - It follows commits through `Storage.observeCommits`: the registry is subscribed while any
 *   cache exists, keeps the graph-row operations of each cached keyspace as (version, keys)
 *   deltas, and a read at version P first applies the deltas of versions up to P, in order. A
 *   cache built at B is exact for a read at P >= B once every delta up to P is applied; deltas
 *   above P (strict commits not yet visible) stay queued.
 * - A cache is built only while no commit to its keyspace is pending (ordered, not yet visible):
 *   such a commit was ordered before the registry listened, so no delta for it would come.
 */
import { GRAPH_CACHE_BYTES_MAX_DEFAULT, StrataError } from '../base/index.js';
import type { Storage, WriteOp } from '../storage/index.js';
import type { View } from './context.js';
import { GRAPH_TAG, IN_ROW, NODE_ROW, nameText, OUT_ROW, readThree } from './graph-keys.js';
import { prefixEnd } from './keys.js';

/** How the registry of one database uses adjacency caches. */
export type GraphCacheMode = 'auto' | 'always' | 'off';

/** Settings of the adjacency caches of one database (see Graph.configureCache). */
export interface GraphCacheSettings {
  /**
   * 'auto' (default): build a keyspace's cache once storage-path reads have expanded
   * GRAPH_CACHE_BUILD_EXPANSIONS nodes, or one call expands GRAPH_CACHE_CALL_EXPANSIONS;
   * 'always': build it at the first read that can use it; 'off': never (drops every cache).
   */
  mode: GraphCacheMode;
  /** The most memory all caches of the database may hold together, in estimated bytes. */
  maxBytes: number;
}

/** What Graph.cacheInfo reports about one keyspace's cache and the database's caches. */
export interface GraphCacheInfo {
  mode: GraphCacheMode;
  /**
   * 'none': no cache (not built yet, or dropped); 'ready': built and following commits;
   * 'too_large': the last build would not fit in maxBytes; 'damaged': a row did not parse
   * (reads use storage, which reports it).
   */
  state: 'none' | 'ready' | 'too_large' | 'damaged';
  /** The version the cache state is at (the newest delta applied, or the build's version). */
  version?: number;
  /** Nodes interned (nodes that have or had an edge). */
  nodes: number;
  /** Adjacency entries: out-rows plus in-rows. */
  entries: number;
  /** Estimated bytes of this cache. */
  bytes: number;
  /** Builds of this keyspace's cache. */
  builds: number;
  /** Reads of this keyspace answered from the cache. */
  hits: number;
  /** Reads of this keyspace answered by the storage path (while it could have been cached). */
  misses: number;
  /** Node expansions done by the storage path since the last build (what 'auto' counts). */
  storageExpansions: number;
  /** Deltas queued for versions not visible yet. */
  queued: number;
  /** Estimated bytes of every cache of the database. */
  totalBytes: number;
  /** The cap on totalBytes. */
  maxBytes: number;
}

/** Storage-path node expansions of one keyspace after which 'auto' builds its cache (≈0.5 s of scans). */
export const GRAPH_CACHE_BUILD_EXPANSIONS = 10_000;
/** Storage-path node expansions of one call after which 'auto' builds the cache and answers from it. */
export const GRAPH_CACHE_CALL_EXPANSIONS = 2_000;

/** Estimated bytes of one interned name beyond its characters: map entry, array slots. */
const NAME_OVERHEAD_BYTES = 96;
/** Estimated bytes of one overlay list beyond its entries. */
const LIST_OVERHEAD_BYTES = 120;
/** Overlay entries at which an overlay is folded back into its table (at least this many, or 1/8 of the table). */
const OVERLAY_FOLD_ENTRIES_MIN = 4096;

/** A weight memo entry: not read yet. */
const WEIGHT_UNKNOWN = Number.NaN;
/** A weight memo entry: the edge has no such property. */
export const WEIGHT_MISSING = -1;
/** A weight memo entry: the property is not a valid weight (read again to report it). */
export const WEIGHT_INVALID = -2;

/** One node's list in an overlay: parallel arrays, sorted by (type name, other end's name). */
interface List {
  others: number[];
  types: number[];
}

/** One direction's lists (out-rows or in-rows) of an Adjacency. */
export class Side {
  /** Nodes below this index have a slice in the table. */
  tableNodes = 0;
  offsets = new Int32Array(1);
  others = new Int32Array(0);
  types = new Int32Array(0);
  /** Whole lists of nodes changed since the table was built; they replace their slice. */
  readonly overlay = new Map<number, List>();
  overlayEntries = 0;
  /** Per weight name: the memoised weight of each table entry (WEIGHT_* or the value). */
  readonly weights = new Map<string, Float64Array>();

  /** Makes these arrays the table (nodes below `count`), with no overlay and no weight memo. */
  setTable(
    count: number,
    offsets: Int32Array<ArrayBuffer>,
    others: Int32Array<ArrayBuffer>,
    types: Int32Array<ArrayBuffer>,
  ): void {
    this.tableNodes = count;
    this.offsets = offsets;
    this.others = others;
    this.types = types;
    this.overlay.clear();
    this.overlayEntries = 0;
    this.weights.clear();
  }

  get entries(): number {
    let n = this.others.length;
    for (const [node, l] of this.overlay) n += l.others.length - this.tableLength(node);
    return n;
  }

  tableLength(node: number): number {
    return node < this.tableNodes ? this.offsets[node + 1]! - this.offsets[node]! : 0;
  }

  bytes(): number {
    let b = this.offsets.byteLength + this.others.byteLength + this.types.byteLength;
    b += this.overlay.size * LIST_OVERHEAD_BYTES + this.overlayEntries * 16;
    for (const w of this.weights.values()) b += w.byteLength;
    return b;
  }
}

/** A slice of one node's list: entries [start, end) of `others` and `types`. */
export interface Slice {
  others: ArrayLike<number>;
  types: ArrayLike<number>;
  start: number;
  end: number;
  /** The table index of entry `start` (for the weight memo), or -1 for an overlay list. */
  table: number;
}

const EMPTY_SLICE: Slice = { others: [], types: [], start: 0, end: 0, table: -1 };

/**
 * Names (node ids or edge types, as byte strings) interned to 0, 1, 2, ... in an open-addressing
 * hash table, looked up by a range of a longer string without slicing it: a build interns
 * three names per row, and a Map would need a fresh string for each.
 */
class Interner {
  readonly names: string[] = [];
  private table = new Int32Array(1024).fill(-1);
  /** Bytes of the names' characters plus their slots. */
  bytes = 0;

  private static hash(key: string, a: number, b: number): number {
    let h = 0x811c9dc5;
    for (let i = a; i < b; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return h >>> 0;
  }

  /** The index of the name key[a, b), or -1. */
  find(key: string, a = 0, b = key.length): number {
    const mask = this.table.length - 1;
    const n = b - a;
    for (let slot = Interner.hash(key, a, b) & mask; ; slot = (slot + 1) & mask) {
      const i = this.table[slot]!;
      if (i < 0) return -1;
      const name = this.names[i]!;
      if (name.length === n && key.startsWith(name, a)) return i;
    }
  }

  /** The index of the name key[a, b), made when new. */
  intern(key: string, a = 0, b = key.length): number {
    const mask = this.table.length - 1;
    const n = b - a;
    let slot = Interner.hash(key, a, b) & mask;
    for (; ; slot = (slot + 1) & mask) {
      const i = this.table[slot]!;
      if (i < 0) break;
      const name = this.names[i]!;
      if (name.length === n && key.startsWith(name, a)) return i;
    }
    const index = this.names.length;
    const name = a === 0 && b === key.length ? key : key.slice(a, b);
    this.names.push(name);
    this.table[slot] = index;
    this.bytes += name.length + NAME_OVERHEAD_BYTES;
    if (this.names.length * 2 > this.table.length) this.grow();
    return index;
  }

  private grow(): void {
    const table = new Int32Array(this.table.length * 2).fill(-1);
    const mask = table.length - 1;
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      let slot = Interner.hash(name, 0, name.length) & mask;
      while (table[slot]! >= 0) slot = (slot + 1) & mask;
      table[slot] = i;
    }
    this.table = table;
  }

  tableBytes(): number {
    return this.table.byteLength;
  }
}

/** Thrown inside a build or a delta when a row does not parse: the cache is dropped. */
class Damaged extends Error {}

/** Thrown inside a build that would pass the byte cap. */
class TooLarge extends Error {}

/**
 * The adjacency of one graph keyspace at one version: interned nodes and types, and the out-
 * and in-lists. Reads go through the registry, which brings it to the read's version first.
 */
export class Adjacency {
  private readonly nodeNames = new Interner();
  private readonly typeIndex = new Interner();
  /** Node names (checked byte strings) by index. */
  readonly names: string[] = this.nodeNames.names;
  private readonly texts: (string | undefined)[] = [];
  /** Edge types (checked byte strings) by index. */
  readonly typeNames: string[] = this.typeIndex.names;
  readonly out = new Side();
  readonly in = new Side();
  /** The version this state is at. */
  version: number;
  /** Per node: a stamp, so a search marks nodes visited without clearing an array (see stamp()). */
  private marks = new Int32Array(0);
  private mark = 0;
  private readonly buffers: [Int32Array, Int32Array] = [new Int32Array(0), new Int32Array(0)];

  constructor(version: number) {
    this.version = version;
  }

  get nodeCount(): number {
    return this.names.length;
  }

  /** The node index of a name (a checked byte string), or undefined when no row names it. */
  nodeOf(name: string): number | undefined {
    const i = this.nodeNames.find(name);
    return i < 0 ? undefined : i;
  }

  private typeOf(type: string): number | undefined {
    const i = this.typeIndex.find(type);
    return i < 0 ? undefined : i;
  }

  private get nameBytes(): number {
    return (
      this.nodeNames.bytes + this.typeIndex.bytes + this.nodeNames.tableBytes() + this.typeIndex.tableBytes()
    );
  }

  /** The node's name as text; malformed UTF-8 is `corruption`, as on the storage path. */
  textOf(node: number): string {
    const t = this.texts[node];
    if (t !== undefined) return t;
    const text = nameText(this.names[node]!);
    this.texts[node] = text;
    return text;
  }

  private intern(name: string): number {
    return this.nodeNames.intern(name);
  }

  private internType(type: string): number {
    return this.typeIndex.intern(type);
  }

  /** The type index of each name in `types` that some row has, as a mask; undefined for all. */
  typeMask(types: readonly string[] | undefined): Uint8Array | undefined {
    if (types === undefined) return undefined;
    const mask = new Uint8Array(this.typeNames.length);
    for (const t of types) {
      const i = this.typeOf(t);
      if (i !== undefined) mask[i] = 1;
    }
    return mask;
  }

  /** Node `node`'s list in direction `side`, in key order. */
  slice(side: Side, node: number): Slice {
    const l = side.overlay.size === 0 ? undefined : side.overlay.get(node);
    if (l !== undefined)
      return { others: l.others, types: l.types, start: 0, end: l.others.length, table: -1 };
    if (node >= side.tableNodes) return EMPTY_SLICE;
    const start = side.offsets[node]!;
    return { others: side.others, types: side.types, start, end: side.offsets[node + 1]!, table: start };
  }

  /**
   * A fresh stamp for marking nodes in `marks()`: a node is marked when its entry equals the
   * stamp. Valid for one search; the array grows with the node count.
   */
  stamp(): [Int32Array, number] {
    if (this.marks.length < this.names.length) {
      this.marks = new Int32Array(Math.max(this.names.length, this.marks.length * 2, 1024));
      this.mark = 0;
    }
    if (this.mark === 0x7fffffff) {
      this.marks.fill(0);
      this.mark = 0;
    }
    this.mark++;
    return [this.marks, this.mark];
  }

  /** A reusable array of at least nodeCount entries for a search's queue (contents undefined). */
  scratch(which: 0 | 1): Int32Array {
    const n = Math.max(this.names.length, 1);
    let a = this.buffers[which];
    if (a.length < n) {
      a = new Int32Array(Math.max(n, a.length * 2));
      this.buffers[which] = a;
    }
    return a;
  }

  /** The weight memo of `side` for property `weight`, made on first use (NaN: unknown). */
  weightsOf(side: Side, weight: string, room: number): Float64Array | undefined {
    let w = side.weights.get(weight);
    if (w === undefined) {
      if (side.others.length * 8 > room) return undefined;
      w = new Float64Array(side.others.length).fill(WEIGHT_UNKNOWN);
      side.weights.set(weight, w);
    }
    return w;
  }

  /** Estimated bytes held. */
  bytes(): number {
    const scratch = this.marks.byteLength + this.buffers[0].byteLength + this.buffers[1].byteLength;
    return this.nameBytes + this.out.bytes() + this.in.bytes() + scratch + 256;
  }

  // --- building ----------------------------------------------------------------------------------

  /**
   * Reads every out-row and in-row of the keyspace (`base` = keyspace + GRAPH_TAG) through
   * `view`, in key order, into the tables. Throws Damaged for a key that does not parse and
   * TooLarge once the estimate passes `maxBytes`.
   */
  build(view: View, base: string, maxBytes: number): void {
    this.fill(this.out, view, base + OUT_ROW, maxBytes);
    this.fill(this.in, view, base + IN_ROW, maxBytes);
  }

  private fill(side: Side, view: View, prefix: string, maxBytes: number): void {
    let nodes: Int32Array<ArrayBuffer> = new Int32Array(1024);
    let others: Int32Array<ArrayBuffer> = new Int32Array(1024);
    let types: Int32Array<ArrayBuffer> = new Int32Array(1024);
    let n = 0;
    const at = prefix.length;
    let lastNode = -1;
    let lastName = '';
    let lastType = -1;
    let lastTypeName = '';
    // What the cache holds before this side, less the scratch arrays a search will add.
    const held = this.bytes() - this.nameBytes;
    const nodeNames = this.nodeNames;
    const typeIndex = this.typeIndex;
    for (const [k] of view.scan(prefix, prefixEnd(prefix))) {
      // The common case: three segments without escapes (00 01 ends each); others go by readThree.
      const z1 = k.indexOf('\x00', at);
      const z2 = z1 < 0 || k.charCodeAt(z1 + 1) !== 1 ? -1 : k.indexOf('\x00', z1 + 2);
      const z3 = z2 < 0 || k.charCodeAt(z2 + 1) !== 1 ? -1 : k.indexOf('\x00', z2 + 2);
      let head: number;
      let type: number;
      let other: number;
      if (z3 >= 0 && k.charCodeAt(z3 + 1) === 1 && z3 + 2 === k.length) {
        head =
          lastNode >= 0 && z1 - at === lastName.length && k.startsWith(lastName, at)
            ? lastNode
            : nodeNames.intern(k, at, z1);
        // A node's rows run by type: most rows have the previous row's type.
        type =
          lastType >= 0 && z2 - z1 - 2 === lastTypeName.length && k.startsWith(lastTypeName, z1 + 2)
            ? lastType
            : typeIndex.intern(k, z1 + 2, z2);
        other = nodeNames.intern(k, z2 + 2, z3);
      } else {
        const three = readThree(k, at);
        if (three === undefined) throw new Damaged();
        head = nodeNames.intern(three[0]);
        type = typeIndex.intern(three[1]);
        other = nodeNames.intern(three[2]);
      }
      if (head !== lastNode) {
        lastNode = head;
        lastName = nodeNames.names[head]!;
      }
      if (type !== lastType) {
        lastType = type;
        lastTypeName = typeIndex.names[type]!;
      }
      if (n === others.length) {
        const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
          const b = new Int32Array(a.length * 2);
          b.set(a);
          return b;
        };
        nodes = grow(nodes);
        others = grow(others);
        types = grow(types);
      }
      nodes[n] = head;
      types[n] = type;
      others[n] = other;
      n++;
      // Every 4,096 rows: would the finished cache (both sides) still fit?
      if ((n & 4095) === 0 && held + n * 12 + this.nameBytes > maxBytes) throw new TooLarge();
    }
    if (held + n * 12 + this.nameBytes > maxBytes) throw new TooLarge();
    const count = this.names.length;
    const offsets = new Int32Array(count + 1);
    for (let i = 0; i < n; i++) offsets[nodes[i]! + 1]!++;
    for (let i = 0; i < count; i++) offsets[i + 1]! += offsets[i]!;
    // Node indices follow first mention, not key order: place each node's rows (consecutive,
    // already in key order) at its offset.
    const placedOthers = new Int32Array(n);
    const placedTypes = new Int32Array(n);
    for (let i = 0; i < n; ) {
      const node = nodes[i]!;
      let j = offsets[node]!;
      for (; i < n && nodes[i] === node; i++, j++) {
        placedOthers[j] = others[i]!;
        placedTypes[j] = types[i]!;
      }
    }
    side.setTable(count, offsets, placedOthers, placedTypes);
  }

  // --- following commits ------------------------------------------------------------------------

  /**
   * Applies one committed operation on a row of this keyspace (`rest`: the key after the
   * keyspace and tag; `put`: a put, not a delete). Throws Damaged for a key that does not parse.
   */
  apply(rest: string, put: boolean): void {
    const kind = rest.charAt(0);
    if (kind === NODE_ROW) return;
    if (kind !== OUT_ROW && kind !== IN_ROW) throw new Damaged();
    const three = readThree(rest, 1);
    if (three === undefined) throw new Damaged();
    const [head, type, other] = three;
    const side = kind === OUT_ROW ? this.out : this.in;
    if (kind === OUT_ROW) {
      // The edge's props may have changed: forget the weights memoised for its two entries.
      this.forgetWeight(this.out, head, type, other);
      this.forgetWeight(this.in, other, type, head);
    }
    if (put) this.insert(side, this.intern(head), this.internType(type), this.intern(other));
    else {
      const h = this.nodeOf(head);
      const t = this.typeOf(type);
      const o = this.nodeOf(other);
      if (h !== undefined && t !== undefined && o !== undefined) this.remove(side, h, t, o);
    }
  }

  private compare(typeA: number, otherA: number, typeB: number, otherB: number): number {
    if (typeA !== typeB) {
      const a = this.typeNames[typeA]!;
      const b = this.typeNames[typeB]!;
      return a < b ? -1 : 1;
    }
    if (otherA === otherB) return 0;
    return this.names[otherA]! < this.names[otherB]! ? -1 : 1;
  }

  /** The first position in [start, end) of `s` whose entry is not below (type, other). */
  private search(s: Slice, type: number, other: number): number {
    let lo = s.start;
    let hi = s.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(s.types[mid]!, s.others[mid]!, type, other) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private forgetWeight(side: Side, head: string, type: string, other: string): void {
    if (side.weights.size === 0) return;
    const h = this.nodeOf(head);
    const t = this.typeOf(type);
    const o = this.nodeOf(other);
    if (h === undefined || t === undefined || o === undefined) return;
    const s = this.slice(side, h);
    if (s.table < 0) return;
    const i = this.search(s, t, o);
    if (i < s.end && s.types[i] === t && s.others[i] === o)
      for (const w of side.weights.values()) w[i] = WEIGHT_UNKNOWN;
  }

  /** The node's overlay list, made from its table slice on first change. */
  private own(side: Side, node: number): List {
    let l = side.overlay.get(node);
    if (l === undefined) {
      const s = this.slice(side, node);
      l = { others: [], types: [] };
      for (let i = s.start; i < s.end; i++) {
        l.others.push(s.others[i]!);
        l.types.push(s.types[i]!);
      }
      side.overlay.set(node, l);
      side.overlayEntries += l.others.length;
    }
    return l;
  }

  private insert(side: Side, node: number, type: number, other: number): void {
    const s = this.slice(side, node);
    const i = this.search(s, type, other);
    if (i < s.end && s.types[i] === type && s.others[i] === other) return;
    const l = this.own(side, node);
    const at = i - s.start;
    l.others.splice(at, 0, other);
    l.types.splice(at, 0, type);
    side.overlayEntries++;
    if (side.overlayEntries > Math.max(OVERLAY_FOLD_ENTRIES_MIN, side.others.length >> 3)) this.fold(side);
  }

  private remove(side: Side, node: number, type: number, other: number): void {
    const s = this.slice(side, node);
    const i = this.search(s, type, other);
    if (i >= s.end || s.types[i] !== type || s.others[i] !== other) return;
    const l = this.own(side, node);
    l.others.splice(i - s.start, 1);
    l.types.splice(i - s.start, 1);
    side.overlayEntries--;
  }

  /** Folds the overlay back into the table (one pass over both). Weight memos are dropped. */
  private fold(side: Side): void {
    const count = this.names.length;
    const offsets = new Int32Array(count + 1);
    for (let node = 0; node < count; node++) {
      const l = side.overlay.get(node);
      offsets[node + 1] = offsets[node]! + (l !== undefined ? l.others.length : side.tableLength(node));
    }
    const total = offsets[count]!;
    const others = new Int32Array(total);
    const types = new Int32Array(total);
    for (let node = 0; node < count; node++) {
      const s = this.slice(side, node);
      let j = offsets[node]!;
      for (let i = s.start; i < s.end; i++, j++) {
        others[j] = s.others[i]!;
        types[j] = s.types[i]!;
      }
    }
    side.setTable(count, offsets, others, types);
  }
}

// --- the registry of one database --------------------------------------------------------------

/** A keyspace's operations of one commit: row keys after keyspace + tag, and put or delete. */
interface Delta {
  version: number;
  rests: string[];
  puts: boolean[];
}

/** What the registry knows of one graph keyspace. */
class Entry {
  cache: Adjacency | undefined;
  state: GraphCacheInfo['state'] = 'none';
  queue: Delta[] = [];
  builds = 0;
  hits = 0;
  misses = 0;
  expansions = 0;
  /** Expansions at which 'auto' builds (doubles after a build that did not fit). */
  threshold = GRAPH_CACHE_BUILD_EXPANSIONS;
  bytes = 0;
  lastUsed = 0;

  constructor(
    readonly keyspace: string,
    readonly base: string,
  ) {}
}

/** The adjacency caches of one database, keyed by graph keyspace. */
export class GraphCacheRegistry {
  private readonly entries = new Map<string, Entry>();
  /** Entries with a cache, by base (keyspace + tag): what commits are filtered against. */
  private readonly cached = new Map<string, Entry>();
  private unsubscribe: (() => void) | undefined;
  private settings: GraphCacheSettings = { mode: 'auto', maxBytes: GRAPH_CACHE_BYTES_MAX_DEFAULT };
  private clock = 0;
  private branchesChanged = false;
  private totalBytes = 0;

  constructor(private readonly storage: Storage) {}

  configure(s: Partial<GraphCacheSettings>): void {
    const mode = s.mode ?? this.settings.mode;
    const maxBytes = s.maxBytes ?? this.settings.maxBytes;
    this.settings = { mode, maxBytes };
    for (const e of this.entries.values()) {
      if (e.state === 'damaged' || e.state === 'too_large') e.state = 'none';
      e.threshold = GRAPH_CACHE_BUILD_EXPANSIONS;
    }
    if (mode === 'off') this.dropAll();
    else this.fit(undefined);
  }

  get mode(): GraphCacheMode {
    return this.settings.mode;
  }

  private entry(keyspace: string): Entry {
    let e = this.entries.get(keyspace);
    if (e === undefined) {
      // Counters of keyspaces without a cache are small; keep their number bounded all the same.
      if (this.entries.size >= 4096)
        for (const [k, x] of this.entries) if (x.cache === undefined) this.entries.delete(k);
      e = new Entry(keyspace, keyspace + GRAPH_TAG);
      this.entries.set(keyspace, e);
    }
    return e;
  }

  /** The commit listener: keeps each cached keyspace's graph-row operations as a delta. */
  private readonly observe = (ops: readonly WriteOp[], version: number): void => {
    try {
      let perEntry: Map<Entry, Delta> | undefined;
      for (const op of ops) {
        const key = op.key;
        if (
          key.charCodeAt(0) === 0 &&
          key.charCodeAt(1) === 0 &&
          key.charCodeAt(2) === 0 &&
          key.charCodeAt(3) === 0
        )
          this.branchesChanged = true;
        for (const e of this.cached.values()) {
          if (!key.startsWith(e.base)) continue;
          perEntry ??= new Map();
          let d = perEntry.get(e);
          if (d === undefined) {
            d = { version, rests: [], puts: [] };
            perEntry.set(e, d);
            e.queue.push(d);
          }
          d.rests.push(key.slice(e.base.length));
          d.puts.push(op.value !== null);
        }
      }
    } catch {
      // A listener must not throw; derived state that may have missed a commit is dropped.
      this.dropAll();
    }
  };

  private subscribe(): void {
    if (this.unsubscribe === undefined) this.unsubscribe = this.storage.observeCommits(this.observe);
  }

  private drop(e: Entry): void {
    if (e.cache !== undefined) this.totalBytes -= e.bytes;
    e.cache = undefined;
    e.queue = [];
    e.bytes = 0;
    this.cached.delete(e.base);
    if (this.cached.size === 0 && this.unsubscribe !== undefined) {
      this.unsubscribe();
      this.unsubscribe = undefined;
    }
  }

  /** Drops every cache and stops listening (mode 'off', a closed or failed database). */
  dropAll(): void {
    for (const e of this.cached.values()) {
      e.cache = undefined;
      e.queue = [];
      e.bytes = 0;
      if (e.state === 'ready') e.state = 'none';
    }
    this.cached.clear();
    this.totalBytes = 0;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Drops the caches of branches that are no longer live (deleted). */
  private checkBranches(): void {
    this.branchesChanged = false;
    const live = new Set(this.storage.listBranches().map((b) => b.record.id));
    for (const e of [...this.cached.values()]) {
      const k = e.keyspace;
      const id =
        ((k.charCodeAt(0) << 24) | (k.charCodeAt(1) << 16) | (k.charCodeAt(2) << 8) | k.charCodeAt(3)) >>> 0;
      if (!live.has(id)) {
        this.drop(e);
        e.state = 'none';
      }
    }
  }

  /** Evicts least recently used caches, other than `keep`, until the total fits. */
  private fit(keep: Entry | undefined): void {
    while (this.totalBytes > this.settings.maxBytes) {
      let victim: Entry | undefined;
      for (const e of this.cached.values())
        if (e !== keep && (victim === undefined || e.lastUsed < victim.lastUsed)) victim = e;
      if (victim === undefined) {
        if (keep !== undefined && keep.cache !== undefined) {
          this.drop(keep);
          keep.state = 'too_large';
        }
        return;
      }
      this.drop(victim);
      victim.state = 'none';
    }
  }

  private usable(): boolean {
    const s = this.storage.state;
    if (s === 'closed' || s === 'closing' || s === 'failed') {
      if (this.cached.size > 0 || this.unsubscribe !== undefined) this.dropAll();
      return false;
    }
    if (this.branchesChanged) this.checkBranches();
    return this.settings.mode !== 'off';
  }

  /**
   * The keyspace's cache brought to the version of `view` (a view at the newest visible
   * version), or undefined when the read must use the storage path. Builds the cache first
   * when `build` is true or the mode and counters say so, and when that is possible.
   */
  acquire(keyspace: string, view: View, build: boolean): Adjacency | undefined {
    if (!this.usable()) return undefined;
    const e = this.entry(keyspace);
    const p = view.point;
    if (!('version' in p)) return undefined;
    const version = p.version;
    if (e.cache === undefined) {
      const want =
        !this.blocked(e) && (build || this.settings.mode === 'always' || e.expansions >= e.threshold);
      if (!want || !this.build(e, view, version)) {
        e.misses++;
        return undefined;
      }
    }
    const c = e.cache!;
    if (c.version > version) {
      e.misses++;
      return undefined;
    }
    if (!this.catchUp(e, version)) {
      e.misses++;
      return undefined;
    }
    e.lastUsed = ++this.clock;
    e.hits++;
    // Searches grow the cache's scratch arrays: account for them at each use.
    this.grew(keyspace);
    return e.cache;
  }

  /** Whether the keyspace could be built now at `view` (not off, nothing of it pending). */
  canBuild(keyspace: string, view: View): boolean {
    if (!this.usable()) return false;
    const e = this.entry(keyspace);
    if (this.blocked(e)) return false;
    const p = view.point;
    return 'version' in p && !this.storage.rangeChangedSince(e.base, prefixEnd(e.base), p.version);
  }

  /** Counts storage-path node expansions of the keyspace (what 'auto' builds on). */
  countExpansions(keyspace: string, n: number): void {
    if (this.settings.mode === 'off' || n === 0) return;
    this.entry(keyspace).expansions += n;
  }

  /**
   * Whether building is held back: a damaged keyspace is not built again (until configure), and
   * one that did not fit waits until storage-path reads pass its (doubled) threshold again.
   */
  private blocked(e: Entry): boolean {
    return e.state === 'damaged' || (e.state === 'too_large' && e.expansions < e.threshold);
  }

  private build(e: Entry, view: View, version: number): boolean {
    // A pending commit to the keyspace was ordered before the registry listened: wait for it.
    if (this.storage.rangeChangedSince(e.base, prefixEnd(e.base), version)) return false;
    this.subscribe();
    const c = new Adjacency(version);
    const room = this.settings.maxBytes;
    e.builds++;
    e.expansions = 0;
    try {
      c.build(view, e.base, room);
    } catch (error) {
      if (error instanceof TooLarge) {
        e.state = 'too_large';
        e.threshold *= 2;
      } else if (error instanceof Damaged) {
        e.state = 'damaged';
      } else {
        if (this.cached.size === 0) this.dropAll();
        throw error;
      }
      if (this.cached.size === 0) this.dropAll();
      return false;
    }
    e.cache = c;
    e.queue = [];
    e.state = 'ready';
    e.bytes = c.bytes();
    e.lastUsed = ++this.clock;
    this.cached.set(e.base, e);
    this.totalBytes += e.bytes;
    this.fit(e);
    return e.cache !== undefined;
  }

  /** Applies the queued deltas of versions up to `version`; false when the cache was dropped. */
  private catchUp(e: Entry, version: number): boolean {
    const c = e.cache!;
    const q = e.queue;
    if (q.length === 0 || q[0]!.version > version) return true;
    let i = 0;
    try {
      for (; i < q.length && q[i]!.version <= version; i++) {
        const d = q[i]!;
        if (d.version <= c.version) continue;
        for (let j = 0; j < d.rests.length; j++) c.apply(d.rests[j]!, d.puts[j]!);
        c.version = d.version;
      }
    } catch (error) {
      this.drop(e);
      e.state = error instanceof Damaged ? 'damaged' : 'none';
      if (!(error instanceof Damaged)) throw error;
      return false;
    }
    e.queue = q.slice(i);
    this.totalBytes -= e.bytes;
    e.bytes = c.bytes();
    this.totalBytes += e.bytes;
    this.fit(e);
    return e.cache !== undefined;
  }

  /** The bytes still free under maxBytes (for weight memos). */
  room(): number {
    return this.settings.maxBytes - this.totalBytes;
  }

  /** Accounts for growth of a cache (a weight memo). */
  grew(keyspace: string): void {
    const e = this.entries.get(keyspace);
    if (e?.cache === undefined) return;
    this.totalBytes -= e.bytes;
    e.bytes = e.cache.bytes();
    this.totalBytes += e.bytes;
  }

  info(keyspace: string): GraphCacheInfo {
    this.usable();
    const e = this.entry(keyspace);
    const c = e.cache;
    return {
      mode: this.settings.mode,
      state: e.state,
      ...(c === undefined ? {} : { version: c.version }),
      nodes: c?.nodeCount ?? 0,
      entries: c === undefined ? 0 : c.out.entries + c.in.entries,
      bytes: e.bytes,
      builds: e.builds,
      hits: e.hits,
      misses: e.misses,
      storageExpansions: e.expansions,
      queued: e.queue.length,
      totalBytes: this.totalBytes,
      maxBytes: this.settings.maxBytes,
    };
  }
}

const registries = new WeakMap<Storage, GraphCacheRegistry>();

/** The adjacency-cache registry of one database (made on first use). */
export function cacheRegistry(storage: Storage): GraphCacheRegistry {
  let r = registries.get(storage);
  if (r === undefined) {
    r = new GraphCacheRegistry(storage);
    registries.set(storage, r);
  }
  return r;
}

/** Checks Graph.configureCache's settings at the boundary. */
export function checkCacheSettings(s: unknown): Partial<GraphCacheSettings> {
  if (typeof s !== 'object' || s === null)
    throw new StrataError('invalid_argument', 'cache settings must be an object, such as { mode: "off" }');
  const o = s as Partial<GraphCacheSettings>;
  if (o.mode !== undefined && o.mode !== 'auto' && o.mode !== 'always' && o.mode !== 'off')
    throw new StrataError(
      'invalid_argument',
      `mode must be 'auto', 'always' or 'off', got ${String(o.mode)}`,
    );
  if (o.maxBytes !== undefined && (!Number.isSafeInteger(o.maxBytes) || o.maxBytes < 0))
    throw new StrataError(
      'invalid_argument',
      `maxBytes must be a non-negative integer, got ${String(o.maxBytes)}`,
    );
  return {
    ...(o.mode === undefined ? {} : { mode: o.mode }),
    ...(o.maxBytes === undefined ? {} : { maxBytes: o.maxBytes }),
  };
}
