/**
 * The commit runtime: one (version, timestamp) per batch, the three durability modes, the
 * visibility and durability watermarks, checkpoints, and the typed lifecycle.
 *
 * Writes go into the memtable at once but stay invisible until `visibleVersion` reaches them:
 * reads filter on that watermark. This is how strict mode keeps a commit invisible until its
 * fsync completes while still letting compare-and-set see it (so two pending writers cannot both
 * win), and how a failed strict commit simply never becomes visible.
 *
 *   ephemeral  visible at once; nothing on disk.
 *   buffered   WAL write issued at once, visible at once, synced within ~100 ms or ~1000 commits.
 *   strict     visible and acknowledged only after the WAL fsync (shared by concurrent commits).
 */

import type { Backend, BackendLock } from '../backend/index.js';
import {
  assert,
  BATCH_OPS_MAX,
  type Clock,
  FRAME_PAYLOAD_BYTES_MAX,
  invalidArgument,
  type Scheduler,
  StrataError,
  WAL_SEGMENT_BYTES_TARGET,
} from '../base/index.js';
import { commitPayloadSize, type WriteOp } from '../format/index.js';
import { DB_LOCK } from '../layout/index.js';
import {
  type CompactionOffload,
  EMPTY_LSM_STATE,
  LsmTree,
  type LsmTuning,
  type ManifestLog,
  Memtable,
  type RetentionPolicy,
  treeSizing,
} from '../lsm/index.js';
import { type CorruptionPolicy, type RecoveryReport, recover } from './recovery.js';
import { BUFFERED_SYNC_POLICY, type SyncPolicy, WalWriter } from './wal-writer.js';

/** The smallest default WAL segment: below it, a tiny memtable would mean a file per few commits. */
const WAL_SEGMENT_BYTES_MIN = 1024 * 1024;

export type Durability = 'strict' | 'buffered' | 'ephemeral';

/** The lifecycle. `failed`: an I/O error stopped writes; reads still work; reopen to recover. */
export type LifecycleState = 'open' | 'failed' | 'closing' | 'closed';

export interface CommitResult {
  version: number;
  timestamp: number;
}

export interface CommitRuntimeOptions {
  durability: Durability;
  /** Required unless durability is 'ephemeral'. */
  backend?: Backend;
  clock: Clock;
  scheduler: Scheduler;
  onCorruption?: CorruptionPolicy;
  /** Flush the memtable once this many WAL bytes accumulated since the last flush began. */
  checkpointWalBytes?: number;
  /** Memory for memtables, caches and table indexes (default 64 MiB); see treeSizing. */
  memoryBudgetBytes?: number;
  /** Finer sizing of the tree (tests use tiny tables to exercise flushes and compactions). */
  lsm?: LsmTuning;
  /** Runs compactions off the main thread (owned by the runtime from here on: closed with it). */
  offload?: CompactionOffload;
  /** Start with compactions held until `tree.releaseCompactions()` (see TreeOptions.holdCompactions). */
  holdCompactions?: boolean;
  /** Which versions compaction may drop (default: keep every version). */
  retention?: RetentionPolicy;
  segmentBytesTarget?: number;
  syncPolicy?: SyncPolicy;
}

export const CHECKPOINT_WAL_BYTES_DEFAULT = 256 * 1024 * 1024;

/** A commit's operations, or a function that builds them when the commit is ordered. */
export type CommitOps = readonly WriteOp[] | (() => readonly WriteOp[]);

export class CommitRuntime {
  readonly tree: LsmTree;
  readonly durability: Durability;
  readonly recovery: RecoveryReport;
  private readonly backend: Backend | undefined;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly writer: WalWriter | undefined;
  private readonly lock: BackendLock | undefined;
  private readonly checkpointWalBytes: number;
  /** Commits waiting for back-pressure to clear, in arrival order. */
  private stalled = 0;
  private stallChain: Promise<unknown> = Promise.resolve();

  private issued: number;
  private visible: number;
  private lastTimestamp: number;
  private walBytesSinceCheckpoint = 0;
  private failure: StrataError | undefined;
  private lifecycle: LifecycleState = 'open';

