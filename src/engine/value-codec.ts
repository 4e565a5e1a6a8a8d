/**
 * The binary encoding of user values (docs/formats/value.md): compact, deterministic, and
 * exact for every Value — numbers keep -0, NaN and infinities; bytes stay bytes; object key
 * order is kept.
 *
 *   null 0x00 | false 0x01 | true 0x02 | f64 0x03 + 8 B LE | int 0x04 + zigzag varint
 *   (int: integers in [-2^52, 2^52) except -0; every other number is an f64)
 *   string 0x05 + length varint + UTF-8 | bytes 0x06 + length varint + bytes
 *   array 0x07 + count varint + items | object 0x08 + count varint + (key string, value) pairs
 *   (object keys are encoded without their 0x05 tag)
 *
 * Encoding validates: anything that is not a Value is `invalid_argument` naming where it is.
 */
import {
  allocBytes,
  hasLoneSurrogate,
  invalidArgument,
  isAscii,
  readVarint,
  utf8Decode,
  VALUE_DEPTH_MAX,
  VALUE_SIZE_BYTES_MAX,
  varintSize,
  viewOf,
  writeVarint,
} from '../base/index.js';

/** A value Strata stores: JSON's values plus byte arrays. */
export type Value = null | boolean | number | string | Uint8Array | Value[] | { [key: string]: Value };

const NULL = 0;
const FALSE = 1;
const TRUE = 2;
const F64 = 3;
const INT = 4;
const STRING = 5;
const BYTES = 6;
const ARRAY = 7;
const OBJECT = 8;

const encoder = new TextEncoder();
/**
 * Integers in [-2^52, 2^52) take the zigzag path: their zigzag form is at most 2^53 - 1, the
 * largest value a varint may hold. 2^52 itself would zigzag to 2^53, which readVarint rejects,
 * so it (and every larger integer) is stored as an f64.
 */
const INT_LIMIT = 2 ** 52;

class Writer {
  buf: Uint8Array;
  view: DataView;
  at = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = viewOf(this.buf);
  }
  ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.view = viewOf(next);
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.at++] = b;
  }
  varint(n: number): void {
    this.ensure(8);
    this.at = writeVarint(this.buf, this.at, n);
  }
  string(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    const max = s.length * 3;
    this.ensure(max + 8);
    // Fewer than 43 code units encode to at most 126 bytes, so the length is one varint byte:
    // encode straight into place and fill the length in after. Longer strings are encoded 8 bytes
    // ahead (room for the longest varint) and moved back once their length is known.
    if (s.length < 0x80 / 3) {
      const lengthAt = this.at++;
      const { written } = encoder.encodeInto(s, this.buf.subarray(this.at));
      this.buf[lengthAt] = written;
      this.at += written;
      return;
    }
    const { written } = encoder.encodeInto(s, this.buf.subarray(this.at + 8));
    const start = this.at;
    this.at = writeVarint(this.buf, this.at, written);
    this.buf.copyWithin(this.at, start + 8, start + 8 + written);
    this.at += written;
  }
}

/** Re-exported for the engine's callers (it lives in base, beside the other string helpers). */
export { hasLoneSurrogate };

function encodeInto(w: Writer, v: unknown, depth: number, path: string): void {
  switch (typeof v) {
    case 'string':
      if (hasLoneSurrogate(v))
        throw invalidArgument(`${path} is a string with a lone surrogate (not valid Unicode)`);
      w.byte(STRING);
      w.string(v);
      return;
    case 'number':
      if (Number.isInteger(v) && v >= -INT_LIMIT && v < INT_LIMIT && !Object.is(v, -0)) {
        w.byte(INT);
        w.varint(v >= 0 ? v * 2 : -v * 2 - 1);
      } else {
        w.ensure(9);
        w.buf[w.at] = F64;
        w.view.setFloat64(w.at + 1, v, true);
        w.at += 9;
      }
      return;
    case 'boolean':
      w.byte(v ? TRUE : FALSE);
      return;
    case 'object': {
      if (v === null) {
        w.byte(NULL);
        return;
      }
      if (depth >= VALUE_DEPTH_MAX)
        throw invalidArgument(`${path} nests deeper than ${VALUE_DEPTH_MAX} levels`);
      if (v instanceof Uint8Array) {
        w.byte(BYTES);
        w.varint(v.length);
        w.ensure(v.length);
        w.buf.set(v, w.at);
        w.at += v.length;
        return;
      }
      if (Array.isArray(v)) {
        w.byte(ARRAY);
        w.varint(v.length);
        for (let i = 0; i < v.length; i++) encodeInto(w, v[i], depth + 1, `${path}[${i}]`);
        return;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw invalidArgument(
          `${path} is a ${proto?.constructor?.name ?? 'class instance'}; only plain objects, arrays and Uint8Array are values`,
        );
      }
      const keys = Object.keys(v);
      w.byte(OBJECT);
      w.varint(keys.length);
      for (const k of keys) {
        if (hasLoneSurrogate(k)) throw invalidArgument(`${path} has a key with a lone surrogate`);
        w.string(k);
        encodeInto(w, (v as Record<string, unknown>)[k], depth + 1, `${path}.${k}`);
      }
      return;
    }
    default:
      throw invalidArgument(
        `${path} is ${v === undefined ? 'undefined' : `a ${typeof v}`}, which is not a storable value`,
      );
  }
}

