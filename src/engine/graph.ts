/**
 * The property-graph primitive: nodes with properties, and typed, directed edges with
 * properties, over the storage boundary. Rows and their bytes: graph-keys.ts and
 * docs/formats/graph.md; user guide: docs/graph.md.
 *
 * Every edge has two rows, an out-row under its source node and an in-row under its target, so
 * `neighbors` in either direction is one key-range scan whose cost follows the node's degree.
 * Writes outside a transaction are built at the moment their commit is ordered (commitBuilt),
 * so a check such as "both nodes exist" and the write cannot be separated by another commit.
 * Every read of one call (a traverse, a path search) goes through one View and sees one version.
 */
import {
  BATCH_OPS_MAX,
  GRAPH_PROPS_SIZE_BYTES_MAX,
  GRAPH_TRAVERSE_DEPTH_MAX,
  GRAPH_TRAVERSE_NODES_DEFAULT,
  GRAPH_TRAVERSE_NODES_MAX,
  GRAPH_TYPES_MAX,
  invalidArgument,
  StrataError,
} from '../base/index.js';
import type { HistoryVersion, ReadPoint, Storage } from '../storage/index.js';
import { type Batch, commitBuilt, type Reads, readOnly, View, type Writes } from './context.js';
import {
  type Adjacency,
  cacheRegistry,
  checkCacheSettings,
  GRAPH_CACHE_CALL_EXPANSIONS,
  type GraphCacheInfo,
  type GraphCacheRegistry,
  type GraphCacheSettings,
  type Slice,
  WEIGHT_INVALID,
  WEIGHT_MISSING,
} from './graph-cache.js';
import {
  damagedRow,
  decodeProps,
  EMPTY_ROW,
  edgeName,
  GRAPH_TAG,
  IN_ROW,
  inKey,
  NODE_ROW,
  nameText,
  nodeKey,
  OUT_ROW,
  outKey,
  type Props,
  rangeOf,
  readOther,
  readThree,
  readTypeAndOther,
} from './graph-keys.js';
import { checkKey, checkNonEmptyKey, readSegment, segment } from './keys.js';
import type { Commit } from './kv.js';
import { encodeValue } from './value-codec.js';

export type { GraphCacheInfo, GraphCacheMode, GraphCacheSettings } from './graph-cache.js';
export type { Props } from './graph-keys.js';
export { mergeGraph } from './graph-merge.js';

/** Which edges of a node: leaving it ('out'), arriving at it ('in'), or both. */
export type Direction = 'out' | 'in' | 'both';

/** A node: its id and properties. */
export interface GraphNode {
  id: string;
  props: Props;
}

/** An edge: source node, type, target node and properties. */
export interface GraphEdge {
  from: string;
  type: string;
  to: string;
  props: Props;
}

/** One neighbor of a node, reached over one edge. */
export interface Neighbor {
  /** The node at the other end of the edge. */
  id: string;
  /** The edge's type. */
  type: string;
  /** The edge's properties (empty when the call asked for `props: false`). */
  props: Props;
  /** 'out' when the edge leaves the node asked about, 'in' when it arrives there. */
  direction: 'out' | 'in';
}

/** Which edges to follow: shared by neighbors, traverse and the path searches. */
export interface EdgeFilter {
  /** 'out' (default), 'in' or 'both'. */
  direction?: Direction;
  /** Only edges of this type, or of one of these types (at most GRAPH_TYPES_MAX). */
  type?: string | readonly string[];
}

export interface NeighborOptions extends EdgeFilter {
  /** At most this many neighbors (default: all). */
  limit?: number;
  /** Read the edges' properties (default true); false skips decoding them (and, for in-edges, reading them). */
  props?: boolean;
}

export interface TraverseOptions extends EdgeFilter {
  /** Follow edges at most this many hops from the start (default and maximum GRAPH_TRAVERSE_DEPTH_MAX). */
  maxDepth?: number;
  /** Return at most this many nodes, the start included (default GRAPH_TRAVERSE_NODES_DEFAULT). */
  maxNodes?: number;
}

/** A node a traverse reached, with its distance in hops from the start. */
export interface TraverseStep {
  id: string;
  depth: number;
}

export interface ShortestPathOptions extends EdgeFilter {
  /**
   * Name of a numeric edge property to use as the edge's cost (Dijkstra). Without it every edge
   * costs 1 (breadth-first). A weight that is negative, not finite or not a number fails the
   * call with `invalid_argument`, naming the edge.
   */
  weight?: string;
  /** Cost of an edge that lacks the weight property (default: such an edge fails the call). */
  defaultWeight?: number;
  /** Paths of at most this many edges (default GRAPH_TRAVERSE_DEPTH_MAX). */
  maxDepth?: number;
  /**
   * Visit at most this many nodes looking for the path (default GRAPH_TRAVERSE_NODES_DEFAULT):
   * a search that would visit more fails with `invalid_argument` rather than answering "no path".
   */
  maxNodes?: number;
}

/** A shortest path with its cost: the number of edges, or the sum of their weights. */
export interface WeightedPath {
  path: string[];
  cost: number;
}

export interface NodeListOptions {
  /** Only nodes whose id starts with this. */
  prefix?: string;
  /** At most this many nodes. */
  limit?: number;
}

export interface EdgeListOptions {
  /** Only edges leaving this node. */
  from?: string;
  /** Only edges of this type. */
  type?: string;
  /** At most this many edges. */
  limit?: number;
}

export interface DeleteNodeOptions {
  /**
   * Delete the node's edges too (both directions). Default false: a node that still has edges
   * is not deleted, and the call fails with `conflict`.
   */
  cascade?: boolean;
}

/** What deleteNode resolves to. */
export interface DeleteNodeResult extends Commit {
  /** Whether the node existed (and so was deleted). */
  deleted: boolean;
  /** How many edges were deleted with it (cascade). */
  edgesDeleted: number;
}

/** One version of a node, as history lists them. */
export interface NodeHistoryEntry {
  version: number;
  timestamp: number;
  /** Present unless this version is a delete. */
  props?: Props;
  deleted: boolean;
  /** The branch that wrote this version. */
  branch: string;
}

/** How another branch (or point) differs in its graph: see Graph.diff. */
export interface GraphDiff {
  nodes: {
    /** Nodes only the other side has. */
    added: GraphNode[];
    /** Nodes only this side has. */
    removed: GraphNode[];
    /** Nodes both have, with different properties. */
    changed: { id: string; before: Props; after: Props }[];
  };
  edges: {
    added: GraphEdge[];
    removed: GraphEdge[];
    changed: { from: string; type: string; to: string; before: Props; after: Props }[];
  };
}

