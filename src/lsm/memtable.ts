/**
 * The memtable: every version of every key written since the last flush, in memory.
 *
 * Each storage key maps to a chain of versions, newest first. Hash maps serve point reads in
 * O(1); a B+tree of keys (KeyIndex) serves ordered scans, holding each key's slot (its chain
 * head) so that a scan needs no hash lookups. The maps are two-level, keyspace (the
 * storage-key prefix including the primitive's tag byte, see storageKeySplit) then the rest, so
 * a primitive can read with `getIn(itsPrefix, userKey)`: both strings are the caller's own and
 * reused, so V8 has their hashes cached, where one concatenated key would be flattened and hashed
 * afresh on every read (about a quarter of a KV get's time before this split).
 *
 * Versions are applied in increasing order, so a chain's head is always its newest version.
 * Readers pass the version they read at; entries above it (written but not yet visible, as in
 * strict mode before the fsync) are skipped.
 */
import { assert } from '../base/index.js';
import { storageKeySplit, type WriteOp } from '../format/index.js';
import { KeyIndex } from './key-index.js';

/** One version of one key. `value === null` is a tombstone. */
export interface VersionEntry {
  readonly version: number;
  readonly timestamp: number;
  readonly value: Uint8Array | null;
  /** The next older version of the same key, if the memtable holds one. */
  readonly older: VersionEntry | undefined;
}

/** One key's place in the memtable: its full storage key and the head of its version chain. */
export interface KeySlot {
  readonly key: string;
  readonly head: VersionEntry;
}

interface Slot extends KeySlot {
  head: VersionEntry;
}

/** The newest entry of the chain from `e` with version <= `atVersion`, if any. */
export function entryAt(e: VersionEntry | undefined, atVersion: number): VersionEntry | undefined {
  while (e !== undefined && e.version > atVersion) e = e.older;
  return e;
}

/** Rough per-entry overhead (object, map slot, index slot) for memory accounting. */
const ENTRY_OVERHEAD_BYTES = 64;

export class Memtable {
  /** keyspace (prefix incl. tag byte) -> rest of the storage key -> the key's slot. */
  private readonly spaces = new Map<string, Map<string, Slot>>();
  /** Full storage keys in order, each with the same slot, so scans need no hash lookups. */
  private readonly index = new KeyIndex<Slot>();
  private bytes = 0;
  private newest = 0;
  private newestTs = 0;
  private entryCount = 0;
  private keyTotal = 0;
  /** The keyspace the last insert went to: batches and bulk loads mostly stay in one. */
  private lastSpace = '';
  private lastChains: Map<string, Slot> | undefined;

  /** Approximate memory held, for the memory budget. */
  get sizeBytes(): number {
    return this.bytes;
  }

  get keyCount(): number {
    return this.keyTotal;
  }

  get versionCount(): number {
    return this.entryCount;
  }

  /** The newest version applied. */
  get newestVersion(): number {
    return this.newest;
  }

  /** The timestamp of the newest version applied. */
  get newestTimestamp(): number {
    return this.newestTs;
  }

  /** Applies one commit batch. Requires `version` greater than every version applied before. */
  apply(version: number, timestamp: number, ops: readonly WriteOp[]): void {
    assert(version > this.newest, `memtable versions must increase (${version} after ${this.newest})`);
    this.newest = version;
    this.newestTs = timestamp;
    for (const op of ops) this.insert(op.key, version, timestamp, op.value);
  }

  /** The slots of the keyspace `key` belongs to (`key` split at `cut`), created if missing. */
  private chainsFor(key: string, cut: number): Map<string, Slot> {
    if (cut === this.lastSpace.length && this.lastChains !== undefined && key.startsWith(this.lastSpace))
      return this.lastChains;
    const space = key.slice(0, cut);
    let chains = this.spaces.get(space);
    if (chains === undefined) {
      chains = new Map();
      this.spaces.set(space, chains);
      this.bytes += space.length * 2 + ENTRY_OVERHEAD_BYTES;
    }
    this.lastSpace = space;
    this.lastChains = chains;
    return chains;
  }

