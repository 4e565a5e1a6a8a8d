/**
 * A branch record: what a fork commits, as the value of the row `branchRecordKey(id)` in the
 * system keyspace (branch id 0). Diagram: docs/formats/branch-record.md. It travels inside a WAL
 * frame and a table block, both checksummed, so it carries no checksum of its own; the decoder
 * still treats every byte as hostile.
 *
 *   0   format version u8      1
 *   1   state u8               0 = live, 1 = deleted
 *   2   flags u8               bit 0: forked at the newest version (its fork point was never
 *                              older than what retention keeps); other bits 0
 *   3   reserved u8            0
 *   4   branch id u32          ≥ 2 (0 is the system keyspace, 1 is main, which has no record)
 *   8   parent id u32          ≥ 1, ≠ branch id
 *   12  fork version u64       the parent's rows at or below it are visible to the branch
 *   20  fork timestamp f64     and only those at or before it (+Infinity: no timestamp cap)
 *   28  name length u8         1..255
 *   29  name                   UTF-8, `name length` bytes; nothing follows
 *
 * All integers little-endian. The version and time that created the branch are the row's own.
 */
import { getU64, NAME_SIZE_BYTES_MAX, setU64, utf8Decode, utf8Encode, viewOf } from '../base/index.js';
import { BRANCH_ID_MAX } from './internal-key.js';
import type { Decoded } from './table.js';

export const BRANCH_RECORD_FORMAT = 1;
export const BRANCH_RECORD_HEADER_BYTES = 29;
/** The system keyspace's branch id; main is 1; forks get 2, 3, … (never reused). */
export const SYSTEM_BRANCH_ID = 0;
export const MAIN_BRANCH_ID = 1;

export type BranchState = 'live' | 'deleted';

export interface BranchRecord {
  readonly id: number;
  readonly parent: number;
  readonly name: string;
  readonly forkVersion: number;
  readonly forkTimestamp: number;
  readonly state: BranchState;
  /** Forked at the newest version, not at a past point (see docs/formats/branch-record.md). */
  readonly forkedAtNewest: boolean;
}

/**
 * The storage key of branch `id`'s record: the system keyspace (branch 0, space ''), tag 'B', then
 * the id u32 big-endian, so records sort by id.
 */
export function branchRecordKey(id: number): string {
  return `\0\0\0\0\0B${String.fromCharCode((id >>> 24) & 0xff, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff)}`;
}

/** The prefix every branch record key starts with, and the key bounding them all. */
export const BRANCH_RECORD_PREFIX = '\0\0\0\0\0B';
export const BRANCH_RECORD_END = '\0\0\0\0\0C';

export function encodeBranchRecord(r: BranchRecord): Uint8Array {
  const name = utf8Encode(r.name);
  const out = new Uint8Array(BRANCH_RECORD_HEADER_BYTES + name.length);
  const view = viewOf(out);
  out[0] = BRANCH_RECORD_FORMAT;
  out[1] = r.state === 'live' ? 0 : 1;
  out[2] = r.forkedAtNewest ? 1 : 0;
  view.setUint32(4, r.id, true);
  view.setUint32(8, r.parent, true);
  setU64(view, 12, r.forkVersion);
  view.setFloat64(20, r.forkTimestamp, true);
  out[28] = name.length;
  out.set(name, BRANCH_RECORD_HEADER_BYTES);
  return out;
}

function bad(reason: string, at: number): Decoded<BranchRecord> {
  return { ok: false, reason, at };
}

export function decodeBranchRecord(bytes: Uint8Array): Decoded<BranchRecord> {
  if (bytes.length < BRANCH_RECORD_HEADER_BYTES + 1) return bad('shorter than a branch record', 0);
  const view = viewOf(bytes);
  if (bytes[0] !== BRANCH_RECORD_FORMAT) return bad(`unknown branch record format ${bytes[0]}`, 0);
  const stateByte = bytes[1]!;
  if (stateByte > 1) return bad(`unknown branch state ${stateByte}`, 1);
  const flags = bytes[2]!;
  if ((flags & ~1) !== 0) return bad(`unknown flags ${flags}`, 2);
  if (bytes[3] !== 0) return bad('reserved byte is not zero', 3);
  const id = view.getUint32(4, true);
  if (id <= MAIN_BRANCH_ID || id > BRANCH_ID_MAX) return bad(`bad branch id ${id}`, 4);
  const parent = view.getUint32(8, true);
  if (parent < MAIN_BRANCH_ID || parent === id) return bad(`bad parent id ${parent}`, 8);
  const forkVersion = getU64(view, 12);
  if (forkVersion < 0) return bad('fork version out of range', 12);
  const forkTimestamp = view.getFloat64(20, true);
  if (Number.isNaN(forkTimestamp) || forkTimestamp === Number.NEGATIVE_INFINITY)
    return bad('bad fork timestamp', 20);
  const nameLength = bytes[28]!;
  if (nameLength < 1 || nameLength > NAME_SIZE_BYTES_MAX) return bad('bad name length', 28);
  if (bytes.length !== BRANCH_RECORD_HEADER_BYTES + nameLength)
    return bad('size does not match the name length', 28);
  let name: string;
  try {
    name = utf8Decode(bytes.subarray(BRANCH_RECORD_HEADER_BYTES));
  } catch {
    return bad('name is not valid UTF-8', BRANCH_RECORD_HEADER_BYTES);
  }
  return {
    ok: true,
    value: {
      id,
      parent,
      name,
      forkVersion,
      forkTimestamp,
      state: stateByte === 0 ? 'live' : 'deleted',
      forkedAtNewest: (flags & 1) === 1,
    },
  };
}

/**
 * A merge record: the row a merge of branch `source` into branch `target` commits beside its
 * writes (in the same commit), so that the next merge of the pair starts from what this one took
 * rather than from the fork point. The row's own version is the merge's. Key: system keyspace,
 * tag 'M', target id u32 BE, source id u32 BE. Value (little-endian, 12 bytes):
 *
 *   0   format version u8     1
 *   1   reserved u8 × 3       0
 *   4   source version u64    the source was merged as of this version
 */
export const MERGE_RECORD_BYTES = 12;

export interface MergeRecord {
  readonly sourceVersion: number;
}

export function mergeRecordKey(target: number, source: number): string {
  const id = (n: number): string =>
    String.fromCharCode((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  return `\0\0\0\0\0M${id(target)}${id(source)}`;
}

export function encodeMergeRecord(r: MergeRecord): Uint8Array {
  const out = new Uint8Array(MERGE_RECORD_BYTES);
  out[0] = BRANCH_RECORD_FORMAT;
  setU64(viewOf(out), 4, r.sourceVersion);
  return out;
}

export function decodeMergeRecord(bytes: Uint8Array): Decoded<MergeRecord> {
  if (bytes.length !== MERGE_RECORD_BYTES)
    return { ok: false, reason: `size ${bytes.length}, expected ${MERGE_RECORD_BYTES}`, at: 0 };
  if (bytes[0] !== BRANCH_RECORD_FORMAT)
    return { ok: false, reason: `unknown merge record format ${bytes[0]}`, at: 0 };
  if (bytes[1] !== 0 || bytes[2] !== 0 || bytes[3] !== 0)
    return { ok: false, reason: 'reserved bytes are not zero', at: 1 };
  const sourceVersion = getU64(viewOf(bytes), 4);
  if (sourceVersion < 0) return { ok: false, reason: 'source version out of range', at: 4 };
  return { ok: true, value: { sourceVersion } };
}