// --- validation at the boundary -----------------------------------------------------------------

function checkId(id: unknown, what = 'node id'): string {
  return checkNonEmptyKey(id, what);
}

function checkType(type: unknown): string {
  return checkNonEmptyKey(type, 'edge type');
}

/** Encodes props (a plain object of Values; default {}), checking their size. */
function encodeProps(props: unknown): Uint8Array {
  if (props === undefined) props = {};
  if (typeof props !== 'object' || props === null || Array.isArray(props) || props instanceof Uint8Array)
    throw invalidArgument('props must be an object of values, such as { kind: "person" }');
  const bytes = encodeValue(props, 'props');
  if (bytes.length > GRAPH_PROPS_SIZE_BYTES_MAX)
    throw invalidArgument(
      `props encode to ${bytes.length} bytes, more than the limit of ${GRAPH_PROPS_SIZE_BYTES_MAX}`,
    );
  return bytes;
}

function checkOptions<T extends object>(options: unknown, what: string): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null)
    throw invalidArgument(`${what} options must be an object`);
  return options as Partial<T>;
}

function checkDirection(direction: unknown): Direction {
  if (direction === undefined) return 'out';
  if (direction !== 'out' && direction !== 'in' && direction !== 'both')
    throw invalidArgument(`direction must be 'out', 'in' or 'both', got ${String(direction)}`);
  return direction;
}

/** Edge types to filter by, as sorted distinct byte strings; undefined for "every type". */
function checkTypes(type: unknown): string[] | undefined {
  if (type === undefined) return undefined;
  if (typeof type === 'string') return [checkType(type)];
  if (!Array.isArray(type))
    throw invalidArgument('type must be an edge type (a string) or an array of edge types');
  if (type.length === 0) throw invalidArgument('type must not be an empty array');
  if (type.length > GRAPH_TYPES_MAX)
    throw invalidArgument(`type lists ${type.length} edge types, more than the limit of ${GRAPH_TYPES_MAX}`);
  return [...new Set(type.map(checkType))].sort();
}

function checkCount(n: unknown, what: string, fallback: number, max: number, min = 0): number {
  if (n === undefined) return fallback;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max)
    throw invalidArgument(`${what} must be an integer from ${min} to ${max}, got ${String(n)}`);
  return n;
}

function checkLimit(limit: unknown): number {
  if (limit === undefined || limit === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0)
    throw invalidArgument(`limit must be a non-negative integer, got ${String(limit)}`);
  return limit;
}

function checkBoolean(v: unknown, what: string, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw invalidArgument(`${what} must be a boolean, got ${String(v)}`);
  return v;
}

interface Filter {
  direction: Direction;
  types: string[] | undefined;
}

function checkFilter(o: EdgeFilter): Filter {
  return { direction: checkDirection(o.direction), types: checkTypes(o.type) };
}

interface SearchLimits {
  maxDepth: number;
  maxNodes: number;
}

function checkSearchLimits(o: { maxDepth?: unknown; maxNodes?: unknown }): SearchLimits {
  return {
    maxDepth: checkCount(o.maxDepth, 'maxDepth', GRAPH_TRAVERSE_DEPTH_MAX, GRAPH_TRAVERSE_DEPTH_MAX),
    maxNodes: checkCount(o.maxNodes, 'maxNodes', GRAPH_TRAVERSE_NODES_DEFAULT, GRAPH_TRAVERSE_NODES_MAX, 1),
  };
}

interface PathOptions extends Filter, SearchLimits {
  weight: string | undefined;
  defaultWeight: number | undefined;
}

function checkPathOptions(options: unknown): PathOptions {
  const o = checkOptions<ShortestPathOptions>(options, 'shortestPath');
  let weight: string | undefined;
  if (o.weight !== undefined) {
    if (typeof o.weight !== 'string' || o.weight.length === 0)
      throw invalidArgument('weight must be the name of a numeric edge property (a non-empty string)');
    weight = o.weight;
  }
  const d = o.defaultWeight;
  if (d !== undefined) {
    if (weight === undefined)
      throw invalidArgument('defaultWeight needs weight (the property it stands in for)');
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0)
      throw invalidArgument(`defaultWeight must be a finite number of at least 0, got ${String(d)}`);
  }
  return { ...checkFilter(o), ...checkSearchLimits(o), weight, defaultWeight: d };
}

function kindsOf(direction: Direction): string[] {
  return direction === 'out' ? [OUT_ROW] : direction === 'in' ? [IN_ROW] : [OUT_ROW, IN_ROW];
}

function notFound(id: string): StrataError {
  return new StrataError('not_found', `no node '${id}'; create it with putNode first`, { committed: 'no' });
}

// --- reads (shared by Graph, on a View, and TxGraph, on a Batch) ------------------------------------

/** What a storage-path read throws when it passes its expansion budget (see Graph.expanding). */
const OVER_BUDGET = Symbol('over budget');

/**
 * The read algorithms over one consistent state: a View (one version) or a transaction's Batch.
 * Names in and out of the private helpers are checked byte strings; the public methods take and
 * return text.
 *
 * With `adj` (the keyspace's adjacency cache, exact for the View's version) neighbors, traverse
 * and the path searches read adjacency from it; every other read, and every props read, goes to
 * the rows. Both paths visit the same edges in the same order, so they return the same results
 * and fail the same way. Without it, `expansions` counts node expansions, and passing `budget`
 * throws OVER_BUDGET.
 */
class GraphReads {
  expansions = 0;

  constructor(
    private readonly rows: Reads,
    private readonly base: string,
    private readonly adj?: Adjacency,
    private readonly registry?: GraphCacheRegistry,
    private readonly budget = Number.POSITIVE_INFINITY,
  ) {}

  /** Counts one storage-path expansion. */
  private expand(): void {
    if (++this.expansions > this.budget) throw OVER_BUDGET;
  }

  /** The cache's sides for a direction. */
  private sides(a: Adjacency, direction: Direction) {
    return direction === 'out' ? [a.out] : direction === 'in' ? [a.in] : [a.out, a.in];
  }

  private requireNode(idText: string, id: string): void {
    if (this.rows.get(nodeKey(this.base, id)) === undefined) throw notFound(idText);
  }

