/**
 * How a JSON document is stored (docs/formats/json.md): its row keys and row values, and the
 * reads and writes by path over them. Everything here works on the `Reads` / `Writes` of one
 * consistent state (a View, a Batch, or a merge's overlay), so json.ts only validates input and
 * chooses the state.
 *
 * Under `base` = keyspace | 0x02 (JSON_TAG):
 *
 *   'h' | doc key (UTF-8)                       head row, one per document
 *   'n' | segment(doc key) | step*              node rows of a split document
 *   step = 0x01 | segment(member name UTF-8)    object member
 *        | 0x02 | index u32 BE                  array element
 *
 * A head row holds the whole document (at most JSON_INLINE_BYTES_MAX encoded, or a document that
 * cannot be split) or says "split" with the document's encoded size and row count. A node row is
 * an inline subtree or a container marker (object: member count and next ordinal; array: length);
 * a marker's children are the rows one step below it, so a subtree is one key range. Object
 * members keep their insertion order through an ordinal stored in each member's row. Every
 * write rewrites the head row, so the head row's versions are the document's versions.
 */
import {
  binaryToUtf8,
  invalidArgument,
  JSON_DOCUMENT_BYTES_MAX,
  JSON_DOCUMENT_ROWS_MAX,
  JSON_INLINE_BYTES_MAX,
  JSON_NODE_KEY_BYTES_MAX,
  JSON_SPLIT_CHILD_BYTES_MIN,
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
const STEP_NAME = '\x01';
const STEP_INDEX = '\x02';
/** Bounds a node's subtree: every descendant key is node key + 0x01.. or 0x02.. */
const SUBTREE_END = '\x03';

/** Head row kinds. */
export const HEAD_INLINE = 0x01;
export const HEAD_SPLIT = 0x02;
/** Node row kinds. */
export const NODE_INLINE = 0x01;
export const NODE_OBJECT = 0x02;
export const NODE_ARRAY = 0x03;

/** A decoded head row. */
export type JsonHead =
  | { kind: 'inline'; value: Value; sizeBytes: number }
  | { kind: 'split'; sizeBytes: number; rows: number };

/** A decoded node row. `ordinal` orders object members (0 for other nodes). */
export type JsonNode =
  | { kind: 'inline'; ordinal: number; value: Value; sizeBytes: number }
  | { kind: 'object'; ordinal: number; count: number; next: number }
  | { kind: 'array'; ordinal: number; length: number };

// --- keys ----------------------------------------------------------------------------------------

export function headKey(base: string, doc: string): string {
  return base + HEAD_MARK + doc;
}

export function rootKey(base: string, doc: string): string {
  return base + NODE_MARK + segment(doc);
}

function nameStep(name: string): string {
  return STEP_NAME + segment(utf8ToBinary(name));
}

function indexStep(i: number): string {
  return STEP_INDEX + String.fromCharCode((i >>> 24) & 0xff, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff);
}

function readIndex(key: string, at: number): number {
  return (
    key.charCodeAt(at) * 0x1000000 +
    ((key.charCodeAt(at + 1) << 16) | (key.charCodeAt(at + 2) << 8) | key.charCodeAt(at + 3))
  );
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

/** Encodes a head row. */
export function encodeHead(head: JsonHead, encoded?: Uint8Array): Uint8Array {
  if (head.kind === 'inline') {
    const v = encoded ?? encodeValue(head.value);
    const out = new Uint8Array(1 + v.length);
    out[0] = HEAD_INLINE;
    out.set(v, 1);
    return out;
  }
  const out = new Uint8Array(1 + varintSize(head.sizeBytes) + varintSize(head.rows));
  out[0] = HEAD_SPLIT;
  writeVarint(out, writeVarint(out, 1, head.sizeBytes), head.rows);
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
  if (size.value < 0 || size.value > JSON_DOCUMENT_BYTES_MAX) throw corrupt(what, 'bad document size');
  const rows = readVarint(bytes, size.next);
  if (rows.value < 1 || rows.next !== bytes.length) throw corrupt(what, 'bad row count');
  return { kind: 'split', sizeBytes: size.value, rows: rows.value };
}

/** Encodes a node row. */
export function encodeNode(node: JsonNode, encoded?: Uint8Array): Uint8Array {
  if (node.kind === 'inline') {
    const v = encoded ?? encodeValue(node.value);
    const out = new Uint8Array(1 + varintSize(node.ordinal) + v.length);
    out[0] = NODE_INLINE;
    out.set(v, writeVarint(out, 1, node.ordinal));
    return out;
  }
  const a = node.kind === 'object' ? node.count : node.length;
  const b = node.kind === 'object' ? node.next : -1;
  const out = new Uint8Array(1 + varintSize(node.ordinal) + varintSize(a) + (b < 0 ? 0 : varintSize(b)));
  out[0] = node.kind === 'object' ? NODE_OBJECT : NODE_ARRAY;
  let at = writeVarint(out, 1, node.ordinal);
  at = writeVarint(out, at, a);
  if (b >= 0) writeVarint(out, at, b);
  return out;
}

/** Decodes a node row; throws `corruption` (naming `what`) for anything malformed. */
export function decodeNode(bytes: Uint8Array, what: string): JsonNode {
  if (bytes.length < 2) throw corrupt(what, 'a node row is too short');
  const kind = bytes[0];
  const ordinal = readVarint(bytes, 1);
  if (ordinal.value < 0) throw corrupt(what, 'a node row has a bad ordinal');
  if (kind === NODE_INLINE) {
    const v = bytes.subarray(ordinal.next);
    return { kind: 'inline', ordinal: ordinal.value, value: decodeStoredValue(v, what), sizeBytes: v.length };
  }
  const a = readVarint(bytes, ordinal.next);
  if (a.value < 0) throw corrupt(what, 'a container row has a bad count');
  if (kind === NODE_ARRAY) {
    if (a.next !== bytes.length || a.value > JSON_INDEX_MAX + 1) throw corrupt(what, 'bad array row');
    return { kind: 'array', ordinal: ordinal.value, length: a.value };
  }
  if (kind !== NODE_OBJECT) throw corrupt(what, `unknown node row kind ${kind}`);
  const b = readVarint(bytes, a.next);
  if (b.value < a.value || b.next !== bytes.length) throw corrupt(what, 'bad object row');
  return { kind: 'object', ordinal: ordinal.value, count: a.value, next: b.value };
}

// --- reading -------------------------------------------------------------------------------------

/** The document's head row, or undefined when the document does not exist. */
export function readHead(r: Reads, base: string, doc: string, what: string): JsonHead | undefined {
  const bytes = r.get(headKey(base, doc));
  return bytes === undefined ? undefined : decodeHead(bytes, what);
}

function readNode(r: Reads, key: string, what: string): JsonNode | undefined {
  const bytes = r.get(key);
  return bytes === undefined ? undefined : decodeNode(bytes, what);
}

function mustReadNode(r: Reads, key: string, what: string): JsonNode {
  const n = readNode(r, key, what);
  if (n === undefined) throw corrupt(what, 'a node row of a split document is missing');
  return n;
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
  let node = mustReadNode(r, key, what);
  for (let i = 0; i < steps.length; i++) {
    if (node.kind === 'inline') return getIn(node.value, steps, i);
    const ck = childKey(key, node, steps[i]!);
    if (ck === undefined) return undefined;
    const child = readNode(r, ck, what);
    if (child === undefined) {
      if (node.kind === 'array') throw corrupt(what, 'an element row of a split array is missing');
      return undefined;
    }
    key = ck;
    node = child;
  }
  return node.kind === 'inline' ? node.value : assemble(r, key, what);
}

/** The key of the child that `step` names under container `node` at `key`, or undefined when it cannot exist. */
function childKey(key: string, node: JsonNode, step: JsonStep): string | undefined {
  if (node.kind === 'object') return step.kind === 'name' ? key + nameStep(step.name) : undefined;
  if (node.kind === 'array' && step.kind === 'index') {
    const idx = step.index < 0 ? node.length + step.index : step.index;
    return idx >= 0 && idx < node.length ? key + indexStep(idx) : undefined;
  }
  return undefined;
}

/**
 * The subtree whose node row is at `key`, rebuilt from its rows (one range scan). Missing,
 * extra or out-of-order child rows are `corruption`.
 */
export function assemble(r: Reads, key: string, what: string): Value {
  const it = r.scan(key, key + SUBTREE_END)[Symbol.iterator]();
  let cur = it.next();
  if (cur.done === true || cur.value[0] !== key)
    throw corrupt(what, 'a node row of a split document is missing');
  const build = (k: string, depth: number): [Value, number] => {
    if (depth > VALUE_DEPTH_MAX) throw corrupt(what, 'the document nests too deep');
    const node = decodeNode(cur.value![1].value!, what);
    cur = it.next();
    if (node.kind === 'inline') return [node.value, node.ordinal];
    if (node.kind === 'array') {
      const out: Value[] = [];
      while (cur.done !== true && cur.value[0].startsWith(k)) {
        const ck = cur.value[0];
        if (
          ck.length !== k.length + 5 ||
          ck.charAt(k.length) !== STEP_INDEX ||
          readIndex(ck, k.length + 1) !== out.length
        )
          throw corrupt(what, 'an element row of a split array is missing or misplaced');
        out.push(build(ck, depth + 1)[0]);
      }
      if (out.length !== node.length) throw corrupt(what, 'an element row of a split array is missing');
      return [out, node.ordinal];
    }
    const members: [number, string, Value][] = [];
    while (cur.done !== true && cur.value[0].startsWith(k)) {
      const ck = cur.value[0];
      const seg = ck.charAt(k.length) === STEP_NAME ? readSegment(ck, k.length + 1) : undefined;
      if (seg === undefined || seg[1] !== ck.length)
        throw corrupt(what, 'a member row of a split object is misplaced');
      let name: string;
      try {
        name = binaryToUtf8(seg[0]);
      } catch (error) {
        throw new StrataError('corruption', `the stored rows of ${what} are damaged: a member name`, {
          cause: error,
        });
      }
      const [v, ordinal] = build(ck, depth + 1);
      members.push([ordinal, name, v]);
    }
    if (members.length !== node.count) throw corrupt(what, 'a member row of a split object is missing');
    members.sort((a, b) => a[0] - b[0]);
    const out: JsonObject = {};
    for (let i = 0; i < members.length; i++) {
      const [o, name, v] = members[i]!;
      if (o >= node.next || (i > 0 && members[i - 1]![0] === o))
        throw corrupt(what, 'member ordinals are damaged');
      setMember(out, name, v);
    }
    return [out, node.ordinal];
  };
  const [value] = build(key, 0);
  // (build moved `cur` on; the cast undoes the narrowing from the check at the top.)
  if ((cur as IteratorResult<unknown>).done !== true)
    throw corrupt(what, 'a split document has rows outside its tree');
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

/** What a write did to the document's size and row count. */
interface Delta {
  sizeBytes: number;
  rows: number;
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

function keyStringSize(name: string): number {
  const n = utf8ToBinary(name).length;
  return varintSize(n) + n;
}

/**
 * Plans the rows of `value` (encoded as `bytes`) at node `key`: a container larger than the
 * inline size, whose children average at least JSON_SPLIT_CHILD_BYTES_MIN and whose child keys
 * fit, becomes a marker and child rows; anything else is one inline row. Pushes [key, row] pairs.
 */
function planNode(
  out: [string, Uint8Array][],
  base: string,
  key: string,
  value: Value,
  bytes: Uint8Array,
  ordinal: number,
): void {
  const split = splittable(base, key, value, bytes.length);
  if (split === undefined) {
    out.push([key, encodeNode({ kind: 'inline', ordinal, value, sizeBytes: bytes.length }, bytes)]);
    return;
  }
  if (Array.isArray(value)) {
    out.push([key, encodeNode({ kind: 'array', ordinal, length: value.length })]);
    for (let i = 0; i < value.length; i++)
      planNode(out, base, key + indexStep(i), value[i]!, encodeValue(value[i]), 0);
    return;
  }
  const o = value as JsonObject;
  const names = split;
  out.push([key, encodeNode({ kind: 'object', ordinal, count: names.length, next: names.length })]);
  for (let i = 0; i < names.length; i++) {
    const v = o[names[i]!]!;
    planNode(out, base, key + nameStep(names[i]!), v, encodeValue(v), i);
  }
}

/** The member names (or [] for an array) when `value` at `key` is to be split; undefined otherwise. */
function splittable(base: string, key: string, value: Value, sizeBytes: number): string[] | undefined {
  if (
    sizeBytes <= JSON_INLINE_BYTES_MAX ||
    typeof value !== 'object' ||
    value === null ||
    value instanceof Uint8Array
  )
    return undefined;
  const keyBytes = key.length - base.length;
  if (Array.isArray(value)) {
    if (value.length === 0 || sizeBytes / value.length < JSON_SPLIT_CHILD_BYTES_MIN) return undefined;
    if (value.length > JSON_INDEX_MAX + 1 || keyBytes + 5 > JSON_NODE_KEY_BYTES_MAX) return undefined;
    return [];
  }
  const names = Object.keys(value);
  if (names.length === 0 || sizeBytes / names.length < JSON_SPLIT_CHILD_BYTES_MIN) return undefined;
  for (const n of names) if (keyBytes + nameStep(n).length > JSON_NODE_KEY_BYTES_MAX) return undefined;
  return names;
}

/** Writes `value` as a new node at `key`; returns the rows written. */
function writeNode(t: DocTarget, key: string, value: Value, bytes: Uint8Array, ordinal: number): number {
  const rows: [string, Uint8Array][] = [];
  planNode(rows, t.base, key, value, bytes, ordinal);
  for (const [k, v] of rows) t.w.put(k, v);
  return rows.length;
}

/** Keys of the subtree at `key` (the node and its descendants). */
function subtreeKeys(r: Reads, key: string): string[] {
  const keys: string[] = [];
  for (const [k] of r.scan(key, key + SUBTREE_END)) keys.push(k);
  return keys;
}

/** Deletes the node at `key` and its subtree; returns its encoded size and rows. */
function removeNode(t: DocTarget, key: string, node: JsonNode): Delta {
  if (node.kind === 'inline') {
    t.w.delete(key);
    return { sizeBytes: node.sizeBytes, rows: 1 };
  }
  const sizeBytes = encodeValue(assemble(t.w, key, t.what)).length;
  const keys = subtreeKeys(t.w, key);
  for (const k of keys) t.w.delete(k);
  return { sizeBytes, rows: keys.length };
}

/** Replaces the whole document with `value` (encoded as `bytes`); `inline` forces one row. */
export function writeDoc(t: DocTarget, value: Value, bytes: Uint8Array, inline = false): void {
  if (bytes.length > JSON_DOCUMENT_BYTES_MAX)
    throw invalidArgument(
      `${t.what} would be ${bytes.length} bytes encoded, more than the limit of ${JSON_DOCUMENT_BYTES_MAX}`,
    );
  const old = readHead(t.w, t.base, t.doc, t.what);
  const root = rootKey(t.base, t.doc);
  if (old?.kind === 'split') for (const k of subtreeKeys(t.w, root)) t.w.delete(k);
  const rows: [string, Uint8Array][] = [];
  if (!inline) planNode(rows, t.base, root, value, bytes, 0);
  if (rows.length <= 1 || rows.length > JSON_DOCUMENT_ROWS_MAX) {
    t.w.put(headKey(t.base, t.doc), encodeHead({ kind: 'inline', value, sizeBytes: bytes.length }, bytes));
    return;
  }
  for (const [k, v] of rows) t.w.put(k, v);
  t.w.put(headKey(t.base, t.doc), encodeHead({ kind: 'split', sizeBytes: bytes.length, rows: rows.length }));
}

/** Deletes the whole document; returns whether it existed. */
export function deleteDoc(t: DocTarget): boolean {
  const old = readHead(t.w, t.base, t.doc, t.what);
  if (old === undefined) return false;
  if (old.kind === 'split') for (const k of subtreeKeys(t.w, rootKey(t.base, t.doc))) t.w.delete(k);
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

/** The node row holding exactly `steps` of a split document, or undefined when the path ends inside an inline row or is missing. */
function nodeAt(t: DocTarget, steps: readonly JsonStep[]): JsonNode | undefined {
  let key = rootKey(t.base, t.doc);
  let node = mustReadNode(t.w, key, t.what);
  for (const s of steps) {
    if (node.kind === 'inline') return undefined;
    const ck = childKey(key, node, s);
    const child = ck === undefined ? undefined : readNode(t.w, ck, t.what);
    if (child === undefined) return undefined;
    key = ck!;
    node = child;
  }
  return node;
}

function touchHead(t: DocTarget): void {
  const k = headKey(t.base, t.doc);
  const bytes = t.w.get(k);
  if (bytes !== undefined) t.w.put(k, bytes);
}

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
  const delta = applySplit(t, steps, op);
  if (delta === undefined) return false;
  const sizeBytes = head.sizeBytes + delta.sizeBytes;
  const rows = head.rows + delta.rows;
  if (sizeBytes > JSON_DOCUMENT_BYTES_MAX)
    throw invalidArgument(
      `${t.what} would be ${sizeBytes} bytes encoded, more than the limit of ${JSON_DOCUMENT_BYTES_MAX}`,
    );
  if (sizeBytes <= JSON_INLINE_BYTES_MAX || rows > JSON_DOCUMENT_ROWS_MAX) {
    // Small again (one row is cheaper), or too many rows: store the document in one row.
    const doc = assemble(t.w, rootKey(t.base, t.doc), t.what);
    writeDoc(t, doc, encodeValue(doc), true);
    return true;
  }
  t.w.put(headKey(t.base, t.doc), encodeHead({ kind: 'split', sizeBytes, rows }));
  return true;
}

/** The set or delete on a split document: walks the node rows to the place it changes. */
function applySplit(t: DocTarget, steps: readonly JsonStep[], op: Op): Delta | undefined {
  let key = rootKey(t.base, t.doc);
  let node = mustReadNode(t.w, key, t.what);
  for (let i = 0; i < steps.length; i++) {
    if (node.kind === 'inline') {
      const next =
        op.kind === 'set' ? setIn(node.value, steps, i, op.value, t.what) : deleteIn(node.value, steps, i);
      if (next === NO_CHANGE) return undefined;
      t.w.delete(key);
      const bytes = encodeValue(next);
      const rows = writeNode(t, key, next, bytes, node.ordinal);
      return { sizeBytes: bytes.length - node.sizeBytes, rows: rows - 1 };
    }
    const s = steps[i]!;
    const last = i === steps.length - 1;
    if ((node.kind === 'object') !== (s.kind === 'name')) {
      if (op.kind === 'delete') return undefined;
      throw typeMismatch(t.what, steps, i, node.kind === 'object' ? 'an object' : 'an array');
    }
    if (node.kind === 'object') {
      const name = (s as { name: string }).name;
      const ck = key + nameStep(name);
      const child = readNode(t.w, ck, t.what);
      if (!last) {
        if (child === undefined) {
          if (op.kind === 'delete') return undefined;
          throw notFound(t.what, steps, i + 1);
        }
        key = ck;
        node = child;
        continue;
      }
      if (op.kind === 'delete') {
        if (child === undefined) return undefined;
        const old = removeNode(t, ck, child);
        t.w.put(key, encodeNode({ ...node, count: node.count - 1 }));
        return {
          sizeBytes:
            -old.sizeBytes - keyStringSize(name) + varintSize(node.count - 1) - varintSize(node.count),
          rows: -old.rows,
        };
      }
      if (child !== undefined) {
        const old = removeNode(t, ck, child);
        const rows = writeNode(t, ck, op.value, op.bytes, child.ordinal);
        return { sizeBytes: op.bytes.length - old.sizeBytes, rows: rows - old.rows };
      }
      if (ck.length - t.base.length > JSON_NODE_KEY_BYTES_MAX)
        return rewriteContainer(t, key, node, steps, i, op);
      const rows = writeNode(t, ck, op.value, op.bytes, node.next);
      t.w.put(key, encodeNode({ ...node, count: node.count + 1, next: node.next + 1 }));
      return {
        sizeBytes:
          op.bytes.length + keyStringSize(name) + varintSize(node.count + 1) - varintSize(node.count),
        rows,
      };
    }
    // An array container.
    const a = node as Extract<JsonNode, { kind: 'array' }>;
    const index = (s as { index: number }).index;
    const idx = index < 0 ? a.length + index : index;
    if (!last || op.kind === 'delete') {
      if (idx < 0 || idx >= a.length) {
        if (op.kind === 'delete') return undefined;
        throw notFound(t.what, steps, i + 1);
      }
      const ck = key + indexStep(idx);
      const child = mustReadNode(t.w, ck, t.what);
      if (!last) {
        key = ck;
        node = child;
        continue;
      }
      const old = removeNode(t, ck, child);
      shiftDown(t, key, idx, a.length);
      t.w.put(key, encodeNode({ ...a, length: a.length - 1 }));
      return { sizeBytes: -old.sizeBytes + varintSize(a.length - 1) - varintSize(a.length), rows: -old.rows };
    }
    if (idx < 0 || idx > a.length) throw badIndex(t.what, steps, i, a.length);
    if (idx > JSON_INDEX_MAX)
      throw invalidArgument(`${t.what}: an array holds at most ${JSON_INDEX_MAX + 1} elements`);
    const ck = key + indexStep(idx);
    if (idx < a.length) {
      const old = removeNode(t, ck, mustReadNode(t.w, ck, t.what));
      const rows = writeNode(t, ck, op.value, op.bytes, 0);
      return { sizeBytes: op.bytes.length - old.sizeBytes, rows: rows - old.rows };
    }
    const rows = writeNode(t, ck, op.value, op.bytes, 0);
    t.w.put(key, encodeNode({ ...a, length: a.length + 1 }));
    return { sizeBytes: op.bytes.length + varintSize(a.length + 1) - varintSize(a.length), rows };
  }
  // steps is never empty here (the root is handled by writeDoc).
  throw new Error('unreachable: empty path on a split document');
}

/**
 * A new member whose key would be too long for a node row: the container at `key` is rebuilt
 * from its rows with the member set and written again (planNode keeps it inline then).
 */
function rewriteContainer(
  t: DocTarget,
  key: string,
  node: JsonNode,
  steps: readonly JsonStep[],
  i: number,
  op: Extract<Op, { kind: 'set' }>,
): Delta {
  const cur = assemble(t.w, key, t.what);
  const old = removeNode(t, key, node);
  const next = setIn(cur, steps, i, op.value, t.what);
  const bytes = encodeValue(next);
  const rows = writeNode(t, key, next, bytes, node.ordinal);
  return { sizeBytes: bytes.length - old.sizeBytes, rows: rows - old.rows };
}

/** Moves the elements after `idx` of the split array at `key` (of `length`) one place down. */
function shiftDown(t: DocTarget, key: string, idx: number, length: number): void {
  if (idx + 1 >= length) return;
  const rows: [string, Uint8Array][] = [];
  for (const [k, v] of t.w.scan(key + indexStep(idx + 1), key + SUBTREE_END)) rows.push([k, v.value!]);
  for (const [k] of rows) t.w.delete(k);
  const at = key.length + 1;
  for (const [k, v] of rows) t.w.put(key + indexStep(readIndex(k, at) - 1) + k.slice(at + 4), v);
}