/** Encodes a value; throws `invalid_argument` for anything that is not a Value or is too large. */
export function encodeValue(v: unknown, what = 'value'): Uint8Array {
  // Fast path for the most common value, an ASCII string: one exact allocation, no checks
  // beyond the one regex (ASCII has no lone surrogates).
  if (typeof v === 'string' && v.length <= VALUE_SIZE_BYTES_MAX - 16 && isAscii(v)) {
    const out = allocBytes(1 + varintSize(v.length) + v.length);
    out[0] = STRING;
    const at = writeVarint(out, 1, v.length);
    if (v.length <= ASCII_LOOP_MAX) {
      for (let i = 0; i < v.length; i++) out[at + i] = v.charCodeAt(i);
    } else {
      encoder.encodeInto(v, out.subarray(at));
    }
    return out;
  }
  // One Writer serves every encode; a huge value's buffer is not kept. A getter of the value
  // that itself encodes (re-entry) gets a Writer of its own.
  const reentered = writerBusy;
  const w = reentered ? new Writer(WRITER_INITIAL_BYTES) : sharedWriter;
  w.at = 0;
  writerBusy = true;
  try {
    encodeInto(w, v, 0, what);
    if (w.at > VALUE_SIZE_BYTES_MAX) {
      throw invalidArgument(
        `${what} encodes to ${w.at} bytes, more than the limit of ${VALUE_SIZE_BYTES_MAX}`,
      );
    }
    const out = allocBytes(w.at);
    out.set(w.buf.subarray(0, w.at));
    return out;
  } finally {
    if (!reentered) {
      writerBusy = false;
      if (w.buf.length > WRITER_KEPT_BYTES) sharedWriter = new Writer(WRITER_INITIAL_BYTES);
    }
  }
}

/** ASCII strings up to this length are copied char by char: cheaper than encodeInto's call. */
const ASCII_LOOP_MAX = 128;
const WRITER_INITIAL_BYTES = 1024;
const WRITER_KEPT_BYTES = 64 * 1024;
let sharedWriter = new Writer(WRITER_INITIAL_BYTES);
let writerBusy = false;

class Reader {
  at = 0;
  private dataView: DataView | undefined;
  constructor(readonly buf: Uint8Array) {}
  /** Made on first use: most values hold no f64, and a DataView costs an allocation. */
  get view(): DataView {
    this.dataView ??= viewOf(this.buf);
    return this.dataView;
  }
  fail(): never {
    throw new ValueDecodeError(`malformed value at byte ${this.at}`);
  }
  varint(): number {
    const r = readVarint(this.buf, this.at);
    if (r.value < 0) this.fail();
    this.at = r.next;
    return r.value;
  }
  bytes(n: number): Uint8Array {
    if (n > this.buf.length - this.at) this.fail();
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  string(): string {
    const n = this.varint();
    const b = this.bytes(n);
    try {
      return utf8Decode(b);
    } catch {
      return this.fail();
    }
  }
}

/** Thrown for bytes that are not an encoded value; callers report it as `corruption`. */
export class ValueDecodeError extends Error {
  override readonly name = 'ValueDecodeError';
}

function decodeFrom(r: Reader, depth: number): Value {
  if (r.at >= r.buf.length || depth > VALUE_DEPTH_MAX) r.fail();
  const tag = r.buf[r.at++]!;
  // The encoder refuses bytes, arrays and objects at depth VALUE_DEPTH_MAX; so does the decoder,
  // so that every value it returns can be encoded (and stored) again.
  if (depth >= VALUE_DEPTH_MAX && tag >= BYTES) r.fail();
  switch (tag) {
    case NULL:
      return null;
    case FALSE:
      return false;
    case TRUE:
      return true;
    case F64: {
      if (r.buf.length - r.at < 8) r.fail();
      const n = r.view.getFloat64(r.at, true);
      r.at += 8;
      return n;
    }
    case INT: {
      const z = r.varint();
      return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    }
    case STRING:
      return r.string();
    case BYTES: {
      // A copy, so that the caller never shares the stored bytes. Up to 2 KiB it is a piece of a
      // shared slab (allocBytes): a fresh typed array of its own costs a backing store, about
      // 2 µs per 1 KB value read, where a piece costs tens of nanoseconds.
      const src = r.bytes(r.varint());
      const out = allocBytes(src.length);
      out.set(src);
      return out;
    }
    case ARRAY: {
      const n = r.varint();
      if (n > r.buf.length - r.at) r.fail();
      const out: Value[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = decodeFrom(r, depth + 1);
      return out;
    }
    case OBJECT: {
      const n = r.varint();
      if (n > r.buf.length - r.at) r.fail();
      const out: { [key: string]: Value } = {};
      for (let i = 0; i < n; i++) {
        const k = r.string();
        const v = decodeFrom(r, depth + 1);
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      return r.fail();
  }
}

/** Decodes a value, treating the bytes as hostile; throws ValueDecodeError when malformed. */
export function decodeValue(bytes: Uint8Array): Value {
  // Fast path for the most common stored value, a string shorter than 16 KiB: no Reader, no
  // varint result object. Anything unusual falls through to the general decoder.
  if (bytes[0] === STRING && bytes.length > 1) {
    const b1 = bytes[1]!;
    let start = 2;
    let length = b1;
    if (b1 >= 0x80 && bytes.length > 2 && bytes[2]! < 0x80 && bytes[2] !== 0) {
      length = (b1 & 0x7f) | (bytes[2]! << 7);
      start = 3;
    }
    if ((b1 < 0x80 || start === 3) && start + length === bytes.length) {
      try {
        return utf8Decode(bytes.subarray(start));
      } catch {
        throw new ValueDecodeError('malformed value at byte 0');
      }
    }
  }
  const r = new Reader(bytes);
  const v = decodeFrom(r, 0);
  if (r.at !== bytes.length) r.fail();
  return v;
}