  getNode(idText: string): Props | undefined {
    const bytes = this.rows.get(nodeKey(this.base, checkId(idText)));
    return bytes === undefined ? undefined : decodeProps(bytes, `node '${idText}'`);
  }

  hasNode(idText: string): boolean {
    return this.rows.get(nodeKey(this.base, checkId(idText))) !== undefined;
  }

  getEdge(fromText: string, toText: string, typeText: string): Props | undefined {
    const from = checkId(fromText, 'from');
    const to = checkId(toText, 'to');
    const type = checkType(typeText);
    const bytes = this.rows.get(outKey(this.base, from, type, to));
    return bytes === undefined
      ? undefined
      : decodeProps(bytes, `edge ${edgeName(fromText, typeText, toText)}`);
  }

  /** The key ranges of one node's adjacency rows of one direction, by type when filtered. */
  private ranges(
    kind: string,
    node: string,
    types: string[] | undefined,
  ): [string, { start: string; end: string }[]] {
    const prefix = this.base + kind + segment(node);
    if (types === undefined) return [prefix, [rangeOf(prefix)]];
    return [prefix, types.map((t) => rangeOf(prefix + segment(t)))];
  }

  /** Calls `visit(other, key, value, prefixLength)` for each adjacency row; stops when it returns false. */
  private eachAdjacent(
    kind: string,
    node: string,
    types: string[] | undefined,
    visit: (key: string, value: Uint8Array, at: number) => boolean,
  ): boolean {
    const [prefix, ranges] = this.ranges(kind, node, types);
    const at = prefix.length;
    for (const r of ranges) {
      for (const [k, v] of this.rows.scan(r.start, r.end)) if (!visit(k, v.value!, at)) return false;
    }
    return true;
  }

  neighbors(idText: string, options: unknown): Neighbor[] {
    const o = checkOptions<NeighborOptions>(options, 'neighbors');
    const { direction, types } = checkFilter(o);
    const limit = checkLimit(o.limit);
    const withProps = checkBoolean(o.props, 'props', true);
    const id = checkId(idText);
    this.requireNode(idText, id);
    const out: Neighbor[] = [];
    if (limit === 0) return out;
    // Out-edges with their props are one scan of the edge rows, which hold the props: the cache
    // would add a point read per edge. Everything else is faster from the cache.
    if (this.adj !== undefined && !(withProps && direction === 'out'))
      return this.neighborsCached(this.adj, idText, id, direction, types, limit, withProps);
    this.expand();
    const visit =
      (dir: 'out' | 'in') =>
      (key: string, value: Uint8Array, at: number): boolean => {
        const tail = readTypeAndOther(key, at);
        if (tail === undefined) throw damagedRow('an adjacency key');
        const [type, other] = tail;
        let props: Props = {};
        if (withProps) {
          const bytes = dir === 'out' ? value : this.rows.get(outKey(this.base, other, type, id));
          if (bytes === undefined)
            throw damagedRow(`an in-row without its edge row (${edgeName(other, type, id)})`);
          props = decodeProps(
            bytes,
            `edge ${dir === 'out' ? edgeName(idText, type, other) : edgeName(other, type, idText)}`,
          );
        }
        out.push({ id: nameText(other), type: nameText(type), props, direction: dir });
        return out.length < limit;
      };
    if (direction !== 'in' && !this.eachAdjacent(OUT_ROW, id, types, visit('out'))) return out;
    if (direction !== 'out') this.eachAdjacent(IN_ROW, id, types, visit('in'));
    return out;
  }

