/**
 * The KV primitive over the storage boundary. Keys are strings (at most KEY_SIZE_BYTES_MAX
 * UTF-8 bytes); values are any Value (value-codec.ts).
 *
 * A KV key's storage key is: keyspace (branch, space) | 0x01 | UTF-8 key. The 0x01 tag keeps
 * KV apart from the other primitives that share the space.
 */
import {
  binaryToUtf8,
  invalidArgument,
  isAscii,
  KEY_SIZE_BYTES_MAX,
  StrataError,
  utf8ToBinary,
} from '../base/index.js';
import type { HistoryVersion, ReadPoint, Storage } from '../storage/index.js';
import { decodeValue, encodeValue, hasLoneSurrogate, type Value } from './value-codec.js';

export const KV_TAG = '\x01';

/** What a write returns: the commit's version and timestamp. */
export interface Commit {
  version: number;
  timestamp: number;
}

export interface PutOptions {
  /**
   * Compare-and-set: write only if the key's current version is this one; `null` means the key
   * must not exist. A mismatch rejects with `conflict` and changes nothing.
   */
  ifVersion?: number | null;
}

export interface VersionedValue {
  value: Value;
  version: number;
  timestamp: number;
}

export interface HistoryEntry {
  version: number;
  timestamp: number;
  /** Present unless this version is a delete. */
  value?: Value;
  deleted: boolean;
  /** The branch that wrote this version: this branch, or an ancestor it inherited the key from. */
  branch: string;
}

/** How the KV pairs of one branch (or point) differ from another's: see Kv.diff. */
export interface KvDiff {
  /** Keys only the other side has. */
  added: { key: string; value: Value }[];
  /** Keys only this side has. */
  removed: { key: string; value: Value }[];
  /** Keys both have, with different values. */
  changed: { key: string; from: Value; to: Value }[];
}

export interface ListOptions {
  /** Only keys that start with this. */
  prefix?: string;
  /** First key, inclusive. */
  start?: string;
  /** Key to stop before, exclusive. */
  end?: string;
  /** At most this many entries. */
  limit?: number;
  /** Descending key order. */
  reverse?: boolean;
}

function nonAsciiKey(key: string, what: string): string {
  if (hasLoneSurrogate(key)) throw invalidArgument(`${what} is not valid Unicode (it has a lone surrogate)`);
  return utf8ToBinary(key);
}

function checkKey(key: unknown, what = 'key'): string {
  if (typeof key !== 'string')
    throw invalidArgument(`${what} must be a string, got ${key === null ? 'null' : typeof key}`);
  // ASCII keys, by far the most common, are their own byte string and need no other check.
  const binary = isAscii(key) ? key : nonAsciiKey(key, what);
  if (binary.length > KEY_SIZE_BYTES_MAX) {
    throw invalidArgument(
      `${what} is ${binary.length} bytes in UTF-8, more than the limit of ${KEY_SIZE_BYTES_MAX}`,
    );
  }
  return binary;
}

function decodeStored(bytes: Uint8Array, key: string): Value {
  try {
    return decodeValue(bytes);
  } catch (error) {
    throw new StrataError('corruption', `the stored value of key '${key}' cannot be decoded`, {
      cause: error,
    });
  }
}

/**
 * KV operations on one keyspace. Reads see the newest visible version, or the fixed read point
 * given at construction (a read-only view as of the past).
 */
export class Kv {
  private readonly base: string;

  constructor(
    private readonly storage: Storage,
    keyspace: string,
    private readonly at?: ReadPoint,
  ) {
    this.base = keyspace + KV_TAG;
  }

  private storageKey(key: unknown, what?: string): string {
    return this.base + checkKey(key, what);
  }

  private checkWrite(): void {
    if (this.at !== undefined)
      throw new StrataError('read_only', 'this view is read-only (as of a past version)', {
        committed: 'no',
      });
  }

