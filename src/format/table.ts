/**
 * Immutable sorted tables, `tables/<n>.sst`: the byte codecs. Diagram: docs/formats/table.md.
 *
 *   data block | data block | ... | filter block | index block | properties block | footer (64 B)
 *
 * Every block is a payload followed by a 9-byte trailer:
 *   type u8 | payload length u32 | crc u32,   crc = mask(crc32c(payload ‖ type ‖ length))
 *
 * Data block payload: entries | restart offset u32 × R | R u32. Entries are in internal order
 * (storage key ascending, then version descending); each stores its storage key as a suffix of the
 * previous entry's key, except at a restart point (every `restartInterval`-th entry) where it is
 * whole:
 *   shared varint | unshared varint | key suffix | version varint | kind u8 | timestamp f64
 *   | (put only: value length varint | value)
 * The (storage key, version) pair is the internal key of internal-key.md, stored as its two parts:
 * the order is the same, and a varint version is shorter than the 8-byte inverted trailer.
 *
 * Filter payload: probes u8 | bloom bits. Index payload: count varint | count × (shared varint |
 * unshared varint | suffix | version varint | block size varint), one per data block, naming its
 * last entry. Properties payload: entries, data blocks, min version, max version, restart interval
 * (varints) | smallest key | largest key (each length varint | bytes). The footer has the shape of
 * every fixed header (fixed-header.ts) and places the other blocks.
 *
 * Decoders treat their input as hostile: they check bounds before reading, never allocate more
 * than the input's size, and return `{ ok: false, reason, at }` (at = offset in the payload)
 * instead of throwing.
 */
import {
  assert,
  bytesToBinary,
  crc32cUpdate,
  getU64,
  maskCrc,
  readVarint,
  setU64,
  VALUE_SIZE_BYTES_MAX,
  varintSize,
  viewOf,
  writeVarint,
} from '../base/index.js';
import { beginHeader, checkHeader, sealHeader } from './fixed-header.js';
import type { TableEntry } from './table-meta.js';

export const TABLE_MAGIC = 'STRATSST';
export const TABLE_FOOTER_BYTES = 64;
export const BLOCK_TRAILER_BYTES = 9;

export const BLOCK_DATA = 1;
export const BLOCK_FILTER = 2;
export const BLOCK_INDEX = 3;
export const BLOCK_PROPERTIES = 4;

export const ENTRY_PUT = 0;
export const ENTRY_TOMBSTONE = 1;

/**
 * Largest restart interval a table may use. Prefix compression lets a run decode to about
 * (interval × its bytes) of key strings, so bounding the interval bounds what a forged block can
 * make a reader allocate.
 */
export const RESTART_INTERVAL_MAX = 1024;

/** Most bloom probes per key a filter may ask for (about 43 bits per key; more gains nothing). */
export const BLOOM_PROBES_MAX = 30;

/** The smallest data block: one entry of 12 bytes, one restart offset and the restart count. */
const DATA_PAYLOAD_BYTES_MIN = 12 + 8;

/** The result of a decoder: its value, or why the bytes are bad and where (payload offset). */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string; at: number };

function bad(reason: string, at: number): { ok: false; reason: string; at: number } {
  return { ok: false, reason, at };
}

/** Internal order of (key, version) pairs: key ascending, then version descending. */
export function compareEntryKeys(aKey: string, aVersion: number, bKey: string, bVersion: number): number {
  if (aKey !== bKey) return aKey < bKey ? -1 : 1;
  return aVersion === bVersion ? 0 : aVersion > bVersion ? -1 : 1;
}

// ---------------------------------------------------------------------------------------------
// Block trailer

/**
 * Writes the trailer of the block whose payload is `out[start, start + payloadLength)`, right after
 * it. Returns the offset after the trailer. Requires room for it.
 */
export function sealBlock(out: Uint8Array, start: number, payloadLength: number, type: number): number {
  const at = start + payloadLength;
  assert(out.length >= at + BLOCK_TRAILER_BYTES, 'no room for the block trailer');
  const view = viewOf(out);
  out[at] = type;
  view.setUint32(at + 1, payloadLength, true);
  view.setUint32(at + 5, maskCrc(crc32cUpdate(0, out, start, at + 5)), true);
  return at + BLOCK_TRAILER_BYTES;
}

/** A new sealed block (payload ‖ trailer) holding a copy of `payload`. */
export function encodeBlock(payload: Uint8Array, type: number): Uint8Array {
  const out = new Uint8Array(payload.length + BLOCK_TRAILER_BYTES);
  out.set(payload);
  sealBlock(out, 0, payload.length, type);
  return out;
}