  private neighborsCached(
    a: Adjacency,
    idText: string,
    id: string,
    direction: Direction,
    types: string[] | undefined,
    limit: number,
    withProps: boolean,
  ): Neighbor[] {
    const out: Neighbor[] = [];
    const node = a.nodeOf(id);
    if (node === undefined) return out;
    const mask = a.typeMask(types);
    for (const side of this.sides(a, direction)) {
      const dir = side === a.out ? 'out' : 'in';
      const s = a.slice(side, node);
      for (let i = s.start; i < s.end; i++) {
        const t = s.types[i]!;
        if (mask !== undefined && mask[t] !== 1) continue;
        const type = a.typeNames[t]!;
        const o = s.others[i]!;
        let props: Props = {};
        if (withProps) {
          const other = a.names[o]!;
          const bytes = this.rows.get(
            dir === 'out' ? outKey(this.base, id, type, other) : outKey(this.base, other, type, id),
          );
          if (bytes === undefined)
            throw damagedRow(
              dir === 'out'
                ? 'an edge row the cache lists'
                : `an in-row without its edge row (${edgeName(other, type, id)})`,
            );
          props = decodeProps(
            bytes,
            `edge ${dir === 'out' ? edgeName(idText, type, other) : edgeName(other, type, idText)}`,
          );
        }
        out.push({ id: a.textOf(o), type: nameText(type), props, direction: dir });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  /**
   * Breadth-first from `start`: each node once, with its depth, in the order reached. The hot
   * loop reads only keys: the other end of each adjacency row, no props decoded.
   */
  traverse(startText: string, options: unknown): TraverseStep[] {
    const o = checkOptions<TraverseOptions>(options, 'traverse');
    const { direction, types } = checkFilter(o);
    const { maxDepth, maxNodes } = checkSearchLimits(o);
    const start = checkId(startText, 'start');
    this.requireNode(startText, start);
    if (this.adj !== undefined)
      return this.traverseCached(this.adj, startText, start, direction, types, maxDepth, maxNodes);
    const visited = new Set<string>([start]);
    const out: TraverseStep[] = [{ id: startText, depth: 0 }];
    let frontier = [start];
    const heads = kindsOf(direction).map((kind) => this.base + kind);
    for (let depth = 1; depth <= maxDepth && frontier.length > 0 && out.length < maxNodes; depth++) {
      const next: string[] = [];
      for (const node of frontier) {
        this.expand();
        const seg = segment(node);
        for (const head of heads) {
          const prefix = head + seg;
          const at = prefix.length;
          // A segment ends 00 01, so every key under the prefix is below prefix with 00 02.
          const starts = types === undefined ? [prefix] : types.map((t) => prefix + segment(t));
          for (const from of starts) {
            const end = `${from.slice(0, -1)}\x02`;
            for (const [k] of this.rows.scan(from, end)) {
              const other = readOther(k, at);
              if (other === undefined) throw damagedRow('an adjacency key');
              if (visited.has(other)) continue;
              visited.add(other);
              out.push({ id: nameText(other), depth });
              if (out.length >= maxNodes) return out;
              next.push(other);
            }
          }
        }
      }
      frontier = next;
    }
    return out;
  }

  private traverseCached(
    a: Adjacency,
    startText: string,
    start: string,
    direction: Direction,
    types: string[] | undefined,
    maxDepth: number,
    maxNodes: number,
  ): TraverseStep[] {
    const out: TraverseStep[] = [{ id: startText, depth: 0 }];
    const s = a.nodeOf(start);
    if (s === undefined) return out;
    const sides = this.sides(a, direction);
    const mask = a.typeMask(types);
    const [marks, stamp] = a.stamp();
    const queue = a.scratch(0);
    marks[s] = stamp;
    queue[0] = s;
    let head = 0;
    let tail = 1;
    for (let depth = 1; depth <= maxDepth && head < tail && out.length < maxNodes; depth++) {
      const levelEnd = tail;
      while (head < levelEnd) {
        const node = queue[head++]!;
        for (const side of sides) {
          const sl = a.slice(side, node);
          const others = sl.others;
          const ts = sl.types;
          for (let i = sl.start; i < sl.end; i++) {
            if (mask !== undefined && mask[ts[i]!] !== 1) continue;
            const o = others[i]!;
            if (marks[o] === stamp) continue;
            marks[o] = stamp;
            out.push({ id: a.textOf(o), depth });
            if (out.length >= maxNodes) return out;
            queue[tail++] = o;
          }
        }
      }
    }
    return out;
  }

  /** The path search behind shortestPath and shortestPathWithCost. */
  path(fromText: string, toText: string, options: unknown): WeightedPath | undefined {
    const o = checkPathOptions(options);
    const from = checkId(fromText, 'from');
    const to = checkId(toText, 'to');
    this.requireNode(fromText, from);
    this.requireNode(toText, to);
    if (from === to) return { path: [fromText], cost: 0 };
    const a = this.adj;
    if (a !== undefined)
      return o.weight === undefined
        ? this.breadthFirstPathCached(a, from, to, o)
        : this.dijkstraCached(a, from, to, o, o.weight);
    return o.weight === undefined ? this.breadthFirstPath(from, to, o) : this.dijkstra(from, to, o, o.weight);
  }

  /** The path from `from` to `to` along `parent` (node indices) as text. */
  private pathOfCached(a: Adjacency, parent: Int32Array, from: number, to: number): string[] {
    const path: string[] = [];
    for (let n = to; ; n = parent[n]!) {
      path.push(a.textOf(n));
      if (n === from) break;
    }
    return path.reverse();
  }

  private breadthFirstPathCached(
    a: Adjacency,
    fromId: string,
    toId: string,
    o: PathOptions,
  ): WeightedPath | undefined {
    const from = a.nodeOf(fromId);
    if (from === undefined) return undefined;
    const to = a.nodeOf(toId) ?? -1;
    const sides = this.sides(a, o.direction);
    const mask = a.typeMask(o.types);
    const [marks, stamp] = a.stamp();
    const queue = a.scratch(0);
    const parent = a.scratch(1);
    marks[from] = stamp;
    let visited = 1;
    queue[0] = from;
    let head = 0;
    let tail = 1;
    for (let depth = 1; depth <= o.maxDepth && head < tail; depth++) {
      const levelEnd = tail;
      while (head < levelEnd) {
        const node = queue[head++]!;
        for (const side of sides) {
          const sl = a.slice(side, node);
          for (let i = sl.start; i < sl.end; i++) {
            if (mask !== undefined && mask[sl.types[i]!] !== 1) continue;
            const other = sl.others[i]!;
            if (marks[other] === stamp) continue;
            marks[other] = stamp;
            visited++;
            parent[other] = node;
            if (other === to) return { path: this.pathOfCached(a, parent, from, to), cost: depth };
            if (visited >= o.maxNodes) throw this.tooMany(o);
            queue[tail++] = other;
          }
        }
      }
    }
    return undefined;
  }

  /**
   * The weight of entry `i` of slice `s` of `node`'s list on side `dir`: from the memo when it
   * has it, read from the edge row (and memoised) otherwise. Errors as on the storage path.
   */
  private weightCached(
    a: Adjacency,
    memo: Float64Array | undefined,
    s: Slice,
    i: number,
    out: boolean,
    node: number,
    weight: string,
    o: PathOptions,
  ): number {
    const slot = s.table >= 0 && memo !== undefined ? i : -1;
    if (slot >= 0) {
      const m = memo![slot]!;
      if (m >= 0) return m;
      if (m === WEIGHT_MISSING && o.defaultWeight !== undefined) return o.defaultWeight;
    }
    const type = a.typeNames[s.types[i]!]!;
    const other = a.names[s.others[i]!]!;
    const here = a.names[node]!;
    const [f, t] = out ? [here, other] : [other, here];
    const name = (): string => edgeName(nameText(f), nameText(type), nameText(t));
    const bytes = this.rows.get(outKey(this.base, f, type, t));
    if (bytes === undefined) throw damagedRow(`an in-row without its edge row (${name()})`);
    const props = decodeProps(bytes, `edge ${name()}`);
    if (slot >= 0) {
      const w = Object.hasOwn(props, weight) ? props[weight] : undefined;
      memo![slot] =
        w === undefined
          ? WEIGHT_MISSING
          : typeof w === 'number' && Number.isFinite(w) && w >= 0
            ? w
            : WEIGHT_INVALID;
    }
    return this.edgeWeight(props, weight, o, name);
  }

  private dijkstraCached(
    a: Adjacency,
    fromId: string,
    toId: string,
    o: PathOptions,
    weight: string,
  ): WeightedPath | undefined {
    const from = a.nodeOf(fromId);
    if (from === undefined) {
      // No rows name it: the search is done once it has visited the start, as on the storage path.
      if (1 >= o.maxNodes) throw this.tooMany(o);
      return undefined;
    }
    const to = a.nodeOf(toId) ?? -1;
    const n = a.nodeCount;
    const dist = new Float64Array(n);
    const hops = new Int32Array(n);
    const parent = new Int32Array(n);
    // Per node: 0 unseen, 1 has a distance, 2 done.
    const seen = new Uint8Array(n);
    dist[from] = 0;
    seen[from] = 1;
    let done = 0;
    const heap = new MinHeap<number>();
    heap.push(0, from);
    const sides = this.sides(a, o.direction);
    const mask = a.typeMask(o.types);
    const room = this.registry?.room() ?? 0;
    const memos = sides.map((side) => a.weightsOf(side, weight, room));
    this.registry?.grew(this.base.slice(0, -1));
    while (heap.size > 0) {
      const [d, node] = heap.pop();
      if (seen[node] === 2 || d > dist[node]!) continue;
      if (node === to) return { path: this.pathOfCached(a, parent, from, to), cost: d };
      seen[node] = 2;
      if (++done >= o.maxNodes) throw this.tooMany(o);
      const h = hops[node]!;
      if (h >= o.maxDepth) continue;
      for (let k = 0; k < sides.length; k++) {
        const side = sides[k]!;
        const s = a.slice(side, node);
        for (let i = s.start; i < s.end; i++) {
          if (mask !== undefined && mask[s.types[i]!] !== 1) continue;
          const other = s.others[i]!;
          if (seen[other] === 2) continue;
          const nd = d + this.weightCached(a, memos[k], s, i, side === a.out, node, weight, o);
          if (seen[other] === 0 || nd < dist[other]!) {
            seen[other] = 1;
            dist[other] = nd;
            hops[other] = h + 1;
            parent[other] = node;
            heap.push(nd, other);
          }
        }
      }
    }
    return undefined;
  }

  private pathOf(parent: Map<string, string>, from: string, to: string): string[] {
    const path: string[] = [];
    for (let n: string | undefined = to; n !== undefined; n = n === from ? undefined : parent.get(n))
      path.push(nameText(n));
    return path.reverse();
  }

  private tooMany(o: PathOptions): StrataError {
    return invalidArgument(
      `the path search reached maxNodes (${o.maxNodes}) nodes without an answer; pass a larger maxNodes`,
    );
  }

  private breadthFirstPath(from: string, to: string, o: PathOptions): WeightedPath | undefined {
    const parent = new Map<string, string>();
    const visited = new Set<string>([from]);
    const kinds = kindsOf(o.direction);
    let frontier = [from];
    for (let depth = 1; depth <= o.maxDepth && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const node of frontier) {
        this.expand();
        for (const kind of kinds) {
          const [prefix, ranges] = this.ranges(kind, node, o.types);
          for (const r of ranges) {
            for (const [k] of this.rows.scan(r.start, r.end)) {
              const other = readOther(k, prefix.length);
              if (other === undefined) throw damagedRow('an adjacency key');
              if (visited.has(other)) continue;
              visited.add(other);
              parent.set(other, node);
              if (other === to) return { path: this.pathOf(parent, from, to), cost: depth };
              if (visited.size >= o.maxNodes) throw this.tooMany(o);
              next.push(other);
            }
          }
        }
      }
      frontier = next;
    }
    return undefined;
  }

  private edgeWeight(props: Props, weight: string, o: PathOptions, edge: () => string): number {
    const w = Object.hasOwn(props, weight) ? props[weight] : undefined;
    if (w === undefined) {
      if (o.defaultWeight !== undefined) return o.defaultWeight;
      throw invalidArgument(`edge ${edge()} has no property '${weight}'; give defaultWeight or set it`);
    }
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
      throw invalidArgument(
        `edge ${edge()} has ${weight} = ${String(w)}; weights must be finite numbers of at least 0`,
      );
    return w;
  }

  private dijkstra(from: string, to: string, o: PathOptions, weight: string): WeightedPath | undefined {
    const dist = new Map<string, number>([[from, 0]]);
    const hops = new Map<string, number>([[from, 0]]);
    const parent = new Map<string, string>();
    const done = new Set<string>();
    const heap = new MinHeap<string>();
    heap.push(0, from);
    const kinds = kindsOf(o.direction);
    while (heap.size > 0) {
      const [d, node] = heap.pop();
      if (done.has(node) || d > dist.get(node)!) continue;
      if (node === to) return { path: this.pathOf(parent, from, to), cost: d };
      done.add(node);
      if (done.size >= o.maxNodes) throw this.tooMany(o);
      const h = hops.get(node)!;
      if (h >= o.maxDepth) continue;
      this.expand();
      for (const kind of kinds) {
        this.eachAdjacent(kind, node, o.types, (key, value, at) => {
          const tail = readTypeAndOther(key, at);
          if (tail === undefined) throw damagedRow('an adjacency key');
          const [type, other] = tail;
          if (done.has(other)) return true;
          const [f, t] = kind === OUT_ROW ? [node, other] : [other, node];
          const bytes = kind === OUT_ROW ? value : this.rows.get(outKey(this.base, f, type, t));
          const name = (): string => edgeName(nameText(f), nameText(type), nameText(t));
          if (bytes === undefined) throw damagedRow(`an in-row without its edge row (${name()})`);
          const nd = d + this.edgeWeight(decodeProps(bytes, `edge ${name()}`), weight, o, name);
          const old = dist.get(other);
          if (old === undefined || nd < old) {
            dist.set(other, nd);
            hops.set(other, h + 1);
            parent.set(other, node);
            heap.push(nd, other);
          }
          return true;
        });
      }
    }
    return undefined;
  }

  *nodes(limit: number, prefix: string): Generator<GraphNode> {
    if (limit === 0) return;
    const p = this.base + NODE_ROW + prefix;
    let n = 0;
    for (const [k, v] of this.rows.scan(p, `${p}\xff`)) {
      const s = readSegment(k, this.base.length + 1);
      if (s === undefined || s[1] !== k.length) throw damagedRow('a node key');
      const id = nameText(s[0]);
      yield { id, props: decodeProps(v.value!, `node '${id}'`) };
      if (++n >= limit) return;
    }
  }

  *edges(from: string | undefined, type: string | undefined, limit: number): Generator<GraphEdge> {
    if (limit === 0) return;
    let p = this.base + OUT_ROW;
    if (from !== undefined) p += segment(from);
    if (from !== undefined && type !== undefined) p += segment(type);
    const r = rangeOf(p);
    let n = 0;
    for (const [k, v] of this.rows.scan(r.start, r.end)) {
      const three = readThree(k, this.base.length + 1);
      if (three === undefined) throw damagedRow('an edge key');
      if (type !== undefined && three[1] !== type) continue;
      const e = { from: nameText(three[0]), type: nameText(three[1]), to: nameText(three[2]) };
      yield { ...e, props: decodeProps(v.value!, `edge ${edgeName(e.from, e.type, e.to)}`) };
      if (++n >= limit) return;
    }
  }

  history(idText: string): NodeHistoryEntry[] {
    return this.rows.history(nodeKey(this.base, checkId(idText))).map((v) => toHistory(v, idText));
  }
}

function toHistory(v: HistoryVersion, id: string): NodeHistoryEntry {
  return v.value === null
    ? { version: v.version, timestamp: v.timestamp, deleted: true, branch: v.branch }
    : {
        version: v.version,
        timestamp: v.timestamp,
        props: decodeProps(v.value, `node '${id}'`),
        deleted: false,
        branch: v.branch,
      };
}

/**
 * A binary min-heap of (cost, node) for Dijkstra; stale entries are skipped on pop. The storage
 * and cached searches use the same heap and push in the same order, so they pop alike.
 */
class MinHeap<T> {
  private readonly costs: number[] = [];
  private readonly nodes: T[] = [];

  get size(): number {
    return this.costs.length;
  }

  push(cost: number, node: T): void {
    const c = this.costs;
    const n = this.nodes;
    let i = c.length;
    c.push(cost);
    n.push(node);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (c[p]! <= cost) break;
      c[i] = c[p]!;
      n[i] = n[p]!;
      i = p;
    }
    c[i] = cost;
    n[i] = node;
  }

  pop(): [number, T] {
    const c = this.costs;
    const n = this.nodes;
    const top: [number, T] = [c[0]!, n[0]!];
    const lastCost = c.pop()!;
    const lastNode = n.pop()!;
    const size = c.length;
    if (size > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= size) break;
        const r = l + 1;
        const m = r < size && c[r]! < c[l]! ? r : l;
        if (c[m]! >= lastCost) break;
        c[i] = c[m]!;
        n[i] = n[m]!;
        i = m;
      }
      c[i] = lastCost;
      n[i] = lastNode;
    }
    return top;
  }
}

