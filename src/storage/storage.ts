/**
 * L9: the only boundary the engine uses. Keys and bytes in, keys and bytes out; versions,
 * timestamps, durability and recovery stay below it. Keys are storage keys (byte strings, see
 * format/internal-key.ts) built with `keyspace()`.
 */
import { invalidArgument, StrataError } from '../base/index.js';
import {
  type CommitResult,
  CommitRuntime,
  type CommitRuntimeOptions,
  type Durability,
  type LifecycleState,
  type RecoveryReport,
} from '../commit/index.js';
import type { TableEntry } from '../format/index.js';
import {
  BRANCH_RECORD_END,
  BRANCH_RECORD_PREFIX,
  branchRecordKey,
  decodeBranchRecord,
  encodeBranchRecord,
  keyspacePrefix,
  MAIN_BRANCH_ID,
  type WriteOp,
} from '../format/index.js';
import type { Found, TreeStats } from '../lsm/index.js';
import {
  type AncestorLink,
  type BranchInfo,
  BranchRegistry,
  branchIdOf,
  checkBranchName,
} from '../mvcc/index.js';

export {
  type CompactionOffload,
  type LsmTuning,
  MEMORY_BUDGET_BYTES_DEFAULT,
  type RetentionPolicy,
  type TreeStats,
  treeSizing,
  validateRetention,
} from '../lsm/index.js';

export type { BranchInfo } from '../mvcc/index.js';
export type { CommitResult, Durability, LifecycleState, RecoveryReport, WriteOp };
export { MAIN_BRANCH_ID };

/** A point in history: a version, or a wall-clock timestamp in milliseconds. */
export type ReadPoint = { version: number } | { timestamp: number };

/** One stored version of a key; `value === null` is a delete (tombstone). */
export interface StoredVersion {
  version: number;
  timestamp: number;
  value: Uint8Array | null;
}

/** A version in a key's history, with the branch that wrote it (an ancestor, for inherited rows). */
export interface HistoryVersion extends StoredVersion {
  branch: string;
}

export interface ScanOptions {
  /** First storage key, inclusive. */
  start?: string;
  /** Storage key to stop before, exclusive. */
  end?: string;
  reverse?: boolean;
  at?: ReadPoint;
}

export type StorageOptions = CommitRuntimeOptions;

/** Resolved read point: a version cap and an optional timestamp cap. */
interface Resolved {
  version: number;
  timestamp: number;
}

function toStored(e: Found): StoredVersion {
  return { version: e.version, timestamp: e.timestamp, value: e.value };
}

/** Reads a branch record row, or fails the open: a damaged record is corruption. */
function branchInfoOf(e: TableEntry): BranchInfo | undefined {
  if (e.value === null) return undefined;
  const d = decodeBranchRecord(e.value);
  if (!d.ok) throw new StrataError('corruption', `a branch record is damaged (${d.reason} at byte ${d.at})`);
  return { record: d.value, createdVersion: e.version, createdAt: e.timestamp };
}

export class Storage {
  private constructor(
    private readonly runtime: CommitRuntime,
    private readonly branches: BranchRegistry,
    private readonly forkAllowed: boolean,
  ) {}

  static async open(options: StorageOptions): Promise<Storage> {
    const runtime = await CommitRuntime.open(options);
    try {
      const infos: BranchInfo[] = [];
      const visible = runtime.visibleVersion;
      for (const e of runtime.tree.scan(BRANCH_RECORD_PREFIX, BRANCH_RECORD_END, false, visible, Infinity)) {
        const info = branchInfoOf(e);
        if (info !== undefined) infos.push(info);
      }
      const r = options.retention ?? {};
      // A retention policy that drops versions would drop rows a fork still sees; branch-aware
      // retention (kept while a child's fork point needs them) is not built yet.
      const dropsVersions =
        r.keepNewest !== undefined || r.dropShadowedBefore !== undefined || r.dropBottomTombstones === true;
      return new Storage(runtime, new BranchRegistry(infos), !dropsVersions);
    } catch (error) {
      await runtime.close().catch(() => undefined);
      throw error;
    }
  }

  // --- branches -------------------------------------------------------------------------------

  /** The live branch named `name`, or undefined. */
  branch(name: string): BranchInfo | undefined {
    return this.branches.get(name);
  }

  /** Every live branch, main first, then in creation order. */
  listBranches(): BranchInfo[] {
    this.runtime.checkReadable();
    return this.branches.list();
  }

