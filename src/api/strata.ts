/**
 * The public TypeScript API: `Strata` and `Branch`. Names follow docs/API (the contract in
 * shared/API.md); every method validates its input at this boundary.
 */

import type { Backend } from '../backend/index.js';
import {
  binaryToUtf8,
  type Clock,
  checkName,
  invalidArgument,
  type Scheduler,
  StrataError,
} from '../base/index.js';
import {
  type Batch,
  checkTransactionOptions,
  EVENTS_TAG,
  Events,
  type EventsDiff,
  GRAPH_TAG,
  Graph,
  type GraphDiff,
  JSON_TAG,
  Json,
  type JsonDiff,
  KV_TAG,
  Kv,
  type KvDiff,
  type MergeReport,
  mergeBranches,
  mergeEvents,
  mergeGraph,
  mergeJson,
  mergeKv,
  type PrimitiveMerge,
  prefixEnd,
  runTransaction,
  type TransactionOptions,
  type TransactionResult,
  TxEvents,
  TxGraph,
  TxJson,
  TxKv,
  View,
} from '../engine/index.js';
import {
  type Durability,
  type LsmTuning,
  MAIN_BRANCH_ID,
  type MergeStrategy,
  type ReadPoint,
  type RecoveryReport,
  type RetentionPolicy,
  Storage,
  type StorageStats,
  treeSizing,
  validateRetention,
} from '../storage/index.js';
import { currentPlatform } from './platform.js';

/** A point in history: a version number, `{ version }`, or `{ timestamp }` (ms since the epoch). */
export type AsOf = number | { version: number } | { timestamp: number };

export interface OpenOptions {
  /** 'buffered' (default), 'strict' or 'ephemeral'. See docs/durability.md. */
  durability?: Durability;
  /** What to do when a synced region is damaged: 'fail' (default) or 'quarantine' (open degraded). */
  onCorruption?: 'fail' | 'quarantine';
  /** Time source for commit timestamps (tests and simulation). */
  clock?: Clock;
  /** Runs background work such as the periodic sync (tests and simulation). */
  scheduler?: Scheduler;
  /** A storage backend to use instead of the platform's file system one. */
  backend?: Backend;
  /** Take a checkpoint once this many bytes of log have accumulated (default 256 MiB). */
  checkpointWalBytes?: number;
  /** Rotate log segments at about this size (default 64 MiB). */
  walSegmentBytes?: number;
  /**
   * Memory for memtables, the block cache and table indexes (default 64 MiB, at least 1 MiB).
   * Data may be many times larger; writers are slowed, never refused, when flushing falls
   * behind. See docs/limits.md.
   */
  memoryBudgetBytes?: number;
  /**
   * Which old versions compaction may drop (default: keep every version). Whatever it says, the
   * versions a live branch reads at its fork point are kept; reads of a point older than what
   * was kept fail with `history_unavailable`. See docs/ARCHITECTURE.md ("Retention").
   */
  retention?: RetentionPolicy;
  /** Retention per branch name, overriding `retention` for that branch. */
  branchRetention?: Record<string, RetentionPolicy>;
  /** Finer sizing of memtables, tables and levels (mostly for tests). */
  lsm?: LsmTuning;
  /**
   * Run compactions on a worker thread where the platform offers one (Node, on its file-system
   * backend); default true. With false, compactions run on the main thread in bounded slices.
   */
  compactionWorker?: boolean;
}

const DURABILITIES: readonly Durability[] = ['strict', 'buffered', 'ephemeral'];

