/**
 * The WAL writer: turns commit batches into frames in the current segment, appends them in
 * groups, syncs them, and tracks two watermarks — `writtenVersion` (handed to the backend) and
 * `durableVersion` (synced). Formats: docs/formats/wal.md.
 *
 * One drain loop owns all I/O, so frames reach the segment in version order. Commits that
 * arrive while an append or sync is in flight gather in `pending` and go out together in the
 * next round: that is group commit, and it is what lets 64 strict writers share one fsync.
 *
 * Invariants the recovery code relies on:
 * - A segment is synced completely before the next one is created, so only the newest segment
 *   can ever hold a torn tail.
 * - Every record carries the durable watermark at the time it was encoded.
 * - After any I/O failure the writer is failed for good: it never retries a sync and then
 *   reports durability (after a failed fsync the kernel may have dropped the dirty data).
 */

import type { Backend } from '../backend/index.js';
import {
  assert,
  type Clock,
  concatBytes,
  type Scheduled,
  type Scheduler,
  StrataError,
  WAL_SEGMENT_BYTES_TARGET,
} from '../base/index.js';
import {
  commitPayloadSize,
  encodeWalSegmentHeader,
  FRAME_HEADER_BYTES,
  MARKER_PAYLOAD_BYTES,
  RECORD_CLOSE,
  RECORD_RESERVE,
  sealFrame,
  type WriteOp,
  writeCommitPayload,
  writeMarkerPayload,
} from '../format/index.js';
import { walSegmentName } from '../layout/index.js';

/** When buffered mode syncs: whichever comes first. */
export interface SyncPolicy {
  intervalMs: number;
  commitsMax: number;
}

export const BUFFERED_SYNC_POLICY: SyncPolicy = { intervalMs: 100, commitsMax: 1000 };

/** How far ahead buffered mode reserves versions (see reserveFor). */
export const VERSION_RESERVE_STEP = 10_000;

/** Above this many bytes waiting to be written, writers wait (back-pressure). */
export const PENDING_BYTES_MAX = 16 * 1024 * 1024;

/** A group of buffered commits is written once it reaches this size, without waiting to yield. */
export const WRITE_GROUP_BYTES_MAX = 1024 * 1024;

const ARENA_BYTES = 256 * 1024;

export interface WalWriterOptions {
  backend: Backend;
  scheduler: Scheduler;
  clock: Clock;
  /** File number for the first segment; later ones come from `allocateFileNumber`. */
  firstSegmentFile: number;
  allocateFileNumber: () => number;
  /** Newest version already durable when the writer starts (the recovered version), and its timestamp. */
  startVersion: number;
  startTimestamp: number;
  /** Versions up to here are durably reserved already. */
  reservedVersion: number;
  syncPolicy: SyncPolicy;
  segmentBytesTarget?: number;
}

interface Waiter {
  version: number;
  resolve: () => void;
  reject: (error: StrataError) => void;
}

export class WalWriter {
  private readonly backend: Backend;
  private readonly scheduler: Scheduler;
  private readonly policy: SyncPolicy;
  private readonly segmentBytesTarget: number;
  private readonly allocateFileNumber: () => number;

  private segmentFile: number;
  private segment: string;
  private segmentBytes = 0;
  private segmentStarted = false;

  private arena = new Uint8Array(ARENA_BYTES);
  private arenaUsed = 0;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private pendingVersion: number;
  private pendingCommits = 0;

  /** Newest version whose frame the backend has accepted. */
  private written: number;
  /** Newest version known synced. */
  private durable: number;
  private unsyncedCommits = 0;
  /**
   * Bytes were appended to the current segment since its last sync. Markers (reserve, close)
   * and headers carry no new version, so the version watermarks alone would never sync them.
   */
  private dirty = false;

  /** Highest reservation encoded, and highest known durable. */
  private reservedIssued: number;
  private reservedDurable: number;

