/**
 * The events primitive: named, append-only, hash-chained streams of typed events
 * (docs/events.md for users, docs/formats/events.md for the bytes).
 *
 * Rows, under keyspace | 0x03:
 *
 * - `h | segment(stream)` → the stream's head: next seq, last timestamp, last hash (56 bytes).
 * - `e | segment(stream) | seq u64 BE` → one event: timestamp, hash, type, encoded data.
 * - `t | segment(stream) | segment(type) | seq u64 BE` → empty: the type index.
 *
 * An append reads the head and writes three rows, whatever the stream's length. Timestamps never
 * decrease along a stream, so a time range is found by binary search over seqs (point reads); a
 * type is read through its index rows. Each event's hash is SHA-256 over (seq, type, timestamp,
 * data, origin, previous hash), so `verify` finds any row changed behind the API's back.
 */
import {
  binaryToBytes,
  binaryToUtf8,
  bytesToBinary,
  EVENT_DATA_BYTES_MAX,
  EVENTS_READ_LIMIT_DEFAULT,
  EVENTS_READ_LIMIT_MAX,
  equalBytes,
  getU64,
  invalidArgument,
  SHA256_DIGEST_BYTES,
  StrataError,
  setU64,
  sha256,
  toHex,
  viewOf,
} from '../base/index.js';
import type { ReadPoint, Storage, StoredVersion, WriteOp } from '../storage/index.js';
import { type Batch, commitBuilt, type Reads, readOnly, View, type Writes } from './context.js';
import {
  checkKey,
  checkNonEmptyKey,
  EVENTS_TAG,
  prefixEnd,
  readSegment,
  readSeq,
  segment,
  seqKey,
} from './keys.js';
import type { PrimitiveMerge, PrimitiveMergeInput, PrimitiveMergeOutput } from './merge.js';
import { decodeValue, encodeValue, type Value } from './value-codec.js';

export { EVENTS_TAG };

// --- public shapes -----------------------------------------------------------------------------

/** One event as read back. */
export interface StreamEvent {
  /** Its position in the stream: 0 for the first event, then 1, 2, ... without gaps. */
  seq: number;
  type: string;
  data: Value;
  /** The version of the commit that wrote it (0 for an event a transaction wrote and has not committed). */
  version: number;
  /** Milliseconds since the epoch; never less than the previous event's in the stream. */
  timestamp: number;
  /** Its SHA-256 chain hash, 64 lowercase hex digits. */
  hash: string;
  /** Present on an event a merge copied from another branch: the hash of the original event. */
  origin?: string;
}

/** What an append outside a transaction resolves to. */
export interface AppendResult {
  seq: number;
  /** The commit's version. */
  version: number;
  /** The event's timestamp (never after the commit's). */
  timestamp: number;
  hash: string;
}

/** What an append inside a transaction returns (its version is the transaction's commit). */
export interface TxAppendResult {
  seq: number;
  timestamp: number;
  hash: string;
}

/**
 * What to read. Every bound is optional; they combine (all must hold). Ranges are half-open:
 * `from` and `since` are inclusive, `to` and `until` exclusive.
 */
export interface ReadEventsOptions {
  /** First seq, inclusive (default 0). */
  from?: number;
  /** Seq to stop before, exclusive (default: the stream's end). */
  to?: number;
  /** Only events of this type (read through the type index). */
  type?: string;
  /** Only events with timestamp ≥ since. */
  since?: number;
  /** Only events with timestamp < until. */
  until?: number;
  /** At most this many events (default EVENTS_READ_LIMIT_DEFAULT, at most EVENTS_READ_LIMIT_MAX). */
  limit?: number;
  /** Newest first: with a limit, the last `limit` events of the range. */
  reverse?: boolean;
}

/** A stream's head: what an append continues from. */
export interface StreamInfo {
  stream: string;
  /** How many events it holds (its next seq). */
  length: number;
  lastSeq: number;
  lastTimestamp: number;
  lastHash: string;
  /** The version of the commit that last appended to it. */
  version: number;
}

/** Which streams to list: name order, at most `limit`. */
export interface StreamsOptions {
  /** Only streams whose name starts with this. */
  prefix?: string;
  /** Only streams whose name sorts after this one (exclusive): the last name of the previous page. */
  after?: string;
  /** At most this many (default EVENTS_READ_LIMIT_DEFAULT, at most EVENTS_READ_LIMIT_MAX). */
  limit?: number;
}

/** The part of a stream verify checks: seqs [from, to). */
export interface VerifyOptions {
  /** First seq to check (default 0); the chain is continued from the stored hash of seq from − 1. */
  from?: number;
  /** Seq to stop before (default: the stream's end, and then the head row is checked too). */
  to?: number;
}

/** What is wrong with a stream, as verify reports it. */
export type VerifyProblem =
  /** The stored hash is not the hash of the event's contents and the previous hash. */
  | 'hash_mismatch'
  /** A seq below the stream's length has no event row (or a stray row sits in its place). */
  | 'missing_event'
  /** An event row, or its data, does not decode. */
  | 'damaged_row'
  /** A timestamp is earlier than the previous event's. */
  | 'timestamp_order'
  /** The type index lacks the event's row, or holds a row for an event that is not of that type. */
  | 'index'
  /** The head row is missing, does not decode, or disagrees with the last event. */
  | 'head';

