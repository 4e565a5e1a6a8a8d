/**
 * Manifest edits: the payload of each frame of a manifest log. Byte diagram:
 * docs/formats/manifest.md.
 *
 * An edit is a list of tagged fields, each tag one byte, in strictly ascending tag order, each
 * at most once, closed by the end tag 0 (so a payload cut short at a field boundary is still
 * rejected, and the empty edit `{}` is the one byte `00`):
 *
 *   1 full               no value; present only when the edit is the whole state
 *   2 walStartFile       varint
 *   3 nextFileNumber     varint
 *   4 reservedVersion    varint
 *   5 flushedVersion     varint
 *   6 flushedTimestamp   f64 LE, finite
 *   7 removed            count varint >= 1, then count x (level u8 | fileNumber varint)
 *   8 added              count varint >= 1, then count x table:
 *                        level u8 | fileNumber varint | size varint |
 *                        smallestLength varint | smallest | largestLength varint | largest |
 *                        minVersion varint | maxVersion varint | entries varint
 *   0 end                no value; the last byte of the payload
 *
 * An unknown tag, a repeated or out-of-order tag, or bytes left over are malformed: a reader
 * never skips what it does not understand, since an edit it half applies would give a wrong
 * table set. New fields therefore need a format version bump (fixed-header.ts).
 *
 * The encoding is canonical: each edit has exactly one encoding (minimal varints, fixed order),
 * so decode(bytes) re-encodes to the same bytes. `full: false` and empty lists are not written,
 * so they decode as absent.
 *
 * The decoder checks structure only (bounds, tags, levels, key lengths, safe integers). Whether
 * an edit makes sense against a state (smallest <= largest, no overlap, counters not going
 * backwards) is checked by `applyEdit` in src/lsm/manifest-log.ts.
 */
import {
  assert,
  bytesToBinary,
  readVarint,
  varintSize,
  viewOf,
  writeBinary,
  writeVarint,
} from '../base/index.js';
import type { TableMeta } from './table-meta.js';

/** Levels 0 .. MANIFEST_LEVELS − 1; the decoder rejects any other level byte. */
export const MANIFEST_LEVELS = 7;
/**
 * Longest smallest/largest key a manifest edit may carry, in bytes. Storage keys are at most
 * 4 + 1 + 255 + 1 + 4096 bytes (internal-key.md); the margin leaves room for new primitives
 * while still bounding what a hostile length can make the decoder allocate.
 */
export const MANIFEST_KEY_BYTES_MAX = 65_536;

export const EDIT_TAG_END = 0;
export const EDIT_TAG_FULL = 1;
export const EDIT_TAG_WAL_START_FILE = 2;
export const EDIT_TAG_NEXT_FILE_NUMBER = 3;
export const EDIT_TAG_RESERVED_VERSION = 4;
export const EDIT_TAG_FLUSHED_VERSION = 5;
export const EDIT_TAG_FLUSHED_TIMESTAMP = 6;
export const EDIT_TAG_REMOVED = 7;
export const EDIT_TAG_ADDED = 8;

/** One table added to a level by an edit. */
export interface AddedTable {
  level: number;
  table: TableMeta;
}

/** One table removed from a level by an edit. */
export interface RemovedTable {
  level: number;
  fileNumber: number;
}

/** One change to the durable LSM state (docs/formats/manifest.md). Absent fields are unchanged. */
export interface ManifestEdit {
  /** true: this edit is the whole state (the first record of every log); levels absent from it are empty. */
  full?: boolean;
  /** The first WAL segment recovery replays; older segments are unreachable. */
  walStartFile?: number;
  /** Every file number below it has been handed out; numbers are never reused. */
  nextFileNumber?: number;
  /** Versions up to here may have been issued (and seen) before this edit was written. */
  reservedVersion?: number;
  /** Every version <= flushedVersion is in tables; WAL replay skips them. */
  flushedVersion?: number;
  /** The timestamp of flushedVersion (ms since the Unix epoch; f64). */
  flushedTimestamp?: number;
  /** Tables added, applied after the removals (so a table can move between levels in one edit). */
  added?: AddedTable[];
  removed?: RemovedTable[];
}

const COUNTER_TAGS = [
  [EDIT_TAG_WAL_START_FILE, 'walStartFile'],
  [EDIT_TAG_NEXT_FILE_NUMBER, 'nextFileNumber'],
  [EDIT_TAG_RESERVED_VERSION, 'reservedVersion'],
  [EDIT_TAG_FLUSHED_VERSION, 'flushedVersion'],
] as const;

function isSafeCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function checkByteString(s: string, what: string): void {
  assert(s.length <= MANIFEST_KEY_BYTES_MAX, `${what} longer than ${MANIFEST_KEY_BYTES_MAX} bytes`);
  for (let i = 0; i < s.length; i++) assert(s.charCodeAt(i) <= 0xff, `${what} is not a byte string`);
}

