/**
 * WAL record payloads (each carried in one frame). Byte diagram: docs/formats/wal.md.
 *
 * Every record starts with its type and the writer's durable watermark at the time it was
 * written: the newest version the writer knew was synced. Recovery uses it to tell a torn,
 * never-synced tail (which it may discard) from damage inside a synced region (which it must
 * report): a valid record claiming `durable >= v` proves that version v had been synced.
 *
 *   commit:  type=1 u8 | durable u64 | version u64 | timestamp f64 | opCount varint | ops
 *   op:      kind u8 (1 put, 2 delete) | keyLength varint | key | (put: valueLength varint | value)
 *   reserve: type=2 u8 | durable u64 | reservedVersion u64
 *   close:   type=3 u8 | durable u64 | lastVersion u64 (the highest version the session issued)
 *
 * Keys are storage keys (see internal-key.ts) held as byte strings; values are opaque bytes.
 */
import {
  BATCH_OPS_MAX,
  bytesToBinary,
  getU64,
  readVarint,
  setU64,
  VALUE_SIZE_BYTES_MAX,
  varintSize,
  viewOf,
  writeBinary,
  writeVarint,
} from '../base/index.js';

export const RECORD_COMMIT = 1;
export const RECORD_RESERVE = 2;
export const RECORD_CLOSE = 3;

const OP_PUT = 1;
const OP_DELETE = 2;

/** One write of a commit batch: a storage key (byte string) and its new value, or null to delete. */
export interface WriteOp {
  readonly key: string;
  readonly value: Uint8Array | null;
}

export type WalRecord =
  | { type: 'commit'; durable: number; version: number; timestamp: number; ops: WriteOp[] }
  | { type: 'reserve'; durable: number; reservedVersion: number }
  | { type: 'close'; durable: number; lastVersion: number };

const COMMIT_FIXED_BYTES = 1 + 8 + 8 + 8;

export function commitPayloadSize(ops: readonly WriteOp[]): number {
  let n = COMMIT_FIXED_BYTES + varintSize(ops.length);
  for (const op of ops) {
    n += 1 + varintSize(op.key.length) + op.key.length;
    if (op.value !== null) n += varintSize(op.value.length) + op.value.length;
  }
  return n;
}

/** Writes a commit payload at `out[at, ...)`; returns the offset after it. */
export function writeCommitPayload(
  out: Uint8Array,
  at: number,
  durable: number,
  version: number,
  timestamp: number,
  ops: readonly WriteOp[],
): number {
  const view = viewOf(out);
  out[at] = RECORD_COMMIT;
  setU64(view, at + 1, durable);
  setU64(view, at + 9, version);
  view.setFloat64(at + 17, timestamp, true);
  let p = writeVarint(out, at + COMMIT_FIXED_BYTES, ops.length);
  for (const op of ops) {
    out[p++] = op.value === null ? OP_DELETE : OP_PUT;
    p = writeVarint(out, p, op.key.length);
    p = writeBinary(out, p, op.key);
    if (op.value !== null) {
      p = writeVarint(out, p, op.value.length);
      out.set(op.value, p);
      p += op.value.length;
    }
  }
  return p;
}

export const MARKER_PAYLOAD_BYTES = 17;

/** Writes a reserve or close payload (same shape: type, durable, one version). */
export function writeMarkerPayload(
  out: Uint8Array,
  at: number,
  type: typeof RECORD_RESERVE | typeof RECORD_CLOSE,
  durable: number,
  version: number,
): number {
  const view = viewOf(out);
  out[at] = type;
  setU64(view, at + 1, durable);
  setU64(view, at + 9, version);
  return at + MARKER_PAYLOAD_BYTES;
}

/**
 * Decodes a record payload at `bytes[start, end)`. Returns undefined when the payload is
 * malformed, which after a verified checksum means a writer bug or a collision: callers treat
 * it as corruption. Values are copied so the segment buffer can be released.
 */
export function decodeWalRecord(bytes: Uint8Array, start: number, end: number): WalRecord | undefined {
  if (end - start < MARKER_PAYLOAD_BYTES) return undefined;
  const view = viewOf(bytes);
  const type = bytes[start];
  const durable = getU64(view, start + 1);
  if (durable < 0) return undefined;
  if (type === RECORD_RESERVE || type === RECORD_CLOSE) {
    if (end - start !== MARKER_PAYLOAD_BYTES) return undefined;
    const v = getU64(view, start + 9);
    if (v < 0) return undefined;
    return type === RECORD_RESERVE
      ? { type: 'reserve', durable, reservedVersion: v }
      : { type: 'close', durable, lastVersion: v };
  }
  if (type !== RECORD_COMMIT || end - start < COMMIT_FIXED_BYTES + 1) return undefined;
  const version = getU64(view, start + 9);
  const timestamp = view.getFloat64(start + 17, true);
  if (version <= 0 || !Number.isFinite(timestamp)) return undefined;
  const count = readVarint(bytes, start + COMMIT_FIXED_BYTES, end);
  if (count.value < 1 || count.value > BATCH_OPS_MAX) return undefined;
  let p = count.next;
  const ops: WriteOp[] = [];
  for (let i = 0; i < count.value; i++) {
    if (p >= end) return undefined;
    const kind = bytes[p++];
    if (kind !== OP_PUT && kind !== OP_DELETE) return undefined;
    const keyLength = readVarint(bytes, p, end);
    if (keyLength.value < 0 || keyLength.next + keyLength.value > end) return undefined;
    const key = bytesToBinary(bytes, keyLength.next, keyLength.next + keyLength.value);
    p = keyLength.next + keyLength.value;
    if (kind === OP_DELETE) {
      ops.push({ key, value: null });
      continue;
    }
    const valueLength = readVarint(bytes, p, end);
    if (valueLength.value < 0 || valueLength.value > VALUE_SIZE_BYTES_MAX) return undefined;
    if (valueLength.next + valueLength.value > end) return undefined;
    ops.push({ key, value: bytes.slice(valueLength.next, valueLength.next + valueLength.value) });
    p = valueLength.next + valueLength.value;
  }
  if (p !== end) return undefined;
  return { type: 'commit', durable, version, timestamp, ops };
}