/** verify's answer: the chain is intact, or the first seq found damaged and why. */
export type VerifyResult =
  | { ok: true /** Events checked. */; count: number }
  | {
      ok: false;
      /** The first seq whose event (or, for 'head', the position the head describes) is damaged. */
      firstBadSeq: number;
      problem: VerifyProblem;
      /** What was found, for a person. */
      reason: string;
      /** Events checked and found intact before it. */
      count: number;
    };

/** How one stream differs between two sides; see Events.diff. */
export interface StreamDiff {
  stream: string;
  /** Events only the other side has at their seqs, in seq order. */
  added: StreamEvent[];
  /** Events only this side has at their seqs, in seq order. */
  removed: StreamEvent[];
}

/** How the event streams of one branch (or point) differ from another's, stream by stream in name order. */
export interface EventsDiff {
  streams: StreamDiff[];
}

// --- row formats (docs/formats/events.md) -------------------------------------------------------

/** The format version byte at the start of every head and event row. */
export const EVENT_ROW_FORMAT_VERSION = 1;
/** Size of a head row. */
export const STREAM_HEAD_ROW_BYTES = 56;
/** Size of an event row before its origin, type and data. */
export const EVENT_ROW_HEADER_BYTES = 44;
/** Event row flag: the row holds a 32-byte origin hash (a merge's copy). */
export const EVENT_FLAG_ORIGIN = 1;
/** The previous hash of a stream's first event. */
export const EVENT_HASH_ZERO: Uint8Array = new Uint8Array(SHA256_DIGEST_BYTES);
/** The 8 bytes that start every hashed chain record (domain separation). */
export const EVENT_CHAIN_MAGIC = 'STRATEVT';

const HEAD_KIND = 'h';
const EVENT_KIND = 'e';
const INDEX_KIND = 't';
const EMPTY = new Uint8Array(0);
const MAGIC_BYTES = binaryToBytes(EVENT_CHAIN_MAGIC);

/** A decoded head row. */
export interface StreamHeadRow {
  nextSeq: number;
  lastTimestamp: number;
  lastHash: Uint8Array;
}

/** A decoded event row; `type` is the type's UTF-8 byte string, `data` the encoded Value. */
export interface EventRow {
  timestamp: number;
  hash: Uint8Array;
  origin: Uint8Array | undefined;
  type: string;
  data: Uint8Array;
}

/** A decoder's answer: the value, or why the bytes are not one. */
export type RowDecoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Encodes a head row (56 bytes). */
export function encodeHeadRow(h: StreamHeadRow): Uint8Array {
  const out = new Uint8Array(STREAM_HEAD_ROW_BYTES);
  const v = viewOf(out);
  out[0] = EVENT_ROW_FORMAT_VERSION;
  setU64(v, 8, h.nextSeq);
  v.setFloat64(16, h.lastTimestamp, true);
  out.set(h.lastHash, 24);
  return out;
}

/** Decodes a head row, treating the bytes as hostile. */
export function decodeHeadRow(b: Uint8Array): RowDecoded<StreamHeadRow> {
  if (b.length !== STREAM_HEAD_ROW_BYTES)
    return { ok: false, reason: `a head row is ${b.length} bytes, not 56` };
  if (b[0] !== EVENT_ROW_FORMAT_VERSION) return { ok: false, reason: `unknown head row format ${b[0]}` };
  for (let i = 1; i < 8; i++)
    if (b[i] !== 0) return { ok: false, reason: 'reserved head bytes are not zero' };
  const v = viewOf(b);
  const nextSeq = getU64(v, 8);
  if (nextSeq < 1) return { ok: false, reason: 'the head holds no events or a seq beyond 2^53' };
  const lastTimestamp = v.getFloat64(16, true);
  if (!Number.isFinite(lastTimestamp)) return { ok: false, reason: 'the head timestamp is not finite' };
  return { ok: true, value: { nextSeq, lastTimestamp, lastHash: b.slice(24, 56) } };
}

/** Encodes an event row; `type` is a checked UTF-8 byte string, `data` an encoded Value. */
export function encodeEventRow(e: EventRow): Uint8Array {
  const originBytes = e.origin === undefined ? 0 : SHA256_DIGEST_BYTES;
  const at = EVENT_ROW_HEADER_BYTES + originBytes;
  const out = new Uint8Array(at + e.type.length + e.data.length);
  const v = viewOf(out);
  out[0] = EVENT_ROW_FORMAT_VERSION;
  out[1] = e.origin === undefined ? 0 : EVENT_FLAG_ORIGIN;
  v.setUint16(2, e.type.length, true);
  v.setFloat64(4, e.timestamp, true);
  out.set(e.hash, 12);
  if (e.origin !== undefined) out.set(e.origin, EVENT_ROW_HEADER_BYTES);
  for (let i = 0; i < e.type.length; i++) out[at + i] = e.type.charCodeAt(i);
  out.set(e.data, at + e.type.length);
  return out;
}