function checkLevel(level: number): void {
  assert(Number.isInteger(level) && level >= 0 && level < MANIFEST_LEVELS, `level ${level} out of range`);
}

function tableSize(t: AddedTable): number {
  const m = t.table;
  return (
    1 +
    varintSize(m.fileNumber) +
    varintSize(m.size) +
    varintSize(m.smallest.length) +
    m.smallest.length +
    varintSize(m.largest.length) +
    m.largest.length +
    varintSize(m.minVersion) +
    varintSize(m.maxVersion) +
    varintSize(m.entries)
  );
}

/**
 * Encodes `edit` as a payload (to be framed by the caller, one frame per edit).
 * Requires (asserted: a violation is a bug in Strata) that every number is a safe non-negative integer (file numbers >= 1), the timestamp is
 * finite, levels are 0..6, and keys are byte strings of at most MANIFEST_KEY_BYTES_MAX bytes.
 */
export function encodeManifestEdit(edit: ManifestEdit): Uint8Array {
  let size = 1; // the end tag
  if (edit.full === true) size += 1;
  for (const [, field] of COUNTER_TAGS) {
    const v = edit[field];
    if (v === undefined) continue;
    assert(isSafeCount(v), `${field} out of range: ${v}`);
    size += 1 + varintSize(v);
  }
  if (edit.flushedTimestamp !== undefined) {
    assert(Number.isFinite(edit.flushedTimestamp), 'flushedTimestamp must be finite');
    size += 1 + 8;
  }
  const removed = edit.removed ?? [];
  if (removed.length > 0) {
    size += 1 + varintSize(removed.length);
    for (const r of removed) {
      checkLevel(r.level);
      assert(Number.isSafeInteger(r.fileNumber) && r.fileNumber >= 1, 'bad removed file number');
      size += 1 + varintSize(r.fileNumber);
    }
  }
  const added = edit.added ?? [];
  if (added.length > 0) {
    size += 1 + varintSize(added.length);
    for (const a of added) {
      checkLevel(a.level);
      const m = a.table;
      assert(Number.isSafeInteger(m.fileNumber) && m.fileNumber >= 1, 'bad table file number');
      for (const v of [m.size, m.minVersion, m.maxVersion, m.entries])
        assert(isSafeCount(v), `table field out of range: ${v}`);
      checkByteString(m.smallest, 'smallest key');
      checkByteString(m.largest, 'largest key');
      size += tableSize(a);
    }
  }

  const out = new Uint8Array(size);
  let p = 0;
  if (edit.full === true) out[p++] = EDIT_TAG_FULL;
  for (const [tag, field] of COUNTER_TAGS) {
    const v = edit[field];
    if (v === undefined) continue;
    out[p++] = tag;
    p = writeVarint(out, p, v);
  }
  if (edit.flushedTimestamp !== undefined) {
    out[p++] = EDIT_TAG_FLUSHED_TIMESTAMP;
    viewOf(out).setFloat64(p, edit.flushedTimestamp, true);
    p += 8;
  }
  if (removed.length > 0) {
    out[p++] = EDIT_TAG_REMOVED;
    p = writeVarint(out, p, removed.length);
    for (const r of removed) {
      out[p++] = r.level;
      p = writeVarint(out, p, r.fileNumber);
    }
  }
  if (added.length > 0) {
    out[p++] = EDIT_TAG_ADDED;
    p = writeVarint(out, p, added.length);
    for (const { level, table: m } of added) {
      out[p++] = level;
      p = writeVarint(out, p, m.fileNumber);
      p = writeVarint(out, p, m.size);
      p = writeVarint(out, p, m.smallest.length);
      p = writeBinary(out, p, m.smallest);
      p = writeVarint(out, p, m.largest.length);
      p = writeBinary(out, p, m.largest);
      p = writeVarint(out, p, m.minVersion);
      p = writeVarint(out, p, m.maxVersion);
      p = writeVarint(out, p, m.entries);
    }
  }
  out[p++] = EDIT_TAG_END;
  assert(p === size, 'manifest edit size');
  return out;
}