// --- writes (shared by Graph, inside commitBuilt, and TxGraph, on its Batch) ------------------------

function putNodeOn(w: Writes, base: string, id: string, bytes: Uint8Array): void {
  w.put(nodeKey(base, id), bytes);
}

function putEdgeOn(
  w: Writes,
  base: string,
  names: { from: string; to: string; type: string },
  text: { from: string; to: string },
  bytes: Uint8Array,
): void {
  const { from, to, type } = names;
  if (w.get(nodeKey(base, from)) === undefined) throw notFound(text.from);
  if (to !== from && w.get(nodeKey(base, to)) === undefined) throw notFound(text.to);
  w.put(outKey(base, from, type, to), bytes);
  w.put(inKey(base, from, type, to), EMPTY_ROW);
}

function deleteEdgeOn(w: Writes, base: string, from: string, type: string, to: string): boolean {
  const k = outKey(base, from, type, to);
  if (w.get(k) === undefined) return false;
  w.delete(k);
  w.delete(inKey(base, from, type, to));
  return true;
}

/** Deletes node `id` (and with `cascade` its edges); returns [existed, edges deleted]. */
function deleteNodeOn(
  w: Writes,
  base: string,
  id: string,
  idText: string,
  cascade: boolean,
): [boolean, number] {
  const nk = nodeKey(base, id);
  if (w.get(nk) === undefined) return [false, 0];
  const edges: [string, string, string][] = [];
  const outPrefix = base + OUT_ROW + segment(id);
  const inPrefix = base + IN_ROW + segment(id);
  // Refusing needs one row of either direction; cascading needs them all.
  const want = cascade ? Number.POSITIVE_INFINITY : 1;
  const maxEdges = Math.floor((BATCH_OPS_MAX - 1) / 2);
  const collect = (prefix: string, inRows: boolean): void => {
    const r = rangeOf(prefix);
    for (const [k] of w.scan(r.start, r.end)) {
      if (edges.length >= want) return;
      const tail = readTypeAndOther(k, prefix.length);
      if (tail === undefined) throw damagedRow('an adjacency key');
      const [type, other] = tail;
      // A self-loop has an out-row and an in-row at this node: count it once.
      if (inRows && other === id) continue;
      edges.push(inRows ? [other, type, id] : [id, type, other]);
      if (edges.length > maxEdges)
        throw invalidArgument(
          `node '${idText}' has more than ${maxEdges} edges, more than one commit can delete; delete some with deleteEdge first`,
        );
    }
  };
  collect(outPrefix, false);
  collect(inPrefix, true);
  if (!cascade && edges.length > 0)
    throw new StrataError(
      'conflict',
      `node '${idText}' still has edges (such as ${edgeName(nameText(edges[0]![0]), nameText(edges[0]![1]), nameText(edges[0]![2]))}); delete them first or pass { cascade: true }`,
      { committed: 'no' },
    );
  for (const [f, t, to] of edges) {
    w.delete(outKey(base, f, t, to));
    w.delete(inKey(base, f, t, to));
  }
  w.delete(nk);
  return [true, edges.length];
}