/** Decodes an event row, treating the bytes as hostile (the data stays encoded: see decodeEventData). */
export function decodeEventRow(b: Uint8Array): RowDecoded<EventRow> {
  if (b.length < EVENT_ROW_HEADER_BYTES)
    return { ok: false, reason: `an event row of ${b.length} bytes is truncated` };
  if (b[0] !== EVENT_ROW_FORMAT_VERSION) return { ok: false, reason: `unknown event row format ${b[0]}` };
  const flags = b[1]!;
  if ((flags & ~EVENT_FLAG_ORIGIN) !== 0) return { ok: false, reason: `unknown event row flags ${flags}` };
  const v = viewOf(b);
  const typeLength = v.getUint16(2, true);
  const timestamp = v.getFloat64(4, true);
  if (!Number.isFinite(timestamp)) return { ok: false, reason: 'the event timestamp is not finite' };
  const at = EVENT_ROW_HEADER_BYTES + (flags === EVENT_FLAG_ORIGIN ? SHA256_DIGEST_BYTES : 0);
  if (typeLength === 0) return { ok: false, reason: 'the event type is empty' };
  // Data is an encoded Value: at least one byte.
  if (at + typeLength >= b.length)
    return { ok: false, reason: 'the event row ends inside its type or before its data' };
  return {
    ok: true,
    value: {
      timestamp,
      hash: b.slice(12, 44),
      origin: flags === EVENT_FLAG_ORIGIN ? b.slice(EVENT_ROW_HEADER_BYTES, at) : undefined,
      type: bytesToBinary(b, at, at + typeLength),
      data: b.subarray(at + typeLength),
    },
  };
}

/**
 * The chain hash of an event: SHA-256 over magic | seq u64 | type len u32 | type | timestamp f64
 * | data len u32 | data | origin flag u8 | origin (32, when flagged) | previous hash (32), all
 * little-endian (docs/formats/events.md).
 */
export function chainHash(
  seq: number,
  type: string,
  timestamp: number,
  data: Uint8Array,
  origin: Uint8Array | undefined,
  previous: Uint8Array,
): Uint8Array {
  // One buffer holding the whole record, hashed in one call: building it costs far less than
  // feeding the hasher piece by piece.
  const size = 8 + 8 + 4 + type.length + 8 + 4 + data.length + 1 + (origin === undefined ? 0 : 32) + 32;
  const out = size <= CHAIN_SCRATCH_BYTES ? chainScratch : new Uint8Array(size);
  const v = size <= CHAIN_SCRATCH_BYTES ? chainScratchView : viewOf(out);
  out.set(MAGIC_BYTES, 0);
  setU64(v, 8, seq);
  v.setUint32(16, type.length, true);
  let at = 20;
  for (let i = 0; i < type.length; i++) out[at + i] = type.charCodeAt(i);
  at += type.length;
  v.setFloat64(at, timestamp, true);
  v.setUint32(at + 8, data.length, true);
  at += 12;
  out.set(data, at);
  at += data.length;
  out[at++] = origin === undefined ? 0 : 1;
  if (origin !== undefined) {
    out.set(origin, at);
    at += 32;
  }
  out.set(previous, at);
  return sha256(out.subarray(0, size));
}

/** Records up to this size are built in one reused buffer. */
const CHAIN_SCRATCH_BYTES = 64 * 1024;
const chainScratch = new Uint8Array(CHAIN_SCRATCH_BYTES);
const chainScratchView = viewOf(chainScratch);

function corruption(message: string, cause?: unknown): StrataError {
  return new StrataError('corruption', message, cause === undefined ? {} : { cause });
}

function notFound(stream: string): StrataError {
  return new StrataError('not_found', `no event stream named '${stream}' (append to it to create it)`, {
    committed: 'no',
  });
}

/** Decodes an event's data; undecodable data is `corruption`. */
function decodeEventData(data: Uint8Array, what: string): Value {
  try {
    return decodeValue(data);
  } catch (error) {
    throw corruption(`the data of ${what} cannot be decoded`, error);
  }
}

// --- keys --------------------------------------------------------------------------------------

/** The keys of one stream in a keyspace's events. */
class StreamKeys {
  readonly head: string;
  readonly events: string;
  readonly eventsEnd: string;
  readonly index: string;

  constructor(
    readonly base: string,
    /** The stream name's UTF-8 byte string. */
    readonly name: string,
  ) {
    const s = segment(name);
    this.head = base + HEAD_KIND + s;
    this.events = base + EVENT_KIND + s;
    this.eventsEnd = prefixEnd(this.events);
    this.index = base + INDEX_KIND + s;
  }

  event(seq: number): string {
    return this.events + seqKey(seq);
  }

  typePrefix(type: string): string {
    return this.index + segment(type);
  }

  indexRow(type: string, seq: number): string {
    return this.typePrefix(type) + seqKey(seq);
  }

  /** The user's name of the stream, for messages. */
  get label(): string {
    return binaryToUtf8(this.name);
  }
}

function streamKeys(base: string, stream: unknown): StreamKeys {
  return new StreamKeys(base, checkNonEmptyKey(stream, 'stream name'));
}

// --- shared reads and writes -------------------------------------------------------------------

function readHeadRow(reads: Reads, keys: StreamKeys): (StreamHeadRow & { version: number }) | undefined {
  const v = reads.getVersioned(keys.head);
  if (v === undefined || v.value === null) return undefined;
  const d = decodeHeadRow(v.value);
  if (!d.ok) throw corruption(`the head of stream '${keys.label}' is damaged (${d.reason}); run verify`);
  return { ...d.value, version: v.version };
}

function requireHead(reads: Reads, keys: StreamKeys): StreamHeadRow & { version: number } {
  const h = readHeadRow(reads, keys);
  if (h === undefined) throw notFound(keys.label);
  return h;
}

