/**
 * The KV primitive over the storage boundary. Keys are strings (at most KEY_SIZE_BYTES_MAX
 * UTF-8 bytes); values are any Value (value-codec.ts).
 *
 * A KV key's storage key is: keyspace (branch, space) | 0x01 | UTF-8 key. The 0x01 tag keeps
 * KV apart from the other primitives that share the space.
 */
import { binaryToUtf8, invalidArgument, StrataError } from '../base/index.js';
import type { HistoryVersion, ReadPoint, Storage } from '../storage/index.js';
import { type Batch, type Reads, readOnly, View } from './context.js';
import { checkKey, KV_TAG } from './keys.js';
import { decodeValue, encodeValue, type Value } from './value-codec.js';

export { KV_TAG };

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

/** Decodes the stored value of KV key `key` (named only if it fails: reads build no message). */
function decodeKey(bytes: Uint8Array, key: string): Value {
  try {
    return decodeValue(bytes);
  } catch (error) {
    throw new StrataError('corruption', `the stored value of key '${key}' cannot be decoded`, {
      cause: error,
    });
  }
}

/** Decodes a stored value; a value that does not decode is `corruption`, naming `what`. */
export function decodeStored(bytes: Uint8Array, what: string): Value {
  try {
    return decodeValue(bytes);
  } catch (error) {
    throw new StrataError('corruption', `the stored value of ${what} cannot be decoded`, {
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
    if (this.at !== undefined) throw readOnly();
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
      return bytes === undefined ? undefined : decodeKey(bytes, key);
    }
    const v = this.storage.getvIn(this.base, k, this.at);
    return v === undefined || v.value === null ? undefined : decodeKey(v.value, key);
  }

  /** The value of `key` with the version and timestamp that wrote it. */
  getVersioned(key: string): VersionedValue | undefined {
    const v = this.storage.getvIn(this.base, checkKey(key), this.at);
    if (v === undefined || v.value === null) return undefined;
    return { value: decodeKey(v.value, key), version: v.version, timestamp: v.timestamp };
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
      if (d.from === undefined) out.added.push({ key, value: decodeKey(d.to!.value!, key) });
      else if (d.to === undefined) out.removed.push({ key, value: decodeKey(d.from.value!, key) });
      else
        out.changed.push({
          key,
          from: decodeKey(d.from.value!, key),
          to: decodeKey(d.to.value!, key),
        });
    }
    return out;
  }

  /**
   * Live keys with their values, in key order (or reversed); a range is [start, end). Options
   * and the read point are checked when list is called, not on the first step of the iteration,
   * so bad input throws `invalid_argument` (or `closed`) right here.
   */
  list(options: ListOptions = {}): Generator<[string, Value]> {
    const range = keyRange(this.base, options);
    return listEntries(new View(this.storage, this.at), this.base, range);
  }
}

/** A checked list request: a storage-key range, its direction and how many entries at most. */
export interface KeyRange {
  start: string;
  end: string;
  reverse: boolean;
  limit: number;
}

/**
 * Checks list options (prefix, start, end, limit, reverse) and turns them into a storage-key
 * range of the keys `base + key`; bad options are `invalid_argument`.
 */
export function keyRange(base: string, options: ListOptions): KeyRange {
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
  let start = base;
  // No UTF-8 byte is 0xff, so base + 0xff bounds every key of this keyspace.
  let end = `${base}\xff`;
  if (options.prefix !== undefined) {
    const p = base + checkKey(options.prefix, 'prefix');
    start = p;
    end = `${p}\xff`;
  }
  if (options.start !== undefined) {
    const s = base + checkKey(options.start, 'start');
    if (s > start) start = s;
  }
  if (options.end !== undefined) {
    const e = base + checkKey(options.end, 'end');
    if (e < end) end = e;
  }
  return { start, end, reverse, limit };
}

function* listEntries(reads: Reads, base: string, range: KeyRange): Generator<[string, Value]> {
  if (range.limit === 0 || range.start >= range.end) return;
  let n = 0;
  for (const [k, v] of reads.scan(range.start, range.end, range.reverse)) {
    const key = binaryToUtf8(k.slice(base.length));
    yield [key, decodeKey(v.value!, key)];
    if (++n >= range.limit) return;
  }
}

/**
 * KV inside a transaction: reads see the transaction's snapshot and its own writes; writes are
 * buffered and land with the transaction's commit (so they return nothing to await).
 */
export class TxKv {
  private readonly base: string;

  /** @internal */
  constructor(
    private readonly batch: Batch,
    keyspace: string,
  ) {
    this.base = keyspace + KV_TAG;
  }

  get(key: string): Value | undefined {
    const bytes = this.batch.get(this.base + checkKey(key));
    return bytes === undefined ? undefined : decodeKey(bytes, key);
  }

  /** As Kv.getVersioned; a value this transaction wrote has version 0 (not committed yet). */
  getVersioned(key: string): VersionedValue | undefined {
    const v = this.batch.getVersioned(this.base + checkKey(key));
    if (v === undefined || v.value === null) return undefined;
    return { value: decodeKey(v.value, key), version: v.version, timestamp: v.timestamp };
  }

  /**
   * Writes `value` under `key` when the transaction commits. With `ifVersion`, the key's version
   * in the snapshot must be that one (`null`: missing), else this throws `conflict` now.
   */
  put(key: string, value: Value, options?: PutOptions): void {
    const k = this.base + checkKey(key);
    const bytes = encodeValue(value);
    this.compare(k, key, checkIfVersion(options));
    this.batch.put(k, bytes);
  }

  /** Deletes `key` when the transaction commits; returns whether it existed. */
  delete(key: string, options?: PutOptions): boolean {
    const k = this.base + checkKey(key);
    this.compare(k, key, checkIfVersion(options));
    const existed = this.batch.get(k) !== undefined;
    if (existed) this.batch.delete(k);
    return existed;
  }

  private compare(k: string, key: string, expected: number | null | undefined): void {
    if (expected === undefined) return;
    const actual = this.batch.getVersioned(k)?.version ?? null;
    if (actual !== expected)
      throw new StrataError(
        'conflict',
        `key '${key}' is at version ${actual ?? 'none (missing)'}, not ${expected ?? 'none (missing)'}`,
        { committed: 'no' },
      );
  }

  list(options: ListOptions = {}): Generator<[string, Value]> {
    return listEntries(this.batch, this.base, keyRange(this.base, options));
  }

  history(key: string): HistoryEntry[] {
    return this.batch.history(this.base + checkKey(key)).map((v) => toHistory(v, key));
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
        value: decodeKey(v.value, key),
        deleted: false,
        branch: v.branch,
      };
}