  private constructor(init: {
    options: CommitRuntimeOptions;
    tree: LsmTree;
    recovery: RecoveryReport;
    lock?: BackendLock;
    writer?: WalWriter;
    manifest?: ManifestLog;
    lastVersion: number;
    issuedFloor: number;
    lastTimestamp: number;
  }) {
    this.durability = init.options.durability;
    this.backend = init.options.backend;
    this.clock = init.options.clock;
    this.scheduler = init.options.scheduler;
    this.checkpointWalBytes = init.options.checkpointWalBytes ?? CHECKPOINT_WAL_BYTES_DEFAULT;
    this.tree = init.tree;
    this.recovery = init.recovery;
    this.lock = init.lock;
    this.writer = init.writer;
    this.visible = init.lastVersion;
    this.issued = init.issuedFloor;
    this.lastTimestamp = init.lastTimestamp;
  }

  /** Opens (recovering) or creates a database. */
  static async open(options: CommitRuntimeOptions): Promise<CommitRuntime> {
    const sizing = treeSizing(options.memoryBudgetBytes, options.lsm);
    const treeOptions = {
      clock: options.clock,
      scheduler: options.scheduler,
      retention: options.retention ?? {},
      ...sizing,
      offload: options.offload,
      holdCompactions: options.holdCompactions === true,
    };
    if (options.durability === 'ephemeral') {
      const tree = await LsmTree.open(
        { ...treeOptions, backend: undefined, manifest: undefined, editExtras: () => ({}) },
        EMPTY_LSM_STATE,
        new Memtable(),
      );
      return new CommitRuntime({
        options,
        tree,
        recovery: {
          health: 'clean',
          recoveredVersion: 0,
          durableVersion: 0,
          notes: ['in memory; nothing is stored'],
        },
        lastVersion: 0,
        issuedFloor: 0,
        lastTimestamp: 0,
      });
    }
    const backend = options.backend;
    assert(backend !== undefined, 'a durable database needs a backend');
    const lock = await backend.lock(DB_LOCK);
    let manifest: ManifestLog | undefined;
    let tree: LsmTree | undefined;
    try {
      const state = await recover(backend, options.onCorruption ?? 'fail', sizing.manifestRollBytes);
      manifest = state.manifest;
      const log = manifest;
      // After an unclean end, versions up to the durable reservation may have been seen.
      const issuedFloor = state.cleanClose
        ? state.lastVersion
        : Math.max(state.lastVersion, state.reservedVersion);
      const writer = new WalWriter({
        backend,
        scheduler: options.scheduler,
        clock: options.clock,
        firstSegmentFile: log.allocateFileNumber(),
        allocateFileNumber: () => log.allocateFileNumber(),
        startVersion: state.lastVersion,
        startTimestamp: state.lastTimestamp,
        reservedVersion: state.reservedVersion,
        syncPolicy: options.syncPolicy ?? BUFFERED_SYNC_POLICY,
        // Segments about a memtable long: each flush then lets go of all but the last segment or
        // two, so the log kept (and replayed by recovery) stays near the memtable's size.
        segmentBytesTarget:
          options.segmentBytesTarget ??
          Math.min(WAL_SEGMENT_BYTES_TARGET, Math.max(WAL_SEGMENT_BYTES_MIN, sizing.memtableBytes)),
      });
      tree = await LsmTree.open(
        {
          ...treeOptions,
          backend,
          manifest: log,
          // Reservation records in the WAL a flush releases must live on in the manifest.
          editExtras: () => ({
            reservedVersion: Math.max(
              log.state.reservedVersion,
              writer.durableReservation,
              state.reservedVersion,
            ),
          }),
        },
        log.state,
        state.memtable,
      );
      // The new segment's header is made durable now, so every session leaves a durable mark.
      await writer.startSegment();
      const runtime = new CommitRuntime({
        options,
        tree,
        recovery: state.report,
        lock,
        writer,
        manifest: log,
        lastVersion: state.lastVersion,
        issuedFloor,
        lastTimestamp: state.lastTimestamp,
      });
      // A recovered memtable past its size is flushed at once, and levels past their triggers
      // start compacting in the background.
      tree.afterWrite(writer.currentSegmentFile);
      tree.kick();
      return runtime;
    } catch (error) {
      await tree?.close().catch(() => undefined);
      await lock.release().catch(() => undefined);
      throw error;
    }
  }

  get state(): LifecycleState {
    return this.lifecycle;
  }