  private draining: Promise<void> | undefined;
  private soonArmed = false;
  private syncWanted = false;
  private rotateWanted = false;
  private timer: Scheduled | undefined;
  private waiters: Waiter[] = [];
  private drainWaiters: (() => void)[] = [];
  private failure: StrataError | undefined;
  private closed = false;
  /** Timestamp of the newest commit added, and of the newest written. */
  private lastTimestamp = 0;
  private writtenTimestamp = 0;
  /** What the last rotation finished: the newest version and timestamp in the closed segments. */
  private rotated: { version: number; timestamp: number; nextSegmentFile: number } | undefined;

  constructor(o: WalWriterOptions) {
    this.backend = o.backend;
    this.scheduler = o.scheduler;
    this.policy = o.syncPolicy;
    this.segmentBytesTarget = o.segmentBytesTarget ?? WAL_SEGMENT_BYTES_TARGET;
    this.allocateFileNumber = o.allocateFileNumber;
    this.segmentFile = o.firstSegmentFile;
    this.segment = walSegmentName(o.firstSegmentFile);
    this.written = o.startVersion;
    this.durable = o.startVersion;
    this.pendingVersion = o.startVersion;
    this.lastTimestamp = o.startTimestamp;
    this.writtenTimestamp = o.startTimestamp;
    this.reservedIssued = o.reservedVersion;
    this.reservedDurable = o.reservedVersion;
  }

  get writtenVersion(): number {
    return this.written;
  }

  get durableVersion(): number {
    return this.durable;
  }

  /** Commits allowed between syncs in buffered mode. */
  get commitsPerSyncMax(): number {
    return this.policy.commitsMax;
  }

  get durableReservation(): number {
    return this.reservedDurable;
  }

  get currentSegmentFile(): number {
    return this.segmentFile;
  }

  /** The error that stopped the writer, if any. */
  get error(): StrataError | undefined {
    return this.failure;
  }

  /** True when so many bytes wait to be written that writers should wait (see whenDrained). */
  get congested(): boolean {
    return this.pendingBytes > PENDING_BYTES_MAX;
  }

  /**
   * Makes sure versions up to `version` are covered by a reservation record, written ahead by
   * VERSION_RESERVE_STEP so it is normally durable long before it is needed. Used in buffered
   * mode, where a commit is visible before it is durable: after a crash, recovery starts new
   * versions above the durable reservation, so a version someone saw is never reused.
   */
  reserveFor(version: number): void {
    if (version + VERSION_RESERVE_STEP / 2 <= this.reservedIssued) return;
    this.reservedIssued = version + VERSION_RESERVE_STEP;
    const at = this.frameSpace(MARKER_PAYLOAD_BYTES);
    writeMarkerPayload(
      this.arena,
      at + FRAME_HEADER_BYTES,
      RECORD_RESERVE,
      this.durable,
      this.reservedIssued,
    );
    this.sealPending(at, MARKER_PAYLOAD_BYTES, this.pendingVersion, 0);
  }

  /**
   * Encodes one commit into the pending group and starts the drain loop if idle. `size` is its
   * payload size (commitPayloadSize), when the caller has it already.
   */
  add(version: number, timestamp: number, ops: readonly WriteOp[], size = commitPayloadSize(ops)): void {
    assert(this.failure === undefined && !this.closed, 'add on a stopped writer');
    assert(version > this.pendingVersion, 'WAL versions must increase');
    const at = this.frameSpace(size);
    const end = writeCommitPayload(
      this.arena,
      at + FRAME_HEADER_BYTES,
      this.durable,
      version,
      timestamp,
      ops,
    );
    assert(end === at + FRAME_HEADER_BYTES + size, 'commit payload size mismatch');
    this.lastTimestamp = timestamp;
    this.sealPending(at, size, version, 1);
  }

  /** Reserves room for a frame of `payloadBytes` in the arena; returns its offset. */
  private frameSpace(payloadBytes: number): number {
    const need = FRAME_HEADER_BYTES + payloadBytes;
    if (this.arenaUsed + need > this.arena.length) {
      this.cutArena();
      if (need > this.arena.length) this.arena = new Uint8Array(need);
    }
    return this.arenaUsed;
  }

