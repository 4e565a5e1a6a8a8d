/**
 * Fixed-size headers (WAL segment, snapshot, manifest/current) share one shape:
 * an 8-byte ASCII magic, a u16 format version, a u16 header size, fields, a masked CRC-32C of
 * every byte before it in the last-but-one u32, and a last u32 that must be zero. The CRC does
 * not cover that last u32, so the decoder checks it is zero: otherwise damage there would pass.
 * Diagrams: docs/formats/README.md.
 */
import { crc32c, maskCrc, viewOf } from '../base/index.js';

export const FORMAT_VERSION = 1;

/** Starts a header: magic, format version, size. Returns the buffer for the caller's fields. */
export function beginHeader(magic: string, sizeBytes: number): Uint8Array {
  const out = new Uint8Array(sizeBytes);
  for (let i = 0; i < 8; i++) out[i] = magic.charCodeAt(i);
  const view = viewOf(out);
  view.setUint16(8, FORMAT_VERSION, true);
  view.setUint16(10, sizeBytes, true);
  return out;
}

/** Seals the header: the CRC sits at `size - 8` and covers `[0, size - 8)`. */
export function sealHeader(out: Uint8Array): Uint8Array {
  const at = out.length - 8;
  viewOf(out).setUint32(at, maskCrc(crc32c(out, 0, at)), true);
  return out;
}

export type HeaderCheck = { ok: true } | { ok: false; reason: string };

/** Checks magic, version, size, CRC and the zero tail of a header at the start of `bytes`. */
export function checkHeader(bytes: Uint8Array, magic: string, sizeBytes: number): HeaderCheck {
  if (bytes.length < sizeBytes) return { ok: false, reason: `shorter than its ${sizeBytes}-byte header` };
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== magic.charCodeAt(i)) return { ok: false, reason: `bad magic (expected ${magic})` };
  }
  const view = viewOf(bytes);
  const version = view.getUint16(8, true);
  if (version !== FORMAT_VERSION) return { ok: false, reason: `unsupported format version ${version}` };
  if (view.getUint16(10, true) !== sizeBytes) return { ok: false, reason: 'bad header size' };
  const at = sizeBytes - 8;
  if (view.getUint32(at, true) !== maskCrc(crc32c(bytes, 0, at)))
    return { ok: false, reason: 'header checksum mismatch' };
  if (view.getUint32(at + 4, true) !== 0) return { ok: false, reason: 'reserved header bytes are not zero' };
  return { ok: true };
}
