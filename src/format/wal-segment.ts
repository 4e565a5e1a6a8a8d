/**
 * The WAL segment header: the first 32 bytes of every `wal/<n>.log`. Diagram: docs/formats/wal.md.
 *
 *   0   magic "STRATWAL"        8 B
 *   8   format version u16      1
 *   10  header size u16         32
 *   12  file number u32         must match the object's name
 *   16  previous version u64    newest version the writer had when it began this segment
 *   24  crc u32                 masked CRC-32C of bytes [0, 24)
 *   28  zero u32
 *
 * Frames (docs/formats/frame.md) follow from byte 32 to the end of the segment.
 */
import { getU64, setU64, viewOf } from '../base/index.js';
import { beginHeader, checkHeader, sealHeader } from './fixed-header.js';

export const WAL_MAGIC = 'STRATWAL';
export const WAL_HEADER_BYTES = 32;

export interface WalSegmentHeader {
  /** The segment's file number (also in its name; recovery checks the two agree). */
  fileNumber: number;
  /**
   * The newest version that existed when this segment was begun. A record of an earlier
   * segment with a larger version belongs to a tail that an earlier recovery discarded, which
   * is how recovery tells such a tail from corruption.
   */
  previousVersion: number;
}

export function encodeWalSegmentHeader(h: WalSegmentHeader): Uint8Array {
  const out = beginHeader(WAL_MAGIC, WAL_HEADER_BYTES);
  const view = viewOf(out);
  view.setUint32(12, h.fileNumber, true);
  setU64(view, 16, h.previousVersion);
  return sealHeader(out);
}

export type WalHeaderRead = { ok: true; header: WalSegmentHeader } | { ok: false; reason: string };

export function decodeWalSegmentHeader(bytes: Uint8Array): WalHeaderRead {
  const check = checkHeader(bytes, WAL_MAGIC, WAL_HEADER_BYTES);
  if (!check.ok) return check;
  const view = viewOf(bytes);
  const previousVersion = getU64(view, 16);
  if (previousVersion < 0) return { ok: false, reason: 'previous version out of range' };
  return { ok: true, header: { fileNumber: view.getUint32(12, true), previousVersion } };
}