function checkOptions(options: unknown): OpenOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw invalidArgument('options must be an object');
  const o = options as OpenOptions;
  if (o.durability !== undefined && !DURABILITIES.includes(o.durability)) {
    throw invalidArgument(
      `durability must be one of ${DURABILITIES.join(', ')}; got ${String(o.durability)}`,
    );
  }
  if (o.onCorruption !== undefined && o.onCorruption !== 'fail' && o.onCorruption !== 'quarantine') {
    throw invalidArgument(`onCorruption must be 'fail' or 'quarantine'; got ${String(o.onCorruption)}`);
  }
  if (o.memoryBudgetBytes !== undefined || o.lsm !== undefined) treeSizing(o.memoryBudgetBytes, o.lsm);
  if (o.retention !== undefined) validateRetention(o.retention);
  if (o.branchRetention !== undefined) {
    if (typeof o.branchRetention !== 'object' || o.branchRetention === null)
      throw invalidArgument('branchRetention must be an object of branch name to retention policy');
    for (const [name, policy] of Object.entries(o.branchRetention)) {
      checkName(name, 'branch');
      validateRetention(policy);
    }
  }
  if (o.compactionWorker !== undefined && typeof o.compactionWorker !== 'boolean')
    throw invalidArgument(`compactionWorker must be a boolean; got ${String(o.compactionWorker)}`);
  for (const k of ['checkpointWalBytes', 'walSegmentBytes'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 4096))
      throw invalidArgument(`${k} must be an integer of at least 4096`);
  }
  return o;
}

function toReadPoint(at: AsOf): ReadPoint {
  if (typeof at === 'number') return { version: at };
  if (typeof at === 'object' && at !== null) {
    if ('version' in at && typeof at.version === 'number') return { version: at.version };
    if ('timestamp' in at && typeof at.timestamp === 'number') return { timestamp: at.timestamp };
  }
  throw invalidArgument('as-of must be a version number, { version } or { timestamp }');
}

/** What `db.branches()` reports for each live branch. */
export interface BranchDescription {
  name: string;
  /** The branch it was forked from; null for main. */
  parent: string | null;
  /** The parent's rows at or below this version are visible to the branch (0 for main). */
  forkVersion: number;
  /** Present when the fork was made as of a timestamp: the parent's rows after it are not seen. */
  forkTimestamp?: number;
  /** The version and time (ms since the epoch) of the commit that created it (0 for main). */
  createdVersion: number;
  createdAt: number;
}

/** How another branch (or point) differs from this one, per primitive. */
export interface BranchDiff {
  kv: KvDiff;
  json: JsonDiff;
  events: EventsDiff;
  graph: GraphDiff;
}

export interface MergeOptions {
  /** What to do with something changed differently on both sides (default 'strict': change nothing, report). */
  strategy?: MergeStrategy;
}

const STRATEGIES: readonly MergeStrategy[] = ['strict', 'source-wins', 'target-wins'];

/** Each primitive's merge, by tag. */
const MERGES: Readonly<Record<string, PrimitiveMerge>> = {
  [KV_TAG]: mergeKv,
  [JSON_TAG]: mergeJson,
  [EVENTS_TAG]: mergeEvents,
  [GRAPH_TAG]: mergeGraph,
};

export interface ForkOptions {
  /** Fork as of this point of the branch (default: the branch's newest version, or the view's point). */
  at?: AsOf;
}

/** One branch of the database; its primitives read and write that branch. */
export class Branch {
  /** Key-value pairs. */
  readonly kv: Kv;
  /** JSON documents, read and written by path. */
  readonly json: Json;
  /** Append-only, hash-chained event streams. */
  readonly events: Events;
  /** A property graph: nodes and typed, directed edges. */
  readonly graph: Graph;

  /** @internal */
  constructor(
    private readonly storage: Storage,
    readonly name: string,
    private readonly branchId: number,
    /** The space this branch object reads and writes (`default` unless chosen with space()). */
    readonly spaceName: string,
    private readonly asOf?: ReadPoint,
  ) {
    const keyspace = storage.keyspace(branchId, spaceName);
    this.kv = new Kv(storage, keyspace, asOf);
    this.json = new Json(storage, keyspace, asOf);
    this.events = new Events(storage, keyspace, asOf);
    this.graph = new Graph(storage, keyspace, asOf);
  }

  /** @internal The branch id, for transactions. */
  get id(): number {
    return this.branchId;
  }

  /** @internal */
  belongsTo(storage: Storage): boolean {
    return this.storage === storage;
  }

  /** @internal Whether this is a view as of a past point. */
  get isView(): boolean {
    return this.asOf !== undefined;
  }