function checkDeleteNodeOptions(options: unknown): boolean {
  const o = checkOptions<DeleteNodeOptions>(options, 'deleteNode');
  return checkBoolean(o.cascade, 'cascade', false);
}

function checkNodeListOptions(options: unknown): { limit: number; prefix: string } {
  const o = checkOptions<NodeListOptions>(options, 'nodes');
  const limit = checkLimit(o.limit);
  const prefix = o.prefix === undefined ? '' : checkKey(o.prefix, 'prefix');
  // A prefix is matched on the escaped form, as a segment writes it (0x00 → 00 ff).
  return { limit, prefix: prefix.includes('\x00') ? prefix.replaceAll('\x00', '\x00\xff') : prefix };
}

function checkEdgeListOptions(options: unknown): { from?: string; type?: string; limit: number } {
  const o = checkOptions<EdgeListOptions>(options, 'edges');
  const limit = checkLimit(o.limit);
  return {
    limit,
    ...(o.from === undefined ? {} : { from: checkId(o.from, 'from') }),
    ...(o.type === undefined ? {} : { type: checkType(o.type) }),
  };
}

// --- the branch-facing and transaction-facing primitives ------------------------------------

/**
 * The graph of one keyspace (branch and space). Reads see the newest visible version, or the
 * fixed read point given at construction (a read-only view as of the past); each read call sees
 * one version throughout. Writes resolve when their commit is visible and as durable as the mode
 * promises; through a view they reject with `read_only`.
 */
