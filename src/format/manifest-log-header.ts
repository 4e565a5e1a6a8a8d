/**
 * The manifest log header: the first 32 bytes of every `manifest/<n>.log`.
 * Diagram: docs/formats/manifest.md.
 *
 *   0   magic "STRATMLG"        8 B
 *   8   format version u16      1
 *   10  header size u16         32
 *   12  flags u32               0 (reserved)
 *   16  file number u64         must match the object's name
 *   24  crc u32                 masked CRC-32C of bytes [0, 24)
 *   28  zero u32
 *
 * Frames (docs/formats/frame.md) follow from byte 32 to the end of the log, one edit each
 * (manifest-edit.ts).
 */
import { assert, getU64, setU64, viewOf } from '../base/index.js';
import { beginHeader, checkHeader, sealHeader } from './fixed-header.js';

export const MANIFEST_LOG_MAGIC = 'STRATMLG';
export const MANIFEST_LOG_HEADER_BYTES = 32;

export interface ManifestLogHeader {
  /** The log's file number (also in its name; the reader checks the two agree). */
  fileNumber: number;
}

/** Encodes the header. Requires a safe integer file number >= 1 (asserted). */
export function encodeManifestLogHeader(h: ManifestLogHeader): Uint8Array {
  assert(Number.isSafeInteger(h.fileNumber) && h.fileNumber >= 1, 'bad manifest log file number');
  const out = beginHeader(MANIFEST_LOG_MAGIC, MANIFEST_LOG_HEADER_BYTES);
  setU64(viewOf(out), 16, h.fileNumber);
  return sealHeader(out);
}

export type ManifestLogHeaderRead = { ok: true; header: ManifestLogHeader } | { ok: false; reason: string };

/**
 * Decodes the header at the start of `bytes` (which may go on with frames). Hostile-safe: never
 * throws, and rejects a bad magic, version, size, checksum, non-zero flags or zero word, and a
 * file number outside 1 ..= 2^53 − 1.
 */
export function decodeManifestLogHeader(bytes: Uint8Array): ManifestLogHeaderRead {
  const check = checkHeader(bytes, MANIFEST_LOG_MAGIC, MANIFEST_LOG_HEADER_BYTES);
  if (!check.ok) return check;
  const view = viewOf(bytes);
  if (view.getUint32(12, true) !== 0) return { ok: false, reason: 'unknown flags' };
  const fileNumber = getU64(view, 16);
  if (fileNumber < 1) return { ok: false, reason: 'file number out of range' };
  return { ok: true, header: { fileNumber } };
}