  /**
   * The space `name` of this branch: every primitive again, in its own partition (`default` is
   * the one a branch starts in). Forks, diffs, merges and as-of views carry spaces.
   */
  space(name: string): Branch {
    checkName(name, 'space');
    return new Branch(this.storage, this.name, this.branchId, name, this.asOf);
  }

  /**
   * The spaces of this branch (or view) that hold anything, inherited rows included, in name
   * order; `default` is always listed. One seek per space, whatever the data size.
   */
  spaces(): string[] {
    const view = new View(this.storage, this.asOf);
    const prefix = this.storage.keyspace(this.branchId, '').slice(0, 4);
    const end = `${prefix}\xff\xff`;
    const names = new Set<string>(['default']);
    let from = prefix;
    for (;;) {
      let first: string | undefined;
      for (const [key] of view.scan(from, end)) {
        first = key;
        break;
      }
      if (first === undefined) break;
      const length = first.charCodeAt(4);
      names.add(binaryToUtf8(first.slice(5, 5 + length)));
      from = prefixEnd(first.slice(0, 5 + length));
    }
    return [...names].sort();
  }

  /** A read-only view of this branch as of a past version or timestamp. */
  at(point: AsOf): Branch {
    const p = toReadPoint(point);
    this.storage.resolve(p); // Validates now, so a bad point fails here rather than on first read.
    return new Branch(this.storage, this.name, this.branchId, this.spaceName, p);
  }

  /**
   * Forks this branch as `name`: O(metadata), one small commit and no copy of any row. The new
   * branch sees this branch's rows as of the fork point (now, `options.at`, or this view's point)
   * and nothing written here afterwards; its own writes are invisible here. Rejects with
   * `invalid_argument` (bad name or point), `conflict` (the name is taken), or the commit's errors.
   */
  async fork(name: string, options: ForkOptions = {}): Promise<Branch> {
    if (typeof options !== 'object' || options === null)
      throw invalidArgument('fork options must be an object');
    const at = options.at === undefined ? this.asOf : toReadPoint(options.at);
    const info = await this.storage.fork(this.branchId, name, at);
    return new Branch(this.storage, info.record.name, info.record.id, this.spaceName);
  }

  /**
   * How `other` — a branch name, another Branch, or a view such as `this.at(42)` — differs from
   * this branch (or view), per primitive, in this branch's space.
   */
  diff(other: string | Branch): BranchDiff {
    const o = this.other(other);
    return {
      kv: this.kv.diff(o.kv),
      json: this.json.diff(o.json),
      events: this.events.diff(o.events),
      graph: this.graph.diff(o.graph),
    };
  }

  /**
   * Three-way merge of `source` into this branch, as one commit: keys changed only on the source
   * are copied here; keys changed on both sides differently are conflicts, handled by
   * `options.strategy` ('strict', the default, changes nothing when there is any). Covers every
   * space and primitive of the two branches.
   */
  async merge(source: string | Branch, options: MergeOptions = {}): Promise<MergeReport> {
    if (typeof options !== 'object' || options === null)
      throw invalidArgument('merge options must be an object');
    const strategy = options.strategy ?? 'strict';
    if (!STRATEGIES.includes(strategy))
      throw invalidArgument(`strategy must be one of ${STRATEGIES.join(', ')}; got ${String(strategy)}`);
    if (this.asOf !== undefined)
      throw new StrataError('read_only', 'a view as of a past point cannot be merged into', {
        committed: 'no',
      });
    const s = this.other(source);
    if (s.asOf !== undefined) throw invalidArgument('merge from a branch, not from a view of one');
    return mergeBranches(this.storage, s.branchId, this.branchId, strategy, MERGES);
  }

  private other(other: string | Branch): Branch {
    if (other instanceof Branch) {
      if (other.storage !== this.storage) throw invalidArgument('that branch belongs to another database');
      return other.spaceName === this.spaceName
        ? other
        : new Branch(this.storage, other.name, other.branchId, this.spaceName, other.asOf);
    }
    if (typeof other !== 'string') throw invalidArgument('expected a branch name or a Branch');
    const info = other === 'main' ? undefined : this.storage.branch(other);
    if (other !== 'main' && info === undefined)
      throw new StrataError('not_found', `no branch named '${other}'`);
    return new Branch(this.storage, other, info?.record.id ?? MAIN_BRANCH_ID, this.spaceName);
  }
}

