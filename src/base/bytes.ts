/**
 * Byte helpers on Uint8Array and DataView only (no Buffer: the core runs in browsers too).
 * Multi-byte integers in durable formats are little-endian unless a doc says why not.
 */
import { assert } from './assert.js';
import { invalidArgument } from './errors.js';
import { NAME_SIZE_BYTES_MAX } from './limits.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8; throws a TypeError on malformed input (callers map it to `corruption`). */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Small byte arrays carved from shared 64 KiB slabs. A typed array above 64 bytes gets its own
 * off-heap backing store in V8, and creating one costs about 3 µs (more than a whole memtable
 * put); a view of an existing buffer costs about 40 ns. Pieces of 65 bytes to 2 KiB (encoded
 * values, mostly) therefore come from a slab that is filled front to back and never reused: a
 * slab is freed by the garbage collector once no piece of it is referenced, so callers own
 * their piece outright, but a long-lived piece keeps its whole slab alive. Use it for data whose
 * lifetime is shared by its neighbours (everything written into one memtable), not for data
 * cached and evicted one piece at a time.
 */
const SLAB_BYTES = 64 * 1024;
const SLAB_PIECE_MIN = 65;
const SLAB_PIECE_MAX = 2048;
let slab = new Uint8Array(0);
let slabAt = 0;

/** A zeroed byte array of `n` bytes, possibly a view of a shared slab (see above). */
export function allocBytes(n: number): Uint8Array {
  if (n < SLAB_PIECE_MIN || n > SLAB_PIECE_MAX) return new Uint8Array(n);
  if (slabAt + n > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    slabAt = 0;
  }
  const piece = slab.subarray(slabAt, slabAt + n);
  // 8-byte aligned pieces, so DataView and word reads of them stay aligned.
  slabAt = (slabAt + n + 7) & ~7;
  return piece;
}

/** A view over exactly the bytes of `b`, which may be a slice of a larger buffer. */
export function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Bytewise comparison, like memcmp followed by a length comparison. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const TWO_32 = 2 ** 32;

/** Writes a safe non-negative integer as u64 little-endian. */
export function setU64(view: DataView, offset: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, `u64 out of range: ${value}`);
  view.setUint32(offset, value % TWO_32, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_32), true);
}

/** Reads a u64 little-endian; returns -1 when it does not fit a safe integer (hostile input). */
export function getU64(view: DataView, offset: number): number {
  const lo = view.getUint32(offset, true);
  const hi = view.getUint32(offset + 4, true);
  if (hi >= 0x200000) return -1;
  return hi * TWO_32 + lo;
}

/** Hex dump for tests and error messages. */
export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  assert(clean.length % 2 === 0, 'odd hex length');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/*
 * Byte strings: a string with one char (code 0..255) per byte. Storage keys are held in memory
 * this way because JS compares and hashes strings natively and fast, and comparing two byte
 * strings with `<` gives exactly the bytewise (memcmp) order that durable tables use.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range, control characters included.
const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** True when every char of `text` is ASCII (so its UTF-8 bytes are its chars). */
export function isAscii(text: string): boolean {
  return ASCII_ONLY.test(text);
}

/** The byte string of `text`'s UTF-8 encoding. ASCII text is its own byte string. */
export function utf8ToBinary(text: string): string {
  if (ASCII_ONLY.test(text)) return text;
  return bytesToBinary(encoder.encode(text));
}

/** Decodes a byte string holding UTF-8 back to text; throws TypeError on malformed UTF-8. */
export function binaryToUtf8(binary: string): string {
  if (ASCII_ONLY.test(binary)) return binary;
  return decoder.decode(binaryToBytes(binary));
}

/** Reused by bytesToBinary for short strings: applying fromCharCode to a plain array is faster
 *  than to a typed-array view, and copying into this one allocates nothing. */
const shortCodes: number[] = [];
const SHORT_BINARY_MAX = 256;

export function bytesToBinary(b: Uint8Array, start = 0, end = b.length): string {
  const n = end - start;
  if (n <= SHORT_BINARY_MAX) {
    const codes = shortCodes;
    codes.length = n;
    for (let i = 0; i < n; i++) codes[i] = b[start + i]!;
    return String.fromCharCode.apply(null, codes);
  }
  let s = '';
  const CHUNK = 8192;
  for (let i = start; i < end; i += CHUNK) {
    s += String.fromCharCode.apply(null, b.subarray(i, Math.min(end, i + CHUNK)) as unknown as number[]);
  }
  return s;
}

export function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  writeBinary(out, 0, s);
  return out;
}

/** Writes byte string `s` into `out` at `offset`; returns the offset after it. */
export function writeBinary(out: Uint8Array, offset: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[offset + i] = s.charCodeAt(i);
  return offset + s.length;
}

// Lone surrogates would be replaced by U+FFFD on encoding, silently changing the string.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `s` holds a UTF-16 surrogate without its pair (not valid Unicode). */
export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

/**
 * Checks a branch or space name: a non-empty string of at most NAME_SIZE_BYTES_MAX bytes of valid
 * UTF-8. Throws `invalid_argument` naming `what` ('branch', 'space').
 */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0)
    throw invalidArgument(`a ${what} name must be a non-empty string`);
  if (hasLoneSurrogate(name))
    throw invalidArgument(`a ${what} name must be valid Unicode (it has a lone surrogate)`);
  if (utf8Encode(name).length > NAME_SIZE_BYTES_MAX)
    throw invalidArgument(`a ${what} name is at most ${NAME_SIZE_BYTES_MAX} bytes in UTF-8`);
  return name;
}