function decodeRowOrThrow(bytes: Uint8Array, keys: StreamKeys, seq: number): EventRow {
  const d = decodeEventRow(bytes);
  if (!d.ok) throw corruption(`event ${seq} of stream '${keys.label}' is damaged (${d.reason}); run verify`);
  return d.value;
}

/** A stored name's UTF-8 bytes as text; malformed UTF-8 is `corruption`. */
function typeName(binary: string, what: string): string {
  try {
    return binaryToUtf8(binary);
  } catch (error) {
    throw corruption(`${what} is not valid UTF-8`, error);
  }
}

function toEvent(row: EventRow, seq: number, version: number, keys: StreamKeys): StreamEvent {
  const e: StreamEvent = {
    seq,
    type: typeName(row.type, `the type of event ${seq} of stream '${keys.label}'`),
    data: decodeEventData(row.data, `event ${seq} of stream '${keys.label}'`),
    version,
    timestamp: row.timestamp,
    hash: toHex(row.hash),
  };
  if (row.origin !== undefined) e.origin = toHex(row.origin);
  return e;
}

function eventAt(reads: Reads, keys: StreamKeys, seq: number): { row: EventRow; stored: StoredVersion } {
  const v = reads.getVersioned(keys.event(seq));
  if (v === undefined || v.value === null)
    throw corruption(`event ${seq} of stream '${keys.label}' is missing; run verify`);
  return { row: decodeRowOrThrow(v.value, keys, seq), stored: v };
}

/**
 * Appends one event to a stream through `writes` (which reads the head): three rows. `data` is
 * the encoded Value. Returns the new event's seq, timestamp and hash.
 */
function appendRows(writes: Writes, keys: StreamKeys, type: string, data: Uint8Array): TxAppendResult {
  const head = readHeadRow(writes, keys);
  const seq = head?.nextSeq ?? 0;
  const previous = head?.lastHash ?? EVENT_HASH_ZERO;
  // Timestamps never decrease along a stream, which time-range reads rely on.
  const now = writes.now();
  const timestamp = head === undefined || now > head.lastTimestamp ? now : head.lastTimestamp;
  const hash = chainHash(seq, type, timestamp, data, undefined, previous);
  writes.put(keys.event(seq), encodeEventRow({ timestamp, hash, origin: undefined, type, data }));
  writes.put(keys.indexRow(type, seq), EMPTY);
  writes.put(keys.head, encodeHeadRow({ nextSeq: seq + 1, lastTimestamp: timestamp, lastHash: hash }));
  return { seq, timestamp, hash: toHex(hash) };
}

function checkData(data: unknown): Uint8Array {
  const bytes = encodeValue(data, 'event data');
  if (bytes.length > EVENT_DATA_BYTES_MAX)
    throw invalidArgument(
      `event data encodes to ${bytes.length} bytes, more than the limit of ${EVENT_DATA_BYTES_MAX}`,
    );
  return bytes;
}

function checkOptions(options: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw invalidArgument(`${what} options must be an object`);
  for (const k of Object.keys(options)) {
    if (!allowed.includes(k))
      throw invalidArgument(`unknown ${what} option '${k}'; the options are ${allowed.join(', ')}`);
  }
  return options as Record<string, unknown>;
}

function checkSeq(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw invalidArgument(`${what} must be a non-negative integer (a seq), got ${String(v)}`);
  return v;
}

function checkTime(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw invalidArgument(`${what} must be a finite number (ms since the epoch), got ${String(v)}`);
  return v;
}

function checkLimit(v: unknown): number {
  if (v === undefined) return EVENTS_READ_LIMIT_DEFAULT;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > EVENTS_READ_LIMIT_MAX)
    throw invalidArgument(`limit must be an integer from 0 to ${EVENTS_READ_LIMIT_MAX}, got ${String(v)}`);
  return v;
}

interface ReadPlan {
  from: number;
  to: number | undefined;
  type: string | undefined;
  since: number | undefined;
  until: number | undefined;
  limit: number;
  reverse: boolean;
}

const READ_OPTIONS = ['from', 'to', 'type', 'since', 'until', 'limit', 'reverse'] as const;

function readPlan(options: unknown): ReadPlan {
  const o = checkOptions(options, 'read', READ_OPTIONS);
  const reverse = o.reverse ?? false;
  if (typeof reverse !== 'boolean') throw invalidArgument('reverse must be a boolean');
  return {
    from: checkSeq(o.from, 'from') ?? 0,
    to: checkSeq(o.to, 'to'),
    type: o.type === undefined ? undefined : checkNonEmptyKey(o.type, 'event type'),
    since: checkTime(o.since, 'since'),
    until: checkTime(o.until, 'until'),
    limit: checkLimit(o.limit),
    reverse,
  };
}

