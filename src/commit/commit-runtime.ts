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
import { assert, type Clock, type Scheduler, StrataError } from '../base/index.js';
import { encodeManifestCurrent, type ManifestCurrent, type WriteOp } from '../format/index.js';
import { DB_LOCK, MANIFEST_CURRENT, parseWalSegmentName, snapshotName, WAL_PREFIX } from '../layout/index.js';
import { Memtable } from '../lsm/index.js';
import { type CorruptionPolicy, type RecoveryReport, recover } from './recovery.js';
import { writeSnapshot } from './snapshot-io.js';
import { BUFFERED_SYNC_POLICY, type SyncPolicy, WalWriter } from './wal-writer.js';

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
  /** Take a checkpoint once this many WAL bytes accumulated since the last one. */
  checkpointWalBytes?: number;
  segmentBytesTarget?: number;
  syncPolicy?: SyncPolicy;
}

export const CHECKPOINT_WAL_BYTES_DEFAULT = 256 * 1024 * 1024;

export class CommitRuntime {
  readonly memtable: Memtable;
  readonly durability: Durability;
  readonly recovery: RecoveryReport;
  private readonly backend: Backend | undefined;
  private readonly clock: Clock;
  private readonly writer: WalWriter | undefined;
  private readonly lock: BackendLock | undefined;
  private readonly checkpointWalBytes: number;
  private manifest: ManifestCurrent | undefined;
  private nextFileNumber: number;

  private issued: number;
  private visible: number;
  private lastTimestamp: number;
  private walBytesSinceCheckpoint = 0;
  private checkpointing: Promise<void> | undefined;
  private failure: StrataError | undefined;
  private lifecycle: LifecycleState = 'open';

  private constructor(init: {
    options: CommitRuntimeOptions;
    memtable: Memtable;
    recovery: RecoveryReport;
    lock?: BackendLock;
    writer?: WalWriter;
    manifest?: ManifestCurrent;
    nextFileNumber: number;
    lastVersion: number;
    issuedFloor: number;
    lastTimestamp: number;
  }) {
    this.durability = init.options.durability;
    this.backend = init.options.backend;
    this.clock = init.options.clock;
    this.checkpointWalBytes = init.options.checkpointWalBytes ?? CHECKPOINT_WAL_BYTES_DEFAULT;
    this.memtable = init.memtable;
    this.recovery = init.recovery;
    this.lock = init.lock;
    this.writer = init.writer;
    this.manifest = init.manifest;
    this.nextFileNumber = init.nextFileNumber;
    this.visible = init.lastVersion;
    this.issued = init.issuedFloor;
    this.lastTimestamp = init.lastTimestamp;
  }

  /** Opens (recovering) or creates a database. */
  static async open(options: CommitRuntimeOptions): Promise<CommitRuntime> {
    if (options.durability === 'ephemeral') {
      return new CommitRuntime({
        options,
        memtable: new Memtable(),
        recovery: {
          health: 'clean',
          recoveredVersion: 0,
          durableVersion: 0,
          notes: ['in memory; nothing is stored'],
        },
        nextFileNumber: 1,
        lastVersion: 0,
        issuedFloor: 0,
        lastTimestamp: 0,
      });
    }
    const backend = options.backend;
    assert(backend !== undefined, 'a durable database needs a backend');
    const lock = await backend.lock(DB_LOCK);
    try {
      const state = await recover(backend, options.onCorruption ?? 'fail');
      let nextFileNumber = state.nextFileNumber;
      const firstSegmentFile = nextFileNumber++;
      // After an unclean end, versions up to the durable reservation may have been seen.
      const issuedFloor = state.cleanClose
        ? state.lastVersion
        : Math.max(state.lastVersion, state.reservedVersion);
      const runtimeRef: { current?: CommitRuntime } = {};
      const writer = new WalWriter({
        backend,
        scheduler: options.scheduler,
        clock: options.clock,
        firstSegmentFile,
        allocateFileNumber: () => {
          const r = runtimeRef.current;
          assert(r !== undefined, 'file number requested before open finished');
          return r.nextFileNumber++;
        },
        startVersion: state.lastVersion,
        startTimestamp: state.lastTimestamp,
        reservedVersion: state.reservedVersion,
        syncPolicy: options.syncPolicy ?? BUFFERED_SYNC_POLICY,
        ...(options.segmentBytesTarget === undefined
          ? {}
          : { segmentBytesTarget: options.segmentBytesTarget }),
      });
      // The new segment's header is made durable now, so every session leaves a durable mark.
      await writer.startSegment();
      const runtime = new CommitRuntime({
        options,
        memtable: state.memtable,
        recovery: state.report,
        lock,
        writer,
        manifest: state.manifest,
        nextFileNumber,
        lastVersion: state.lastVersion,
        issuedFloor,
        lastTimestamp: state.lastTimestamp,
      });
      runtimeRef.current = runtime;
      return runtime;
    } catch (error) {
      await lock.release().catch(() => undefined);
      throw error;
    }
  }

