/**
 * Storage keys and internal keys. Diagram: docs/formats/internal-key.md.
 *
 *   storage key  = branch id u32 BE | space length u8 | space (UTF-8) | user key bytes
 *   internal key = storage key | ~version u64 BE
 *
 * Big-endian here, unlike every other field, on purpose: these bytes are compared with memcmp,
 * and big-endian makes numeric order equal byte order. The version is stored inverted so that,
 * for one storage key, the newest version sorts first. Internal keys are compared by splitting
 * off the fixed 8-byte trailer (see compareInternalKeys), because a raw memcmp would interleave
 * a key's versions with longer keys that share its prefix.
 *
 * In memory, storage keys are byte strings (one char per byte, see base/bytes.ts).
 */
import { assert, NAME_SIZE_BYTES_MAX, utf8ToBinary } from '../base/index.js';

export const INTERNAL_KEY_TRAILER_BYTES = 8;
export const BRANCH_ID_MAX = 0xffff_ffff;

/** The byte-string prefix shared by every key of one (branch, space): branch id BE and space. */
export function keyspacePrefix(branchId: number, space: string): string {
  assert(Number.isInteger(branchId) && branchId >= 0 && branchId <= BRANCH_ID_MAX, 'bad branch id');
  const spaceBinary = utf8ToBinary(space);
  assert(spaceBinary.length <= NAME_SIZE_BYTES_MAX, 'space name too long');
  return (
    String.fromCharCode(
      (branchId >>> 24) & 0xff,
      (branchId >>> 16) & 0xff,
      (branchId >>> 8) & 0xff,
      branchId & 0xff,
    ) +
    String.fromCharCode(spaceBinary.length) +
    spaceBinary
  );
}

/** Splits a storage key back into its parts; undefined when malformed. */
export function parseStorageKey(
  key: string,
): { branchId: number; space: string; userKey: string } | undefined {
  if (key.length < 5) return undefined;
  const branchId =
    ((key.charCodeAt(0) << 24) | (key.charCodeAt(1) << 16) | (key.charCodeAt(2) << 8) | key.charCodeAt(3)) >>>
    0;
  const spaceLength = key.charCodeAt(4);
  if (5 + spaceLength > key.length) return undefined;
  return { branchId, space: key.slice(5, 5 + spaceLength), userKey: key.slice(5 + spaceLength) };
}

/**
 * Where the memtable splits a storage key into its keyspace part and the rest (an in-memory
 * choice only; no durable format depends on it): after the keyspace prefix and the one primitive
 * tag byte, i.e. at 5 + space length + 1. Indexing by (keyspace, rest) lets a reader look up with
 * its own reused prefix and key strings, whose hashes V8 caches, instead of hashing a fresh
 * concatenation on every read. Keys too short to hold a prefix and tag (only seen in tests) are
 * all keyspace, with an empty rest; the split stays a pure function of the key either way.
 */
export function storageKeySplit(key: string): number {
  if (key.length < 5) return key.length;
  const end = 6 + key.charCodeAt(4);
  return end < key.length ? end : key.length;
}

/** Appends the inverted big-endian version trailer to a storage key. */
export function encodeInternalKey(storageKey: string, version: number): Uint8Array {
  assert(Number.isSafeInteger(version) && version >= 0, 'bad version');
  const out = new Uint8Array(storageKey.length + INTERNAL_KEY_TRAILER_BYTES);
  for (let i = 0; i < storageKey.length; i++) out[i] = storageKey.charCodeAt(i);
  // ~version over 64 bits: the high 32 bits of a safe integer never exceed 2^21.
  const hi = Math.floor(version / 2 ** 32);
  const lo = version % 2 ** 32;
  const at = storageKey.length;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(at, ~hi >>> 0, false);
  view.setUint32(at + 4, ~lo >>> 0, false);
  return out;
}

export function decodeInternalKeyVersion(internalKey: Uint8Array): number {
  assert(internalKey.length >= INTERNAL_KEY_TRAILER_BYTES, 'internal key too short');
  const view = new DataView(internalKey.buffer, internalKey.byteOffset, internalKey.byteLength);
  const at = internalKey.length - INTERNAL_KEY_TRAILER_BYTES;
  const hi = ~view.getUint32(at, false) >>> 0;
  const lo = ~view.getUint32(at + 4, false) >>> 0;
  return hi * 2 ** 32 + lo;
}

/** Orders internal keys: storage key ascending, then version descending (newest first). */
export function compareInternalKeys(a: Uint8Array, b: Uint8Array): number {
  const al = a.length - INTERNAL_KEY_TRAILER_BYTES;
  const bl = b.length - INTERNAL_KEY_TRAILER_BYTES;
  const n = Math.min(al, bl);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  if (al !== bl) return al - bl;
  // Same storage key: the inverted trailer compares bytewise to newest-first order.
  for (let i = 0; i < INTERNAL_KEY_TRAILER_BYTES; i++) {
    const d = a[al + i]! - b[bl + i]!;
    if (d !== 0) return d;
  }
  return 0;
}