  branchName(id: number): string {
    return this.branches.nameOf(id);
  }

  /**
   * Forks live branch `parentId` as `name`, as of `at` (default: now). Commits one branch record
   * and copies nothing. Rejects with `invalid_argument` for a bad name or point, `conflict` when
   * the name is taken, and the commit's own errors.
   */
  async fork(parentId: number, name: string, at?: ReadPoint): Promise<BranchInfo> {
    checkBranchName(name);
    const parent = this.branches.byIdOrUndefined(parentId);
    if (parent === undefined || parent.record.state !== 'live')
      throw new StrataError('not_found', `branch #${parentId} does not exist`, { committed: 'no' });
    if (!this.forkAllowed) {
      throw new StrataError(
        'invalid_argument',
        'forking needs every version kept: this database was opened with a retention policy that drops versions, and branch-aware retention is not available yet',
        { committed: 'no' },
      );
    }
    const r = this.resolve(at);
    const record = this.branches.propose(name, parentId, r.version, r.timestamp);
    let created: { version: number; timestamp: number } | undefined;
    try {
      const c = await this.runtime.commit(
        [{ key: branchRecordKey(record.id), value: encodeBranchRecord(record) }],
        () => this.branches.claim(name),
      );
      created = c;
    } finally {
      this.branches.settle(record, created);
    }
    const info = this.branches.byIdOrUndefined(record.id);
    if (info === undefined) throw new StrataError('closed', 'the fork was not registered');
    return info;
  }

  /** The walk a read of `key` (any storage key or keyspace) takes, or undefined for main. */
  private chainOf(key: string): readonly AncestorLink[] | undefined {
    if (
      key.charCodeAt(3) === MAIN_BRANCH_ID &&
      key.charCodeAt(2) === 0 &&
      key.charCodeAt(1) === 0 &&
      key.charCodeAt(0) === 0
    )
      return undefined;
    return this.branches.ancestry(branchIdOf(key));
  }

  /** The newest version of `key` along `chain` under the caps of r. */
  private getAlong(chain: readonly AncestorLink[], key: string, r: Resolved): Found | undefined {
    for (let i = 0; i < chain.length; i++) {
      const l = chain[i]!;
      const e = this.runtime.tree.get(
        i === 0 ? key : l.rebase(key),
        Math.min(r.version, l.versionCap),
        Math.min(r.timestamp, l.timestampCap),
      );
      if (e !== undefined) return e;
    }
    return undefined;
  }

  private getInAlong(
    chain: readonly AncestorLink[],
    keyspace: string,
    key: string,
    r: Resolved,
  ): Found | undefined {
    for (let i = 0; i < chain.length; i++) {
      const l = chain[i]!;
      const e = this.runtime.tree.getIn(
        i === 0 ? keyspace : l.rebase(keyspace, true),
        key,
        Math.min(r.version, l.versionCap),
        Math.min(r.timestamp, l.timestampCap),
      );
      if (e !== undefined) return e;
    }
    return undefined;
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
    const chain = this.chainOf(key);
    const e =
      chain === undefined ? this.runtime.tree.get(key, r.version, r.timestamp) : this.getAlong(chain, key, r);
    return e === undefined ? undefined : toStored(e);
  }

  /**
   * getv of the storage key `keyspace + key`, where `keyspace` is a primitive's keyspace prefix
   * with its tag byte (Memtable.getIn): the caller's two strings are looked up as they are, with
   * no concatenation.
   */
  getvIn(keyspace: string, key: string, at?: ReadPoint): StoredVersion | undefined {
    const r = this.resolve(at);
    const chain = this.chainOf(keyspace);
    const e =
      chain === undefined
        ? this.runtime.tree.getIn(keyspace, key, r.version, r.timestamp)
        : this.getInAlong(chain, keyspace, key, r);
    return e === undefined ? undefined : toStored(e);
  }

  /** Fast path for the newest visible value: bytes, or undefined when missing or deleted. */
  read(key: string): Uint8Array | undefined {
    this.runtime.checkReadable();
    const chain = this.chainOf(key);
    const e =
      chain === undefined
        ? this.runtime.tree.get(key, this.runtime.visibleVersion)
        : this.getAlong(chain, key, { version: this.runtime.visibleVersion, timestamp: Infinity });
    return e === undefined || e.value === null ? undefined : e.value;
  }

