/**
 * How a JSON document is stored (docs/formats/json.md): its row keys and row values, and the
 * reads and writes by path over them. Everything here works on the `Reads` / `Writes` of one
 * consistent state (a View, a Batch, or a merge's overlay), so json.ts only validates input and
 * chooses the state.
 *
 * Under `base` = keyspace | 0x02 (JSON_TAG):
 *
 *   'h' | doc key (UTF-8)                          head row, one per document
 *   'n' | segment(doc key)                         the root container of a split document
 *   K | 0x01 | chunk id u32 BE                     a chunk of the array at K
 *   K | 0x01 | segment(lower-bound name UTF-8)     a chunk of the object at K
 *   K | 0x02 | child id u32 BE / segment(name)     a child of K stored as its own container
 *
 * A head row holds the whole document (at most JSON_INLINE_BYTES_MAX encoded, or a document that
 * cannot be split) or says "split" with the document's encoded size. A split container is a
 * marker row and chunk rows: each chunk holds up to JSON_CHUNK_BYTES_MAX of consecutive
 * children (array elements in order; object members in name order, each with its insertion
 * ordinal), and a child larger than JSON_INLINE_BYTES_MAX is its own split container, named in
 * its chunk by a reference. An array's marker lists its chunks in order with their lengths (so
 * index → chunk is a scan of that directory and deleting an element rewrites one chunk); an
 * object's chunk is found by one reverse seek on its lower-bound name. A one-field update
 * rewrites one chunk per split level it passes, plus the head and, when lengths change, the
 * markers on the way. Every write rewrites the head row, so the head row's versions are the
 * document's versions.
 */
import {
  binaryToUtf8,
  invalidArgument,
  JSON_CHUNK_BYTES_MAX,
  JSON_DOCUMENT_BYTES_MAX,
  JSON_INLINE_BYTES_MAX,
  JSON_NODE_KEY_BYTES_MAX,
  readVarint,
  StrataError,
  utf8ToBinary,
  VALUE_DEPTH_MAX,
  varintSize,
  writeVarint,
} from '../base/index.js';
import type { Reads, Writes } from './context.js';
import { hasMember, isObject, type JsonObject, mergePatch, setMember } from './json-merge.js';
import { formatPath, JSON_INDEX_MAX, type JsonStep } from './json-path.js';
import { readSegment, segment } from './keys.js';
import { decodeValue, encodeValue, type Value } from './value-codec.js';

/** First byte of a head row's key (after the JSON tag). */
export const HEAD_MARK = 'h';
/** First byte of a node row's key (after the JSON tag). */
export const NODE_MARK = 'n';
const STEP_CHUNK = '\x01';
const STEP_CHILD = '\x02';
/** Bounds a container's subtree: every row below it is key + 0x01.. or 0x02.. */
const SUBTREE_END = '\x03';
/** The lower bound of an object's first chunk: the empty name. */
const FIRST_BOUND = segment('');
const U32_MAX = 0xffff_ffff;
/** A chunk smaller than this is merged with a neighbour when the two fit in one chunk. */
const CHUNK_MIN = JSON_CHUNK_BYTES_MAX / 4;

/** Head row kinds. */
export const HEAD_INLINE = 0x01;
export const HEAD_SPLIT = 0x02;
/** Node row kinds. */
export const NODE_OBJECT = 0x02;
export const NODE_ARRAY = 0x03;
export const NODE_ARRAY_CHUNK = 0x04;
export const NODE_OBJECT_CHUNK = 0x05;

/** A decoded head row. */
export type JsonHead =
  | { kind: 'inline'; value: Value; sizeBytes: number }
  | { kind: 'split'; sizeBytes: number };

/** One child in a chunk: its encoded value, or a reference to the split container holding it (`id` for array elements). */
export type JsonEntry = { kind: 'inline'; bytes: Uint8Array } | { kind: 'split'; id: number };

/** One member in an object chunk: its name (UTF-8 bytes as a byte string), insertion ordinal and entry. */
export interface JsonMember {
  name: string;
  ordinal: number;
  entry: JsonEntry;
}

/** An object's marker: member count and the next insertion ordinal. */
export interface ObjectMarker {
  kind: 'object';
  count: number;
  next: number;
}

/** An array's marker: its length, the next chunk or child id, and its chunks in order with their lengths. */
export interface ArrayMarker {
  kind: 'array';
  length: number;
  next: number;
  ids: number[];
  counts: number[];
}

/** A decoded node row. */
export type JsonNode =
  | ObjectMarker
  | ArrayMarker
  | { kind: 'array-chunk'; entries: JsonEntry[] }
  | { kind: 'object-chunk'; members: JsonMember[] };

// --- keys ----------------------------------------------------------------------------------------

/** The head row key of document `doc` (UTF-8 bytes). */
export function headKey(base: string, doc: string): string {
  return base + HEAD_MARK + doc;
}

/** The key of the root container of split document `doc`. */
export function rootKey(base: string, doc: string): string {
  return base + NODE_MARK + segment(doc);
}

function u32(i: number): string {
  return String.fromCharCode((i >>> 24) & 0xff, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff);
}

function arrayChunkKey(k: string, id: number): string {
  return k + STEP_CHUNK + u32(id);
}

function arrayChildKey(k: string, id: number): string {
  return k + STEP_CHILD + u32(id);
}

function objectChunkKey(k: string, name: string): string {
  return k + STEP_CHUNK + segment(name);
}

function objectChildKey(k: string, name: string): string {
  return k + STEP_CHILD + segment(name);
}

/**
 * The document key a JSON row key (the part after base) belongs to; undefined when the key is
 * neither a head nor a node key (a damaged row).
 */
export function docOfRowKey(rest: string): string | undefined {
  if (rest.startsWith(HEAD_MARK)) return rest.slice(1);
  if (rest.startsWith(NODE_MARK)) return readSegment(rest, 1)?.[0];
  return undefined;
}

// --- row values ----------------------------------------------------------------------------------

function corrupt(what: string, why: string): StrataError {
  return new StrataError('corruption', `the stored rows of ${what} are damaged: ${why}`);
}

function decodeStoredValue(bytes: Uint8Array, what: string): Value {
  try {
    return decodeValue(bytes);
  } catch (error) {
    throw new StrataError('corruption', `the stored rows of ${what} are damaged: a value does not decode`, {
      cause: error,
    });
  }
}

function entryValue(e: Extract<JsonEntry, { kind: 'inline' }>, what: string): Value {
  return decodeStoredValue(e.bytes, what);
}

/** Encodes a head row. */
export function encodeHead(head: JsonHead, encoded?: Uint8Array): Uint8Array {
  if (head.kind === 'inline') {
    const v = encoded ?? encodeValue(head.value);
    const out = new Uint8Array(1 + v.length);
    out[0] = HEAD_INLINE;
    out.set(v, 1);
    return out;
  }
  const out = new Uint8Array(1 + varintSize(head.sizeBytes));
  out[0] = HEAD_SPLIT;
  writeVarint(out, 1, head.sizeBytes);
  return out;
}