  /** Newest version handed to a commit (visible or still pending). */
  get issuedVersion(): number {
    return this.issued;
  }

  /** Newest visible version: what reads see. */
  get visibleVersion(): number {
    return this.visible;
  }

  /** Newest version known durable (0 for ephemeral databases, where nothing is). */
  get durableVersion(): number {
    return this.writer === undefined ? 0 : this.writer.durableVersion;
  }

  /** Throws unless the database accepts writes. */
  checkWritable(): void {
    if (this.lifecycle === 'closed' || this.lifecycle === 'closing') {
      throw new StrataError('closed', 'the database is closed', { committed: 'no' });
    }
    const failure = this.failure ?? this.writer?.error ?? this.tree.error;
    if (failure !== undefined) {
      this.lifecycle = 'failed';
      this.failure = failure;
      throw new StrataError(failure.code, `${failure.message}`, { cause: failure, committed: 'no' });
    }
  }

  /**
   * Resolves once every commit ordered so far is visible (or failed): what a transaction that lost
   * to a pending commit waits for before it runs again on a newer snapshot.
   */
  async whenCaughtUp(): Promise<void> {
    const target = this.issued;
    while (this.visible < target && this.lifecycle !== 'closed' && this.lifecycle !== 'failed') {
      const writer = this.writer;
      if (writer !== undefined && writer.durableVersion < target)
        await writer.waitDurable(target).catch(() => undefined);
      await new Promise<void>((resolve) => this.scheduler.soon(resolve));
    }
  }

  /**
   * Called for every commit once it is ordered — its operations are final and `version` is the
   * one it gets — before it is applied or visible. Derived in-memory state (caches of the
   * engine) follows the commits through it; it must not throw.
   */
  onOrdered: ((ops: readonly WriteOp[], version: number) => void) | undefined = undefined;

  /** The timestamp a commit made now would get: the clock, never behind the last commit's. */
  now(): number {
    const now = this.clock.now();
    return now > this.lastTimestamp ? now : this.lastTimestamp;
  }

  /** Throws unless the database can be read. */
  checkReadable(): void {
    if (this.lifecycle === 'closed') throw new StrataError('closed', 'the database is closed');
  }

  /**
   * Commits one batch: the operations, or a function that builds them at the moment the commit
   * is ordered (it reads the newest state, pending commits included, so nothing can come between
   * what it read and the write; it throws to refuse, and an empty batch commits nothing). `validate` runs synchronously just before the version is assigned, so a
   * compare-and-set check and the write are atomic; it throws to refuse (nothing changes).
   * Resolves once the commit is visible and as durable as the mode promises.
   */
  commit(ops: CommitOps, validate?: () => void): Promise<CommitResult> {
    if (this.stalled === 0 && !this.tree.shouldStall) {
      if (this.tree.shouldSlow) return this.slowCommit(ops, validate);
      return this.commitNow(ops, validate);
    }
    // Back-pressure: wait (in arrival order) until flushes or compactions catch up.
    this.stalled++;
    const run = this.stallChain
      .then(() => this.tree.admission())
      .then(
        () => {
          this.stalled--;
          return this.commitNow(ops, validate);
        },
        (error: unknown) => {
          this.stalled--;
          throw error;
        },
      );
    this.stallChain = run.catch(() => undefined);
    return run;
  }

  /** L0 is past its slowdown trigger: yield once before committing, so compaction gets a turn. */
  private slowCommit(ops: CommitOps, validate?: () => void): Promise<CommitResult> {
    return new Promise<void>((resolve) => this.scheduler.soon(resolve)).then(() =>
      this.commitNow(ops, validate),
    );
  }