  private sealPending(at: number, payloadBytes: number, version: number, commits: number): void {
    sealFrame(this.arena, at, payloadBytes);
    const size = FRAME_HEADER_BYTES + payloadBytes;
    this.arenaUsed += size;
    this.pendingBytes += size;
    this.pendingVersion = version;
    this.pendingCommits += commits;
    if (this.pendingCommits >= this.policy.commitsMax) this.syncWanted = true;
    // Buffered commits are gathered until the application yields to the event loop, so a burst
    // goes out in one write; a waiting sync (strict mode), a full group or a rotation goes now.
    if (this.syncWanted || this.rotateWanted || this.pendingBytes >= WRITE_GROUP_BYTES_MAX) this.kick();
    else this.kickSoon();
  }

  private kickSoon(): void {
    if (this.soonArmed || this.draining !== undefined) return;
    this.soonArmed = true;
    this.scheduler.soon(() => {
      this.soonArmed = false;
      this.kick();
    });
  }

  /** Moves the filled part of the arena into the pending list and starts a fresh arena. */
  private cutArena(): void {
    if (this.arenaUsed === 0) return;
    // Copy out only what is used and keep the arena: a fresh 256 KiB arena per group (one per
    // commit with a single strict writer) drove the garbage collector into constant full GCs.
    this.pending.push(this.arena.slice(0, this.arenaUsed));
    this.arenaUsed = 0;
  }

