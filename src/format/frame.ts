/**
 * The frame: the unit of every append-only format (WAL segments, snapshots).
 * Byte diagram: docs/formats/frame.md.
 *
 *   +-------------+-------------+--------------------+
 *   | length u32  | crc u32     | payload (length B) |
 *   +-------------+-------------+--------------------+
 *
 * crc = mask(crc32c(length bytes ‖ payload)). The checksum covers the length, so a zeroed or
 * garbage tail cannot pass as a frame, and length 0 is never valid.
 */
import { crc32cUpdate, FRAME_PAYLOAD_BYTES_MAX, maskCrc, viewOf } from '../base/index.js';

export const FRAME_HEADER_BYTES = 8;

/** Writes a frame header in front of `payloadLength` bytes already at `out[at + 8, ...)`. */
export function sealFrame(out: Uint8Array, at: number, payloadLength: number): void {
  const view = viewOf(out);
  view.setUint32(at, payloadLength, true);
  let crc = crc32cUpdate(0, out, at, at + 4);
  crc = crc32cUpdate(crc, out, at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + payloadLength);
  view.setUint32(at + 4, maskCrc(crc), true);
}

/** A standalone frame around `payload`. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  sealFrame(out, 0, payload.length);
  return out;
}

export type FrameRead =
  /** A frame whose checksum verifies: its payload is `bytes[start, end)`. */
  | { kind: 'ok'; start: number; end: number }
  /** Fewer bytes remain than a header or than the header's length claims. */
  | { kind: 'truncated' }
  /** The bytes here are not a valid frame (bad length or checksum). */
  | { kind: 'bad' };

/** Decodes the frame at `offset` of `bytes`, treating every byte as hostile. */
export function readFrame(bytes: Uint8Array, offset: number, end = bytes.length): FrameRead {
  if (end - offset < FRAME_HEADER_BYTES) return { kind: 'truncated' };
  const view = viewOf(bytes);
  const length = view.getUint32(offset, true);
  if (length === 0 || length > FRAME_PAYLOAD_BYTES_MAX) return { kind: 'bad' };
  const start = offset + FRAME_HEADER_BYTES;
  if (end - start < length) return { kind: 'truncated' };
  let crc = crc32cUpdate(0, bytes, offset, offset + 4);
  crc = crc32cUpdate(crc, bytes, start, start + length);
  if (maskCrc(crc) !== view.getUint32(offset + 4, true)) return { kind: 'bad' };
  return { kind: 'ok', start, end: start + length };
}
