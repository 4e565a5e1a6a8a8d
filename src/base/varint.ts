/**
 * Unsigned LEB128 varints for safe integers (up to 2^53 - 1, at most 8 bytes).
 * Decoders treat input as hostile: they never read past `end` and reject overlong encodings.
 */

export const VARINT_BYTES_MAX = 8;

export function varintSize(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Writes `value` at `offset`; returns the offset after it. Requires a safe non-negative integer. */
export function writeVarint(out: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    out[offset++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[offset++] = value;
  return offset;
}

/** Result of a decode: the value and the offset after it, or value -1 when the input is bad. */
export interface VarintRead {
  value: number;
  next: number;
}

/**
 * Reads a varint from `bytes[offset, end)`. Returns `{ value: -1 }` on truncated, overlong or
 * out-of-range input instead of throwing, so callers report corruption with context.
 */
export function readVarint(bytes: Uint8Array, offset: number, end = bytes.length): VarintRead {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < VARINT_BYTES_MAX; i++) {
    if (offset >= end) return { value: -1, next: offset };
    const b = bytes[offset++]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      // Reject non-minimal encodings (a trailing zero byte) so each value has one encoding.
      if (b === 0 && i > 0) return { value: -1, next: offset };
      if (!Number.isSafeInteger(value)) return { value: -1, next: offset };
      return { value, next: offset };
    }
    scale *= 128;
  }
  return { value: -1, next: offset };
}