  /** Resolves once `version` is durable; rejects if the writer fails first. */
  waitDurable(version: number): Promise<void> {
    if (this.durable >= version) return Promise.resolve();
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.push({ version, resolve, reject });
      this.syncWanted = true;
      this.kick();
    });
  }

  /** Everything added so far becomes durable. */
  sync(): Promise<void> {
    return this.waitDurable(this.pendingVersion);
  }

  /** Resolves when the pending bytes have been handed to the backend (back-pressure). */
  whenDrained(): Promise<void> {
    if (this.pendingBytes === 0 || this.failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Finishes the current segment (synced) and starts the next; returns the last version in the
   * finished segments and the new segment's file number. Checkpoints use it to split the WAL.
   */
  async rotate(): Promise<{ version: number; timestamp: number; nextSegmentFile: number }> {
    this.rotateWanted = true;
    this.syncWanted = true;
    this.kick();
    while (this.rotateWanted) {
      await this.idle();
      this.throwIfFailed();
      if (this.rotateWanted) this.kick();
    }
    const done = this.rotated;
    assert(done !== undefined, 'rotation finished without a record');
    return done;
  }

  /**
   * Writes the clean-close record, syncs, and stops. `issuedVersion` is the highest version the
   * session issued or started above (after an unclean end, the session's versions begin above a
   * reservation even when it commits nothing); the record carries it so that the next session
   * never starts below a version that may have been seen.
   */
  async close(issuedVersion = 0): Promise<void> {
    if (this.closed) return;
    if (this.failure === undefined) {
      const at = this.frameSpace(MARKER_PAYLOAD_BYTES);
      writeMarkerPayload(
        this.arena,
        at + FRAME_HEADER_BYTES,
        RECORD_CLOSE,
        this.durable,
        Math.max(this.pendingVersion, issuedVersion),
      );
      this.sealPending(at, MARKER_PAYLOAD_BYTES, this.pendingVersion, 0);
      try {
        await this.sync();
        // The close record has no version of its own: sync until it is durable too.
        while (
          this.failure === undefined &&
          (this.pendingBytes > 0 || this.dirty || this.draining !== undefined)
        ) {
          this.syncWanted = true;
          this.kick();
          await this.idle();
        }
      } catch {
        // The failure is recorded; close still releases everything.
      }
    }
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.idle();
  }

  private idle(): Promise<void> {
    return this.draining ?? Promise.resolve();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private kick(): void {
    if (this.draining !== undefined || this.failure !== undefined) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // Work that arrived during the last await of the loop.
      if (this.failure === undefined && (this.pendingBytes > 0 || this.wantsSync() || this.rotateWanted))
        this.kick();
    });
  }

  private wantsSync(): boolean {
    return this.syncWanted && (this.written > this.durable || this.dirty);
  }

  private async drain(): Promise<void> {
    try {
      // Let commits issued in the same synchronous run join this group.
      await Promise.resolve();
      for (;;) {
        let progressed = false;
        if (this.pendingBytes > 0) {
          await this.writePending();
          progressed = true;
        }
        // A wanted sync goes before the next write, so a steady stream of commits cannot keep
        // postponing it (buffered mode promises a sync every ~1000 commits).
        if (this.wantsSync()) {
          await this.syncSegment();
          progressed = true;
        } else if (this.rotateWanted && this.pendingBytes === 0) {
          await this.startNextSegment();
          progressed = true;
        }
        if (!progressed) break;
      }
      if (this.written > this.durable) this.armTimer();
    } catch (error) {
      this.fail(error);
    }
  }

  private async writePending(): Promise<void> {
    this.cutArena();
    const chunks = this.pending;
    const bytes = this.pendingBytes;
    const version = this.pendingVersion;
    const commits = this.pendingCommits;
    const timestamp = this.lastTimestamp;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingCommits = 0;
    if (!this.segmentStarted) await this.beginSegment();
    const data = chunks.length === 1 ? chunks[0]! : concatBytes(chunks);
    await this.backend.append(this.segment, data);
    this.dirty = true;
    this.segmentBytes += bytes;
    this.written = version;
    this.writtenTimestamp = timestamp;
    this.unsyncedCommits += commits;
    if (this.unsyncedCommits >= this.policy.commitsMax) this.syncWanted = true;
    if (this.segmentBytes >= this.segmentBytesTarget) this.rotateWanted = true;
    if (this.rotateWanted) this.syncWanted = true;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private async beginSegment(): Promise<void> {
    const header = encodeWalSegmentHeader({ fileNumber: this.segmentFile, previousVersion: this.written });
    await this.backend.append(this.segment, header);
    this.dirty = true;
    this.segmentBytes = header.length;
    this.segmentStarted = true;
  }

  private async syncSegment(): Promise<void> {
    this.syncWanted = false;
    this.timer?.cancel();
    this.timer = undefined;
    const version = this.written;
    const reserved = this.reservedIssued;
    await this.backend.sync(this.segment);
    this.dirty = false;
    this.durable = version;
    this.reservedDurable = Math.max(this.reservedDurable, reserved);
    this.unsyncedCommits = 0;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.version <= version) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
    if (still.length > 0) this.syncWanted = true;
  }

  private async startNextSegment(): Promise<void> {
    // The finished segment must be completely durable before its successor exists.
    if (this.segmentStarted && (this.written > this.durable || this.dirty)) await this.syncSegment();
    if (this.pendingBytes > 0 || this.written > this.durable || this.dirty) return;
    const finished = { version: this.written, timestamp: this.writtenTimestamp };
    this.segmentFile = this.allocateFileNumber();
    this.rotated = { ...finished, nextSegmentFile: this.segmentFile };
    this.segment = walSegmentName(this.segmentFile);
    this.segmentStarted = false;
    this.segmentBytes = 0;
    this.rotateWanted = false;
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = this.scheduler.after(this.policy.intervalMs, () => {
      this.timer = undefined;
      this.syncWanted = true;
      this.kick();
    });
  }

  private fail(error: unknown): void {
    const cause = error;
    this.failure =
      error instanceof StrataError && (error.code === 'io' || error.code === 'no_space')
        ? new StrataError(
            error.code,
            `the write-ahead log failed (${error.message}); writes are refused until the database is reopened`,
            {
              cause,
              committed: 'unknown',
            },
          )
        : new StrataError(
            'io',
            'the write-ahead log failed; writes are refused until the database is reopened',
            {
              cause,
              committed: 'unknown',
            },
          );
    this.timer?.cancel();
    this.timer = undefined;
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /** Starts a segment now, so that its header is durable (used at open). */
  async startSegment(): Promise<void> {
    if (!this.segmentStarted) await this.beginSegment();
    await this.backend.sync(this.segment);
    this.dirty = false;
  }
}
