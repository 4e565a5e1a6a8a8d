/**
 * The graph primitive's rows (docs/formats/graph.md). Under `keyspace | 0x04` (GRAPH_TAG):
 *
 *   'n' (0x6e) | seg(id)                     → node row: the node's props, value-encoded
 *   'o' (0x6f) | seg(from) | seg(type) | seg(to) → edge row: the edge's props, value-encoded
 *   'i' (0x69) | seg(to) | seg(type) | seg(from) → in-adjacency row: empty (0 bytes)
 *
 * `seg` is keys.ts's self-delimiting, order-preserving segment of the UTF-8 name. An edge is
 * identified by (from, type, to): at most one edge of a type from one node to another. The
 * out-rows of a node are one key range (`'o' | seg(from)`), and so are its in-rows
 * (`'i' | seg(to)`): neighbors cost follows the node's degree, not the graph's size. Every edge
 * write puts or deletes both of its rows in the same commit.
 *
 * Parsers here treat stored keys as hostile: a key that does not parse returns undefined, and
 * callers report `corruption`.
 */
import { binaryToUtf8, StrataError } from '../base/index.js';
import { GRAPH_TAG, prefixEnd, readSegment, segment } from './keys.js';
import { decodeStored } from './kv.js';
import type { Value } from './value-codec.js';

export { GRAPH_TAG };

/** Row kind bytes (the first byte after the tag). */
export const NODE_ROW = 'n';
export const OUT_ROW = 'o';
export const IN_ROW = 'i';

/** The value of every in-adjacency row. */
export const EMPTY_ROW = new Uint8Array(0);

/** The key of node `id` (a checked byte string) under `base` (keyspace + GRAPH_TAG). */
export function nodeKey(base: string, id: string): string {
  return base + NODE_ROW + segment(id);
}

/** The out-row key of edge (from, type, to). */
export function outKey(base: string, from: string, type: string, to: string): string {
  return base + OUT_ROW + segment(from) + segment(type) + segment(to);
}

/** The in-row key of edge (from, type, to). */
export function inKey(base: string, from: string, type: string, to: string): string {
  return base + IN_ROW + segment(to) + segment(type) + segment(from);
}

/** A key range [start, end). */
export interface KeyRange {
  start: string;
  end: string;
}

/** The range of keys that start with `prefix`. */
export function rangeOf(prefix: string): KeyRange {
  return { start: prefix, end: prefixEnd(prefix) };
}

/** A parsed edge row key: names as checked byte strings. */
export interface EdgeKey {
  from: string;
  type: string;
  to: string;
}

/**
 * Reads one segment of `key` at `at` when it ends the key exactly or is followed by more; the
 * common case (no 0x00 inside the name) takes one indexOf and one slice.
 */
function segmentAt(key: string, at: number): [string, number] | undefined {
  const z = key.indexOf('\x00', at);
  if (z >= 0 && key.charCodeAt(z + 1) === 1) return [key.slice(at, z), z + 2];
  return readSegment(key, at);
}

/**
 * Reads the three segments of an out- or in-row key starting at `at` (just after the row kind
 * byte): for an out-row they are (from, type, to); for an in-row (to, type, from). Undefined
 * when the key is not exactly three segments.
 */
export function readThree(key: string, at: number): [string, string, string] | undefined {
  const a = segmentAt(key, at);
  if (a === undefined) return undefined;
  const b = segmentAt(key, a[1]);
  if (b === undefined) return undefined;
  const c = segmentAt(key, b[1]);
  if (c === undefined || c[1] !== key.length) return undefined;
  return [a[0], b[0], c[0]];
}

/**
 * Reads the last two segments (type, then the other end) of an adjacency key, the first segment
 * (this node) ending at `at`. Undefined when malformed. The hot path of neighbors and traverse.
 */
export function readTypeAndOther(key: string, at: number): [string, string] | undefined {
  const t = segmentAt(key, at);
  if (t === undefined) return undefined;
  const o = segmentAt(key, t[1]);
  if (o === undefined || o[1] !== key.length) return undefined;
  return [t[0], o[0]];
}

/**
 * The other end of an adjacency key whose first segment (this node) ends at `at`, without
 * reading the type into a string. Undefined when malformed.
 */
export function readOther(key: string, at: number): string | undefined {
  let z = key.indexOf('\x00', at);
  // The type segment: skip escapes (00 ff) until its terminator (00 01).
  while (z >= 0 && key.charCodeAt(z + 1) === 0xff) z = key.indexOf('\x00', z + 2);
  if (z < 0 || key.charCodeAt(z + 1) !== 1) return undefined;
  const start = z + 2;
  const e = key.indexOf('\x00', start);
  if (e >= 0 && e + 2 === key.length && key.charCodeAt(e + 1) === 1) return key.slice(start, e);
  const s = readSegment(key, start);
  return s === undefined || s[1] !== key.length ? undefined : s[0];
}

/** The damaged-row error: a graph key or row that does not parse. */
export function damagedRow(what: string): StrataError {
  return new StrataError('corruption', `a stored graph row is damaged (${what})`);
}

/** A node id, edge type or other stored name as text; malformed UTF-8 is `corruption`. */
export function nameText(binary: string): string {
  try {
    return binaryToUtf8(binary);
  } catch (error) {
    throw new StrataError('corruption', 'a stored graph name is not valid UTF-8', { cause: error });
  }
}

/** Properties of a node or an edge. */
export type Props = { [key: string]: Value };

/** Decodes a stored node or edge row into props; anything but an encoded object is `corruption`. */
export function decodeProps(bytes: Uint8Array, what: string): Props {
  const v = decodeStored(bytes, what);
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array)
    throw new StrataError('corruption', `the stored props of ${what} are not an object`);
  return v;
}

/** Checks an in-adjacency row's value: it must be empty. */
export function checkInRow(bytes: Uint8Array, what: string): void {
  if (bytes.length !== 0) throw new StrataError('corruption', `the in-adjacency row of ${what} is not empty`);
}

/** How an edge is named in errors and merge reports: `from -[type]-> to`. */
export function edgeName(from: string, type: string, to: string): string {
  return `${from} -[${type}]-> ${to}`;
}
