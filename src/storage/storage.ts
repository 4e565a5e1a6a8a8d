/**
 * L9: the only boundary the engine uses. Keys and bytes in, keys and bytes out; versions,
 * timestamps, durability and recovery stay below it. Keys are storage keys (byte strings, see
 * format/internal-key.ts) built with `keyspace()`.
 */
import { invalidArgument } from '../base/index.js';
import {
  type CommitResult,
  CommitRuntime,
  type CommitRuntimeOptions,
  type Durability,
  type LifecycleState,
  type RecoveryReport,
} from '../commit/index.js';
import { keyspacePrefix, type WriteOp } from '../format/index.js';
import type { Found, TreeStats } from '../lsm/index.js';

export {
  type CompactionOffload,
  type LsmTuning,
  MEMORY_BUDGET_BYTES_DEFAULT,
  type RetentionPolicy,
  type TreeStats,
  treeSizing,
  validateRetention,
} from '../lsm/index.js';

export type { CommitResult, Durability, LifecycleState, RecoveryReport, WriteOp };

/** A point in history: a version, or a wall-clock timestamp in milliseconds. */
export type ReadPoint = { version: number } | { timestamp: number };

/** One stored version of a key; `value === null` is a delete (tombstone). */
export interface StoredVersion {
  version: number;
  timestamp: number;
  value: Uint8Array | null;
}

export interface ScanOptions {
  /** First storage key, inclusive. */
  start?: string;
  /** Storage key to stop before, exclusive. */
  end?: string;
  reverse?: boolean;
  at?: ReadPoint;
}

/** The branch id of `main`; 0 is kept for the database's own records. */
export const MAIN_BRANCH_ID = 1;

export type StorageOptions = CommitRuntimeOptions;

/** Resolved read point: a version cap and an optional timestamp cap. */
interface Resolved {
  version: number;
  timestamp: number;
}

function toStored(e: Found): StoredVersion {
  return { version: e.version, timestamp: e.timestamp, value: e.value };
}

export class Storage {
  private constructor(private readonly runtime: CommitRuntime) {}

  static async open(options: StorageOptions): Promise<Storage> {
    return new Storage(await CommitRuntime.open(options));
  }

  get version(): number {
    return this.runtime.visibleVersion;
  }

  get durableVersion(): number {
    return this.runtime.durableVersion;
  }

  get recovery(): RecoveryReport {
    return this.runtime.recovery;
  }

  get state(): LifecycleState {
    return this.runtime.state;
  }

  get durability(): Durability {
    return this.runtime.durability;
  }

  /** The storage-key prefix of one branch and space. */
  keyspace(branchId: number, space: string): string {
    return keyspacePrefix(branchId, space);
  }

  /**
   * Turns a read point into caps. A version above the newest visible one, or a negative or
   * non-integer version, is `invalid_argument`; no point means "now".
   */
  resolve(at: ReadPoint | undefined): Resolved {
    this.runtime.checkReadable();
    const visible = this.runtime.visibleVersion;
    if (at === undefined) return { version: visible, timestamp: Number.POSITIVE_INFINITY };
    if ('version' in at) {
      const v = at.version;
      if (!Number.isSafeInteger(v) || v < 0)
        throw invalidArgument(`version must be a non-negative integer, got ${v}`);
      if (v > visible)
        throw invalidArgument(`version ${v} is newer than the newest visible version ${visible}`);
      return { version: v, timestamp: Number.POSITIVE_INFINITY };
    }
    const t = at.timestamp;
    if (typeof t !== 'number' || !Number.isFinite(t))
      throw invalidArgument(`timestamp must be a finite number, got ${t}`);
    return { version: visible, timestamp: t };
  }

  /** The newest version of `key` at the read point, tombstones included. */
  getv(key: string, at?: ReadPoint): StoredVersion | undefined {
    const r = this.resolve(at);
    const e = this.runtime.tree.get(key, r.version, r.timestamp);
    return e === undefined ? undefined : toStored(e);
  }

  /**
   * getv of the storage key `keyspace + key`, where `keyspace` is a primitive's keyspace prefix
   * with its tag byte (Memtable.getIn): the caller's two strings are looked up as they are, with
   * no concatenation.
   */
  getvIn(keyspace: string, key: string, at?: ReadPoint): StoredVersion | undefined {
    const r = this.resolve(at);
    const e = this.runtime.tree.getIn(keyspace, key, r.version, r.timestamp);
    return e === undefined ? undefined : toStored(e);
  }

  /** Fast path for the newest visible value: bytes, or undefined when missing or deleted. */
  read(key: string): Uint8Array | undefined {
    this.runtime.checkReadable();
    const e = this.runtime.tree.get(key, this.runtime.visibleVersion);
    return e === undefined || e.value === null ? undefined : e.value;
  }

  /** read of the storage key `keyspace + key`, split as for getvIn. */
  readIn(keyspace: string, key: string): Uint8Array | undefined {
    this.runtime.checkReadable();
    const e = this.runtime.tree.getIn(keyspace, key, this.runtime.visibleVersion);
    return e === undefined || e.value === null ? undefined : e.value;
  }

  /** Live (not deleted) keys in order with their version at the read point. */
  *scan(options: ScanOptions = {}): Generator<[string, StoredVersion]> {
    const r = this.resolve(options.at);
    for (const e of this.runtime.tree.scan(
      options.start,
      options.end,
      options.reverse ?? false,
      r.version,
      r.timestamp,
    )) {
      if (e.value !== null) yield [e.key, toStored(e)];
    }
  }

  /** Every version of `key` at or before the read point, newest first, deletes included. */
  history(key: string, at?: ReadPoint): StoredVersion[] {
    const r = this.resolve(at);
    return this.runtime.tree.history(key, r.version, r.timestamp).map(toStored);
  }

  /** history of the storage key `keyspace + key`, split as for getvIn. */
  historyIn(keyspace: string, key: string, at?: ReadPoint): StoredVersion[] {
    return this.history(keyspace + key, at);
  }

  /**
   * The newest version of `key` including commits not yet visible (pending strict commits), or
   * undefined when it has none or the newest is a delete. Compare-and-set checks against this,
   * inside a `validate` callback, so that two pending writers cannot both win.
   */
  headVersion(key: string): number | undefined {
    const e = this.runtime.tree.head(key);
    return e === undefined || e.value === null ? undefined : e.version;
  }

  /** Commits a batch atomically; see CommitRuntime.commit. */
  commit(ops: readonly WriteOp[], validate?: () => void): Promise<CommitResult> {
    return this.runtime.commit(ops, validate);
  }

  sync(): Promise<void> {
    return this.runtime.sync();
  }

  checkpoint(): Promise<void> {
    return this.runtime.checkpoint();
  }

  /** Waits until background flushes and compactions are done (tests and benchmarks). */
  settle(): Promise<void> {
    return this.runtime.settle();
  }

  close(): Promise<void> {
    return this.runtime.close();
  }

  stats(): StorageStats {
    const m = this.runtime.tree.active;
    return {
      state: this.runtime.state,
      durability: this.runtime.durability,
      version: this.version,
      durableVersion: this.durableVersion,
      memtable: { keys: m.keyCount, versions: m.versionCount, bytes: m.sizeBytes },
      tree: this.runtime.tree.stats(),
    };
  }
}

export interface StorageStats {
  state: LifecycleState;
  durability: Durability;
  version: number;
  durableVersion: number;
  /** The active memtable. */
  memtable: { keys: number; versions: number; bytes: number };
  /** Levels, tables, caches, background work and stalls. */
  tree: TreeStats;
}