  private commitNow(batch: CommitOps, validate?: () => void): Promise<CommitResult> {
    let ops: readonly WriteOp[];
    try {
      this.checkWritable();
      validate?.();
      ops = typeof batch === 'function' ? batch() : batch;
    } catch (error) {
      return Promise.reject(error);
    }
    if (ops.length === 0) {
      // A built batch with nothing to write commits nothing.
      assert(typeof batch === 'function', 'empty commit');
      return Promise.resolve({ version: this.visible, timestamp: this.lastTimestamp });
    }
    // What recovery could not read back must not be committed: refuse it here, changing nothing.
    if (ops.length > BATCH_OPS_MAX)
      return Promise.reject(
        invalidArgument(
          `a commit holds at most ${BATCH_OPS_MAX} operations, this one has ${ops.length}; split it into smaller commits`,
        ),
      );
    const bytes = commitPayloadSize(ops);
    if (bytes > FRAME_PAYLOAD_BYTES_MAX)
      return Promise.reject(
        invalidArgument(
          `a commit holds at most ${FRAME_PAYLOAD_BYTES_MAX} bytes of keys and values, this one has ${bytes}; split it into smaller commits`,
        ),
      );
    const version = this.issued + 1;
    this.onOrdered?.(ops, version);
    // Timestamps never go backwards, even when the wall clock does; a clock that returns
    // something other than a number (NaN) is ignored the same way.
    const now = this.clock.now();
    const timestamp = now > this.lastTimestamp ? now : this.lastTimestamp;
    this.issued = version;
    this.lastTimestamp = timestamp;
    this.tree.active.apply(version, timestamp, ops);
    const result: CommitResult = { version, timestamp };
    const writer = this.writer;
    if (writer === undefined) {
      this.visible = version;
      return Promise.resolve(result);
    }
    if (this.durability === 'buffered') writer.reserveFor(version);
    writer.add(version, timestamp, ops, bytes);
    for (const op of ops) this.walBytesSinceCheckpoint += op.key.length + (op.value?.length ?? 0) + 8;
    if (this.walBytesSinceCheckpoint >= this.checkpointWalBytes) {
      // Bounds how much log recovery must replay: the flush lets older segments go.
      this.walBytesSinceCheckpoint = 0;
      this.tree.freeze(writer.currentSegmentFile);
    } else {
      this.tree.afterWrite(writer.currentSegmentFile);
    }

    if (this.durability === 'buffered' && version <= writer.durableReservation) {
      this.visible = version;
      // Bound how far durability may lag: past twice the sync group, the writer waits for the
      // older group's sync. That also makes a tight loop of awaited puts yield to the event
      // loop, without which the completed fsync could not even be observed.
      const lagMax = 2 * writer.commitsPerSyncMax;
      if (version - writer.durableVersion > lagMax) {
        return writer.waitDurable(version - writer.commitsPerSyncMax).then(() => result);
      }
      if (!writer.congested) return Promise.resolve(result);
      return writer.whenDrained().then(() => result);
    }
    return writer.waitDurable(version).then(
      () => {
        if (version > this.visible) this.visible = version;
        return result;
      },
      (error: unknown) => {
        this.lifecycle = 'failed';
        throw error;
      },
    );
  }

  /** Everything committed so far becomes durable. */
  async sync(): Promise<void> {
    this.checkReadable();
    if (this.writer === undefined) return;
    await this.writer.sync();
  }

  /**
   * Flushes every memtable to tables: afterwards recovery replays no log from before this call,
   * and the WAL segments it covered are deleted.
   */
  async checkpoint(): Promise<void> {
    this.checkWritable();
    const writer = this.writer;
    if (writer === undefined) return;
    this.tree.freeze(writer.currentSegmentFile);
    this.walBytesSinceCheckpoint = 0;
    await this.tree.flushAll();
  }

  /** Waits until flushes and compactions have nothing left to do (tests and benchmarks). */
  async settle(): Promise<void> {
    this.checkReadable();
    await this.tree.idle();
  }

  /** Finishes pending work, writes a clean-close record, releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.lifecycle === 'closed' || this.lifecycle === 'closing') return;
    this.lifecycle = 'closing';
    let lost: StrataError | undefined;
    try {
      await this.tree.close();
      const writer = this.writer;
      if (writer !== undefined) {
        await writer.close(this.issued);
        // Close promises that every acknowledged commit is durable; when the log failed first,
        // it still releases everything but must not report success.
        const failure = writer.error;
        if (failure !== undefined && writer.durableVersion < this.visible) {
          lost = new StrataError(
            failure.code,
            `the database closed, but versions ${writer.durableVersion + 1}..${this.visible} were acknowledged and may not be durable (${failure.message}); reopen it to see what was kept`,
            { cause: failure },
          );
        }
      }
    } finally {
      this.lifecycle = 'closed';
      await this.lock?.release().catch(() => undefined);
      await this.backend?.close().catch(() => undefined);
    }
    if (lost !== undefined) throw lost;
  }
}
