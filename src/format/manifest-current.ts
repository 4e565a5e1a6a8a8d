/**
 * `manifest/current`: the root of the durable state, replaced only through an atomic publish.
 * Diagram: docs/formats/manifest-current.md.
 *
 * Two formats live here while the engine moves to the manifest log: the pointer (magic
 * `STRATMPT`, further down), which names the live manifest log, and the original record below
 * (magic `STRATMAN`), which named a snapshot and the first WAL segment. The record goes once
 * recovery reads the log.
 *
 *   0   magic "STRATMAN"          8 B
 *   8   format version u16        1
 *   10  size u16                  64
 *   12  flags u32                 0 (reserved)
 *   16  snapshot file u64         0 = no checkpoint yet
 *   24  snapshot version u64      newest version the snapshot holds (0 without one)
 *   32  WAL start file u64        first WAL segment recovery replays
 *   40  next file number u64      file numbers below it were handed out; never reused
 *   48  reserved version u64      versions up to here may have been issued before this was written
 *   56  crc u32                   masked CRC-32C of bytes [0, 56)
 *   60  zero u32
 */
import { assert, getU64, setU64, viewOf } from '../base/index.js';
import { beginHeader, checkHeader, sealHeader } from './fixed-header.js';

export const MANIFEST_MAGIC = 'STRATMAN';
export const MANIFEST_CURRENT_BYTES = 64;

export interface ManifestCurrent {
  snapshotFile: number;
  snapshotVersion: number;
  walStartFile: number;
  nextFileNumber: number;
  reservedVersion: number;
}

export function encodeManifestCurrent(m: ManifestCurrent): Uint8Array {
  const out = beginHeader(MANIFEST_MAGIC, MANIFEST_CURRENT_BYTES);
  const view = viewOf(out);
  setU64(view, 16, m.snapshotFile);
  setU64(view, 24, m.snapshotVersion);
  setU64(view, 32, m.walStartFile);
  setU64(view, 40, m.nextFileNumber);
  setU64(view, 48, m.reservedVersion);
  return sealHeader(out);
}

export type ManifestRead = { ok: true; manifest: ManifestCurrent } | { ok: false; reason: string };

export function decodeManifestCurrent(bytes: Uint8Array): ManifestRead {
  if (bytes.length !== MANIFEST_CURRENT_BYTES)
    return { ok: false, reason: `size ${bytes.length}, expected 64` };
  const check = checkHeader(bytes, MANIFEST_MAGIC, MANIFEST_CURRENT_BYTES);
  if (!check.ok) return check;
  const view = viewOf(bytes);
  if (view.getUint32(12, true) !== 0) return { ok: false, reason: 'unknown flags' };
  const m: ManifestCurrent = {
    snapshotFile: getU64(view, 16),
    snapshotVersion: getU64(view, 24),
    walStartFile: getU64(view, 32),
    nextFileNumber: getU64(view, 40),
    reservedVersion: getU64(view, 48),
  };
  if (Object.values(m).some((v) => v < 0)) return { ok: false, reason: 'field out of range' };
  if (m.walStartFile < 1 || m.nextFileNumber < m.walStartFile || m.nextFileNumber <= m.snapshotFile) {
    return { ok: false, reason: 'inconsistent file numbers' };
  }
  if ((m.snapshotFile === 0) !== (m.snapshotVersion === 0))
    return { ok: false, reason: 'inconsistent snapshot fields' };
  return { ok: true, manifest: m };
}

/*
 * The manifest pointer: what `manifest/current` holds once the manifest is a log of edits
 * (docs/formats/manifest.md). It names the live manifest log and nothing else; everything the
 * old record above held now lives in the log's edits. Replaced only through `backend.publish`.
 *
 *   0   magic "STRATMPT"          8 B
 *   8   format version u16        1
 *   10  size u16                  64
 *   12  flags u32                 0 (reserved)
 *   16  manifest file u64         the live log is manifest/<manifest file>.log; >= 1
 *   24  reserved                  32 B, all zero
 *   56  crc u32                   masked CRC-32C of bytes [0, 56)
 *   60  zero u32
 */

export const MANIFEST_POINTER_MAGIC = 'STRATMPT';
export const MANIFEST_POINTER_BYTES = 64;
const POINTER_RESERVED_START = 24;
const POINTER_RESERVED_END = 56;

export interface ManifestPointer {
  /** File number of the live manifest log, `manifest/<manifestFile>.log`. */
  manifestFile: number;
}

/** Encodes the pointer. Requires `manifestFile` to be a safe integer >= 1 (asserted). */
export function encodeManifestPointer(p: ManifestPointer): Uint8Array {
  assert(Number.isSafeInteger(p.manifestFile) && p.manifestFile >= 1, 'bad manifest file number');
  const out = beginHeader(MANIFEST_POINTER_MAGIC, MANIFEST_POINTER_BYTES);
  setU64(viewOf(out), 16, p.manifestFile);
  return sealHeader(out);
}

export type ManifestPointerRead = { ok: true; pointer: ManifestPointer } | { ok: false; reason: string };

/**
 * Decodes a pointer, treating every byte as hostile: anything but exactly 64 bytes with a valid
 * header, zero flags, zero reserved bytes and a file number in 1 ..= 2^53 − 1 is `{ ok: false }`.
 * Never throws.
 */
export function decodeManifestPointer(bytes: Uint8Array): ManifestPointerRead {
  if (bytes.length !== MANIFEST_POINTER_BYTES)
    return { ok: false, reason: `size ${bytes.length}, expected ${MANIFEST_POINTER_BYTES}` };
  const check = checkHeader(bytes, MANIFEST_POINTER_MAGIC, MANIFEST_POINTER_BYTES);
  if (!check.ok) return check;
  const view = viewOf(bytes);
  if (view.getUint32(12, true) !== 0) return { ok: false, reason: 'unknown flags' };
  for (let i = POINTER_RESERVED_START; i < POINTER_RESERVED_END; i++) {
    if (bytes[i] !== 0) return { ok: false, reason: 'reserved bytes are not zero' };
  }
  const manifestFile = getU64(view, 16);
  if (manifestFile < 1) return { ok: false, reason: 'manifest file number out of range' };
  return { ok: true, pointer: { manifestFile } };
}