/**
 * Verifies the whole block `block` (payload ‖ trailer, as its handle delimits it): the type must
 * be `type`, the stored length must match, the checksum must verify. Returns the payload as a
 * view of `block`.
 */
export function checkBlock(block: Uint8Array, type: number): Decoded<Uint8Array> {
  if (block.length < BLOCK_TRAILER_BYTES) return bad('shorter than a block trailer', 0);
  const payloadLength = block.length - BLOCK_TRAILER_BYTES;
  const view = viewOf(block);
  if (block[payloadLength] !== type) {
    return bad(`block type ${block[payloadLength]} where type ${type} was expected`, payloadLength);
  }
  if (view.getUint32(payloadLength + 1, true) !== payloadLength) {
    return bad('block length does not match its handle', payloadLength + 1);
  }
  const crc = maskCrc(crc32cUpdate(0, block, 0, payloadLength + 5));
  // The damage may be anywhere in the block: name its start.
  if (view.getUint32(payloadLength + 5, true) !== crc) return bad('block checksum mismatch', 0);
  return { ok: true, value: block.subarray(0, payloadLength) };
}

// ---------------------------------------------------------------------------------------------
// Data blocks

/** An upper bound of the bytes `entry` adds to a data block (its key stored whole). */
export function dataEntrySizeBytesMax(entry: TableEntry): number {
  let n = 1 + varintSize(entry.key.length) + entry.key.length + varintSize(entry.version) + 1 + 8;
  if (entry.value !== null) n += varintSize(entry.value.length) + entry.value.length;
  return n;
}

/**
 * Encodes one data block. The caller (TableBuilder) checks the order of entries and decides where
 * blocks end; this writer only lays out bytes. Reused from block to block.
 */
export class DataBlockWriter {
  private buf: Uint8Array;
  private view: DataView;
  private length = 0;
  private restarts: number[] = [];
  private sinceRestart = 0;
  private lastKey = '';
  private count = 0;

  /** Requires `restartInterval` >= 1; `initialBytes` sizes the reusable buffer. */
  constructor(
    private readonly restartInterval: number,
    private readonly initialBytes = 8192,
  ) {
    assert(Number.isSafeInteger(restartInterval) && restartInterval >= 1, 'bad restart interval');
    this.buf = new Uint8Array(initialBytes);
    this.view = viewOf(this.buf);
  }

  get entryCount(): number {
    return this.count;
  }

  /** The bytes the sealed block would take if finished now (0 when empty). */
  get sizeBytes(): number {
    if (this.count === 0) return 0;
    return this.length + 4 * (this.restarts.length + 1) + BLOCK_TRAILER_BYTES;
  }

  /** Appends `entry`. Requires a storage key of byte chars and a safe version and finite timestamp. */
  add(entry: TableEntry): void {
    const key = entry.key;
    let shared = 0;
    if (this.sinceRestart === this.restartInterval || this.count === 0) {
      this.restarts.push(this.length);
      this.sinceRestart = 0;
    } else {
      const last = this.lastKey;
      const n = Math.min(last.length, key.length);
      while (shared < n && last.charCodeAt(shared) === key.charCodeAt(shared)) shared++;
    }
    const unshared = key.length - shared;
    this.reserve(dataEntrySizeBytesMax(entry));
    const out = this.buf;
    let p = writeVarint(out, this.length, shared);
    p = writeVarint(out, p, unshared);
    for (let i = shared; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (c > 0xff) assert(false, 'a storage key must be a byte string');
      out[p++] = c;
    }
    p = writeVarint(out, p, entry.version);
    const value = entry.value;
    out[p++] = value === null ? ENTRY_TOMBSTONE : ENTRY_PUT;
    this.view.setFloat64(p, entry.timestamp, true);
    p += 8;
    if (value !== null) {
      p = writeVarint(out, p, value.length);
      out.set(value, p);
      p += value.length;
    }
    this.length = p;
    this.lastKey = key;
    this.sinceRestart++;
    this.count++;
  }

  /**
   * Appends the restart array and the trailer and returns the sealed block, then resets for the
   * next block. Requires at least one entry. The result is a fresh array the caller owns.
   */
  finish(): Uint8Array {
    assert(this.count > 0, 'an empty data block');
    const size = this.sizeBytes;
    this.reserve(size - this.length);
    let p = this.length;
    for (const r of this.restarts) {
      this.view.setUint32(p, r, true);
      p += 4;
    }
    this.view.setUint32(p, this.restarts.length, true);
    p += 4;
    const end = sealBlock(this.buf, 0, p, BLOCK_DATA);
    assert(end === size, 'data block size');
    let block: Uint8Array;
    if (this.buf.length > 4 * this.initialBytes) {
      // A block grown for a huge entry: hand its buffer over instead of copying megabytes.
      block = this.buf.subarray(0, end);
      this.buf = new Uint8Array(this.initialBytes);
      this.view = viewOf(this.buf);
    } else {
      block = this.buf.slice(0, end);
    }
    this.length = 0;
    this.restarts = [];
    this.sinceRestart = 0;
    this.lastKey = '';
    this.count = 0;
    return block;
  }