  /** Writes `value` under `key`. Resolves when the commit is visible and as durable as the mode promises. */
  put(key: string, value: Value, options?: PutOptions): Promise<Commit> {
    try {
      this.checkWrite();
      const k = this.storageKey(key);
      const bytes = encodeValue(value);
      const ifVersion = checkIfVersion(options);
      return this.storage.commit(
        [{ key: k, value: bytes }],
        ifVersion === undefined ? undefined : () => this.compare(k, key, ifVersion),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Deletes `key`. Deleting a missing key is not an error and commits nothing: it resolves with
   * the current version.
   */
  delete(key: string, options?: PutOptions): Promise<Commit & { deleted: boolean }> {
    try {
      this.checkWrite();
      const k = this.storageKey(key);
      const ifVersion = checkIfVersion(options);
      // Nothing to delete. With `ifVersion: null` ("must not exist") the condition holds, so this
      // is the same no-op; a numeric ifVersion must still conflict, which commit's check reports.
      if (this.storage.headVersion(k) === undefined && (ifVersion === undefined || ifVersion === null)) {
        const now = this.storage.getv(k);
        return Promise.resolve({
          version: this.storage.version,
          timestamp: now?.timestamp ?? 0,
          deleted: false,
        });
      }
      return this.storage
        .commit(
          [{ key: k, value: null }],
          ifVersion === undefined ? undefined : () => this.compare(k, key, ifVersion),
        )
        .then((c) => ({ ...c, deleted: true }));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private compare(storageKey: string, key: string, expected: number | null): void {
    const actual = this.storage.headVersion(storageKey) ?? null;
    if (actual !== expected) {
      throw new StrataError(
        'conflict',
        `key '${key}' is at version ${actual ?? 'none (missing)'}, not ${expected ?? 'none (missing)'}; read it again and retry`,
        { committed: 'no' },
      );
    }
  }

  // Reads pass (base, checked key) to the *In storage calls rather than one concatenated storage
  // key: for ASCII keys the checked key is the caller's own string, whose hash V8 has cached, so
  // the memtable lookup hashes nothing new (base is split exactly where the memtable splits).

  /** The value of `key`, or undefined when missing or deleted. */
  get(key: string): Value | undefined {
    const k = checkKey(key);
    if (this.at === undefined) {
      const bytes = this.storage.readIn(this.base, k);
      return bytes === undefined ? undefined : decodeStored(bytes, key);
    }
    const v = this.storage.getvIn(this.base, k, this.at);
    return v === undefined || v.value === null ? undefined : decodeStored(v.value, key);
  }

  /** The value of `key` with the version and timestamp that wrote it. */
  getVersioned(key: string): VersionedValue | undefined {
    const v = this.storage.getvIn(this.base, checkKey(key), this.at);
    if (v === undefined || v.value === null) return undefined;
    return { value: decodeStored(v.value, key), version: v.version, timestamp: v.timestamp };
  }

  /** Every version of `key`, newest first, deletes included. */
  history(key: string): HistoryEntry[] {
    return this.storage.historyIn(this.base, checkKey(key), this.at).map((v) => toHistory(v, key));
  }

  /**
   * How `other` (the same space on another branch, or this branch at another point) differs
   * from this: keys added, removed and changed, in key order, with both values. Its cost
   * follows what the two sides changed since they diverged, not the size of the data.
   */
  diff(other: Kv): KvDiff {
    const out: KvDiff = { added: [], removed: [], changed: [] };
    for (const d of this.storage.diff(this.base, this.at, other.base, other.at)) {
      const key = binaryToUtf8(d.key);
      if (d.from === undefined) out.added.push({ key, value: decodeStored(d.to!.value!, key) });
      else if (d.to === undefined) out.removed.push({ key, value: decodeStored(d.from.value!, key) });
      else
        out.changed.push({ key, from: decodeStored(d.from.value!, key), to: decodeStored(d.to.value!, key) });
    }
    return out;
  }

  /**
   * Live keys with their values, in key order (or reversed); a range is [start, end). Options
   * and the read point are checked when list is called, not on the first step of the iteration,
   * so bad input throws `invalid_argument` (or `closed`) right here.
   */
  list(options: ListOptions = {}): Generator<[string, Value]> {
    if (typeof options !== 'object' || options === null)
      throw invalidArgument('list options must be an object');
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (
      typeof limit !== 'number' ||
      !(Number.isSafeInteger(limit) || limit === Number.POSITIVE_INFINITY) ||
      limit < 0
    )
      throw invalidArgument('limit must be a non-negative integer');
    const reverse = options.reverse ?? false;
    if (typeof reverse !== 'boolean') throw invalidArgument('reverse must be a boolean');
    let start = this.base;
    // No UTF-8 byte is 0xff, so base + 0xff bounds every key of this keyspace.
    let end = `${this.base}\xff`;
    if (options.prefix !== undefined) {
      const p = this.storageKey(options.prefix, 'prefix');
      start = p;
      end = `${p}\xff`;
    }
    if (options.start !== undefined) {
      const s = this.storageKey(options.start, 'start');
      if (s > start) start = s;
    }
    if (options.end !== undefined) {
      const e = this.storageKey(options.end, 'end');
      if (e < end) end = e;
    }
    this.storage.resolve(this.at);
    return this.listRange(start, end, reverse, limit);
  }

  private *listRange(
    start: string,
    end: string,
    reverse: boolean,
    limit: number,
  ): Generator<[string, Value]> {
    if (limit === 0 || start >= end) return;
    let n = 0;
    const scan = this.storage.scan({
      start,
      end,
      reverse,
      ...(this.at === undefined ? {} : { at: this.at }),
    });
    for (const [k, v] of scan) {
      const key = binaryToUtf8(k.slice(this.base.length));
      yield [key, decodeStored(v.value!, key)];
      if (++n >= limit) return;
    }
  }
}

function checkIfVersion(options: PutOptions | undefined): number | null | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') throw invalidArgument('options must be an object');
  const v = options.ifVersion;
  if (v === undefined || v === null) return v;
  if (!Number.isSafeInteger(v) || v < 1)
    throw invalidArgument(`ifVersion must be a version (a positive integer) or null, got ${String(v)}`);
  return v;
}

function toHistory(v: HistoryVersion, key: string): HistoryEntry {
  return v.value === null
    ? { version: v.version, timestamp: v.timestamp, deleted: true, branch: v.branch }
    : {
        version: v.version,
        timestamp: v.timestamp,
        value: decodeStored(v.value, key),
        deleted: false,
        branch: v.branch,
      };
}