/** Decodes a head row; throws `corruption` (naming `what`) for anything malformed. */
export function decodeHead(bytes: Uint8Array, what: string): JsonHead {
  if (bytes.length < 2) throw corrupt(what, 'the head row is too short');
  if (bytes[0] === HEAD_INLINE) {
    const v = bytes.subarray(1);
    return { kind: 'inline', value: decodeStoredValue(v, what), sizeBytes: v.length };
  }
  if (bytes[0] !== HEAD_SPLIT) throw corrupt(what, `unknown head row kind ${bytes[0]}`);
  const size = readVarint(bytes, 1);
  if (
    size.value <= JSON_INLINE_BYTES_MAX ||
    size.value > JSON_DOCUMENT_BYTES_MAX ||
    size.next !== bytes.length
  )
    throw corrupt(what, 'bad document size');
  return { kind: 'split', sizeBytes: size.value };
}

function entryBytes(e: JsonEntry, array: boolean): number {
  if (e.kind === 'inline') return varintSize(e.bytes.length) + e.bytes.length;
  return array ? 1 + varintSize(e.id) : 1;
}

function memberBytes(m: JsonMember): number {
  return varintSize(m.name.length) + m.name.length + varintSize(m.ordinal) + entryBytes(m.entry, false);
}

function writeEntry(out: Uint8Array, at: number, e: JsonEntry, array: boolean): number {
  if (e.kind === 'inline') {
    const next = writeVarint(out, at, e.bytes.length);
    out.set(e.bytes, next);
    return next + e.bytes.length;
  }
  out[at] = 0;
  return array ? writeVarint(out, at + 1, e.id) : at + 1;
}

/** Encodes a node row. */
export function encodeNode(node: JsonNode): Uint8Array {
  switch (node.kind) {
    case 'object': {
      const out = new Uint8Array(1 + varintSize(node.count) + varintSize(node.next));
      out[0] = NODE_OBJECT;
      writeVarint(out, writeVarint(out, 1, node.count), node.next);
      return out;
    }
    case 'array': {
      let size = 1 + varintSize(node.length) + varintSize(node.next) + varintSize(node.ids.length);
      for (let i = 0; i < node.ids.length; i++)
        size += varintSize(node.ids[i]!) + varintSize(node.counts[i]!);
      const out = new Uint8Array(size);
      out[0] = NODE_ARRAY;
      let at = writeVarint(out, 1, node.length);
      at = writeVarint(out, at, node.next);
      at = writeVarint(out, at, node.ids.length);
      for (let i = 0; i < node.ids.length; i++) {
        at = writeVarint(out, at, node.ids[i]!);
        at = writeVarint(out, at, node.counts[i]!);
      }
      return out;
    }
    case 'array-chunk': {
      let size = 1 + varintSize(node.entries.length);
      for (const e of node.entries) size += entryBytes(e, true);
      const out = new Uint8Array(size);
      out[0] = NODE_ARRAY_CHUNK;
      let at = writeVarint(out, 1, node.entries.length);
      for (const e of node.entries) at = writeEntry(out, at, e, true);
      return out;
    }
    case 'object-chunk': {
      let size = 1 + varintSize(node.members.length);
      for (const m of node.members) size += memberBytes(m);
      const out = new Uint8Array(size);
      out[0] = NODE_OBJECT_CHUNK;
      let at = writeVarint(out, 1, node.members.length);
      for (const m of node.members) {
        at = writeVarint(out, at, m.name.length);
        for (let i = 0; i < m.name.length; i++) out[at + i] = m.name.charCodeAt(i);
        at = writeVarint(out, at + m.name.length, m.ordinal);
        at = writeEntry(out, at, m.entry, false);
      }
      return out;
    }
  }
}

/** Reads one chunk entry at `at`; returns it and where it ends, or undefined when malformed. */
function readEntry(bytes: Uint8Array, at: number, array: boolean): [JsonEntry, number] | undefined {
  const len = readVarint(bytes, at);
  if (len.value < 0) return undefined;
  if (len.value === 0) {
    if (!array) return [{ kind: 'split', id: 0 }, len.next];
    const id = readVarint(bytes, len.next);
    if (id.value < 0 || id.value > U32_MAX) return undefined;
    return [{ kind: 'split', id: id.value }, id.next];
  }
  if (len.value > bytes.length - len.next) return undefined;
  return [{ kind: 'inline', bytes: bytes.subarray(len.next, len.next + len.value) }, len.next + len.value];
}

/**
 * Decodes a node row; throws `corruption` (naming `what`) for anything malformed. Entry values
 * stay encoded (they are decoded, and checked, when read).
 */
export function decodeNode(bytes: Uint8Array, what: string): JsonNode {
  if (bytes.length < 2) throw corrupt(what, 'a node row is too short');
  const kind = bytes[0];
  const a = readVarint(bytes, 1);
  if (a.value < 0) throw corrupt(what, 'a node row has a bad count');
  if (kind === NODE_OBJECT) {
    const b = readVarint(bytes, a.next);
    if (b.value < a.value || b.next !== bytes.length) throw corrupt(what, 'bad object row');
    return { kind: 'object', count: a.value, next: b.value };
  }
  if (kind === NODE_ARRAY) {
    const next = readVarint(bytes, a.next);
    const n = readVarint(bytes, next.next);
    if (a.value > JSON_INDEX_MAX + 1 || next.value < 0 || next.value > U32_MAX + 1 || n.value < 0)
      throw corrupt(what, 'bad array row');
    if (n.value > (bytes.length - n.next) / 2 || (n.value === 0) !== (a.value === 0))
      throw corrupt(what, 'bad array row: chunk count');
    const ids: number[] = new Array(n.value);
    const counts: number[] = new Array(n.value);
    const seen = new Set<number>();
    let at = n.next;
    let total = 0;
    for (let i = 0; i < n.value; i++) {
      const id = readVarint(bytes, at);
      const c = readVarint(bytes, id.next);
      if (id.value < 0 || id.value >= next.value || seen.has(id.value) || c.value < 1)
        throw corrupt(what, 'bad array row: chunk directory');
      seen.add(id.value);
      ids[i] = id.value;
      counts[i] = c.value;
      total += c.value;
      at = c.next;
    }
    if (total !== a.value || at !== bytes.length) throw corrupt(what, 'bad array row: lengths');
    return { kind: 'array', length: a.value, next: next.value, ids, counts };
  }
  if (kind !== NODE_ARRAY_CHUNK && kind !== NODE_OBJECT_CHUNK)
    throw corrupt(what, `unknown node row kind ${kind}`);
  if (a.value > bytes.length - a.next) throw corrupt(what, 'bad chunk row: count');
  let at = a.next;
  if (kind === NODE_ARRAY_CHUNK) {
    if (a.value === 0) throw corrupt(what, 'an array chunk is empty');
    const entries: JsonEntry[] = new Array(a.value);
    for (let i = 0; i < a.value; i++) {
      const e = readEntry(bytes, at, true);
      if (e === undefined) throw corrupt(what, 'bad array chunk entry');
      entries[i] = e[0];
      at = e[1];
    }
    if (at !== bytes.length) throw corrupt(what, 'bad array chunk: trailing bytes');
    return { kind: 'array-chunk', entries };
  }
  const members: JsonMember[] = new Array(a.value);
  for (let i = 0; i < a.value; i++) {
    const len = readVarint(bytes, at);
    if (len.value < 0 || len.value > bytes.length - len.next) throw corrupt(what, 'bad object chunk: a name');
    let name = '';
    for (let j = len.next; j < len.next + len.value; j++) name += String.fromCharCode(bytes[j]!);
    if (i > 0 && !(members[i - 1]!.name < name)) throw corrupt(what, 'object chunk names are out of order');
    const ordinal = readVarint(bytes, len.next + len.value);
    if (ordinal.value < 0) throw corrupt(what, 'bad object chunk: an ordinal');
    const e = readEntry(bytes, ordinal.next, false);
    if (e === undefined) throw corrupt(what, 'bad object chunk entry');
    members[i] = { name, ordinal: ordinal.value, entry: e[0] };
    at = e[1];
  }
  if (at !== bytes.length) throw corrupt(what, 'bad object chunk: trailing bytes');
  return { kind: 'object-chunk', members };
}