  /**
   * Inserts one version directly (loading a snapshot). Within a key, versions must arrive in
   * increasing order.
   */
  insert(key: string, version: number, timestamp: number, value: Uint8Array | null): void {
    const cut = storageKeySplit(key);
    const chains = this.chainsFor(key, cut);
    const rest = key.slice(cut);
    const slot = chains.get(rest);
    if (slot === undefined) {
      const created: Slot = { key, head: { version, timestamp, value, older: undefined } };
      chains.set(rest, created);
      this.index.insert(key, created);
      this.keyTotal++;
      // The full key (in the index) and its rest (in the map) are both held, and the slot.
      this.bytes +=
        (key.length + rest.length) * 2 + 2 * ENTRY_OVERHEAD_BYTES + (value === null ? 0 : value.length);
      this.entryCount++;
      if (version >= this.newest) {
        this.newest = version;
        this.newestTs = timestamp;
      }
      return;
    }
    const head = slot.head;
    if (version === head.version) {
      // The same key twice in one batch: the later write wins, as if applied in order.
      this.bytes += (value === null ? 0 : value.length) - (head.value === null ? 0 : head.value.length);
      slot.head = { version, timestamp, value, older: head.older };
      return;
    }
    assert(version > head.version, 'versions of a key must increase');
    slot.head = { version, timestamp, value, older: head };
    this.bytes += ENTRY_OVERHEAD_BYTES + (value === null ? 0 : value.length);
    this.entryCount++;
    if (version >= this.newest) {
      this.newest = version;
      this.newestTs = timestamp;
    }
  }

  /**
   * The head of the chain of the storage key `keyspace + rest`, where `keyspace` is the key's
   * prefix up to storageKeySplit (a primitive's prefix with its tag byte).
   */
  headIn(keyspace: string, rest: string): VersionEntry | undefined {
    return this.spaces.get(keyspace)?.get(rest)?.head;
  }

  /** getIn's key is `keyspace + rest`, split as for headIn; otherwise the same as get. */
  getIn(keyspace: string, rest: string, atVersion: number): VersionEntry | undefined {
    const chains = this.spaces.get(keyspace);
    if (chains === undefined) return undefined;
    return entryAt(chains.get(rest)?.head, atVersion);
  }

  /** getAtTimestamp with the key split as for headIn. */
  getAtTimestampIn(
    keyspace: string,
    rest: string,
    atTimestamp: number,
    atVersion: number,
  ): VersionEntry | undefined {
    let e = this.getIn(keyspace, rest, atVersion);
    while (e !== undefined && e.timestamp > atTimestamp) e = e.older;
    return e;
  }

  /** The newest entry of `key` with version <= `atVersion` (a tombstone counts), if any. */
  get(key: string, atVersion: number): VersionEntry | undefined {
    const cut = storageKeySplit(key);
    return this.getIn(key.slice(0, cut), key.slice(cut), atVersion);
  }

  /** Same as get, bounded by commit timestamp instead of version. */
  getAtTimestamp(key: string, atTimestamp: number, atVersion: number): VersionEntry | undefined {
    let e = this.get(key, atVersion);
    while (e !== undefined && e.timestamp > atTimestamp) e = e.older;
    return e;
  }

  /** The head of `key`'s chain, including versions not yet visible. */
  head(key: string): VersionEntry | undefined {
    const cut = storageKeySplit(key);
    return this.headIn(key.slice(0, cut), key.slice(cut));
  }

  /** Keys in `[start, end)` (byte strings; undefined = open), in order or reversed. */
  keys(start: string | undefined, end: string | undefined, reverse = false): Generator<string> {
    return this.index.range(start, end, reverse);
  }

  /** The slots of the keys `keys` would yield, in the same order: a scan's keys with their chains. */
  slots(start: string | undefined, end: string | undefined, reverse = false): Generator<KeySlot> {
    return this.index.rangeValues(start, end, reverse);
  }
}