/**
 * What a transaction's callback gets: every primitive of one branch (in the `default` space, or
 * another through space()), reading the transaction's snapshot and its own writes. Writes are
 * buffered, so they return at once; they land together when the callback's promise resolves.
 */
export class Transaction {
  readonly kv: TxKv;
  readonly json: TxJson;
  readonly events: TxEvents;
  readonly graph: TxGraph;

  /** @internal */
  constructor(
    private readonly storage: Storage,
    private readonly batch: Batch,
    /** The branch the transaction reads and writes. */
    readonly branch: string,
    private readonly branchId: number,
    /** The space of these primitives. */
    readonly spaceName: string,
  ) {
    const keyspace = storage.keyspace(branchId, spaceName);
    this.kv = new TxKv(batch, keyspace);
    this.json = new TxJson(batch, keyspace);
    this.events = new TxEvents(batch, keyspace);
    this.graph = new TxGraph(batch, keyspace);
  }

  /** The same transaction's primitives in space `name` of its branch. */
  space(name: string): Transaction {
    checkName(name, 'space');
    return new Transaction(this.storage, this.batch, this.branch, this.branchId, name);
  }

  /** The snapshot's version: what every read of the transaction sees. */
  get snapshotVersion(): number {
    return this.batch.version;
  }
}

export type { TransactionOptions, TransactionResult };

/** An open database. */
export class Strata {
  private constructor(private readonly storage: Storage) {}