  private reserve(more: number): void {
    const need = this.length + more;
    if (need <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(need, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
    this.view = viewOf(grown);
  }
}

/** Where a data block's restart runs are, and each run's first (whole) key and version. */
export interface DataBlockLayout {
  /** Offset where the entries end and the restart array begins. */
  readonly entriesEnd: number;
  /** Offset of each run's first entry; run r is [restartOffsets[r], restartOffsets[r + 1] or entriesEnd). */
  readonly restartOffsets: number[];
  readonly restartKeys: string[];
  readonly restartVersions: number[];
}

/**
 * Decodes the restart array of a data block payload and the first entry's key and version of each
 * run, checking that runs are in strictly increasing internal order. The runs themselves are
 * decoded on demand by decodeDataRun.
 */
export function decodeDataBlockLayout(payload: Uint8Array): Decoded<DataBlockLayout> {
  const length = payload.length;
  if (length < DATA_PAYLOAD_BYTES_MIN) return bad('data block shorter than one entry', 0);
  const view = viewOf(payload);
  const count = view.getUint32(length - 4, true);
  if (count === 0 || count > (length - 4 - 12) / 4) return bad('bad restart count', length - 4);
  const entriesEnd = length - 4 - 4 * count;
  const restartOffsets: number[] = [];
  const restartKeys: string[] = [];
  const restartVersions: number[] = [];
  for (let r = 0; r < count; r++) {
    const at = entriesEnd + 4 * r;
    const offset = view.getUint32(at, true);
    const previous = r === 0 ? -1 : restartOffsets[r - 1]!;
    if ((r === 0 && offset !== 0) || offset <= previous || offset >= entriesEnd) {
      return bad('bad restart offset', at);
    }
    const shared = readVarint(payload, offset, entriesEnd);
    if (shared.value !== 0) return bad('a restart entry shares its key', offset);
    const unshared = readVarint(payload, shared.next, entriesEnd);
    if (unshared.value < 0 || unshared.next + unshared.value > entriesEnd)
      return bad('bad key length', offset);
    const keyEnd = unshared.next + unshared.value;
    // A restart entry's header, key and version end before the next run starts: runs are
    // disjoint, so decoding every restart key reads each byte at most once.
    const runEnd = r + 1 < count ? view.getUint32(at + 4, true) : entriesEnd;
    const version = readVarint(payload, keyEnd, Math.min(runEnd, entriesEnd));
    if (version.value < 0) return bad('bad version or overlapping restart runs', keyEnd);
    const key = bytesToBinary(payload, unshared.next, keyEnd);
    if (r > 0 && compareEntryKeys(restartKeys[r - 1]!, restartVersions[r - 1]!, key, version.value) >= 0) {
      return bad('restart runs out of order', offset);
    }
    restartOffsets.push(offset);
    restartKeys.push(key);
    restartVersions.push(version.value);
  }
  return { ok: true, value: { entriesEnd, restartOffsets, restartKeys, restartVersions } };
}

/**
 * One restart run decoded into parallel arrays, entry i at index i. A tombstone has
 * valueStarts[i] === -1; a put's value is payload[valueStarts[i], valueEnds[i]).
 */
export interface DataRun {
  readonly keys: string[];
  readonly versions: number[];
  readonly timestamps: number[];
  readonly valueStarts: number[];
  readonly valueEnds: number[];
}

/** Holds the bytes of the key being rebuilt; grown on demand, shared by every decode (single-threaded). */
let keyScratch = new Uint8Array(256);

/**
 * Decodes the entries of `payload[start, end)`, one restart run: the first entry's key must be
 * whole, entries must be in strictly increasing internal order, there must be at most
 * `entriesMax` of them (the table's restart interval), and the last must end at `end`.
 */
export function decodeDataRun(
  payload: Uint8Array,
  start: number,
  end: number,
  entriesMax: number,
): Decoded<DataRun> {
  const keys: string[] = [];
  const versions: number[] = [];
  const timestamps: number[] = [];
  const valueStarts: number[] = [];
  const valueEnds: number[] = [];
  if (start < 0 || end > payload.length || start >= end) return bad('empty restart run', start);
  const view = viewOf(payload);
  let prevKey = '';
  let prevVersion = -1;
  let p = start;
  while (p < end) {
    const entryAt = p;
    if (keys.length === entriesMax) return bad('more entries than the restart interval', entryAt);
    const shared = readVarint(payload, p, end);
    if (shared.value < 0 || shared.value > prevKey.length || (keys.length === 0 && shared.value !== 0)) {
      return bad('bad shared key length', entryAt);
    }
    const unshared = readVarint(payload, shared.next, end);
    if (unshared.value < 0 || unshared.next + unshared.value > end) return bad('bad key length', entryAt);
    const suffixEnd = unshared.next + unshared.value;
    let key: string;
    if (unshared.value === 0 && shared.value === prevKey.length) {
      key = prevKey;
    } else {
      // keyScratch holds prevKey's bytes: overwrite its tail with this entry's suffix.
      const keyLength = shared.value + unshared.value;
      if (keyLength > keyScratch.length) {
        const grown = new Uint8Array(Math.max(keyLength, keyScratch.length * 2));
        grown.set(keyScratch.subarray(0, shared.value));
        keyScratch = grown;
      }
      keyScratch.set(payload.subarray(unshared.next, suffixEnd), shared.value);
      key = bytesToBinary(keyScratch, 0, keyLength);
    }
    const version = readVarint(payload, suffixEnd, end);
    if (version.value < 0 || version.next + 9 > end) return bad('bad version', suffixEnd);
    if (keys.length > 0 && compareEntryKeys(prevKey, prevVersion, key, version.value) >= 0) {
      return bad('entries out of order', entryAt);
    }
    p = version.next;
    const kind = payload[p]!;
    const timestamp = view.getFloat64(p + 1, true);
    p += 9;
    if (kind !== ENTRY_PUT && kind !== ENTRY_TOMBSTONE) return bad('bad entry kind', p - 9);
    if (!Number.isFinite(timestamp)) return bad('timestamp is not finite', p - 8);
    if (kind === ENTRY_PUT) {
      const valueLength = readVarint(payload, p, end);
      if (
        valueLength.value < 0 ||
        valueLength.value > VALUE_SIZE_BYTES_MAX ||
        valueLength.next + valueLength.value > end
      ) {
        return bad('bad value length', p);
      }
      valueStarts.push(valueLength.next);
      p = valueLength.next + valueLength.value;
      valueEnds.push(p);
    } else {
      valueStarts.push(-1);
      valueEnds.push(-1);
    }
    keys.push(key);
    versions.push(version.value);
    timestamps.push(timestamp);
    prevKey = key;
    prevVersion = version.value;
  }
  return { ok: true, value: { keys, versions, timestamps, valueStarts, valueEnds } };
}

// ---------------------------------------------------------------------------------------------
// Point lookup in place

/** probeDataBlock found the entry: its version, timestamp and value (or tombstone) are in the probe. */
export const PROBE_FOUND = 0;
/** The key has no entry at or below the version and timestamp asked for in this table. */
export const PROBE_ABSENT = 1;
/** Every entry of the key from the start point on is newer than the timestamp asked for, and the
 *  block ends on the key: its older versions, if any, are in the next block. */
export const PROBE_NEXT_BLOCK = 2;
/** The bytes are bad: `reason` and `at` (payload offset) say how and where. */
export const PROBE_BAD = 3;

/** The outcome of probeDataBlock, written into a caller-owned object so a lookup allocates nothing. */
export interface BlockProbe {
  status: number;
  version: number;
  timestamp: number;
  /** The value is payload[valueStart, valueEnd); valueStart is -1 for a tombstone. */
  valueStart: number;
  valueEnd: number;
  reason: string;
  at: number;
}

export function newBlockProbe(): BlockProbe {
  return { status: PROBE_ABSENT, version: 0, timestamp: 0, valueStart: -1, valueEnd: -1, reason: '', at: 0 };
}

function probeBad(out: BlockProbe, reason: string, at: number): number {
  out.status = PROBE_BAD;
  out.reason = reason;
  out.at = at;
  return PROBE_BAD;
}

/** Where the varint varintIn read last ends. */
let varintNext = 0;

/**
 * readVarint without a result object, for probeDataBlock's loop: the value (-1 when bad), with
 * the offset after it left in varintNext. One-byte varints, nearly all of them, take no call.
 */
function varintIn(bytes: Uint8Array, p: number, end: number): number {
  if (p < end) {
    const b = bytes[p]!;
    if (b < 0x80) {
      varintNext = p + 1;
      return b;
    }
  }
  const r = readVarint(bytes, p, end);
  varintNext = r.next;
  return r.value;
}

/**
 * Finds, reading the entries of a data block payload in place from the restart point `start` up
 * to `entriesEnd`, the newest entry of `key` with version <= `atVersion` and timestamp <=
 * `atTimestamp`, without building a key string or decoding a run: each entry's key is rebuilt
 * in a scratch buffer and compared with `key` from the first byte it may differ at. `key` is a
 * byte string (chars 0–255); `view` is a DataView of exactly `payload`. The result goes into
 * `out`; the status (one of the PROBE_ constants) is also returned.
 *
 * Hostile bytes cannot mislead it silently: every length is bounds-checked, the entries it walks
 * must be in strictly increasing internal order and their versions within [minVersion,
 * maxVersion], and walking off the end of the block without reaching `key` is reported (the
 * index says the block's last entry is at or after it).
 */
export function probeDataBlock(
  payload: Uint8Array,
  view: DataView,
  start: number,
  entriesEnd: number,
  key: string,
  atVersion: number,
  atTimestamp: number,
  minVersion: number,
  maxVersion: number,
  out: BlockProbe,
): number {
  const keyLength = key.length;
  let scratch = keyScratch;
  /** The length of the key in scratch (the previous entry's), -1 before the first entry. */
  let prevLength = -1;
  let prevVersion = 0;
  /** How many leading bytes the key in scratch shares with `key`. */
  let common = 0;
  let p = start;
  while (p < entriesEnd) {
    const entryAt = p;
    const shared = varintIn(payload, p, entriesEnd);
    p = varintNext;
    const unshared = varintIn(payload, p, entriesEnd);
    p = varintNext;
    if (
      shared < 0 ||
      shared > (prevLength < 0 ? 0 : prevLength) ||
      unshared < 0 ||
      p + unshared > entriesEnd
    ) {
      return probeBad(out, 'bad key lengths', entryAt);
    }
    const length = shared + unshared;
    if (length > scratch.length) {
      const grown = new Uint8Array(Math.max(length, scratch.length * 2));
      grown.set(scratch.subarray(0, shared));
      scratch = grown;
      keyScratch = grown;
    }
    // Order against the previous entry: the first suffix byte against the byte it replaces (or,
    // with an empty suffix, the key must equal the previous one and the version decrease).
    let order = 0; // sign of (this key - previous key)
    let j = shared;
    if (prevLength >= 0) {
      for (let q = p; j < length && j < prevLength; j++, q++) {
        const b = payload[q]!;
        if (b !== scratch[j]) {
          order = b > scratch[j]! ? 1 : -1;
          break;
        }
      }
      if (order === 0) order = length === prevLength ? 0 : length > prevLength ? 1 : -1;
    }
    for (let q = p, i = shared; i < length; i++, q++) scratch[i] = payload[q]!;
    p += unshared;
    const version = varintIn(payload, p, entriesEnd);
    p = varintNext;
    if (version < minVersion || version > maxVersion || p + 9 > entriesEnd) {
      return probeBad(out, 'bad version', entryAt);
    }
    if (prevLength >= 0 && (order < 0 || (order === 0 && version >= prevVersion))) {
      return probeBad(out, 'entries out of order', entryAt);
    }
    const kind = payload[p]!;
    const timestamp = view.getFloat64(p + 1, true);
    p += 9;
    let valueStart = -1;
    let valueEnd = -1;
    if (kind === ENTRY_PUT) {
      const valueLength = varintIn(payload, p, entriesEnd);
      p = varintNext;
      if (valueLength < 0 || valueLength > VALUE_SIZE_BYTES_MAX || p + valueLength > entriesEnd) {
        return probeBad(out, 'bad value length', p);
      }
      valueStart = p;
      p += valueLength;
      valueEnd = p;
    } else if (kind !== ENTRY_TOMBSTONE) {
      return probeBad(out, 'bad entry kind', p - 9);
    }
    if (!Number.isFinite(timestamp)) return probeBad(out, 'timestamp is not finite', p - 8);
    // This key against `key`: they share min(shared, common) bytes for certain.
    let cmp: number;
    if (shared > common) {
      // The byte at `common`, where the previous key left `key`, is unchanged: same side.
      cmp = prevLength === common ? -1 : scratch[common]! < key.charCodeAt(common) ? -1 : 1;
    } else {
      let i = shared;
      while (i < length && i < keyLength && scratch[i] === key.charCodeAt(i)) i++;
      common = i;
      if (i < length && i < keyLength) cmp = scratch[i]! < key.charCodeAt(i) ? -1 : 1;
      else cmp = length === keyLength ? 0 : length < keyLength ? -1 : 1;
    }
    prevLength = length;
    prevVersion = version;
    if (cmp > 0) {
      out.status = PROBE_ABSENT;
      return PROBE_ABSENT;
    }
    if (cmp === 0 && version <= atVersion && timestamp <= atTimestamp) {
      out.status = PROBE_FOUND;
      out.version = version;
      out.timestamp = timestamp;
      out.valueStart = valueStart;
      out.valueEnd = valueEnd;
      return PROBE_FOUND;
    }
  }
  if (p !== entriesEnd) return probeBad(out, 'an entry runs past the entries', p);
  if (prevLength === keyLength && common === keyLength) {
    out.status = PROBE_NEXT_BLOCK;
    return PROBE_NEXT_BLOCK;
  }
  return probeBad(out, 'the block ends before the key its index entry promises', entriesEnd);
}

// ---------------------------------------------------------------------------------------------
// Index block

/** The decoded index: data block i holds the entries up to (lastKeys[i], lastVersions[i]). */
export interface TableIndex {
  readonly lastKeys: string[];
  readonly lastVersions: number[];
  readonly blockOffsets: number[];
  /** Whole block sizes, trailer included. */
  readonly blockSizes: number[];
  /** Where the data blocks end: the sum of their sizes. */
  readonly dataEnd: number;
}

/** Encodes the sealed index block for data blocks with these last entries and sizes. */
export function encodeIndexBlock(
  lastKeys: readonly string[],
  lastVersions: readonly number[],
  blockSizes: readonly number[],
): Uint8Array {
  const count = lastKeys.length;
  assert(count > 0 && lastVersions.length === count && blockSizes.length === count, 'bad index entries');
  let size = varintSize(count);
  for (let i = 0; i < count; i++) {
    const key = lastKeys[i]!;
    size +=
      2 * varintSize(key.length) + key.length + varintSize(lastVersions[i]!) + varintSize(blockSizes[i]!);
  }
  const out = new Uint8Array(size + BLOCK_TRAILER_BYTES);
  let p = writeVarint(out, 0, count);
  let prev = '';
  for (let i = 0; i < count; i++) {
    const key = lastKeys[i]!;
    let shared = 0;
    const n = Math.min(prev.length, key.length);
    while (shared < n && prev.charCodeAt(shared) === key.charCodeAt(shared)) shared++;
    p = writeVarint(out, p, shared);
    p = writeVarint(out, p, key.length - shared);
    for (let j = shared; j < key.length; j++) out[p++] = key.charCodeAt(j);
    p = writeVarint(out, p, lastVersions[i]!);
    p = writeVarint(out, p, blockSizes[i]!);
    prev = key;
  }
  const end = sealBlock(out, 0, p, BLOCK_INDEX);
  return out.subarray(0, end);
}

/** Decodes an index payload; keys must be strictly increasing and every block big enough. */
export function decodeIndexBlock(payload: Uint8Array): Decoded<TableIndex> {
  const end = payload.length;
  const count = readVarint(payload, 0, end);
  if (count.value < 1) return bad('bad index entry count', 0);
  const lastKeys: string[] = [];
  const lastVersions: number[] = [];
  const blockOffsets: number[] = [];
  const blockSizes: number[] = [];
  let dataEnd = 0;
  let prev = '';
  let p = count.next;
  for (let i = 0; i < count.value; i++) {
    const at = p;
    const shared = readVarint(payload, p, end);
    if (shared.value < 0 || shared.value > prev.length) return bad('bad shared key length', at);
    const unshared = readVarint(payload, shared.next, end);
    if (unshared.value < 0 || unshared.next + unshared.value > end) return bad('bad key length', at);
    const suffixEnd = unshared.next + unshared.value;
    const key = prev.slice(0, shared.value) + bytesToBinary(payload, unshared.next, suffixEnd);
    const version = readVarint(payload, suffixEnd, end);
    if (version.value < 0) return bad('bad version', suffixEnd);
    const size = readVarint(payload, version.next, end);
    if (size.value < DATA_PAYLOAD_BYTES_MIN + BLOCK_TRAILER_BYTES) return bad('bad block size', version.next);
    // Every key of a block is spelled out by bytes of that block, so none is longer than it.
    if (key.length > size.value) return bad('index key longer than its block', at);
    if (i > 0 && compareEntryKeys(prev, lastVersions[i - 1]!, key, version.value) >= 0) {
      return bad('index entries out of order', at);
    }
    lastKeys.push(key);
    lastVersions.push(version.value);
    blockOffsets.push(dataEnd);
    blockSizes.push(size.value);
    dataEnd += size.value;
    if (!Number.isSafeInteger(dataEnd)) return bad('block sizes overflow', version.next);
    prev = key;
    p = size.next;
  }
  if (p !== end) return bad('trailing bytes after the index entries', p);
  return { ok: true, value: { lastKeys, lastVersions, blockOffsets, blockSizes, dataEnd } };
}

// ---------------------------------------------------------------------------------------------
// Bloom filter

/**
 * MurmurHash3 (x86, 32-bit, seed 0) of a byte string's bytes. Chosen for the bloom filter: fast
 * on JS strings (4 chars per round, Math.imul), well mixed in every bit, and with published test
 * vectors, so the durable filter is pinned to a known function.
 */
export function bloomHash(key: string): number {
  const n = key.length;
  let h = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let k =
      key.charCodeAt(i) |
      (key.charCodeAt(i + 1) << 8) |
      (key.charCodeAt(i + 2) << 16) |
      (key.charCodeAt(i + 3) << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n - i;
  if (rest > 0) {
    let k = key.charCodeAt(i);
    if (rest > 1) k |= key.charCodeAt(i + 1) << 8;
    if (rest > 2) k |= key.charCodeAt(i + 2) << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A table's bloom filter over its storage keys. probes === 0 means "no filter": everything may match. */
export interface BloomFilter {
  readonly probes: number;
  readonly bits: Uint8Array;
}

/** The number of probes that minimises false positives at `bitsPerKey`: bitsPerKey × ln 2. */
export function bloomProbesFor(bitsPerKey: number): number {
  if (bitsPerKey <= 0) return 0;
  return Math.min(BLOOM_PROBES_MAX, Math.max(1, Math.round(bitsPerKey * Math.LN2)));
}

/**
 * Encodes the sealed filter block for keys with these hashes (bloomHash of each distinct key).
 * Bit positions use double hashing from the one 32-bit hash h: probe j sets bit
 * (h + j × delta) mod m, with delta = h rotated right by 17 (LevelDB's scheme), all mod 2^32.
 */
export function encodeFilterBlock(hashes: ArrayLike<number>, count: number, bitsPerKey: number): Uint8Array {
  const probes = bloomProbesFor(bitsPerKey);
  const byteCount = probes === 0 ? 0 : Math.ceil(Math.max(64, Math.ceil(count * bitsPerKey)) / 8);
  const out = new Uint8Array(1 + byteCount + BLOCK_TRAILER_BYTES);
  out[0] = probes;
  if (probes > 0) {
    const bits = out.subarray(1, 1 + byteCount);
    const m = byteCount * 8;
    for (let i = 0; i < count; i++) {
      let h = hashes[i]!;
      const delta = ((h >>> 17) | (h << 15)) >>> 0;
      for (let j = 0; j < probes; j++) {
        const bit = h % m;
        bits[bit >>> 3]! |= 1 << (bit & 7);
        h = (h + delta) >>> 0;
      }
    }
  }
  sealBlock(out, 0, 1 + byteCount, BLOCK_FILTER);
  return out;
}

export function decodeFilterBlock(payload: Uint8Array): Decoded<BloomFilter> {
  if (payload.length < 1) return bad('empty filter block', 0);
  const probes = payload[0]!;
  const bits = payload.subarray(1);
  if (probes > BLOOM_PROBES_MAX) return bad('too many bloom probes', 0);
  if ((probes === 0) !== (bits.length === 0)) return bad('filter bits do not match its probes', 0);
  return { ok: true, value: { probes, bits } };
}

/** False only when no key with hash `hash` was added to `filter`. */
export function bloomMayContain(filter: BloomFilter, hash: number): boolean {
  const probes = filter.probes;
  if (probes === 0) return true;
  const bits = filter.bits;
  const m = bits.length * 8;
  let h = hash;
  const delta = ((h >>> 17) | (h << 15)) >>> 0;
  for (let j = 0; j < probes; j++) {
    const bit = h % m;
    if ((bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
    h = (h + delta) >>> 0;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Properties block

/** What a table says about itself (the manifest's TableMeta repeats most of it). */
export interface TableProperties {
  readonly entries: number;
  readonly dataBlocks: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly restartInterval: number;
  readonly smallest: string;
  readonly largest: string;
}

export function encodePropertiesBlock(p: TableProperties): Uint8Array {
  const numbers = [p.entries, p.dataBlocks, p.minVersion, p.maxVersion, p.restartInterval];
  let size = 0;
  for (const n of numbers) size += varintSize(n);
  size += varintSize(p.smallest.length) + p.smallest.length + varintSize(p.largest.length) + p.largest.length;
  const out = new Uint8Array(size + BLOCK_TRAILER_BYTES);
  let at = 0;
  for (const n of numbers) at = writeVarint(out, at, n);
  for (const key of [p.smallest, p.largest]) {
    at = writeVarint(out, at, key.length);
    for (let i = 0; i < key.length; i++) out[at++] = key.charCodeAt(i);
  }
  sealBlock(out, 0, at, BLOCK_PROPERTIES);
  return out;
}

export function decodePropertiesBlock(payload: Uint8Array): Decoded<TableProperties> {
  const end = payload.length;
  const numbers: number[] = [];
  let p = 0;
  for (let i = 0; i < 5; i++) {
    const n = readVarint(payload, p, end);
    if (n.value < 0) return bad('bad property', p);
    numbers.push(n.value);
    p = n.next;
  }
  const keys: string[] = [];
  for (let i = 0; i < 2; i++) {
    const length = readVarint(payload, p, end);
    if (length.value < 0 || length.next + length.value > end) return bad('bad key length', p);
    keys.push(bytesToBinary(payload, length.next, length.next + length.value));
    p = length.next + length.value;
  }
  if (p !== end) return bad('trailing bytes after the properties', p);
  const [entries, dataBlocks, minVersion, maxVersion, restartInterval] = numbers as [
    number,
    number,
    number,
    number,
    number,
  ];
  const [smallest, largest] = keys as [string, string];
  if (entries < 1 || dataBlocks < 1 || dataBlocks > entries) return bad('bad entry or block count', 0);
  if (minVersion > maxVersion) return bad('min version above max version', 0);
  if (restartInterval < 1 || restartInterval > RESTART_INTERVAL_MAX) return bad('bad restart interval', 0);
  if (smallest > largest) return bad('smallest key above largest', 0);
  return {
    ok: true,
    value: { entries, dataBlocks, minVersion, maxVersion, restartInterval, smallest, largest },
  };
}

// ---------------------------------------------------------------------------------------------
// Footer

/** Where the non-data blocks are. They follow the data blocks in this order, with no gaps. */
export interface TableFooter {
  readonly fileNumber: number;
  readonly filterOffset: number;
  readonly filterSize: number;
  readonly indexOffset: number;
  readonly indexSize: number;
  readonly propertiesOffset: number;
  readonly propertiesSize: number;
}

export function encodeTableFooter(f: TableFooter): Uint8Array {
  const out = beginHeader(TABLE_MAGIC, TABLE_FOOTER_BYTES);
  const view = viewOf(out);
  view.setUint32(12, f.filterSize, true);
  setU64(view, 16, f.fileNumber);
  setU64(view, 24, f.filterOffset);
  setU64(view, 32, f.indexOffset);
  view.setUint32(40, f.indexSize, true);
  view.setUint32(44, f.propertiesSize, true);
  setU64(view, 48, f.propertiesOffset);
  return sealHeader(out);
}

/**
 * Decodes the footer `bytes` (exactly the last 64 bytes of a table of `tableSize` bytes) and checks
 * that data, filter, index and properties blocks tile the table: data in [0, filterOffset), each
 * block starting where the previous ends, the properties ending where the footer begins.
 */
export function decodeTableFooter(bytes: Uint8Array, tableSize: number): Decoded<TableFooter> {
  const header = checkHeader(bytes, TABLE_MAGIC, TABLE_FOOTER_BYTES);
  if (!header.ok) return bad(header.reason, 0);
  const view = viewOf(bytes);
  const f: TableFooter = {
    fileNumber: getU64(view, 16),
    filterOffset: getU64(view, 24),
    filterSize: view.getUint32(12, true),
    indexOffset: getU64(view, 32),
    indexSize: view.getUint32(40, true),
    propertiesOffset: getU64(view, 48),
    propertiesSize: view.getUint32(44, true),
  };
  if (f.fileNumber < 0 || f.filterOffset < 0 || f.indexOffset < 0 || f.propertiesOffset < 0) {
    return bad('footer field beyond 2^53 - 1', 16);
  }
  if (
    f.filterOffset < DATA_PAYLOAD_BYTES_MIN + BLOCK_TRAILER_BYTES ||
    f.filterSize <= BLOCK_TRAILER_BYTES ||
    f.indexSize <= BLOCK_TRAILER_BYTES ||
    f.propertiesSize <= BLOCK_TRAILER_BYTES ||
    f.filterOffset + f.filterSize !== f.indexOffset ||
    f.indexOffset + f.indexSize !== f.propertiesOffset ||
    f.propertiesOffset + f.propertiesSize + TABLE_FOOTER_BYTES !== tableSize
  ) {
    return bad('block placement does not tile the table', 12);
  }
  return { ok: true, value: f };
}