// --- reading -------------------------------------------------------------------------------------

/** The document's head row, or undefined when the document does not exist. */
export function readHead(r: Reads, base: string, doc: string, what: string): JsonHead | undefined {
  const bytes = r.get(headKey(base, doc));
  return bytes === undefined ? undefined : decodeHead(bytes, what);
}

function mustReadMarker(r: Reads, key: string, what: string): ObjectMarker | ArrayMarker {
  const bytes = r.get(key);
  if (bytes === undefined) throw corrupt(what, 'a container row of a split document is missing');
  const n = decodeNode(bytes, what);
  if (n.kind !== 'object' && n.kind !== 'array')
    throw corrupt(what, 'a chunk row stands where a container row belongs');
  return n;
}

function readArrayChunk(r: Reads, k: string, m: ArrayMarker, p: number, what: string): JsonEntry[] {
  const bytes = r.get(arrayChunkKey(k, m.ids[p]!));
  if (bytes === undefined) throw corrupt(what, 'a chunk row of a split array is missing');
  const n = decodeNode(bytes, what);
  if (n.kind !== 'array-chunk' || n.entries.length !== m.counts[p])
    throw corrupt(what, 'a chunk row of a split array does not match its directory');
  return n.entries;
}

function decodeObjectChunk(bytes: Uint8Array, what: string): JsonMember[] {
  const n = decodeNode(bytes, what);
  if (n.kind !== 'object-chunk') throw corrupt(what, 'a chunk row of a split object is of the wrong kind');
  return n.members;
}

function first(it: Iterable<[string, { value: Uint8Array | null }]>): [string, Uint8Array] | undefined {
  for (const [k, v] of it) return [k, v.value!];
  return undefined;
}

/** The chunk of the object at `k` that holds (or would hold) member `name`: one reverse seek. */
function findObjectChunk(
  r: Reads,
  k: string,
  name: string,
  what: string,
): { key: string; members: JsonMember[] } {
  const row = first(r.scan(k + STEP_CHUNK, `${objectChunkKey(k, name)}\x00`, true));
  if (row === undefined) throw corrupt(what, 'the first chunk row of a split object is missing');
  return { key: row[0], members: decodeObjectChunk(row[1], what) };
}