export class Graph {
  private readonly base: string;

  /** @internal */
  constructor(
    readonly storage: Storage,
    readonly keyspace: string,
    readonly at?: ReadPoint,
  ) {
    this.base = keyspace + GRAPH_TAG;
  }

  private reads(): GraphReads {
    return new GraphReads(new View(this.storage, this.at), this.base);
  }

  /**
   * Runs an adjacency read (neighbors, traverse, a path search) at one version: on the
   * keyspace's adjacency cache when it is exact for that version (reads at now only; a view as
   * of a point reads storage), on the storage path otherwise. The storage path counts its node
   * expansions for the registry; under 'auto', a call that passes GRAPH_CACHE_CALL_EXPANSIONS
   * (`large`: traverse and path searches) stops, the cache is built at the same version, and
   * the call runs again on it — the same answer, since both paths read the same state alike.
   */
  private adjacent<T>(large: boolean, run: (r: GraphReads) => T): T {
    if (this.at !== undefined) return run(this.reads());
    const view = new View(this.storage);
    const registry = cacheRegistry(this.storage);
    const adj = registry.acquire(this.keyspace, view, false);
    if (adj !== undefined) return run(new GraphReads(view, this.base, adj, registry));
    const budget =
      large && registry.mode === 'auto' && registry.canBuild(this.keyspace, view)
        ? GRAPH_CACHE_CALL_EXPANSIONS
        : Number.POSITIVE_INFINITY;
    let r = new GraphReads(view, this.base, undefined, undefined, budget);
    try {
      return run(r);
    } catch (error) {
      if (error !== OVER_BUDGET) throw error;
      registry.countExpansions(this.keyspace, r.expansions);
      const built = registry.acquire(this.keyspace, view, true);
      if (built !== undefined) return run(new GraphReads(view, this.base, built, registry));
      r = new GraphReads(view, this.base);
      return run(r);
    } finally {
      registry.countExpansions(this.keyspace, r.expansions);
    }
  }

  /**
   * Settings of the adjacency caches of this database (every branch and space): `mode` 'auto'
   * (default), 'always' or 'off', and `maxBytes`, the cap on their estimated memory (default
   * 64 MiB). They never change a result, only how fast traversals run; see docs/graph.md.
   * Throws `invalid_argument` for bad settings.
   */
  configureCache(settings: Partial<GraphCacheSettings>): void {
    cacheRegistry(this.storage).configure(checkCacheSettings(settings));
  }

  /** The state of this keyspace's adjacency cache and counters (for tests and monitoring). */
  cacheInfo(): GraphCacheInfo {
    return cacheRegistry(this.storage).info(this.keyspace);
  }

  private write<T>(build: (w: Writes) => T): Promise<T & Commit> {
    if (this.at !== undefined) return Promise.reject(readOnly());
    return commitBuilt(this.storage, build).then(({ result, commit }) => ({ ...result, ...commit }));
  }