/** A cursor over `bytes[p, end)` that reports malformed input as `undefined` results. */
class Reader {
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private p: number,
    private readonly end: number,
  ) {
    this.view = viewOf(bytes);
  }

  get done(): boolean {
    return this.p >= this.end;
  }

  get remaining(): number {
    return this.end - this.p;
  }

  u8(): number | undefined {
    if (this.p >= this.end) return undefined;
    return this.bytes[this.p++];
  }

  varint(): number | undefined {
    const r = readVarint(this.bytes, this.p, this.end);
    if (r.value < 0) return undefined;
    this.p = r.next;
    return r.value;
  }

  f64(): number | undefined {
    if (this.end - this.p < 8) return undefined;
    const v = this.view.getFloat64(this.p, true);
    this.p += 8;
    return v;
  }

  /** A length-prefixed byte string of at most `max` bytes. */
  binary(max: number): string | undefined {
    const n = this.varint();
    if (n === undefined || n > max || n > this.end - this.p) return undefined;
    const s = bytesToBinary(this.bytes, this.p, this.p + n);
    this.p += n;
    return s;
  }

  level(): number | undefined {
    const l = this.u8();
    return l !== undefined && l < MANIFEST_LEVELS ? l : undefined;
  }

  fileNumber(): number | undefined {
    const n = this.varint();
    return n !== undefined && n >= 1 ? n : undefined;
  }
}

/** The fewest bytes one removed entry and one added table take: bounds a hostile count. */
const REMOVED_ENTRY_BYTES_MIN = 2;
const ADDED_ENTRY_BYTES_MIN = 8;

function readTable(r: Reader): AddedTable | undefined {
  const level = r.level();
  if (level === undefined) return undefined;
  const fileNumber = r.fileNumber();
  const size = r.varint();
  if (fileNumber === undefined || size === undefined) return undefined;
  const smallest = r.binary(MANIFEST_KEY_BYTES_MAX);
  if (smallest === undefined) return undefined;
  const largest = r.binary(MANIFEST_KEY_BYTES_MAX);
  if (largest === undefined) return undefined;
  const minVersion = r.varint();
  const maxVersion = r.varint();
  const entries = r.varint();
  if (minVersion === undefined || maxVersion === undefined || entries === undefined) return undefined;
  return { level, table: { fileNumber, size, smallest, largest, minVersion, maxVersion, entries } };
}

/**
 * Decodes the edit payload at `bytes[start, end)`. Returns undefined when it is malformed:
 * no end tag or bytes after it, an unknown, repeated or out-of-order tag, a truncated field, a non-minimal varint, a
 * number beyond 2^53 − 1, a non-finite timestamp, a level above 6, file number 0, an empty
 * list, or a key longer than MANIFEST_KEY_BYTES_MAX. Never throws; allocates
 * at most in proportion to `end − start`. Keys are returned as byte strings.
 */
export function decodeManifestEdit(bytes: Uint8Array, start: number, end: number): ManifestEdit | undefined {
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start < end))
    return undefined;
  if (end > bytes.length) return undefined;
  const r = new Reader(bytes, start, end);
  const edit: ManifestEdit = {};
  let lastTag = 0;
  for (;;) {
    const tag = r.u8();
    if (tag === undefined) return undefined;
    if (tag === EDIT_TAG_END) return r.done ? edit : undefined;
    if (tag <= lastTag) return undefined;
    lastTag = tag;
    switch (tag) {
      case EDIT_TAG_FULL:
        edit.full = true;
        break;
      case EDIT_TAG_WAL_START_FILE:
      case EDIT_TAG_NEXT_FILE_NUMBER:
      case EDIT_TAG_RESERVED_VERSION:
      case EDIT_TAG_FLUSHED_VERSION: {
        const v = r.varint();
        if (v === undefined) return undefined;
        if (tag === EDIT_TAG_WAL_START_FILE) edit.walStartFile = v;
        else if (tag === EDIT_TAG_NEXT_FILE_NUMBER) edit.nextFileNumber = v;
        else if (tag === EDIT_TAG_RESERVED_VERSION) edit.reservedVersion = v;
        else edit.flushedVersion = v;
        break;
      }
      case EDIT_TAG_FLUSHED_TIMESTAMP: {
        const t = r.f64();
        if (t === undefined || !Number.isFinite(t)) return undefined;
        edit.flushedTimestamp = t;
        break;
      }
      case EDIT_TAG_REMOVED: {
        const count = r.varint();
        if (count === undefined || count < 1 || count * REMOVED_ENTRY_BYTES_MIN > r.remaining)
          return undefined;
        const removed: RemovedTable[] = [];
        for (let i = 0; i < count; i++) {
          const level = r.level();
          if (level === undefined) return undefined;
          const fileNumber = r.fileNumber();
          if (fileNumber === undefined) return undefined;
          removed.push({ level, fileNumber });
        }
        edit.removed = removed;
        break;
      }
      case EDIT_TAG_ADDED: {
        const count = r.varint();
        if (count === undefined || count < 1 || count * ADDED_ENTRY_BYTES_MIN > r.remaining) return undefined;
        const added: AddedTable[] = [];
        for (let i = 0; i < count; i++) {
          const t = readTable(r);
          if (t === undefined) return undefined;
          added.push(t);
        }
        edit.added = added;
        break;
      }
      default:
        return undefined;
    }
  }
}