  get state(): LifecycleState {
    return this.lifecycle;
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
    const failure = this.failure ?? this.writer?.error;
    if (failure !== undefined) {
      this.lifecycle = 'failed';
      this.failure = failure;
      throw new StrataError(failure.code, `${failure.message}`, { cause: failure, committed: 'no' });
    }
  }

  /** Throws unless the database can be read. */
  checkReadable(): void {
    if (this.lifecycle === 'closed') throw new StrataError('closed', 'the database is closed');
  }

  /**
   * Commits one batch. `validate` runs synchronously just before the version is assigned, so a
   * compare-and-set check and the write are atomic; it throws to refuse (nothing changes).
   * Resolves once the commit is visible and as durable as the mode promises.
   */
  commit(ops: readonly WriteOp[], validate?: () => void): Promise<CommitResult> {
    try {
      this.checkWritable();
      validate?.();
    } catch (error) {
      return Promise.reject(error);
    }
    assert(ops.length > 0, 'empty commit');
    const version = this.issued + 1;
    // Timestamps never go backwards, even when the wall clock does; a clock that returns
    // something other than a number (NaN) is ignored the same way.
    const now = this.clock.now();
    const timestamp = now > this.lastTimestamp ? now : this.lastTimestamp;
    this.issued = version;
    this.lastTimestamp = timestamp;
    this.memtable.apply(version, timestamp, ops);
    const result: CommitResult = { version, timestamp };
    const writer = this.writer;
    if (writer === undefined) {
      this.visible = version;
      return Promise.resolve(result);
    }
    if (this.durability === 'buffered') writer.reserveFor(version);
    writer.add(version, timestamp, ops);
    for (const op of ops) this.walBytesSinceCheckpoint += op.key.length + (op.value?.length ?? 0) + 8;
    if (this.walBytesSinceCheckpoint >= this.checkpointWalBytes) this.startBackgroundCheckpoint();

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
   * Takes a checkpoint: finishes the WAL segment, writes every version up to it to a snapshot,
   * publishes a manifest naming both, and only then deletes the WAL and snapshot it supersedes.
   */
  checkpoint(): Promise<void> {
    // Checked before joining a checkpoint in flight: after a failure nothing reports success.
    try {
      this.checkWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.checkpointing !== undefined) return this.checkpointing;
    if (this.writer === undefined) return Promise.resolve();
    this.checkpointing = this.runCheckpoint().finally(() => {
      this.checkpointing = undefined;
    });
    return this.checkpointing;
  }

  private startBackgroundCheckpoint(): void {
    if (this.checkpointing !== undefined) return;
    this.walBytesSinceCheckpoint = 0;
    this.checkpoint().catch(() => {
      // Recorded as the runtime's failure; the next write reports it.
    });
  }

  private async runCheckpoint(): Promise<void> {
    const writer = this.writer;
    const backend = this.backend;
    const old = this.manifest;
    assert(writer !== undefined && backend !== undefined && old !== undefined, 'checkpoint without storage');
    try {
      const rotated = await writer.rotate();
      if (rotated.version === old.snapshotVersion) return;
      const file = this.nextFileNumber++;
      await writeSnapshot(backend, file, this.memtable, rotated.version, rotated.timestamp);
      const manifest: ManifestCurrent = {
        snapshotFile: file,
        snapshotVersion: rotated.version,
        walStartFile: rotated.nextSegmentFile,
        nextFileNumber: this.nextFileNumber,
        reservedVersion: Math.max(old.reservedVersion, writer.durableReservation),
      };
      await backend.publish(MANIFEST_CURRENT, encodeManifestCurrent(manifest));
      this.manifest = manifest;
      this.walBytesSinceCheckpoint = 0;
      // Now provably unreachable from manifest/current: the old checkpoint and older WAL.
      if (old.snapshotFile !== 0) await backend.delete(snapshotName(old.snapshotFile));
      for (const name of await backend.list(WAL_PREFIX)) {
        const n = parseWalSegmentName(name);
        if (n !== undefined && n < manifest.walStartFile) await backend.delete(name);
      }
    } catch (error) {
      const failure =
        error instanceof StrataError
          ? error
          : new StrataError('io', 'checkpoint failed', { cause: error, committed: 'no' });
      this.failure = new StrataError(
        failure.code === 'no_space' ? 'no_space' : 'io',
        `a checkpoint failed (${failure.message}); writes are refused until the database is reopened`,
        { cause: failure, committed: 'no' },
      );
      this.lifecycle = 'failed';
      throw this.failure;
    }
  }

  /** Finishes pending work, writes a clean-close record, releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.lifecycle === 'closed' || this.lifecycle === 'closing') return;
    this.lifecycle = 'closing';
    let lost: StrataError | undefined;
    try {
      if (this.checkpointing !== undefined) await this.checkpointing.catch(() => undefined);
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