  /**
   * Creates node `id` or replaces its properties. Requires a non-empty id of at most
   * KEY_SIZE_BYTES_MAX bytes and props that are an object of values (default {}); rejects with
   * `invalid_argument` otherwise.
   */
  putNode(id: string, props?: Props): Promise<Commit> {
    try {
      const k = checkId(id);
      const bytes = encodeProps(props);
      return this.write((w) => {
        putNodeOn(w, this.base, k, bytes);
        return {};
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Creates the edge `from -[type]-> to` or replaces its properties. Both nodes must exist when
   * the commit is ordered: otherwise it rejects with `not_found` and nothing is written.
   */
  putEdge(from: string, to: string, type: string, props?: Props): Promise<Commit> {
    try {
      const names = { from: checkId(from, 'from'), to: checkId(to, 'to'), type: checkType(type) };
      const bytes = encodeProps(props);
      return this.write((w) => {
        putEdgeOn(w, this.base, names, { from, to }, bytes);
        return {};
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Deletes the edge `from -[type]-> to`. A missing edge is not an error: nothing is committed
   * and `deleted` is false (the version is then the current one).
   */
  deleteEdge(from: string, to: string, type: string): Promise<Commit & { deleted: boolean }> {
    try {
      const f = checkId(from, 'from');
      const t = checkId(to, 'to');
      const ty = checkType(type);
      return this.write((w) => ({ deleted: deleteEdgeOn(w, this.base, f, ty, t) }));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Deletes node `id`. By default a node that still has edges (either direction) is not
   * deleted: the call rejects with `conflict` and nothing changes. With `{ cascade: true }` its
   * edges are deleted in the same commit. A missing node is not an error (`deleted` false).
   */
  deleteNode(id: string, options?: DeleteNodeOptions): Promise<DeleteNodeResult> {
    try {
      const k = checkId(id);
      const cascade = checkDeleteNodeOptions(options);
      return this.write((w) => {
        const [deleted, edgesDeleted] = deleteNodeOn(w, this.base, k, id, cascade);
        return { deleted, edgesDeleted };
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The properties of node `id`, or undefined when it does not exist. */
  getNode(id: string): Props | undefined {
    return this.reads().getNode(id);
  }

  /** Whether node `id` exists. */
  hasNode(id: string): boolean {
    return this.reads().hasNode(id);
  }

  /** The properties of the edge `from -[type]-> to`, or undefined when it does not exist. */
  getEdge(from: string, to: string, type: string): Props | undefined {
    return this.reads().getEdge(from, to, type);
  }

  /**
   * The edges of node `id`: out-edges first (by type, then neighbor id), then in-edges, as
   * options choose. With direction 'both' a self-loop appears twice (once each way). Costs
   * follow the node's degree. Throws `not_found` when the node does not exist.
   */
  neighbors(id: string, options?: NeighborOptions): Neighbor[] {
    return this.adjacent(false, (r) => r.neighbors(id, options));
  }

  /**
   * Breadth-first from `start`: every node reached within maxDepth hops, each once, with its
   * depth, in the order reached (the start first, at depth 0), stopping after maxNodes nodes.
   * Throws `not_found` when the start node does not exist.
   */
  traverse(start: string, options?: TraverseOptions): TraverseStep[] {
    return this.adjacent(true, (r) => r.traverse(start, options));
  }

  /**
   * A shortest path from `from` to `to` as node ids (both ends included), or undefined when
   * there is none: fewest edges, or with `weight` the least total weight (Dijkstra). When
   * several are shortest, any one of them. Throws `not_found` when either node does not exist,
   * `invalid_argument` for a bad weight on an edge it reaches or a search past maxNodes.
   */
  shortestPath(from: string, to: string, options?: ShortestPathOptions): string[] | undefined {
    return this.adjacent(true, (r) => r.path(from, to, options))?.path;
  }

  /** As shortestPath, with the path's cost (edges, or the sum of weights). */
  shortestPathWithCost(from: string, to: string, options?: ShortestPathOptions): WeightedPath | undefined {
    return this.adjacent(true, (r) => r.path(from, to, options));
  }

  /**
   * Nodes in id order (UTF-8 byte order), optionally those whose id starts with `prefix`, at
   * most `limit`. Options are checked when this is called, not on the first step.
   */
  nodes(options?: NodeListOptions): Generator<GraphNode> {
    const { limit, prefix } = checkNodeListOptions(options);
    return this.reads().nodes(limit, prefix);
  }

  /** Edges in (from, type, to) order, optionally only those leaving `from` and of `type`. */
  edges(options?: EdgeListOptions): Generator<GraphEdge> {
    const { from, type, limit } = checkEdgeListOptions(options);
    return this.reads().edges(from, type, limit);
  }

  /** Every version of node `id`, newest first, deletes included. */
  history(id: string): NodeHistoryEntry[] {
    return this.reads().history(id);
  }

  /**
   * How `other` (the same space on another branch, or this branch at another point) differs
   * from this graph: nodes and edges added, removed and changed, with both values. Its cost
   * follows what the two sides changed since they diverged.
   */
  diff(other: Graph): GraphDiff {
    const out: GraphDiff = {
      nodes: { added: [], removed: [], changed: [] },
      edges: { added: [], removed: [], changed: [] },
    };
    for (const d of this.storage.diff(this.base, this.at, other.base, other.at)) {
      const kind = d.key.charAt(0);
      if (kind === IN_ROW) continue;
      if (kind === NODE_ROW) {
        const s = readSegment(d.key, 1);
        if (s === undefined || s[1] !== d.key.length) throw damagedRow('a node key');
        const id = nameText(s[0]);
        const what = `node '${id}'`;
        if (d.from === undefined) out.nodes.added.push({ id, props: decodeProps(d.to!.value!, what) });
        else if (d.to === undefined) out.nodes.removed.push({ id, props: decodeProps(d.from.value!, what) });
        else
          out.nodes.changed.push({
            id,
            before: decodeProps(d.from.value!, what),
            after: decodeProps(d.to.value!, what),
          });
      } else if (kind === OUT_ROW) {
        const three = readThree(d.key, 1);
        if (three === undefined) throw damagedRow('an edge key');
        const e = { from: nameText(three[0]), type: nameText(three[1]), to: nameText(three[2]) };
        const what = `edge ${edgeName(e.from, e.type, e.to)}`;
        if (d.from === undefined) out.edges.added.push({ ...e, props: decodeProps(d.to!.value!, what) });
        else if (d.to === undefined)
          out.edges.removed.push({ ...e, props: decodeProps(d.from.value!, what) });
        else
          out.edges.changed.push({
            ...e,
            before: decodeProps(d.from.value!, what),
            after: decodeProps(d.to.value!, what),
          });
      } else {
        throw damagedRow('a graph key of unknown kind');
      }
    }
    return out;
  }
}

/**
 * The graph inside a transaction: reads see the transaction's snapshot and its own writes;
 * writes are buffered and land with the transaction's commit, so they return at once. Checks
 * (nodes exist, no edges left) run against what the transaction sees and are validated with it.
 */
export class TxGraph {
  private readonly base: string;
  private readonly r: GraphReads;

  /** @internal */
  constructor(
    private readonly batch: Batch,
    keyspace: string,
  ) {
    this.base = keyspace + GRAPH_TAG;
    this.r = new GraphReads(batch, this.base);
  }

  /** As Graph.putNode. */
  putNode(id: string, props?: Props): void {
    const k = checkId(id);
    putNodeOn(this.batch, this.base, k, encodeProps(props));
  }

  /** As Graph.putEdge: throws `not_found` (and buffers nothing) when a node is missing. */
  putEdge(from: string, to: string, type: string, props?: Props): void {
    const names = { from: checkId(from, 'from'), to: checkId(to, 'to'), type: checkType(type) };
    putEdgeOn(this.batch, this.base, names, { from, to }, encodeProps(props));
  }

  /** As Graph.deleteEdge; returns whether the edge existed. */
  deleteEdge(from: string, to: string, type: string): boolean {
    return deleteEdgeOn(this.batch, this.base, checkId(from, 'from'), checkType(type), checkId(to, 'to'));
  }

  /** As Graph.deleteNode; returns whether it existed and how many edges went with it. */
  deleteNode(id: string, options?: DeleteNodeOptions): { deleted: boolean; edgesDeleted: number } {
    const k = checkId(id);
    const [deleted, edgesDeleted] = deleteNodeOn(
      this.batch,
      this.base,
      k,
      id,
      checkDeleteNodeOptions(options),
    );
    return { deleted, edgesDeleted };
  }

  getNode(id: string): Props | undefined {
    return this.r.getNode(id);
  }

  hasNode(id: string): boolean {
    return this.r.hasNode(id);
  }

  getEdge(from: string, to: string, type: string): Props | undefined {
    return this.r.getEdge(from, to, type);
  }

  neighbors(id: string, options?: NeighborOptions): Neighbor[] {
    return this.r.neighbors(id, options);
  }

  traverse(start: string, options?: TraverseOptions): TraverseStep[] {
    return this.r.traverse(start, options);
  }

  shortestPath(from: string, to: string, options?: ShortestPathOptions): string[] | undefined {
    return this.r.path(from, to, options)?.path;
  }

  shortestPathWithCost(from: string, to: string, options?: ShortestPathOptions): WeightedPath | undefined {
    return this.r.path(from, to, options);
  }

  nodes(options?: NodeListOptions): Generator<GraphNode> {
    const { limit, prefix } = checkNodeListOptions(options);
    return this.r.nodes(limit, prefix);
  }

  edges(options?: EdgeListOptions): Generator<GraphEdge> {
    const { from, type, limit } = checkEdgeListOptions(options);
    return this.r.edges(from, type, limit);
  }

  history(id: string): NodeHistoryEntry[] {
    return this.r.history(id);
  }
}