/** The first seq of [lo, hi) whose timestamp is ≥ t (hi when none): a binary search by point reads. */
function firstAtOrAfter(reads: Reads, keys: StreamKeys, lo: number, hi: number, t: number): number {
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (eventAt(reads, keys, mid).row.timestamp >= t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function readEvents(reads: Reads, keys: StreamKeys, plan: ReadPlan): StreamEvent[] {
  const head = requireHead(reads, keys);
  let lo = plan.from;
  let hi = Math.min(plan.to ?? head.nextSeq, head.nextSeq);
  if (lo >= hi || plan.limit === 0) return [];
  if (plan.since !== undefined) lo = firstAtOrAfter(reads, keys, lo, hi, plan.since);
  if (plan.until !== undefined) hi = firstAtOrAfter(reads, keys, lo, hi, plan.until);
  const out: StreamEvent[] = [];
  if (lo >= hi) return out;
  if (plan.type !== undefined) {
    const prefix = keys.typePrefix(plan.type);
    for (const [k] of reads.scan(prefix + seqKey(lo), prefix + seqKey(hi), plan.reverse)) {
      const seq = k.length === prefix.length + 8 ? readSeq(k, prefix.length) : undefined;
      if (seq === undefined)
        throw corruption(`a type-index row of stream '${keys.label}' is damaged; run verify`);
      const { row, stored } = eventAt(reads, keys, seq);
      if (row.type !== plan.type)
        throw corruption(`the type index of stream '${keys.label}' disagrees with event ${seq}; run verify`);
      out.push(toEvent(row, seq, stored.version, keys));
      if (out.length >= plan.limit) break;
    }
    return out;
  }
  let expected = plan.reverse ? hi - 1 : lo;
  for (const [k, v] of reads.scan(keys.event(lo), keys.event(hi), plan.reverse)) {
    const seq = k.length === keys.events.length + 8 ? readSeq(k, keys.events.length) : undefined;
    if (seq !== expected)
      throw corruption(`event ${expected} of stream '${keys.label}' is missing; run verify`);
    out.push(toEvent(decodeRowOrThrow(v.value!, keys, seq), seq, v.version, keys));
    if (out.length >= plan.limit) return out;
    expected += plan.reverse ? -1 : 1;
  }
  if (out.length < hi - lo)
    throw corruption(`event ${expected} of stream '${keys.label}' is missing; run verify`);
  return out;
}

function getEvent(reads: Reads, keys: StreamKeys, seq: unknown): StreamEvent | undefined {
  const n = checkSeq(seq, 'seq');
  if (n === undefined) throw invalidArgument('seq must be a non-negative integer (a seq), got undefined');
  const head = requireHead(reads, keys);
  if (n >= head.nextSeq) return undefined;
  const { row, stored } = eventAt(reads, keys, n);
  return toEvent(row, n, stored.version, keys);
}

function infoOf(keys: StreamKeys, h: StreamHeadRow & { version: number }): StreamInfo {
  return {
    stream: keys.label,
    length: h.nextSeq,
    lastSeq: h.nextSeq - 1,
    lastTimestamp: h.lastTimestamp,
    lastHash: toHex(h.lastHash),
    version: h.version,
  };
}

function headInfo(reads: Reads, keys: StreamKeys): StreamInfo | undefined {
  const h = readHeadRow(reads, keys);
  return h === undefined ? undefined : infoOf(keys, h);
}

/** The segment escaping of a name without its terminator: the key prefix of every name starting with it. */
function escapedPrefix(binary: string): string {
  return binary.includes('\x00') ? binary.replaceAll('\x00', '\x00\xff') : binary;
}

function listStreams(reads: Reads, base: string, options: unknown): StreamInfo[] {
  const o = checkOptions(options, 'streams', ['prefix', 'after', 'limit']);
  const limit = checkLimit(o.limit);
  const heads = base + HEAD_KIND;
  let start = heads + (o.prefix === undefined ? '' : escapedPrefix(checkKey(o.prefix, 'prefix')));
  const end = prefixEnd(start);
  if (o.after !== undefined) {
    // The smallest key after the head key of `after`.
    const past = `${heads}${segment(checkKey(o.after, 'after'))}\x00`;
    if (past > start) start = past;
  }
  const out: StreamInfo[] = [];
  if (limit === 0 || start >= end) return out;
  for (const [k, v] of reads.scan(start, end)) {
    const seg = readSegment(k, heads.length);
    if (seg === undefined || seg[1] !== k.length) throw corruption('a stream head key is damaged');
    const keys = new StreamKeys(base, seg[0]);
    typeName(keys.name, 'a stream name');
    const d = decodeHeadRow(v.value!);
    if (!d.ok) throw corruption(`the head of stream '${keys.label}' is damaged (${d.reason}); run verify`);
    out.push(infoOf(keys, { ...d.value, version: v.version }));
    if (out.length >= limit) break;
  }
  return out;
}

function firstKey(reads: Reads, start: string, end: string): string | undefined {
  if (start >= end) return undefined;
  for (const [k] of reads.scan(start, end)) return k;
  return undefined;
}

function verifyStream(reads: Reads, keys: StreamKeys, options: unknown): VerifyResult {
  const o = checkOptions(options, 'verify', ['from', 'to']);
  const from = checkSeq(o.from, 'from') ?? 0;
  const to = checkSeq(o.to, 'to') ?? Number.POSITIVE_INFINITY;
  let count = 0;
  const bad = (firstBadSeq: number, problem: VerifyProblem, reason: string): VerifyResult => ({
    ok: false,
    firstBadSeq,
    problem,
    reason,
    count,
  });
  const headBytes = reads.get(keys.head);
  if (headBytes === undefined) {
    if (firstKey(reads, keys.events, keys.eventsEnd) !== undefined)
      return bad(0, 'head', 'the stream has event rows but no head row');
    throw notFound(keys.label);
  }
  const head = decodeHeadRow(headBytes);
  // With a damaged head the length is unknown: every event row found is checked.
  const length = head.ok ? head.value.nextSeq : Number.POSITIVE_INFINITY;
  const end = Math.min(to, length);
  let previous = EVENT_HASH_ZERO;
  let previousTimestamp = Number.NEGATIVE_INFINITY;
  if (from > 0 && from < end) {
    const v = reads.get(keys.event(from - 1));
    if (v === undefined) return bad(from - 1, 'missing_event', `event ${from - 1} has no row`);
    const d = decodeEventRow(v);
    if (!d.ok) return bad(from - 1, 'damaged_row', `event ${from - 1}: ${d.reason}`);
    previous = d.value.hash;
    previousTimestamp = d.value.timestamp;
  }
  let expected = from;
  if (from < end) {
    const scanEnd = end === Number.POSITIVE_INFINITY ? keys.eventsEnd : keys.event(end);
    for (const [k, v] of reads.scan(keys.event(from), scanEnd)) {
      const seq = k.length === keys.events.length + 8 ? readSeq(k, keys.events.length) : undefined;
      if (seq !== expected)
        return bad(
          expected,
          'missing_event',
          `event ${expected} has no row (found ${seq ?? 'a stray key'} next)`,
        );
      const d = decodeEventRow(v.value!);
      if (!d.ok) return bad(seq, 'damaged_row', `event ${seq}: ${d.reason}`);
      const row = d.value;
      try {
        decodeValue(row.data);
        binaryToUtf8(row.type);
      } catch {
        return bad(seq, 'damaged_row', `event ${seq}: its data or type does not decode`);
      }
      if (row.timestamp < previousTimestamp)
        return bad(seq, 'timestamp_order', `event ${seq} is stamped before event ${seq - 1}`);
      const h = chainHash(seq, row.type, row.timestamp, row.data, row.origin, previous);
      if (!equalBytes(h, row.hash))
        return bad(
          seq,
          'hash_mismatch',
          `event ${seq}: stored hash ${toHex(row.hash)}, computed ${toHex(h)}`,
        );
      if (reads.get(keys.indexRow(row.type, seq)) === undefined)
        return bad(seq, 'index', `event ${seq} has no row in the index of its type`);
      previous = row.hash;
      previousTimestamp = row.timestamp;
      expected++;
      count++;
    }
  }
  if (!head.ok) return bad(expected, 'head', `the head row does not decode (${head.reason})`);
  if (expected < end) return bad(expected, 'missing_event', `event ${expected} has no row`);
  const reachesEnd = to >= length;
  if (reachesEnd) {
    if (firstKey(reads, keys.event(length), keys.eventsEnd) !== undefined)
      return bad(length, 'head', `there are event rows at or after the head's length ${length}`);
    if (
      from <= length - 1 &&
      (!equalBytes(previous, head.value.lastHash) || previousTimestamp !== head.value.lastTimestamp)
    )
      return bad(length, 'head', 'the head row disagrees with the last event (hash or timestamp)');
  }
  const stray = strayIndexRow(reads, keys, from, reachesEnd ? Number.POSITIVE_INFINITY : end, count);
  if (stray !== undefined)
    return bad(stray, 'index', `the type index holds a row for event ${stray} that does not match it`);
  return { ok: true, count };
}

/**
 * Counts the type-index rows of seqs [from, to) with a skip scan (one seek per type), and when
 * there are more than `checked` (the events verified, each found to have its row), finds the
 * smallest seq with a row that does not match its event. Returns undefined when none.
 */
function strayIndexRow(
  reads: Reads,
  keys: StreamKeys,
  from: number,
  to: number,
  checked: number,
): number | undefined {
  const all = prefixEnd(keys.index);
  const typePrefixes: string[] = [];
  let rows = 0;
  for (let cursor = keys.index; ; ) {
    const k = firstKey(reads, cursor, all);
    if (k === undefined) break;
    const seg = readSegment(k, keys.index.length);
    if (seg === undefined) return from;
    const prefix = k.slice(0, seg[1]);
    typePrefixes.push(prefix);
    const upper = to === Number.POSITIVE_INFINITY ? prefixEnd(prefix) : prefix + seqKey(to);
    for (const _ of reads.scan(prefix + seqKey(from), upper)) rows++;
    cursor = prefixEnd(prefix);
  }
  if (rows === checked) return undefined;
  // Damage: look at each row.
  let first: number | undefined;
  for (const prefix of typePrefixes) {
    const type = prefix.slice(keys.index.length, -2).replaceAll('\x00\xff', '\x00');
    const upper = to === Number.POSITIVE_INFINITY ? prefixEnd(prefix) : prefix + seqKey(to);
    for (const [k] of reads.scan(prefix + seqKey(from), upper)) {
      const seq = k.length === prefix.length + 8 ? readSeq(k, prefix.length) : undefined;
      if (seq === undefined) return from;
      const v = reads.get(keys.event(seq));
      const d = v === undefined ? undefined : decodeEventRow(v);
      if (d === undefined || !d.ok || d.value.type !== type) {
        if (first === undefined || seq < first) first = seq;
        break;
      }
    }
  }
  return first ?? from;
}

// --- the branch-facing and transaction-facing classes -----------------------------------------

/**
 * Event streams of one keyspace. Reads see the newest visible version, or the fixed read point
 * given at construction (a read-only view as of the past): every read call sees one version.
 * Streams are append-only: nothing in this API rewrites or removes an event.
 */
export class Events {
  private readonly base: string;

  /** @internal */
  constructor(
    readonly storage: Storage,
    readonly keyspace: string,
    readonly at?: ReadPoint,
  ) {
    this.base = keyspace + EVENTS_TAG;
  }

  private view(): View {
    return new View(this.storage, this.at);
  }

  /**
   * Appends an event of `type` with `data` to `stream` (created by its first append). O(1)
   * whatever the stream's length: reads the head and writes three rows. Appends that are not
   * awaited never conflict: each gets the next seq when its commit is ordered. Rejects with
   * `invalid_argument` (bad name, type or data; nothing written), `read_only` on a view, or the
   * commit's errors.
   */
  append(stream: string, type: string, data: Value): Promise<AppendResult> {
    try {
      if (this.at !== undefined) throw readOnly();
      const keys = streamKeys(this.base, stream);
      const t = checkNonEmptyKey(type, 'event type');
      const bytes = checkData(data);
      return commitBuilt(this.storage, (batch) => appendRows(batch, keys, t, bytes)).then(
        ({ result, commit }) => ({
          seq: result.seq,
          version: commit.version,
          timestamp: result.timestamp,
          hash: result.hash,
        }),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Events of `stream` in seq order (or reversed), filtered by seq range, type and time range,
   * at most `limit` (default 1000). A type is read through its index and a time range found by
   * binary search, so neither scans the whole stream. Throws `not_found` for a stream that does
   * not exist (at this read point), `invalid_argument` for bad options, `corruption` for a
   * damaged row (verify says which).
   */
  read(stream: string, options?: ReadEventsOptions): StreamEvent[] {
    const keys = streamKeys(this.base, stream);
    const plan = readPlan(options);
    return readEvents(this.view(), keys, plan);
  }

  /** The event at `seq`, or undefined past the stream's end; `not_found` for an unknown stream. */
  get(stream: string, seq: number): StreamEvent | undefined {
    return getEvent(this.view(), streamKeys(this.base, stream), seq);
  }

  /** The stream's head (length, last seq, timestamp and hash), or undefined when it does not exist. */
  head(stream: string): StreamInfo | undefined {
    return headInfo(this.view(), streamKeys(this.base, stream));
  }

  /** Streams in name (UTF-8 byte) order with their heads; page with `after`. */
  streams(options?: StreamsOptions): StreamInfo[] {
    return listStreams(this.view(), this.base, options);
  }

  /**
   * Recomputes the hash chain of `stream` (or of seqs [from, to)) and checks every row: the
   * events, the type index and the head. Damage is reported, not thrown: `{ ok: false,
   * firstBadSeq, problem, reason }`. Throws `not_found` for a stream that does not exist and
   * `invalid_argument` for bad options. Costs one scan of the events and a point read per event.
   */
  verify(stream: string, options?: VerifyOptions): VerifyResult {
    return verifyStream(this.view(), streamKeys(this.base, stream), options);
  }

  /**
   * How `other` (the same space on another branch, or a point of this one) differs from this,
   * compared seq by seq: `added` holds the events only the other side has at their seqs,
   * `removed` the ones only this side has. Where both appended different events after they
   * diverged, both appear. Its cost follows what changed since the two diverged.
   */
  diff(other: Events): EventsDiff {
    const byStream = new Map<string, StreamDiff>();
    const entries = this.storage.diff(this.base, this.at, other.base, other.at);
    for (const d of entries) {
      if (d.key.charAt(0) !== EVENT_KIND) continue;
      const seg = readSegment(d.key, 1);
      const seq = seg !== undefined && d.key.length === seg[1] + 8 ? readSeq(d.key, seg[1]) : undefined;
      if (seg === undefined || seq === undefined) throw corruption('an event key is damaged; run verify');
      const keys = new StreamKeys(this.base, seg[0]);
      let s = byStream.get(seg[0]);
      if (s === undefined) {
        s = { stream: typeName(seg[0], 'a stream name'), added: [], removed: [] };
        byStream.set(seg[0], s);
      }
      if (d.to !== undefined)
        s.added.push(toEvent(decodeRowOrThrow(d.to.value!, keys, seq), seq, d.to.version, keys));
      if (d.from !== undefined)
        s.removed.push(toEvent(decodeRowOrThrow(d.from.value!, keys, seq), seq, d.from.version, keys));
    }
    // Entries come in key order: streams by name, each stream's events by seq.
    return { streams: [...byStream.values()] };
  }
}

/**
 * Event streams inside a transaction: reads see the snapshot and the transaction's own appends;
 * appends are buffered and land with the commit. Reading a stream's head (every append does)
 * puts it in the transaction's read set, so two transactions appending to one stream conflict
 * and one runs again: seqs stay gapless and the chain unbroken.
 */
export class TxEvents {
  private readonly base: string;

  /** @internal */
  constructor(
    readonly batch: Batch,
    readonly keyspace: string,
  ) {
    this.base = keyspace + EVENTS_TAG;
  }

  /** Appends an event when the transaction commits; returns its seq, timestamp and hash now. */
  append(stream: string, type: string, data: Value): TxAppendResult {
    const keys = streamKeys(this.base, stream);
    const t = checkNonEmptyKey(type, 'event type');
    const bytes = checkData(data);
    return appendRows(this.batch, keys, t, bytes);
  }

  /** As Events.read, on the snapshot with this transaction's appends (their version is 0). */
  read(stream: string, options?: ReadEventsOptions): StreamEvent[] {
    return readEvents(this.batch, streamKeys(this.base, stream), readPlan(options));
  }

  /** As Events.get. */
  get(stream: string, seq: number): StreamEvent | undefined {
    return getEvent(this.batch, streamKeys(this.base, stream), seq);
  }

  /** As Events.head. */
  head(stream: string): StreamInfo | undefined {
    return headInfo(this.batch, streamKeys(this.base, stream));
  }

  /** As Events.streams. */
  streams(options?: StreamsOptions): StreamInfo[] {
    return listStreams(this.batch, this.base, options);
  }

  /** As Events.verify. */
  verify(stream: string, options?: VerifyOptions): VerifyResult {
    return verifyStream(this.batch, streamKeys(this.base, stream), options);
  }
}

// --- merge -------------------------------------------------------------------------------------

/**
 * Events merge by appending: for each stream the source appended to since the merge base, the
 * source's new events are appended after the target's last event, in order, with fresh seqs and
 * the chain recomputed; the target's own events are never rewritten, and there are no conflicts.
 * A copy keeps its type, data and timestamp (raised to the target's last timestamp when earlier,
 * since timestamps never decrease along a stream) and records the original's hash as its origin.
 * An event the target already holds since it diverged from the base — the same original, or a
 * copy of it — is skipped, so merging back and forth does not duplicate events.
 */
export const mergeEvents: PrimitiveMerge = (input: PrimitiveMergeInput): PrimitiveMergeOutput => {
  const base = input.keyspace + EVENTS_TAG;
  const out: PrimitiveMergeOutput = { ops: [], applied: 0, conflicts: [] };
  for (const row of input.rows) {
    if (row.key.charAt(base.length) !== HEAD_KIND || row.source === undefined) continue;
    const seg = readSegment(row.key, base.length + 1);
    if (seg === undefined || seg[1] !== row.key.length) throw corruption('a stream head key is damaged');
    const keys = new StreamKeys(base, seg[0]);
    const decodeHead = (b: Uint8Array | undefined, side: string): StreamHeadRow | undefined => {
      if (b === undefined) return undefined;
      const d = decodeHeadRow(b);
      if (!d.ok) throw corruption(`the ${side}'s head of stream '${keys.label}' is damaged (${d.reason})`);
      return d.value;
    };
    const sourceHead = decodeHead(row.source, 'source')!;
    const baseLength = decodeHead(row.base, 'merge base')?.nextSeq ?? 0;
    const targetHead = decodeHead(row.target, 'target');
    if (sourceHead.nextSeq <= baseLength) continue;
    const ops = appendCopies(input, keys, baseLength, sourceHead.nextSeq, targetHead);
    // Two rows per event copied, and the head.
    if (ops.length > 0) out.applied += (ops.length - 1) / 2;
    out.ops.push(...ops);
  }
  out.ops.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
};

function sideEvent(reads: Reads, keys: StreamKeys, seq: number, side: string): EventRow {
  const b = reads.get(keys.event(seq));
  if (b === undefined) throw corruption(`event ${seq} of stream '${keys.label}' is missing on the ${side}`);
  return decodeRowOrThrow(b, keys, seq);
}

/** The rows that append the source's events [from, to) of one stream to the target. */
function appendCopies(
  input: PrimitiveMergeInput,
  keys: StreamKeys,
  from: number,
  to: number,
  targetHead: StreamHeadRow | undefined,
): WriteOp[] {
  const targetLength = targetHead?.nextSeq ?? 0;
  // Where the target's events stop being the base's: the chain makes "same hash at seq i" a
  // prefix property, so a binary search finds it.
  let lo = 0;
  let hi = Math.min(targetLength, from);
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo + 1) / 2);
    const same = equalBytes(
      sideEvent(input.target, keys, mid - 1, 'target').hash,
      sideEvent(input.base, keys, mid - 1, 'merge base').hash,
    );
    if (same) lo = mid;
    else hi = mid - 1;
  }
  // What the target holds since it diverged, by original.
  const held = new Set<string>();
  for (let seq = lo; seq < targetLength; seq++) {
    const e = sideEvent(input.target, keys, seq, 'target');
    held.add(bytesToBinary(e.origin ?? e.hash));
  }
  const ops: WriteOp[] = [];
  let next = targetLength;
  let previous = targetHead?.lastHash ?? EVENT_HASH_ZERO;
  let lastTimestamp = targetHead?.lastTimestamp ?? Number.NEGATIVE_INFINITY;
  for (let seq = from; seq < to; seq++) {
    const e = sideEvent(input.source, keys, seq, 'source');
    const origin = e.origin ?? e.hash;
    if (held.has(bytesToBinary(origin))) continue;
    const timestamp = e.timestamp > lastTimestamp ? e.timestamp : lastTimestamp;
    const hash = chainHash(next, e.type, timestamp, e.data, origin, previous);
    ops.push({
      key: keys.event(next),
      value: encodeEventRow({ timestamp, hash, origin, type: e.type, data: e.data }),
    });
    ops.push({ key: keys.indexRow(e.type, next), value: EMPTY });
    previous = hash;
    lastTimestamp = timestamp;
    next++;
  }
  if (next > targetLength)
    ops.push({ key: keys.head, value: encodeHeadRow({ nextSeq: next, lastTimestamp, lastHash: previous }) });
  return ops;
}