  /** read of the storage key `keyspace + key`, split as for getvIn. */
  readIn(keyspace: string, key: string): Uint8Array | undefined {
    this.runtime.checkReadable();
    const chain = this.chainOf(keyspace);
    const e =
      chain === undefined
        ? this.runtime.tree.getIn(keyspace, key, this.runtime.visibleVersion)
        : this.getInAlong(chain, keyspace, key, {
            version: this.runtime.visibleVersion,
            timestamp: Infinity,
          });
    return e === undefined || e.value === null ? undefined : e.value;
  }

  /**
   * Live (not deleted) keys in order with their version at the read point. On a branch, the
   * branch's own rows and each ancestor's (under its caps) are merged by key, the nearest branch
   * winning, so a delete on the branch hides the parent's row. Bounds on a branch scan are
   * required (they name the keyspace).
   */
  *scan(options: ScanOptions = {}): Generator<[string, StoredVersion]> {
    const r = this.resolve(options.at);
    const reverse = options.reverse ?? false;
    const chain = options.start === undefined ? undefined : this.chainOf(options.start);
    if (chain === undefined) {
      for (const e of this.runtime.tree.scan(options.start, options.end, reverse, r.version, r.timestamp)) {
        if (e.value !== null) yield [e.key, toStored(e)];
      }
      return;
    }
    const start = options.start!;
    const end = options.end;
    if (end === undefined || branchIdOf(end) !== branchIdOf(start))
      throw invalidArgument('a branch scan needs an end bound in the same branch');
    // One cursor per branch of the walk; each step takes the smallest key (largest in reverse)
    // among the heads, from the nearest branch that has it, and moves every head at that key.
    const cursors = chain.map((l, i) =>
      this.runtime.tree.scan(
        i === 0 ? start : l.rebase(start),
        i === 0 ? end : l.rebase(end),
        reverse,
        Math.min(r.version, l.versionCap),
        Math.min(r.timestamp, l.timestampCap),
      ),
    );
    const heads: (TableEntry | undefined)[] = cursors.map((c) => {
      const n = c.next();
      return n.done ? undefined : n.value;
    });
    const own = chain[0]!.prefix;
    for (;;) {
      let best = -1;
      let bestRest = '';
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h === undefined) continue;
        const rest = h.key.slice(4);
        if (best < 0 || (reverse ? rest > bestRest : rest < bestRest)) {
          best = i;
          bestRest = rest;
        }
      }
      if (best < 0) return;
      const e = heads[best]!;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h !== undefined && h.key.slice(4) === bestRest) {
          const n = cursors[i]!.next();
          heads[i] = n.done ? undefined : n.value;
        }
      }
      if (e.value !== null) yield [best === 0 ? e.key : own + bestRest, toStored(e)];
    }
  }

  /** Every version of `key` at or before the read point, newest first, deletes included. */
  history(key: string, at?: ReadPoint): HistoryVersion[] {
    const r = this.resolve(at);
    const chain = this.chainOf(key);
    if (chain === undefined) {
      return this.runtime.tree
        .history(key, r.version, r.timestamp)
        .map((e) => ({ ...toStored(e), branch: 'main' }));
    }
    // A branch's own versions are all newer than its fork point, so walking up the ancestry
    // keeps newest first.
    const out: HistoryVersion[] = [];
    for (let i = 0; i < chain.length; i++) {
      const l = chain[i]!;
      const caps = [Math.min(r.version, l.versionCap), Math.min(r.timestamp, l.timestampCap)] as const;
      for (const e of this.runtime.tree.history(i === 0 ? key : l.rebase(key), caps[0], caps[1])) {
        out.push({ ...toStored(e), branch: l.name });
      }
    }
    return out;
  }

  /** history of the storage key `keyspace + key`, split as for getvIn. */
  historyIn(keyspace: string, key: string, at?: ReadPoint): HistoryVersion[] {
    return this.history(keyspace + key, at);
  }

  /**
   * The newest version of `key` including commits not yet visible (pending strict commits), or
   * undefined when it has none or the newest is a delete. Compare-and-set checks against this,
   * inside a `validate` callback, so that two pending writers cannot both win.
   */
  headVersion(key: string): number | undefined {
    let e = this.runtime.tree.head(key);
    if (e === undefined) {
      // Nothing of the branch's own: the inherited row, if any, is the head (an ancestor's rows
      // under the fork caps never change).
      const chain = this.chainOf(key);
      for (let i = 1; chain !== undefined && i < chain.length && e === undefined; i++) {
        const l = chain[i]!;
        e = this.runtime.tree.get(l.rebase(key), l.versionCap, l.timestampCap);
      }
    }
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
