/**
 * The memtable: every version of every key written since the last flush, in memory.
 *
 * Each storage key maps to a chain of versions, newest first. A hash map serves point reads in
 * O(1); a B+tree of keys (KeyIndex) serves ordered scans. Versions are applied in increasing
 * order, so a chain's head is always its newest version. Readers pass the version they read at;
 * entries above it (written but not yet visible, as in strict mode before the fsync) are skipped.
 */
import { assert } from '../base/index.js';
import type { WriteOp } from '../format/index.js';
import { KeyIndex } from './key-index.js';

/** One version of one key. `value === null` is a tombstone. */
export interface VersionEntry {
  readonly version: number;
  readonly timestamp: number;
  readonly value: Uint8Array | null;
  /** The next older version of the same key, if the memtable holds one. */
  readonly older: VersionEntry | undefined;
}

/** Rough per-entry overhead (object, map slot, index slot) for memory accounting. */
const ENTRY_OVERHEAD_BYTES = 64;

export class Memtable {
  private readonly chains = new Map<string, VersionEntry>();
  private readonly index = new KeyIndex();
  private bytes = 0;
  private newest = 0;
  private entryCount = 0;

  /** Approximate memory held, for the memory budget. */
  get sizeBytes(): number {
    return this.bytes;
  }

  get keyCount(): number {
    return this.chains.size;
  }

  get versionCount(): number {
    return this.entryCount;
  }

  /** The newest version applied. */
  get newestVersion(): number {
    return this.newest;
  }

  /** Applies one commit batch. Requires `version` greater than every version applied before. */
  apply(version: number, timestamp: number, ops: readonly WriteOp[]): void {
    assert(version > this.newest, `memtable versions must increase (${version} after ${this.newest})`);
    this.newest = version;
    for (const op of ops) this.insert(op.key, version, timestamp, op.value);
  }

  /**
   * Inserts one version directly (loading a snapshot). Within a key, versions must arrive in
   * increasing order.
   */
  insert(key: string, version: number, timestamp: number, value: Uint8Array | null): void {
    const head = this.chains.get(key);
    if (head === undefined) {
      this.index.insert(key);
      this.bytes += key.length * 2;
    } else if (version === head.version) {
      // The same key twice in one batch: the later write wins, as if applied in order.
      this.bytes += (value === null ? 0 : value.length) - (head.value === null ? 0 : head.value.length);
      this.chains.set(key, { version, timestamp, value, older: head.older });
      return;
    } else {
      assert(version > head.version, 'versions of a key must increase');
    }
    this.chains.set(key, { version, timestamp, value, older: head });
    this.bytes += ENTRY_OVERHEAD_BYTES + (value === null ? 0 : value.length);
    this.entryCount++;
    if (version > this.newest) this.newest = version;
  }

  /** The newest entry of `key` with version <= `atVersion` (a tombstone counts), if any. */
  get(key: string, atVersion: number): VersionEntry | undefined {
    let e = this.chains.get(key);
    while (e !== undefined && e.version > atVersion) e = e.older;
    return e;
  }

  /** Same as get, bounded by commit timestamp instead of version. */
  getAtTimestamp(key: string, atTimestamp: number, atVersion: number): VersionEntry | undefined {
    let e = this.get(key, atVersion);
    while (e !== undefined && e.timestamp > atTimestamp) e = e.older;
    return e;
  }

  /** The head of `key`'s chain, including versions not yet visible. */
  head(key: string): VersionEntry | undefined {
    return this.chains.get(key);
  }

  /** Keys in `[start, end)` (byte strings; undefined = open), in order or reversed. */
  keys(start: string | undefined, end: string | undefined, reverse = false): Generator<string> {
    return this.index.range(start, end, reverse);
  }
}