  /**
   * Opens the database in `path` (a folder, created when missing), recovering whatever the last
   * session left. Rejects with `busy` when another process has it open, and with `corruption`
   * when a synced region is damaged (unless `onCorruption: 'quarantine'`).
   */
  static async open(path: string, options?: OpenOptions): Promise<Strata> {
    if (typeof path !== 'string' || path.length === 0)
      throw invalidArgument('path must be a non-empty string');
    const o = checkOptions(options);
    const durability = o.durability ?? 'buffered';
    const platform = currentPlatform();
    const clock = o.clock ?? platform?.clock;
    const scheduler = o.scheduler ?? platform?.scheduler;
    if (clock === undefined || scheduler === undefined) {
      throw new StrataError(
        'invalid_argument',
        'no platform is installed: import Strata from the package root, or pass clock and scheduler',
      );
    }
    let backend = o.backend;
    let ownsBackend = false;
    if (backend === undefined && durability !== 'ephemeral') {
      if (platform === undefined)
        throw invalidArgument('no platform backend is installed; pass options.backend');
      backend = await platform.openBackend(path);
      ownsBackend = true;
    }
    const offload =
      backend === undefined || o.compactionWorker === false
        ? undefined
        : platform?.compactionOffload?.(backend);
    const opening = Storage.open({
      durability,
      clock,
      scheduler,
      ...(backend === undefined ? {} : { backend }),
      ...(o.onCorruption === undefined ? {} : { onCorruption: o.onCorruption }),
      ...(o.checkpointWalBytes === undefined ? {} : { checkpointWalBytes: o.checkpointWalBytes }),
      ...(o.walSegmentBytes === undefined ? {} : { segmentBytesTarget: o.walSegmentBytes }),
      ...(o.memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes: o.memoryBudgetBytes }),
      ...(o.retention === undefined ? {} : { retention: o.retention }),
      ...(o.branchRetention === undefined ? {} : { branchRetention: o.branchRetention }),
      ...(o.lsm === undefined ? {} : { lsm: o.lsm }),
      ...(offload === undefined ? {} : { offload }),
    });
    try {
      return new Strata(await opening);
    } catch (error) {
      // A failed open (busy, corruption, I/O) must not leave the files it opened behind.
      if (ownsBackend) await backend?.close().catch(() => undefined);
      throw error;
    }
  }

  /** An in-memory database: nothing touches disk, everything is gone when it closes. */
  static async cache(options?: Pick<OpenOptions, 'clock' | 'scheduler'>): Promise<Strata> {
    return Strata.open(':memory:', { ...checkOptions(options), durability: 'ephemeral' });
  }

  /** The live branch named `name` (default `main`, which every database has); `not_found` otherwise. */
  branch(name = 'main'): Branch {
    if (typeof name !== 'string') throw invalidArgument('a branch name must be a string');
    if (name === 'main') return new Branch(this.storage, 'main', MAIN_BRANCH_ID, 'default');
    const info = this.storage.branch(name);
    if (info === undefined) throw new StrataError('not_found', `no branch named '${name}'`);
    return new Branch(this.storage, name, info.record.id, 'default');
  }

  /**
   * Deletes branch `name` (not main): its name is free again at once, and its children keep
   * everything they inherited. Reads and writes through a deleted branch fail with `not_found`.
   */
  deleteBranch(name: string): Promise<{ version: number; timestamp: number }> {
    try {
      return this.storage.deleteBranch(name);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Every live branch: main first, then in the order they were created. */
  branches(): BranchDescription[] {
    return this.storage.listBranches().map((b) => ({
      name: b.record.name,
      parent: b.record.id === MAIN_BRANCH_ID ? null : this.storage.branchName(b.record.parent),
      forkVersion: b.record.forkVersion,
      ...(b.record.forkTimestamp === Number.POSITIVE_INFINITY
        ? {}
        : { forkTimestamp: b.record.forkTimestamp }),
      createdVersion: b.createdVersion,
      createdAt: b.createdAt,
    }));
  }

  /**
   * Runs `fn` as one serializable transaction on `branch` (a name or a Branch; its space is the
   * transaction's default): reads see one snapshot and the transaction's own writes, and every
   * write — KV, JSON, events and graph — lands in one commit with one version, or none does. If
   * something it read was changed by a concurrent commit, it runs `fn` again on a newer snapshot
   * (up to `options.retries` times, default 8), then rejects with `conflict`. An error thrown
   * by `fn` aborts it: nothing is written and the error is rethrown. `fn` may run more than
   * once, so it should not have side effects outside the transaction.
   */
  async transaction<T>(
    branch: string | Branch,
    fn: (tx: Transaction) => T | Promise<T>,
    options?: TransactionOptions,
  ): Promise<TransactionResult<T>> {
    if (typeof fn !== 'function') throw invalidArgument('a transaction needs a callback function');
    const o = checkTransactionOptions(options);
    const b = typeof branch === 'string' ? this.branch(branch) : branch;
    if (!(b instanceof Branch) || !b.belongsTo(this.storage))
      throw invalidArgument('expected a branch name or a Branch of this database');
    if (b.isView)
      throw new StrataError('read_only', 'a view as of a past point cannot run a transaction', {
        committed: 'no',
      });
    return runTransaction(
      this.storage,
      (batch) => new Transaction(this.storage, batch, b.name, b.id, b.spaceName),
      fn,
      o,
    );
  }

  /** Newest visible version. */
  get version(): number {
    return this.storage.version;
  }

  /** Newest version known durable (always 0 for an in-memory database). */
  get durableVersion(): number {
    return this.storage.durableVersion;
  }

  /** What opening found. */
  get recovery(): RecoveryReport {
    return this.storage.recovery;
  }

  /** Makes everything committed so far durable. */
  sync(): Promise<void> {
    return this.storage.sync();
  }

  /**
   * Flushes every memtable to tables (a checkpoint: bounds recovery time, lets old log be deleted),
   * then runs compaction until no level is past its trigger.
   */
  async compact(): Promise<void> {
    await this.storage.checkpoint();
    await this.storage.settle();
  }

  stats(): StorageStats {
    return this.storage.stats();
  }

  /** Resolves once background flushes and compactions have caught up (tests, benchmarks). */
  settle(): Promise<void> {
    return this.storage.settle();
  }

  /** Syncs and closes. Further calls reject with `closed`. */
  close(): Promise<void> {
    return this.storage.close();
  }
}
