/**
 * Snapshot (checkpoint) files, `snapshots/<n>.snap`: every version of every key up to one
 * version, so recovery loads it and replays only the WAL after it. Diagram: docs/formats/snapshot.md.
 *
 * Header (40 B):
 *   0   magic "STRATSNP"   8 B
 *   8   format version u16 1
 *   10  header size u16    40
 *   12  file number u32
 *   16  version u64        the newest version the snapshot holds
 *   24  timestamp f64      that version's commit timestamp
 *   32  crc u32            masked CRC-32C of bytes [0, 32)
 *   36  zero u32
 * Then frames (docs/formats/frame.md), each payload one of:
 *   block: type=1 u8 | count varint | count × entry
 *   entry: keyLength varint | key | version varint | timestamp f64 | flags u8 (bit 0: tombstone)
 *          | (not a tombstone: valueLength varint | value)
 *   end:   type=2 u8 | entry count u64 | block count u64      (last frame; proves completeness)
 * Entries are sorted by key, and by version ascending within a key.
 */
import {
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
import { beginHeader, checkHeader, sealHeader } from './fixed-header.js';

export const SNAPSHOT_MAGIC = 'STRATSNP';
export const SNAPSHOT_HEADER_BYTES = 40;
export const SNAPSHOT_BLOCK = 1;
export const SNAPSHOT_END = 2;
export const SNAPSHOT_END_PAYLOAD_BYTES = 17;

export interface SnapshotHeader {
  fileNumber: number;
  version: number;
  timestamp: number;
}

/** One stored version of one key. `value === null` is a tombstone (a delete). */
export interface SnapshotEntry {
  key: string;
  version: number;
  timestamp: number;
  value: Uint8Array | null;
}

export function encodeSnapshotHeader(h: SnapshotHeader): Uint8Array {
  const out = beginHeader(SNAPSHOT_MAGIC, SNAPSHOT_HEADER_BYTES);
  const view = viewOf(out);
  view.setUint32(12, h.fileNumber, true);
  setU64(view, 16, h.version);
  view.setFloat64(24, h.timestamp, true);
  return sealHeader(out);
}

export type SnapshotHeaderRead = { ok: true; header: SnapshotHeader } | { ok: false; reason: string };

export function decodeSnapshotHeader(bytes: Uint8Array): SnapshotHeaderRead {
  const check = checkHeader(bytes, SNAPSHOT_MAGIC, SNAPSHOT_HEADER_BYTES);
  if (!check.ok) return check;
  const view = viewOf(bytes);
  const version = getU64(view, 16);
  const timestamp = view.getFloat64(24, true);
  if (version < 0 || !Number.isFinite(timestamp)) return { ok: false, reason: 'field out of range' };
  return { ok: true, header: { fileNumber: view.getUint32(12, true), version, timestamp } };
}

export function snapshotEntrySize(e: SnapshotEntry): number {
  let n = varintSize(e.key.length) + e.key.length + varintSize(e.version) + 8 + 1;
  if (e.value !== null) n += varintSize(e.value.length) + e.value.length;
  return n;
}

/** Writes a block payload holding `entries` at `out[at, ...)`; returns the offset after it. */
export function writeSnapshotBlock(out: Uint8Array, at: number, entries: readonly SnapshotEntry[]): number {
  const view = viewOf(out);
  out[at] = SNAPSHOT_BLOCK;
  let p = writeVarint(out, at + 1, entries.length);
  for (const e of entries) {
    p = writeVarint(out, p, e.key.length);
    p = writeBinary(out, p, e.key);
    p = writeVarint(out, p, e.version);
    view.setFloat64(p, e.timestamp, true);
    p += 8;
    out[p++] = e.value === null ? 1 : 0;
    if (e.value !== null) {
      p = writeVarint(out, p, e.value.length);
      out.set(e.value, p);
      p += e.value.length;
    }
  }
  return p;
}

export function writeSnapshotEnd(
  out: Uint8Array,
  at: number,
  entryCount: number,
  blockCount: number,
): number {
  const view = viewOf(out);
  out[at] = SNAPSHOT_END;
  setU64(view, at + 1, entryCount);
  setU64(view, at + 9, blockCount);
  return at + SNAPSHOT_END_PAYLOAD_BYTES;
}

export type SnapshotPayload =
  | { type: 'block'; entries: SnapshotEntry[] }
  | { type: 'end'; entryCount: number; blockCount: number };

/** Decodes one frame payload of a snapshot; undefined when malformed (hostile input). */
export function decodeSnapshotPayload(
  bytes: Uint8Array,
  start: number,
  end: number,
): SnapshotPayload | undefined {
  if (end <= start) return undefined;
  const view = viewOf(bytes);
  if (bytes[start] === SNAPSHOT_END) {
    if (end - start !== SNAPSHOT_END_PAYLOAD_BYTES) return undefined;
    const entryCount = getU64(view, start + 1);
    const blockCount = getU64(view, start + 9);
    if (entryCount < 0 || blockCount < 0) return undefined;
    return { type: 'end', entryCount, blockCount };
  }
  if (bytes[start] !== SNAPSHOT_BLOCK) return undefined;
  const count = readVarint(bytes, start + 1, end);
  if (count.value < 0) return undefined;
  let p = count.next;
  const entries: SnapshotEntry[] = [];
  for (let i = 0; i < count.value; i++) {
    const kl = readVarint(bytes, p, end);
    if (kl.value < 0 || kl.next + kl.value > end) return undefined;
    const key = bytesToBinary(bytes, kl.next, kl.next + kl.value);
    const version = readVarint(bytes, kl.next + kl.value, end);
    if (version.value < 1 || version.next + 9 > end) return undefined;
    p = version.next;
    const timestamp = view.getFloat64(p, true);
    const flags = bytes[p + 8]!;
    p += 9;
    if (!Number.isFinite(timestamp) || (flags & ~1) !== 0) return undefined;
    let value: Uint8Array | null = null;
    if (flags === 0) {
      const vl = readVarint(bytes, p, end);
      if (vl.value < 0 || vl.value > VALUE_SIZE_BYTES_MAX || vl.next + vl.value > end) return undefined;
      value = bytes.slice(vl.next, vl.next + vl.value);
      p = vl.next + vl.value;
    }
    entries.push({ key, version: version.value, timestamp, value });
  }
  if (p !== end) return undefined;
  return { type: 'block', entries };
}
