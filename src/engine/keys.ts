/**
 * How the primitives lay out their rows inside a keyspace (docs/formats/rows.md). Every storage
 * key of a primitive is: keyspace (branch, space) | tag byte | the primitive's own key. The tag
 * keeps the primitives of one space apart; inside it, names (user keys, stream names, node ids,
 * edge types) are written as self-delimiting segments so that a key made of several of them
 * still sorts by its first name, then its second, and so on.
 */
import {
  hasLoneSurrogate,
  invalidArgument,
  isAscii,
  KEY_SIZE_BYTES_MAX,
  utf8ToBinary,
} from '../base/index.js';

/** Tag bytes, one per primitive. */
export const KV_TAG = '\x01';
export const JSON_TAG = '\x02';
export const EVENTS_TAG = '\x03';
export const GRAPH_TAG = '\x04';
export const VECTOR_TAG = '\x05';

/** Primitive names as reported in diffs and merge conflicts, by tag. */
export const PRIMITIVE_OF_TAG: Readonly<Record<string, string>> = {
  [KV_TAG]: 'kv',
  [JSON_TAG]: 'json',
  [EVENTS_TAG]: 'events',
  [GRAPH_TAG]: 'graph',
  [VECTOR_TAG]: 'vectors',
};

/**
 * A user-supplied name or key (`what` names it in errors) as its UTF-8 byte string, checked: a
 * string, valid Unicode, at most KEY_SIZE_BYTES_MAX bytes. Throws `invalid_argument`.
 */
export function checkKey(key: unknown, what = 'key'): string {
  if (typeof key !== 'string')
    throw invalidArgument(`${what} must be a string, got ${key === null ? 'null' : typeof key}`);
  // ASCII keys, by far the most common, are their own byte string and need no other check.
  let binary = key;
  if (!isAscii(key)) {
    if (hasLoneSurrogate(key))
      throw invalidArgument(`${what} is not valid Unicode (it has a lone surrogate)`);
    binary = utf8ToBinary(key);
  }
  if (binary.length > KEY_SIZE_BYTES_MAX) {
    throw invalidArgument(
      `${what} is ${binary.length} bytes in UTF-8, more than the limit of ${KEY_SIZE_BYTES_MAX}`,
    );
  }
  return binary;
}

/** Like checkKey, and also not empty. */
export function checkNonEmptyKey(key: unknown, what: string): string {
  const k = checkKey(key, what);
  if (k.length === 0) throw invalidArgument(`${what} must not be empty`);
  return k;
}

/**
 * A byte string (a checked key) as a segment: 0x00 is escaped as 00 ff and the segment ends with
 * 00 01. Segments compare as their names do, and a name is never confused with a longer one.
 */
export function segment(binary: string): string {
  return `${binary.includes('\x00') ? binary.replaceAll('\x00', '\x00\xff') : binary}\x00\x01`;
}

/**
 * Reads the segment starting at `at` of `key`: the name's byte string and where the segment
 * ends. Returns undefined when the key has no well-formed segment there (a damaged row).
 */
export function readSegment(key: string, at: number): [string, number] | undefined {
  let out = '';
  let i = at;
  for (;;) {
    const z = key.indexOf('\x00', i);
    if (z < 0 || z + 1 >= key.length) return undefined;
    out += key.slice(i, z);
    const next = key.charCodeAt(z + 1);
    if (next === 1) return [out, z + 2];
    if (next !== 0xff) return undefined;
    out += '\x00';
    i = z + 2;
  }
}

/** A sequence number (0 ≤ n < 2^53) as 8 big-endian bytes, so keys sort by number. */
export function seqKey(n: number): string {
  const hi = Math.floor(n / 2 ** 32);
  const lo = n >>> 0;
  return String.fromCharCode(
    (hi >>> 24) & 0xff,
    (hi >>> 16) & 0xff,
    (hi >>> 8) & 0xff,
    hi & 0xff,
    (lo >>> 24) & 0xff,
    (lo >>> 16) & 0xff,
    (lo >>> 8) & 0xff,
    lo & 0xff,
  );
}

/** Reads seqKey's 8 bytes at `at`; undefined when the key is too short or the number too large. */
export function readSeq(key: string, at: number): number | undefined {
  if (key.length < at + 8) return undefined;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 4; i++) hi = hi * 256 + key.charCodeAt(at + i);
  for (let i = 4; i < 8; i++) lo = lo * 256 + key.charCodeAt(at + i);
  const n = hi * 2 ** 32 + lo;
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The smallest byte string greater than every key that starts with `prefix`: the range of keys
 * with that prefix is [prefix, prefixEnd(prefix)). A prefix of only 0xff bytes has no bound
 * inside a keyspace; none of ours is one.
 */
export function prefixEnd(prefix: string): string {
  let i = prefix.length;
  while (i > 0 && prefix.charCodeAt(i - 1) === 0xff) i--;
  if (i === 0) throw new RangeError('a prefix of 0xff bytes has no upper bound');
  return prefix.slice(0, i - 1) + String.fromCharCode(prefix.charCodeAt(i - 1) + 1);
}