/** Where `name` is (or would go) in `members`, sorted by name. */
function searchMember(members: readonly JsonMember[], name: string): number {
  let lo = 0;
  let hi = members.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (members[mid]!.name < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The directory position and offset of element `idx` (0 ≤ idx < length) of an array. */
function locate(m: ArrayMarker, idx: number): { p: number; off: number } {
  let start = 0;
  for (let p = 0; p < m.counts.length; p++) {
    const c = m.counts[p]!;
    if (idx < start + c) return { p, off: idx - start };
    start += c;
  }
  throw new Error('unreachable: index past a checked array length');
}

/** The whole document, or undefined when it does not exist. */
export function readDoc(r: Reads, base: string, doc: string, what: string): Value | undefined {
  const head = readHead(r, base, doc, what);
  if (head === undefined) return undefined;
  return docOfHead(r, base, doc, head, what);
}

/** The document a head row stands for (reading its node rows when it is split). */
export function docOfHead(r: Reads, base: string, doc: string, head: JsonHead, what: string): Value {
  return head.kind === 'inline' ? head.value : assemble(r, rootKey(base, doc), what);
}

/** The value at `steps` inside `v`, or undefined when there is none. */
export function getIn(v: Value | undefined, steps: readonly JsonStep[], from = 0): Value | undefined {
  let cur = v;
  for (let i = from; i < steps.length && cur !== undefined; i++) {
    const s = steps[i]!;
    if (s.kind === 'name') cur = isObject(cur) && hasMember(cur, s.name) ? cur[s.name] : undefined;
    else if (Array.isArray(cur)) {
      const idx = s.index < 0 ? cur.length + s.index : s.index;
      cur = idx >= 0 && idx < cur.length ? cur[idx] : undefined;
    } else cur = undefined;
  }
  return cur;
}

/** The child `step` names in the container at `k`: its entry and the key it has when split; undefined when missing. */
function childOf(
  r: Reads,
  k: string,
  m: ObjectMarker | ArrayMarker,
  step: JsonStep,
  what: string,
): { entry: JsonEntry; key: string } | undefined {
  if (m.kind === 'object') {
    if (step.kind !== 'name') return undefined;
    const name = utf8ToBinary(step.name);
    const members = findObjectChunk(r, k, name, what).members;
    const pos = searchMember(members, name);
    if (pos >= members.length || members[pos]!.name !== name) return undefined;
    return { entry: members[pos]!.entry, key: objectChildKey(k, name) };
  }
  if (step.kind !== 'index') return undefined;
  const idx = step.index < 0 ? m.length + step.index : step.index;
  if (idx < 0 || idx >= m.length) return undefined;
  const { p, off } = locate(m, idx);
  const entry = readArrayChunk(r, k, m, p, what)[off]!;
  return { entry, key: entry.kind === 'split' ? arrayChildKey(k, entry.id) : '' };
}

/** The value at `steps` of the document, or undefined when the document or the path is missing. */
export function readAt(
  r: Reads,
  base: string,
  doc: string,
  steps: readonly JsonStep[],
  what: string,
): Value | undefined {
  const head = readHead(r, base, doc, what);
  if (head === undefined) return undefined;
  if (head.kind === 'inline') return getIn(head.value, steps);
  let key = rootKey(base, doc);
  for (let i = 0; i < steps.length; i++) {
    const c = childOf(r, key, mustReadMarker(r, key, what), steps[i]!, what);
    if (c === undefined) return undefined;
    if (c.entry.kind === 'inline') return getIn(entryValue(c.entry, what), steps, i + 1);
    key = c.key;
  }
  return assemble(r, key, what);
}

/** The rows of the subtree at `key`, in key order (one range scan). */
function collect(r: Reads, key: string): { keys: string[]; values: Uint8Array[] } {
  const keys: string[] = [];
  const values: Uint8Array[] = [];
  for (const [k, v] of r.scan(key, key + SUBTREE_END)) {
    keys.push(k);
    values.push(v.value!);
  }
  return { keys, values };
}

/**
 * The container whose marker row is at `key`, rebuilt from its rows (one range scan). A missing,
 * extra or mismatched row is `corruption`.
 */
export function assemble(r: Reads, key: string, what: string): Value {
  return build(collect(r, key), key, what);
}

function build(rows: { keys: string[]; values: Uint8Array[] }, root: string, what: string): Value {
  const { keys, values } = rows;
  const index = new Map<string, number>();
  for (let i = 0; i < keys.length; i++) index.set(keys[i]!, i);
  const used = new Uint8Array(keys.length);
  let usedCount = 0;
  const take = (k: string): [JsonNode, number] => {
    const i = index.get(k);
    if (i === undefined) throw corrupt(what, 'a row of a split document is missing');
    if (used[i] === 1) throw corrupt(what, 'a row of a split document is used twice');
    used[i] = 1;
    usedCount++;
    return [decodeNode(values[i]!, what), i];
  };
  const node = (k: string, depth: number): Value => {
    if (depth > VALUE_DEPTH_MAX) throw corrupt(what, 'the document nests too deep');
    const [m, at] = take(k);
    if (m.kind === 'array') {
      const out: Value[] = [];
      for (let p = 0; p < m.ids.length; p++) {
        const [c] = take(arrayChunkKey(k, m.ids[p]!));
        if (c.kind !== 'array-chunk' || c.entries.length !== m.counts[p])
          throw corrupt(what, 'a chunk row of a split array does not match its directory');
        for (const e of c.entries)
          out.push(e.kind === 'inline' ? entryValue(e, what) : node(arrayChildKey(k, e.id), depth + 1));
      }
      return out;
    }
    if (m.kind !== 'object') throw corrupt(what, 'a chunk row stands where a container row belongs');
    const chunks = k + STEP_CHUNK;
    let i = at + 1;
    while (i < keys.length && keys[i]! < chunks) i++;
    const bounds: [string, string][] = [];
    for (; i < keys.length && keys[i]!.startsWith(chunks); i++) {
      const seg = readSegment(keys[i]!, chunks.length);
      if (seg === undefined || seg[1] !== keys[i]!.length)
        throw corrupt(what, 'a chunk row key of a split object is damaged');
      bounds.push([keys[i]!, seg[0]]);
    }
    if (bounds.length === 0 || bounds[0]![0] !== chunks + FIRST_BOUND)
      throw corrupt(what, 'the first chunk row of a split object is missing');
    const members: [number, string, Value][] = [];
    for (let c = 0; c < bounds.length; c++) {
      const [ck, lower] = bounds[c]!;
      const [chunk] = take(ck);
      if (chunk.kind !== 'object-chunk')
        throw corrupt(what, 'a chunk row of a split object is of the wrong kind');
      if (chunk.members.length === 0 && c > 0) throw corrupt(what, 'a chunk row of a split object is empty');
      const upper = bounds[c + 1]?.[1];
      for (const mb of chunk.members) {
        if (mb.name < lower || (upper !== undefined && mb.name >= upper))
          throw corrupt(what, 'a member is in the wrong chunk row');
        let name: string;
        try {
          name = binaryToUtf8(mb.name);
        } catch (error) {
          throw new StrataError('corruption', `the stored rows of ${what} are damaged: a member name`, {
            cause: error,
          });
        }
        const v =
          mb.entry.kind === 'inline'
            ? entryValue(mb.entry, what)
            : node(objectChildKey(k, mb.name), depth + 1);
        members.push([mb.ordinal, name, v]);
      }
    }
    if (members.length !== m.count) throw corrupt(what, 'the member count of a split object is wrong');
    members.sort((a, b) => a[0] - b[0]);
    const out: JsonObject = {};
    for (let j = 0; j < members.length; j++) {
      const [o, name, v] = members[j]!;
      if (o >= m.next || (j > 0 && members[j - 1]![0] === o))
        throw corrupt(what, 'member ordinals are damaged');
      setMember(out, name, v);
    }
    return out;
  };
  const value = node(root, 0);
  if (usedCount !== keys.length) throw corrupt(what, 'a split document has rows outside its tree');
  return value;
}
// --- writing -------------------------------------------------------------------------------------

/** Where a write goes: the state, the JSON keyspace base, the document's key (bytes) and its name for messages. */
export interface DocTarget {
  w: Writes;
  base: string;
  doc: string;
  what: string;
}

function notFound(what: string, steps: readonly JsonStep[], i: number): StrataError {
  const at = formatPath(steps.slice(0, i));
  return new StrataError(
    'not_found',
    `${what} has nothing at ${at}; set ${at} first (set does not create missing parents)`,
    { committed: 'no' },
  );
}

function typeMismatch(what: string, steps: readonly JsonStep[], i: number, kind: string): StrataError {
  const at = formatPath(steps.slice(0, i));
  const s = steps[i]!;
  return invalidArgument(
    `${what}: ${at} is ${kind}, so it has no ${s.kind === 'name' ? `member '${s.name}'` : `element [${s.index}]`}`,
  );
}

function kindOf(v: Value | undefined): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** The deepest a container sits below `v` itself (0: v is a childless container), -1 for a scalar. */
export function containerHeight(v: Value): number {
  if (typeof v !== 'object' || v === null) return -1;
  if (v instanceof Uint8Array) return 0;
  let h = 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  for (const c of children) {
    const ch = containerHeight(c);
    if (ch + 1 > h) h = ch + 1;
  }
  return h;
}

/** Throws `invalid_argument` when `value` at `steps` would nest deeper than VALUE_DEPTH_MAX. */
export function checkDepth(steps: readonly JsonStep[], value: Value, what: string): void {
  if (steps.length + containerHeight(value) >= VALUE_DEPTH_MAX)
    throw invalidArgument(
      `${what}: the value at ${formatPath(steps)} would nest deeper than ${VALUE_DEPTH_MAX} levels in the document`,
    );
}

/** The encoded size of a member name in an object: its length varint and its UTF-8 bytes. */
function nameSize(name: string): number {
  return varintSize(name.length) + name.length;
}

/** Whether the container `value` (encoded in `sizeBytes`) at `key` is stored as its own split container. */
function splittable(base: string, key: string, value: Value, sizeBytes: number): boolean {
  if (
    sizeBytes <= JSON_INLINE_BYTES_MAX ||
    typeof value !== 'object' ||
    value === null ||
    value instanceof Uint8Array
  )
    return false;
  const keyBytes = key.length - base.length;
  if (Array.isArray(value)) return value.length > 0 && keyBytes + 5 <= JSON_NODE_KEY_BYTES_MAX;
  const names = Object.keys(value);
  if (names.length === 0) return false;
  for (const n of names) if (!nameFits(base, key, utf8ToBinary(n))) return false;
  return true;
}

/** Whether member `name` of the object at `key` fits in chunk and child keys. */
function nameFits(base: string, key: string, name: string): boolean {
  return objectChunkKey(key, name).length - base.length <= JSON_NODE_KEY_BYTES_MAX;
}

/**
 * Splits `items` into runs of consecutive items of about equal size, each at most
 * JSON_CHUNK_BYTES_MAX (an item larger than that is a run of its own). One run when they fit.
 */
function pack<T>(items: T[], size: (item: T) => number): T[][] {
  const sizes = items.map(size);
  let total = 0;
  for (const s of sizes) total += s;
  if (total <= JSON_CHUNK_BYTES_MAX || items.length <= 1) return [items];
  const target = total / Math.ceil(total / JSON_CHUNK_BYTES_MAX);
  const out: T[][] = [];
  let cur: T[] = [];
  let curSize = 0;
  for (let i = 0; i < items.length; i++) {
    const s = sizes[i]!;
    const after = curSize + s;
    if (
      cur.length > 0 &&
      (after > JSON_CHUNK_BYTES_MAX || (after > target && after - target > target - curSize))
    ) {
      out.push(cur);
      cur = [];
      curSize = 0;
    }
    cur.push(items[i]!);
    curSize += s;
  }
  out.push(cur);
  return out;
}

function chunkSize(entries: readonly JsonEntry[]): number {
  let s = 0;
  for (const e of entries) s += entryBytes(e, true);
  return s;
}

function membersSize(members: readonly JsonMember[]): number {
  let s = 0;
  for (const m of members) s += memberBytes(m);
  return s;
}

/** Plans the rows of the container `value` at `key` (marker and chunks, split children below). */
function planContainer(out: [string, Uint8Array][], base: string, key: string, value: Value): void {
  if (Array.isArray(value)) {
    const m: ArrayMarker = { kind: 'array', length: value.length, next: 0, ids: [], counts: [] };
    const entries: JsonEntry[] = value.map((v) => {
      const bytes = encodeValue(v);
      if (!splittable(base, arrayChildKey(key, 0), v, bytes.length)) return { kind: 'inline', bytes };
      const id = m.next++;
      planContainer(out, base, arrayChildKey(key, id), v);
      return { kind: 'split', id };
    });
    for (const piece of pack(entries, (e) => entryBytes(e, true))) {
      const id = m.next++;
      out.push([arrayChunkKey(key, id), encodeNode({ kind: 'array-chunk', entries: piece })]);
      m.ids.push(id);
      m.counts.push(piece.length);
    }
    out.push([key, encodeNode(m)]);
    return;
  }
  const o = value as JsonObject;
  const names = Object.keys(o);
  const members: JsonMember[] = names.map((n, ordinal) => {
    const name = utf8ToBinary(n);
    const v = o[n]!;
    return { name, ordinal, entry: planEntry(out, base, objectChildKey(key, name), v, encodeValue(v)) };
  });
  members.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const [i, piece] of pack(members, memberBytes).entries())
    out.push([
      objectChunkKey(key, i === 0 ? '' : piece[0]!.name),
      encodeNode({ kind: 'object-chunk', members: piece }),
    ]);
  out.push([key, encodeNode({ kind: 'object', count: names.length, next: names.length })]);
}

/** The entry of `value` (encoded as `bytes`) whose own container, when it is split, is at `key`. */
function planEntry(
  out: [string, Uint8Array][],
  base: string,
  key: string,
  value: Value,
  bytes: Uint8Array,
): JsonEntry {
  if (!splittable(base, key, value, bytes.length)) return { kind: 'inline', bytes };
  planContainer(out, base, key, value);
  return { kind: 'split', id: 0 };
}

function putRows(t: DocTarget, rows: [string, Uint8Array][]): void {
  for (const [k, v] of rows) t.w.put(k, v);
}

/** Writes the entry of a child value of an object (its rows, when split, at `key`). */
function writeObjectEntry(t: DocTarget, key: string, value: Value, bytes: Uint8Array): JsonEntry {
  const rows: [string, Uint8Array][] = [];
  const e = planEntry(rows, t.base, key, value, bytes);
  putRows(t, rows);
  return e;
}

/** Writes the entry of a child value of the array at `key` (marker `m`), reusing child id `reuse` when given. */
function writeArrayEntry(
  t: DocTarget,
  key: string,
  m: ArrayMarker,
  value: Value,
  bytes: Uint8Array,
  reuse?: number,
): JsonEntry {
  if (!splittable(t.base, arrayChildKey(key, 0), value, bytes.length)) return { kind: 'inline', bytes };
  const id = reuse ?? m.next++;
  const rows: [string, Uint8Array][] = [];
  planContainer(rows, t.base, arrayChildKey(key, id), value);
  putRows(t, rows);
  return { kind: 'split', id };
}

/** Deletes the container at `key` and everything below it; returns its encoded size. */
function removeSubtree(t: DocTarget, key: string): number {
  const rows = collect(t.w, key);
  const size = encodeValue(build(rows, key, t.what)).length;
  for (const k of rows.keys) t.w.delete(k);
  return size;
}

/** Removes what an entry holds (its rows at `key` when split); returns the child's encoded size. */
function removeEntry(t: DocTarget, key: string, e: JsonEntry): number {
  return e.kind === 'inline' ? e.bytes.length : removeSubtree(t, key);
}

/**
 * Stores chunk `p` of the array at `key` with `entries`: an empty chunk is dropped, one past
 * JSON_CHUNK_BYTES_MAX is split, a small one is merged into a neighbour it fits with. Updates
 * the directory of `m`; returns whether it changed.
 */
function saveArrayChunk(t: DocTarget, key: string, m: ArrayMarker, p: number, entries: JsonEntry[]): boolean {
  if (entries.length === 0) {
    t.w.delete(arrayChunkKey(key, m.ids[p]!));
    m.ids.splice(p, 1);
    m.counts.splice(p, 1);
    return true;
  }
  const size = chunkSize(entries);
  if (size < CHUNK_MIN) {
    for (const q of [p - 1, p + 1]) {
      if (q < 0 || q >= m.ids.length) continue;
      const other = readArrayChunk(t.w, key, m, q, t.what);
      if (size + chunkSize(other) > JSON_CHUNK_BYTES_MAX) continue;
      const [lo, hi] = q < p ? [q, p] : [p, q];
      const merged = q < p ? [...other, ...entries] : [...entries, ...other];
      t.w.delete(arrayChunkKey(key, m.ids[hi]!));
      t.w.put(arrayChunkKey(key, m.ids[lo]!), encodeNode({ kind: 'array-chunk', entries: merged }));
      m.counts[lo] = merged.length;
      m.ids.splice(hi, 1);
      m.counts.splice(hi, 1);
      return true;
    }
  }
  const pieces = size > JSON_CHUNK_BYTES_MAX ? pack(entries, (e) => entryBytes(e, true)) : [entries];
  const ids = pieces.map((_, i) => (i === 0 ? m.ids[p]! : m.next++));
  for (let i = 0; i < pieces.length; i++)
    t.w.put(arrayChunkKey(key, ids[i]!), encodeNode({ kind: 'array-chunk', entries: pieces[i]! }));
  const changed = pieces.length > 1 || m.counts[p] !== entries.length;
  m.ids.splice(p, 1, ...ids);
  m.counts.splice(p, 1, ...pieces.map((x) => x.length));
  return changed;
}

/**
 * Stores the chunk at `chunkKey` of the object at `key` with `members` (sorted by name): split
 * past JSON_CHUNK_BYTES_MAX, merged into a neighbour it fits with when small, dropped when empty
 * (the first chunk, keyed by the empty name, always stays).
 */
function saveObjectChunk(t: DocTarget, key: string, chunkKey: string, members: JsonMember[]): void {
  const isFirst = chunkKey === key + STEP_CHUNK + FIRST_BOUND;
  if (members.length === 0 && !isFirst) {
    t.w.delete(chunkKey);
    return;
  }
  const size = membersSize(members);
  if (size < CHUNK_MIN) {
    const left = isFirst ? undefined : first(t.w.scan(key + STEP_CHUNK, chunkKey, true));
    if (left !== undefined) {
      const other = decodeObjectChunk(left[1], t.what);
      if (size + membersSize(other) <= JSON_CHUNK_BYTES_MAX) {
        t.w.delete(chunkKey);
        t.w.put(left[0], encodeNode({ kind: 'object-chunk', members: [...other, ...members] }));
        return;
      }
    }
    const right = first(t.w.scan(`${chunkKey}\x00`, key + STEP_CHILD));
    if (right !== undefined) {
      const other = decodeObjectChunk(right[1], t.what);
      if (size + membersSize(other) <= JSON_CHUNK_BYTES_MAX) {
        t.w.delete(right[0]);
        t.w.put(chunkKey, encodeNode({ kind: 'object-chunk', members: [...members, ...other] }));
        return;
      }
    }
  }
  const pieces = size > JSON_CHUNK_BYTES_MAX ? pack(members, memberBytes) : [members];
  for (let i = 0; i < pieces.length; i++)
    t.w.put(
      i === 0 ? chunkKey : objectChunkKey(key, pieces[i]![0]!.name),
      encodeNode({ kind: 'object-chunk', members: pieces[i]! }),
    );
}

/** Replaces the whole document with `value` (encoded as `bytes`). */
export function writeDoc(t: DocTarget, value: Value, bytes: Uint8Array): void {
  if (bytes.length > JSON_DOCUMENT_BYTES_MAX)
    throw invalidArgument(
      `${t.what} would be ${bytes.length} bytes encoded, more than the limit of ${JSON_DOCUMENT_BYTES_MAX}`,
    );
  const old = readHead(t.w, t.base, t.doc, t.what);
  const root = rootKey(t.base, t.doc);
  if (old?.kind === 'split') for (const k of collect(t.w, root).keys) t.w.delete(k);
  if (!splittable(t.base, root, value, bytes.length)) {
    t.w.put(headKey(t.base, t.doc), encodeHead({ kind: 'inline', value, sizeBytes: bytes.length }, bytes));
    return;
  }
  const rows: [string, Uint8Array][] = [];
  planContainer(rows, t.base, root, value);
  putRows(t, rows);
  t.w.put(headKey(t.base, t.doc), encodeHead({ kind: 'split', sizeBytes: bytes.length }));
}

/** Deletes the whole document; returns whether it existed. */
export function deleteDoc(t: DocTarget): boolean {
  const old = readHead(t.w, t.base, t.doc, t.what);
  if (old === undefined) return false;
  if (old.kind === 'split') for (const k of collect(t.w, rootKey(t.base, t.doc)).keys) t.w.delete(k);
  t.w.delete(headKey(t.base, t.doc));
  return true;
}
/** A marker for "the path is missing, nothing to do" (a delete of a missing path). */
const NO_CHANGE = Symbol('no change');

/** `v` with `value` set at steps[from..]; throws not_found / invalid_argument as set documents. */
function setIn(v: Value, steps: readonly JsonStep[], from: number, value: Value, what: string): Value {
  const s = steps[from]!;
  const last = from === steps.length - 1;
  if (s.kind === 'name') {
    if (!isObject(v)) throw typeMismatch(what, steps, from, kindOf(v));
    const has = hasMember(v, s.name);
    if (!last && !has) throw notFound(what, steps, from + 1);
    const out: JsonObject = { ...v };
    setMember(out, s.name, last ? value : setIn(v[s.name]!, steps, from + 1, value, what));
    return out;
  }
  if (!Array.isArray(v)) throw typeMismatch(what, steps, from, kindOf(v));
  const idx = s.index < 0 ? v.length + s.index : s.index;
  if (last) {
    if (idx < 0 || idx > v.length) throw badIndex(what, steps, from, v.length);
    if (idx > JSON_INDEX_MAX)
      throw invalidArgument(`${what}: an array holds at most ${JSON_INDEX_MAX + 1} elements`);
    const out = v.slice();
    out[idx] = value;
    return out;
  }
  if (idx < 0 || idx >= v.length) throw notFound(what, steps, from + 1);
  const out = v.slice();
  out[idx] = setIn(v[idx]!, steps, from + 1, value, what);
  return out;
}

function badIndex(what: string, steps: readonly JsonStep[], i: number, length: number): StrataError {
  return invalidArgument(
    `${what}: ${formatPath(steps.slice(0, i + 1))} is out of range for an array of ${length} (set [${length}] to append)`,
  );
}

/** `v` without the value at steps[from..], or NO_CHANGE when there is none. */
function deleteIn(v: Value, steps: readonly JsonStep[], from: number): Value | typeof NO_CHANGE {
  const s = steps[from]!;
  const last = from === steps.length - 1;
  if (s.kind === 'name') {
    if (!isObject(v) || !hasMember(v, s.name)) return NO_CHANGE;
    const out: JsonObject = { ...v };
    if (last) delete out[s.name];
    else {
      const c = deleteIn(v[s.name]!, steps, from + 1);
      if (c === NO_CHANGE) return NO_CHANGE;
      setMember(out, s.name, c);
    }
    return out;
  }
  if (!Array.isArray(v)) return NO_CHANGE;
  const idx = s.index < 0 ? v.length + s.index : s.index;
  if (idx < 0 || idx >= v.length) return NO_CHANGE;
  const out = v.slice();
  if (last) out.splice(idx, 1);
  else {
    const c = deleteIn(v[idx]!, steps, from + 1);
    if (c === NO_CHANGE) return NO_CHANGE;
    out[idx] = c;
  }
  return out;
}

type Op = { kind: 'set'; value: Value; bytes: Uint8Array } | { kind: 'delete' };

/**
 * Sets `value` (encoded as `bytes`) at `steps` of the document. `$` creates or replaces the
 * document; below it, the document and the parent must exist (`not_found`), the parent must be an
 * object for `.name` or an array for `[n]` (`invalid_argument`), and `[n]` may replace an
 * element or append (n = length). Throws `invalid_argument` past the document limits.
 */
export function setAt(t: DocTarget, steps: readonly JsonStep[], value: Value, bytes: Uint8Array): void {
  checkDepth(steps, value, t.what);
  if (steps.length === 0) {
    writeDoc(t, value, bytes);
    return;
  }
  apply(t, steps, { kind: 'set', value, bytes });
}

/** Deletes what is at `steps` (the document for `$`); returns false, writing nothing, when it is missing. */
export function deleteAt(t: DocTarget, steps: readonly JsonStep[]): boolean {
  if (steps.length === 0) return deleteDoc(t);
  return apply(t, steps, { kind: 'delete' });
}

/**
 * Applies an RFC 7386 merge patch to what is at `steps` (missing is as `{}`); a split object
 * is patched member by member, so the cost follows the patch, not the document.
 */
export function patchAt(t: DocTarget, steps: readonly JsonStep[], patch: Value): void {
  if (!isObject(patch)) {
    setAt(t, steps, patch, encodeValue(patch));
    return;
  }
  const head = readHead(t.w, t.base, t.doc, t.what);
  if (head?.kind === 'split') {
    const node = nodeAt(t, steps);
    if (node?.kind === 'object') {
      for (const k of Object.keys(patch)) {
        const p = patch[k]!;
        const s: JsonStep[] = [...steps, { kind: 'name', name: k }];
        if (p === null) deleteAt(t, s);
        else if (isObject(p)) patchAt(t, s, p);
        else setAt(t, s, p, encodeValue(p));
      }
      // Every write rewrites the head, a patch that changed nothing too: the document's version moves.
      touchHead(t);
      return;
    }
  }
  if (head === undefined && steps.length > 0) throw notFound(t.what, steps, 0);
  const cur = head === undefined ? undefined : readAt(t.w, t.base, t.doc, steps, t.what);
  const next = mergePatch(cur, patch);
  setAt(t, steps, next, encodeValue(next));
}

/** The container marker of a split document exactly at `steps`, or undefined when the path ends inside a chunk entry or is missing. */
function nodeAt(t: DocTarget, steps: readonly JsonStep[]): ObjectMarker | ArrayMarker | undefined {
  let key = rootKey(t.base, t.doc);
  let node = mustReadMarker(t.w, key, t.what);
  for (const s of steps) {
    const c = childOf(t.w, key, node, s, t.what);
    if (c === undefined || c.entry.kind === 'inline') return undefined;
    key = c.key;
    node = mustReadMarker(t.w, key, t.what);
  }
  return node;
}

function touchHead(t: DocTarget): void {
  const k = headKey(t.base, t.doc);
  const bytes = t.w.get(k);
  if (bytes !== undefined) t.w.put(k, bytes);
}

function tooLarge(t: DocTarget, sizeBytes: number): StrataError {
  return invalidArgument(
    `${t.what} would be ${sizeBytes} bytes encoded, more than the limit of ${JSON_DOCUMENT_BYTES_MAX}`,
  );
}

/**
 * What a change below a container did: the change in the document's encoded size, or (when a
 * split container must be stored inline in its parent after all) its new value; its rows are
 * already deleted then.
 */
type Change = number | { inline: Value; delta: number };

/** Applies one set or delete at a non-empty path; returns false when a delete found nothing. */
function apply(t: DocTarget, steps: readonly JsonStep[], op: Op): boolean {
  const head = readHead(t.w, t.base, t.doc, t.what);
  if (head === undefined) {
    if (op.kind === 'delete') return false;
    throw notFound(t.what, steps, 0);
  }
  if (head.kind === 'inline') {
    const next =
      op.kind === 'set' ? setIn(head.value, steps, 0, op.value, t.what) : deleteIn(head.value, steps, 0);
    if (next === NO_CHANGE) return false;
    writeDoc(t, next, encodeValue(next));
    return true;
  }
  const root = rootKey(t.base, t.doc);
  if (
    op.kind === 'set' &&
    head.sizeBytes + op.bytes.length + 2 * 10 + 3 * steps.length > JSON_DOCUMENT_BYTES_MAX
  ) {
    // Near the size limit: check the exact size first, so that a refused write has written nothing.
    const next = encodeValue(setIn(assemble(t.w, root, t.what), steps, 0, op.value, t.what)).length;
    if (next > JSON_DOCUMENT_BYTES_MAX) throw tooLarge(t, next);
  }
  const change = applyIn(t, root, steps, 0, op);
  if (change === undefined) return false;
  if (typeof change === 'object') {
    writeDoc(t, change.inline, encodeValue(change.inline));
    return true;
  }
  const sizeBytes = head.sizeBytes + change;
  if (sizeBytes > JSON_DOCUMENT_BYTES_MAX) throw tooLarge(t, sizeBytes);
  if (sizeBytes <= JSON_INLINE_BYTES_MAX) {
    // Small again: one row is cheaper.
    const doc = assemble(t.w, root, t.what);
    writeDoc(t, doc, encodeValue(doc));
    return true;
  }
  t.w.put(headKey(t.base, t.doc), encodeHead({ kind: 'split', sizeBytes }));
  return true;
}

/** Applies `op` at steps[i..] below the split container at `key`; undefined when a delete found nothing. */
function applyIn(
  t: DocTarget,
  key: string,
  steps: readonly JsonStep[],
  i: number,
  op: Op,
): Change | undefined {
  const m = mustReadMarker(t.w, key, t.what);
  const s = steps[i]!;
  if ((m.kind === 'object') !== (s.kind === 'name')) {
    if (op.kind === 'delete') return undefined;
    throw typeMismatch(t.what, steps, i, m.kind === 'object' ? 'an object' : 'an array');
  }
  return m.kind === 'object' ? applyObject(t, key, m, steps, i, op) : applyArray(t, key, m, steps, i, op);
}

/** The new value of an inline child after `op` at steps[i+1..], or NO_CHANGE. */
function changeInline(
  t: DocTarget,
  v: Value,
  steps: readonly JsonStep[],
  i: number,
  op: Op,
): Value | typeof NO_CHANGE {
  return op.kind === 'set' ? setIn(v, steps, i + 1, op.value, t.what) : deleteIn(v, steps, i + 1);
}

function applyObject(
  t: DocTarget,
  key: string,
  m: ObjectMarker,
  steps: readonly JsonStep[],
  i: number,
  op: Op,
): Change | undefined {
  const jsName = (steps[i] as { name: string }).name;
  const name = utf8ToBinary(jsName);
  const last = i === steps.length - 1;
  const chunk = findObjectChunk(t.w, key, name, t.what);
  const members = chunk.members.slice();
  const pos = searchMember(members, name);
  const found = pos < members.length && members[pos]!.name === name;
  const mb = found ? members[pos]! : undefined;
  const childKey = objectChildKey(key, name);
  if (!last) {
    if (mb === undefined) {
      if (op.kind === 'delete') return undefined;
      throw notFound(t.what, steps, i + 1);
    }
    if (mb.entry.kind === 'split') {
      const c = applyIn(t, childKey, steps, i + 1, op);
      if (c === undefined || typeof c === 'number') return c;
      members[pos] = { ...mb, entry: { kind: 'inline', bytes: encodeValue(c.inline) } };
      saveObjectChunk(t, key, chunk.key, members);
      return c.delta;
    }
    const next = changeInline(t, entryValue(mb.entry, t.what), steps, i, op);
    if (next === NO_CHANGE) return undefined;
    const bytes = encodeValue(next);
    members[pos] = { ...mb, entry: writeObjectEntry(t, childKey, next, bytes) };
    saveObjectChunk(t, key, chunk.key, members);
    return bytes.length - mb.entry.bytes.length;
  }
  if (op.kind === 'delete') {
    if (mb === undefined) return undefined;
    const old = removeEntry(t, childKey, mb.entry);
    members.splice(pos, 1);
    saveObjectChunk(t, key, chunk.key, members);
    t.w.put(key, encodeNode({ ...m, count: m.count - 1 }));
    return -old - nameSize(name) + varintSize(m.count - 1) - varintSize(m.count);
  }
  if (mb !== undefined) {
    const old = removeEntry(t, childKey, mb.entry);
    members[pos] = { ...mb, entry: writeObjectEntry(t, childKey, op.value, op.bytes) };
    saveObjectChunk(t, key, chunk.key, members);
    return op.bytes.length - old;
  }
  if (!nameFits(t.base, key, name)) {
    // A member name too long for a row key: this object is stored inline in its parent.
    const next = setIn(assemble(t.w, key, t.what), steps, i, op.value, t.what);
    const old = removeSubtree(t, key);
    return { inline: next, delta: encodeValue(next).length - old };
  }
  members.splice(pos, 0, { name, ordinal: m.next, entry: writeObjectEntry(t, childKey, op.value, op.bytes) });
  saveObjectChunk(t, key, chunk.key, members);
  t.w.put(key, encodeNode({ kind: 'object', count: m.count + 1, next: m.next + 1 }));
  return op.bytes.length + nameSize(name) + varintSize(m.count + 1) - varintSize(m.count);
}

function applyArray(
  t: DocTarget,
  key: string,
  marker: ArrayMarker,
  steps: readonly JsonStep[],
  i: number,
  op: Op,
): Change | undefined {
  let m = marker;
  if (m.next > U32_MAX - 64) {
    // Chunk and child ids are u32 (an operation takes a few): renumber this array from 0.
    const value = assemble(t.w, key, t.what);
    for (const k of collect(t.w, key).keys) t.w.delete(k);
    const rows: [string, Uint8Array][] = [];
    planContainer(rows, t.base, key, value);
    putRows(t, rows);
    m = mustReadMarker(t.w, key, t.what) as ArrayMarker;
  }
  const index = (steps[i] as { index: number }).index;
  const idx = index < 0 ? m.length + index : index;
  const last = i === steps.length - 1;
  if (!last || op.kind === 'delete') {
    if (idx < 0 || idx >= m.length) {
      if (op.kind === 'delete') return undefined;
      throw notFound(t.what, steps, i + 1);
    }
  } else {
    if (idx < 0 || idx > m.length) throw badIndex(t.what, steps, i, m.length);
    if (idx > JSON_INDEX_MAX)
      throw invalidArgument(`${t.what}: an array holds at most ${JSON_INDEX_MAX + 1} elements`);
  }
  const m0 = { length: m.length, next: m.next };
  const save = (p: number, entries: JsonEntry[], delta: number): number => {
    const changed = saveArrayChunk(t, key, m, p, entries);
    if (changed || m.length !== m0.length || m.next !== m0.next) t.w.put(key, encodeNode(m));
    return delta;
  };
  if (idx === m.length) {
    // Append (a set, checked above): to the last chunk, or a new one when it is full.
    const set = op as Extract<Op, { kind: 'set' }>;
    const e = writeArrayEntry(t, key, m, set.value, set.bytes);
    const sizeDelta = set.bytes.length + varintSize(m.length + 1) - varintSize(m.length);
    m.length++;
    const p = m.ids.length - 1;
    const tail = p < 0 ? [] : readArrayChunk(t.w, key, m, p, t.what);
    if (p < 0 || chunkSize(tail) + entryBytes(e, true) > JSON_CHUNK_BYTES_MAX) {
      const id = m.next++;
      t.w.put(arrayChunkKey(key, id), encodeNode({ kind: 'array-chunk', entries: [e] }));
      m.ids.push(id);
      m.counts.push(1);
      t.w.put(key, encodeNode(m));
      return sizeDelta;
    }
    return save(p, [...tail, e], sizeDelta);
  }
  const { p, off } = locate(m, idx);
  const entries = readArrayChunk(t.w, key, m, p, t.what).slice();
  const e = entries[off]!;
  const childKey = e.kind === 'split' ? arrayChildKey(key, e.id) : '';
  if (!last) {
    if (e.kind === 'split') {
      const c = applyIn(t, childKey, steps, i + 1, op);
      if (c === undefined || typeof c === 'number') return c;
      entries[off] = { kind: 'inline', bytes: encodeValue(c.inline) };
      return save(p, entries, c.delta);
    }
    const next = changeInline(t, entryValue(e, t.what), steps, i, op);
    if (next === NO_CHANGE) return undefined;
    const bytes = encodeValue(next);
    entries[off] = writeArrayEntry(t, key, m, next, bytes);
    return save(p, entries, bytes.length - e.bytes.length);
  }
  const old = removeEntry(t, childKey, e);
  if (op.kind === 'delete') {
    entries.splice(off, 1);
    m.length--;
    m.counts[p]!--;
    return save(p, entries, -old + varintSize(m.length) - varintSize(m.length + 1));
  }
  entries[off] = writeArrayEntry(t, key, m, op.value, op.bytes, e.kind === 'split' ? e.id : undefined);
  return save(p, entries, op.bytes.length - old);
}
