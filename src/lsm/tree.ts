/**
 * The log-structured tree (L5): the active memtable, frozen memtables waiting to be flushed, and
 * immutable tables in levels, read together newest first.
 *
 *   writes ─▶ active memtable ──freeze──▶ frozen (newest first) ──flush──▶ L0 table
 *   L0 (tables may overlap, newest first) ──compaction──▶ L1 ▶ … ▶ L6 (each sorted by key range)
 *
 * For any storage key, every version in a newer source is newer than every version in an older
 * one (memtable, frozen memtables, L0 newest first, then L1, L2, …): flushes happen in version
 * order, an L0 compaction takes every L0 table, and compaction output never splits one key's
 * versions across tables. So a point read stops at the first source holding a version at or
 * below its read point.
 *
 * The tree keeps no retention policy of its own: compaction drops only what the caller's
 * RetentionPolicy allows. Every change of the table set is a manifest edit made durable before
 * anyone reads through it; a table file is deleted only once no view (the current one, or one a
 * scan still holds) references it.
 */
import type { Backend, ObjectReader } from '../backend/index.js';
import { assert, type Clock, type Scheduler, StrataError } from '../base/index.js';
import type { ManifestEdit, TableEntry, TableMeta } from '../format/index.js';
import { parseWalSegmentName, tableName, WAL_PREFIX } from '../layout/index.js';
import { BlockCache } from './block-cache.js';
import {
  type CompactionPick,
  type LevelOptions,
  overlappingTables,
  pickCompaction,
  pickGarbageCompaction,
} from './compaction-picker.js';
import type { LsmState, ManifestLog } from './manifest-log.js';
import { entryAt, Memtable, type VersionEntry } from './memtable.js';
import { mergeEntries, mergeEntriesReverse, newestPerKey } from './merge.js';
import type { RetentionPlan, RetentionPolicy } from './retention.js';
import {
  type CompactionJob,
  type CompactionOffload,
  compactionOutputs,
  SLICE_ENTRIES_DEFAULT,
  type TableOutput,
  tableOutputs,
} from './table-output.js';
import { TableReader } from './table-reader.js';

/** One version found by a read; `value === null` is a tombstone. */
export interface Found {
  readonly version: number;
  readonly timestamp: number;
  readonly value: Uint8Array | null;
}

export interface TreeOptions {
  /** Where tables live; undefined for an ephemeral database (nothing is ever flushed). */
  backend: Backend | undefined;
  manifest: ManifestLog | undefined;
  clock: Clock;
  scheduler: Scheduler;
  /** Freeze the active memtable once it holds this many bytes. */
  memtableBytes: number;
  /** Frozen memtables allowed to wait for a flush before writers stall. */
  frozenMax: number;
  blockCacheBytes: number;
  /** Budget for the table readers' in-memory index and filter blocks. */
  tableCacheBytes: number;
  blockBytes: number;
  levels: LevelOptions;
  retention: RetentionPolicy;
  /** What the commit layer adds to every edit (the durable version reservation). */
  editExtras: () => Pick<ManifestEdit, 'reservedVersion'>;
  /** Entries processed per slice of flush or compaction work before yielding to the event loop. */
  sliceEntries?: number;
  /** Where compactions run when not on this thread (a worker thread in Node). */
  offload?: CompactionOffload | undefined;
  /**
   * Start with compactions held until releaseCompactions(): the layer above must first say what
   * they may drop (setRetentionPlan, setGarbage). Flushes run regardless.
   */
  holdCompactions?: boolean;
}

/** A live table: its metadata, an open reader of its object, and its parsed index when cached. */
class TableHandle {
  reader: TableReader | undefined;
  /** When the reader was last used (LsmTree.useClock), for the table cache's least-recently-used choice. */
  lastUse = 0;
  /** Views that reference this table. */
  refs = 0;
  constructor(
    readonly meta: TableMeta,
    readonly name: string,
    readonly file: ObjectReader,
  ) {}
}

/** One consistent set of tables: a manifest state and a handle per table, level by level. */
class View {
  refs = 1;
  constructor(
    readonly state: LsmState,
    readonly tables: readonly (readonly TableHandle[])[],
  ) {
    for (const level of tables) for (const h of level) h.refs++;
  }
}

export interface TreeStats {
  memtableBytes: number;
  frozenMemtables: number;
  levels: { level: number; tables: number; bytes: number }[];
  tables: number;
  tableBytes: number;
  blockCache: { capacityBytes: number; usedBytes: number; hits: number; misses: number; hitRate: number };
  tableCache: { capacityBytes: number; usedBytes: number; loaded: number };
  flushes: number;
  compactions: number;
  /** Bytes of table written by flushes and compactions, for write amplification. */
  flushBytesWritten: number;
  compactionBytesWritten: number;
  compactionBytesRead: number;
  /** Compactions that ran off the main thread (see TreeOptions.offload). */
  offloadedCompactions: number;
  /** Time writers spent waiting for flushes or compactions (back-pressure), in ms. */
  stallMs: number;
  stalls: number;
  /** Whether a flush or a compaction is running right now. */
  flushing: boolean;
  compacting: boolean;
}

/** A view of a reader the tree owns: closing it leaves the tree's reader open. */
class SharedReader implements ObjectReader {
  constructor(private readonly file: ObjectReader) {}
  get size(): number {
    return this.file.size;
  }
  readSync(offset: number, length: number): Uint8Array {
    return this.file.readSync(offset, length);
  }
  close(): void {}
}

/** Binary search of a sorted, non-overlapping level for the table whose range holds `key`. */
function findTable(level: readonly TableHandle[], key: string): TableHandle | undefined {
  let lo = 0;
  let hi = level.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const h = level[mid]!;
    if (key < h.meta.smallest) hi = mid - 1;
    else if (key > h.meta.largest) lo = mid + 1;
    else return h;
  }
  return undefined;
}

/** Every entry of a memtable in internal order (key ascending, version descending). */
function* memtableEntries(m: Memtable, start?: string, end?: string, reverse = false): Generator<TableEntry> {
  for (const slot of m.slots(start, end, reverse)) {
    for (let e: VersionEntry | undefined = slot.head; e !== undefined; e = e.older) {
      yield { key: slot.key, version: e.version, timestamp: e.timestamp, value: e.value };
    }
  }
}

export class LsmTree {
  active = new Memtable();
  /** Frozen memtables, newest first, each with the WAL segment that was current when it froze. */
  private frozen: { memtable: Memtable; walStartFile: number }[] = [];
  private view: View;
  private readonly handles = new Map<number, TableHandle>();
  readonly blockCache: BlockCache;
  /** Handles with a loaded reader (eviction picks the smallest lastUse). */
  private readonly loaded = new Map<number, TableHandle>();
  private loadedBytes = 0;
  private useClock = 0;
  private readonly cursors = new Map<number, string>();
  private failure: StrataError | undefined;
  private closing = false;
  private flushing: Promise<void> | undefined;
  private compacting: Promise<void> | undefined;
  /** Resolved (and replaced) whenever a flush or compaction installs, or the tree fails. */
  private progress: { promise: Promise<void>; resolve: () => void };
  /** No compaction starts while true (see TreeOptions.holdCompactions). */
  private compactionsHeld: boolean;
  /** Per-branch retention (see setRetentionPlan); undefined: the default policy everywhere. */
  private plan: RetentionPlan | undefined;
  /** See setGarbage; `cleanTables` were written by compactions that dropped all of it. */
  private garbage: readonly string[] = [];
  private readonly cleanTables = new Set<number>();
  private readonly stats0 = {
    flushes: 0,
    compactions: 0,
    flushBytesWritten: 0,
    compactionBytesWritten: 0,
    compactionBytesRead: 0,
    offloadedCompactions: 0,
    stallMs: 0,
    stalls: 0,
  };

  private constructor(
    private readonly o: TreeOptions,
    state: LsmState,
    handles: TableHandle[],
  ) {
    this.blockCache = new BlockCache(o.blockCacheBytes + o.tableCacheBytes);
    this.compactionsHeld = o.holdCompactions === true;
    for (const h of handles) this.handles.set(h.meta.fileNumber, h);
    this.view = new View(state, this.handlesOf(state));
    this.progress = LsmTree.newProgress();
  }

  private static newProgress(): { promise: Promise<void>; resolve: () => void } {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  }

  /** Opens a reader for every table `state` names. Damage is `corruption` naming the table. */
  static async open(o: TreeOptions, state: LsmState, memtable: Memtable): Promise<LsmTree> {
    const handles: TableHandle[] = [];
    try {
      for (const level of state.levels) {
        for (const meta of level) {
          assert(o.backend !== undefined, 'tables without a backend');
          const name = tableName(meta.fileNumber);
          const file = await o.backend.openReader(name).catch((error: unknown) => {
            if (error instanceof StrataError && error.code === 'not_found') {
              throw new StrataError(
                'corruption',
                `${name} is missing, though the manifest names it; restore it from a backup`,
                { object: name, cause: error },
              );
            }
            throw error;
          });
          const h = new TableHandle(meta, name, file);
          handles.push(h);
          if (file.size !== meta.size) {
            throw new StrataError(
              'corruption',
              `${name} is ${file.size} bytes, but the manifest says ${meta.size}; restore it from a backup`,
              { object: name, offset: Math.min(file.size, meta.size) },
            );
          }
        }
      }
      const tree = new LsmTree(o, state, handles);
      tree.active = memtable;
      // Verifying every table's footer and index now means a damaged table fails the open, not
      // some later read; the readers stay cached as the budget allows.
      for (const h of handles) tree.reader(h);
      return tree;
    } catch (error) {
      for (const h of handles) h.file.close();
      throw error;
    }
  }

  private handlesOf(state: LsmState): TableHandle[][] {
    return state.levels.map((level) =>
      level.map((meta) => {
        const h = this.handles.get(meta.fileNumber);
        assert(h !== undefined, `no handle for table ${meta.fileNumber}`);
        return h;
      }),
    );
  }

  get state(): LsmState {
    return this.view.state;
  }

  get error(): StrataError | undefined {
    return this.failure;
  }

  /** True when nothing but the active memtable holds data: reads can skip everything else. */
  get memtableOnly(): boolean {
    return this.frozen.length === 0 && this.handles.size === 0;
  }

  // --- reads ------------------------------------------------------------------------------------

  /**
   * The table cache and the block cache share one budget (their two shares together): indexes and
   * filters come first — a table whose index is not held must be re-read and decoded for every
   * read that touches it — up to all but a quarter of the block cache's share; data blocks get
   * whatever the loaded indexes leave.
   */
  private get tableCacheMax(): number {
    return this.o.tableCacheBytes + Math.floor((this.o.blockCacheBytes * 3) / 4);
  }

  private rebalanceCaches(): void {
    this.blockCache.setCapacity(
      Math.max(0, this.o.tableCacheBytes + this.o.blockCacheBytes - this.loadedBytes),
    );
  }

  /** The table reader of `h`, loading its index and filter into the table cache if needed. */
  private reader(h: TableHandle): TableReader {
    // A use stamps the handle (no reordering on the hot path); eviction looks for the oldest stamp.
    h.lastUse = ++this.useClock;
    let r = h.reader;
    if (r !== undefined) return r;
    r = TableReader.open(
      h.file,
      h.name,
      { fileNumber: h.meta.fileNumber, size: h.meta.size },
      this.blockCache,
    );
    h.reader = r;
    this.loaded.set(h.meta.fileNumber, h);
    this.loadedBytes += r.memoryBytes;
    while (this.loadedBytes > this.tableCacheMax && this.loaded.size > 1) {
      let oldest: TableHandle | undefined;
      for (const other of this.loaded.values()) {
        if (other !== h && (oldest === undefined || other.lastUse < oldest.lastUse)) oldest = other;
      }
      if (oldest === undefined) break;
      this.loaded.delete(oldest.meta.fileNumber);
      this.loadedBytes -= oldest.reader?.memoryBytes ?? 0;
      oldest.reader = undefined;
    }
    this.rebalanceCaches();
    return r;
  }

  /** Newest version of `key` at or below the caps in the tables, if any. */
  private getFromTables(key: string, atVersion: number, atTimestamp: number): Found | undefined {
    const tables = this.view.tables;
    for (let l = 0; l < tables.length; l++) {
      const level = tables[l]!;
      if (level.length === 0) continue;
      if (l === 0) {
        for (const h of level) {
          const m = h.meta;
          if (key < m.smallest || key > m.largest || m.minVersion > atVersion) continue;
          const e = this.reader(h).get(key, atVersion, atTimestamp);
          if (e !== undefined) return e;
        }
        continue;
      }
      const h = findTable(level, key);
      if (h === undefined || h.meta.minVersion > atVersion) continue;
      const e = this.reader(h).get(key, atVersion, atTimestamp);
      if (e !== undefined) return e;
    }
    return undefined;
  }

  /** The rest of a point read, after the active memtable had nothing at the read point. */
  private getOlder(key: string, atVersion: number, atTimestamp: number): Found | undefined {
    for (const f of this.frozen) {
      let e = f.memtable.get(key, atVersion);
      while (e !== undefined && e.timestamp > atTimestamp) e = e.older;
      if (e !== undefined) return e;
    }
    return this.getFromTables(key, atVersion, atTimestamp);
  }

  /** Newest version of `key` (tombstones included) with version <= atVersion and timestamp <= atTimestamp. */
  get(key: string, atVersion: number, atTimestamp = Number.POSITIVE_INFINITY): Found | undefined {
    let e = this.active.get(key, atVersion);
    while (e !== undefined && e.timestamp > atTimestamp) e = e.older;
    if (e !== undefined || this.memtableOnly) return e;
    return this.getOlder(key, atVersion, atTimestamp);
  }

  /** get of the storage key `keyspace + rest`, looked up in the memtable without concatenating. */
  getIn(
    keyspace: string,
    rest: string,
    atVersion: number,
    atTimestamp = Number.POSITIVE_INFINITY,
  ): Found | undefined {
    let e = this.active.getIn(keyspace, rest, atVersion);
    if (atTimestamp !== Number.POSITIVE_INFINITY)
      while (e !== undefined && e.timestamp > atTimestamp) e = e.older;
    if (e !== undefined || this.memtableOnly) return e;
    return this.getOlder(keyspace + rest, atVersion, atTimestamp);
  }

  /** Newest version of `key` including ones not yet visible (compare-and-set checks against it). */
  head(key: string): Found | undefined {
    const e = this.active.head(key);
    if (e !== undefined || this.memtableOnly) return e;
    return this.getOlder(key, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY);
  }

  /** Every version of `key` at or below the caps, newest first, tombstones included. */
  history(key: string, atVersion: number, atTimestamp = Number.POSITIVE_INFINITY): Found[] {
    const out: Found[] = [];
    const fromChain = (e: VersionEntry | undefined): void => {
      for (; e !== undefined; e = e.older) if (e.timestamp <= atTimestamp) out.push(e);
    };
    fromChain(this.active.get(key, atVersion));
    if (this.memtableOnly) return out;
    for (const f of this.frozen) fromChain(f.memtable.get(key, atVersion));
    const tables = this.view.tables;
    for (let l = 0; l < tables.length; l++) {
      const candidates = l === 0 ? tables[0]! : [findTable(tables[l]!, key)];
      for (const h of candidates) {
        if (h === undefined) continue;
        const m = h.meta;
        if (key < m.smallest || key > m.largest || m.minVersion > atVersion) continue;
        const r = this.reader(h);
        if (!r.mayContain(key)) continue;
        for (const e of r.versions(key, atVersion, atTimestamp)) out.push(e);
      }
    }
    return out;
  }

  /**
   * The newest version at or below the caps of every key in `[start, end)` that has one, in key
   * order (or reversed), tombstones included. With `sinceVersion`, only keys whose newest version
   * under the caps is above it — what changed after that version — and tables holding nothing
   * newer are not read at all, so the cost follows the recent writes, not the data. The view is
   * pinned until the generator finishes or is returned, so tables it reads are not deleted under it.
   */
  *scan(
    start: string | undefined,
    end: string | undefined,
    reverse: boolean,
    atVersion: number,
    atTimestamp: number,
    sinceVersion = 0,
  ): Generator<TableEntry> {
    if (this.memtableOnly) {
      const byTime = atTimestamp !== Number.POSITIVE_INFINITY;
      for (const slot of this.active.slots(start, end, reverse)) {
        let e = entryAt(slot.head, atVersion);
        if (byTime) while (e !== undefined && e.timestamp > atTimestamp) e = e.older;
        if (e !== undefined && e.version > sinceVersion)
          yield { key: slot.key, version: e.version, timestamp: e.timestamp, value: e.value };
      }
      return;
    }
    const view = this.view;
    view.refs++;
    try {
      const sources: Iterator<TableEntry>[] = [];
      const perKey = (it: Iterator<TableEntry>): Iterator<TableEntry> =>
        newestPerKey(it, atVersion, atTimestamp, true);
      sources.push(perKey(memtableEntries(this.active, start, end, reverse)));
      for (const f of this.frozen) sources.push(perKey(memtableEntries(f.memtable, start, end, reverse)));
      for (let l = 0; l < view.tables.length; l++) {
        const level = view.tables[l]!;
        if (level.length === 0) continue;
        if (l === 0) {
          for (const h of level) {
            if (h.meta.minVersion > atVersion || h.meta.maxVersion <= sinceVersion) continue;
            if (
              (start !== undefined && h.meta.largest < start) ||
              (end !== undefined && h.meta.smallest >= end)
            )
              continue;
            sources.push(perKey(this.tableEntries(h, start, end, reverse)));
          }
        } else {
          sources.push(perKey(this.levelEntries(level, start, end, reverse, sinceVersion)));
        }
      }
      const merged = reverse ? mergeEntriesReverse(sources) : mergeEntries(sources);
      for (const e of newestPerKey(merged, atVersion, atTimestamp, true))
        if (e.version > sinceVersion) yield e;
    } finally {
      this.release(view);
    }
  }

  private tableEntries(
    h: TableHandle,
    start: string | undefined,
    end: string | undefined,
    reverse: boolean,
  ): Iterator<TableEntry> {
    const r = this.reader(h);
    return reverse ? r.entriesReverse(start, end) : r.entries(start, end);
  }

  /** A sorted level read as one run: its tables overlapping the range, one after another. */
  private *levelEntries(
    level: readonly TableHandle[],
    start: string | undefined,
    end: string | undefined,
    reverse: boolean,
    sinceVersion = 0,
  ): Generator<TableEntry> {
    const inRange = level.filter(
      (h) =>
        h.meta.maxVersion > sinceVersion &&
        !((start !== undefined && h.meta.largest < start) || (end !== undefined && h.meta.smallest >= end)),
    );
    if (reverse) inRange.reverse();
    for (const h of inRange) {
      const it = this.tableEntries(h, start, end, reverse);
      for (let n = it.next(); !n.done; n = it.next()) yield n.value;
    }
  }

  // --- memtables and back-pressure ---------------------------------------------------------

  /** Should a new write wait? (Memtables full with flushes behind, or L0 at its stop trigger.) */
  get shouldStall(): boolean {
    if (this.o.backend === undefined || this.failure !== undefined || this.closing) return false;
    if (this.frozen.length >= this.o.frozenMax && this.active.sizeBytes >= this.o.memtableBytes) return true;
    return this.view.state.levels[0]!.length >= this.o.levels.l0StopTrigger;
  }

  /** True when L0 is past its slowdown trigger: writers yield to let compaction run. */
  get shouldSlow(): boolean {
    return (
      this.o.backend !== undefined && this.view.state.levels[0]!.length >= this.o.levels.l0SlowdownTrigger
    );
  }

  /** Resolves when writes may go on (after some flush or compaction progress, or a failure). */
  async admission(): Promise<void> {
    if (!this.shouldStall) return;
    const started = this.o.clock.now();
    this.stats0.stalls++;
    try {
      while (this.shouldStall) {
        this.kick();
        await this.progress.promise;
      }
    } finally {
      const waited = this.o.clock.now() - started;
      if (Number.isFinite(waited) && waited > 0) this.stats0.stallMs += waited;
    }
  }

  private signalProgress(): void {
    const p = this.progress;
    this.progress = LsmTree.newProgress();
    p.resolve();
  }

  /** Called after each commit is applied: freezes a full memtable and starts background work. */
  afterWrite(currentWalSegment: number): void {
    if (this.o.backend === undefined) return;
    if (this.active.sizeBytes >= this.o.memtableBytes && this.frozen.length < this.o.frozenMax) {
      this.freeze(currentWalSegment);
    }
  }

  /**
   * Makes the active memtable immutable and starts a flush of it. `currentWalSegment` is the WAL
   * segment that any later version will be written to (or a later one): the segments before it
   * hold only versions the frozen memtable has, so the flush may release them.
   */
  freeze(currentWalSegment: number): void {
    if (this.o.backend === undefined || this.active.versionCount === 0) return;
    this.frozen.unshift({ memtable: this.active, walStartFile: currentWalSegment });
    this.active = new Memtable();
    this.kick();
  }

  /** Resolves once every memtable frozen so far is in a table (or rejects with the failure). */
  async flushAll(): Promise<void> {
    while (this.frozen.length > 0) {
      if (this.failure !== undefined) throw this.failure;
      this.kick();
      await this.progress.promise;
    }
    if (this.failure !== undefined) throw this.failure;
  }

  // --- background work -------------------------------------------------------------------------

  /** Starts the flush and compaction loops if they have work and are not running. */
  kick(): void {
    if (this.o.backend === undefined || this.failure !== undefined || this.closing) return;
    if (this.flushing === undefined && this.frozen.length > 0) {
      this.flushing = this.flushLoop().finally(() => {
        this.flushing = undefined;
        this.kick();
      });
    }
    if (
      this.compacting === undefined &&
      !this.compactionsHeld &&
      this.frozen.length === 0 &&
      this.pick() !== undefined
    ) {
      this.compacting = this.compactLoop().finally(() => {
        this.compacting = undefined;
        this.kick();
      });
    }
  }

  private pick(): CompactionPick | undefined {
    return (
      pickCompaction(this.view.state.levels, this.o.levels, this.cursors) ??
      (this.garbage.length === 0
        ? undefined
        : pickGarbageCompaction(this.view.state.levels, this.o.levels, (t) => this.holdsGarbage(t)))
    );
  }

  /** Whether table `t` may hold rows of a garbage branch: its range reaches one, and no compaction under the current garbage set wrote it. */
  private holdsGarbage(t: TableMeta): boolean {
    if (this.cleanTables.has(t.fileNumber)) return false;
    for (const p of this.garbage) if (t.smallest < `${p}\xff\xff` && t.largest >= p) return true;
    return false;
  }

  /** Lets compactions start (see TreeOptions.holdCompactions). */
  releaseCompactions(): void {
    this.compactionsHeld = false;
    this.kick();
  }

  /**
   * Sets what compactions keep per branch: each branch's policy and the points its live
   * descendants read it at (RetentionPlan). Compactions starting from now use it.
   */
  setRetentionPlan(plan: RetentionPlan | undefined): void {
    this.plan = plan;
  }

  /**
   * Sets the branch-id key prefixes whose rows nobody can read any more (deleted branches
   * without live descendants). Compactions drop their rows from then on, and tables that may
   * hold some are rewritten when no level needs compacting by size.
   */
  setGarbage(prefixes: readonly string[]): void {
    const next = [...new Set(prefixes)].sort();
    if (next.length === this.garbage.length && next.every((p, i) => p === this.garbage[i])) return;
    this.garbage = next;
    this.cleanTables.clear();
    this.kick();
  }

  private fail(error: unknown, what: string): void {
    if (this.failure !== undefined) return;
    const cause = error instanceof StrataError ? error : undefined;
    this.failure = new StrataError(
      cause?.code === 'no_space' ? 'no_space' : cause?.code === 'corruption' ? 'corruption' : 'io',
      `${what} failed (${cause?.message ?? String(error)}); writes are refused until the database is reopened`,
      { cause: error, committed: 'no' },
    );
    this.signalProgress();
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.frozen.length > 0 && this.failure === undefined && !this.closing) await this.flushOldest();
    } catch (error) {
      this.fail(error, 'a flush');
    }
  }

  private async compactLoop(): Promise<void> {
    try {
      for (;;) {
        if (this.failure !== undefined || this.closing) return;
        // Flushing takes priority: the flush loop runs first, and compaction waits for it.
        if (this.frozen.length > 0) return;
        const pick = this.pick();
        if (pick === undefined) return;
        await this.compact(pick);
      }
    } catch (error) {
      this.fail(error, 'a compaction');
    }
  }

  /** Yields to the event loop between slices of background work, so no slice blocks for long. */
  private yieldSlice(): Promise<void> {
    return new Promise((resolve) => this.o.scheduler.soon(resolve));
  }

  /**
   * Carries out table outputs (see table-output.ts) through the backend: creates each table's
   * object empty first (a crash leaves at worst an unreferenced file), appends its bytes, syncs
   * it, and opens a reader, which reads back and verifies what was written (a table that does not
   * verify is never installed). `pause` runs at every pause step. Returns the handles of the
   * finished tables; `abort` closes them when the work fails.
   */
  private tableSink(pause: () => Promise<void>): {
    sink: (o: TableOutput) => Promise<void>;
    out: TableHandle[];
    abort: () => void;
  } {
    const backend = this.o.backend;
    assert(backend !== undefined, 'writing tables without storage');
    const out: TableHandle[] = [];
    let name: string | undefined;
    const sink = async (o: TableOutput): Promise<void> => {
      switch (o.kind) {
        case 'begin':
          assert(name === undefined, 'a table begins inside another');
          name = tableName(o.fileNumber);
          await backend.write(name, new Uint8Array(0));
          return;
        case 'bytes':
          assert(name !== undefined, 'table bytes outside a table');
          for (const c of o.chunks) await backend.append(name, c);
          return;
        case 'end': {
          assert(
            name !== undefined && tableName(o.meta.fileNumber) === name,
            'a table ends that did not begin',
          );
          const n = name;
          name = undefined;
          for (const c of o.chunks) await backend.append(n, c);
          await backend.sync(n);
          const file = await backend.openReader(n);
          const h = new TableHandle(o.meta, n, file);
          out.push(h);
          this.reader(h);
          return;
        }
        case 'pause':
          await pause();
      }
    };
    const abort = (): void => {
      for (const h of out) h.file.close();
    };
    return { sink, out, abort };
  }

  /** Runs `outputs` on this thread, one sink step at a time. */
  private async writeTables(
    outputs: Iterator<TableOutput>,
    pause: () => Promise<void>,
  ): Promise<TableHandle[]> {
    const { sink, out, abort } = this.tableSink(pause);
    try {
      for (let n = outputs.next(); !n.done; n = outputs.next()) await sink(n.value);
      return out;
    } catch (error) {
      outputs.return?.(undefined);
      abort();
      throw error;
    }
  }

  /** The manifest's next file number. */
  private readonly allocate = (): number => {
    const manifest = this.o.manifest;
    assert(manifest !== undefined, 'allocating a table without a manifest');
    return manifest.allocateFileNumber();
  };

  private async flushOldest(): Promise<void> {
    const f = this.frozen[this.frozen.length - 1];
    assert(f !== undefined, 'flush without a frozen memtable');
    const m = f.memtable;
    const outputs = tableOutputs(memtableEntries(m), {
      blockBytes: this.o.blockBytes,
      targetBytes: Number.POSITIVE_INFINITY,
      splitter: undefined,
      sliceEntries: this.o.sliceEntries ?? SLICE_ENTRIES_DEFAULT,
      allocate: this.allocate,
    });
    const handles = await this.writeTables(outputs, () => this.yieldSlice());
    const edit: ManifestEdit = {
      ...this.o.editExtras(),
      added: handles.map((h) => ({ level: 0, table: h.meta })),
      flushedVersion: m.newestVersion,
      flushedTimestamp: m.newestTimestamp,
      walStartFile: f.walStartFile,
    };
    await this.install(edit, handles, () => {
      // The tables now hold what the frozen memtable held: reads move to them in the same
      // synchronous step, so no read sees both (or neither).
      assert(this.frozen[this.frozen.length - 1] === f, 'flushes finish in order');
      this.frozen.pop();
    });
    this.stats0.flushes++;
    for (const h of handles) this.stats0.flushBytesWritten += h.meta.size;
    this.signalProgress();
    // The WAL before the frozen memtable's segment is now covered by tables. A failed listing or
    // delete leaves only garbage, which the next open removes: the flush itself is done.
    const backend = this.o.backend;
    assert(backend !== undefined, 'flush without a backend');
    const names = await backend.list(WAL_PREFIX).catch(() => [] as string[]);
    for (const name of names) {
      const n = parseWalSegmentName(name);
      if (n !== undefined && n < f.walStartFile) await backend.delete(name).catch(() => undefined);
    }
  }

  private async compact(pick: CompactionPick): Promise<void> {
    const removed = [
      ...pick.inputs.map((t) => ({ level: pick.level, fileNumber: t.fileNumber })),
      ...pick.overlapping.map((t) => ({ level: pick.outputLevel, fileNumber: t.fileNumber })),
    ];
    const largest = [...pick.inputs, ...pick.overlapping].reduce(
      (a, t) => (t.largest > a ? t.largest : a),
      pick.inputs[0]!.largest,
    );
    if (pick.trivialMove) {
      const t = pick.inputs[0]!;
      await this.install(
        { ...this.o.editExtras(), removed, added: [{ level: pick.outputLevel, table: t }] },
        [],
      );
      this.cursors.set(pick.level, largest);
      this.stats0.compactions++;
      this.signalProgress();
      return;
    }
    const view = this.view;
    view.refs++;
    try {
      const byNumber = (t: TableMeta): TableHandle => {
        const h = this.handles.get(t.fileNumber);
        assert(h !== undefined, 'compaction input without a handle');
        return h;
      };
      const inputs = [...pick.inputs.map(byNumber), ...pick.overlapping.map(byNumber)];
      let read = 0;
      for (const h of inputs) read += h.meta.size;
      const job: CompactionJob = {
        // L0 inputs newest first, then the output level's tables in key order: any order works
        // for the merge, which orders by (key, version).
        inputs: inputs.map((h) => ({ name: h.name, meta: h.meta })),
        grandparents:
          pick.outputLevel + 1 < view.state.levels.length
            ? overlappingTables(view.state.levels[pick.outputLevel + 1]!, pick.inputs[0]!.smallest, largest)
            : [],
        levels: this.o.levels,
        retention: this.o.retention,
        bottommost: pick.bottommost,
        blockBytes: this.o.blockBytes,
        sliceEntries: this.o.sliceEntries ?? SLICE_ENTRIES_DEFAULT,
        garbage: this.garbage,
        ...(this.plan === undefined ? {} : { plan: this.plan }),
      };
      const checkRunning = (): void => {
        if (this.failure !== undefined) throw this.failure;
        if (this.closing) throw new StrataError('closed', 'the database is closing');
      };
      let outputs: TableHandle[] | undefined;
      const offload = this.o.offload;
      if (offload !== undefined && !offload.unavailable) {
        // On another thread: the merge and the table building never block this one, so flushes
        // and commits go on beside it. The outputs are written here, through the backend.
        const { sink, out, abort } = this.tableSink(async () => undefined);
        try {
          await offload.run(job, this.allocate, async (o) => {
            checkRunning();
            await sink(o);
            // Steps may arrive faster than they are written: one step per turn of the event
            // loop, so a backlog never becomes one long synchronous run of appends.
            if (o.kind !== 'begin') await this.yieldSlice();
          });
          outputs = out;
          this.stats0.offloadedCompactions++;
        } catch (error) {
          abort();
          // A worker that cannot run (it failed to start, or died) is not a storage failure:
          // this compaction and every later one run here instead. Tables it half wrote were
          // never named by the manifest; the next open sets them aside.
          if (!offload.unavailable) throw error;
          checkRunning();
        }
      }
      if (outputs === undefined) {
        const open = (name: string): ObjectReader => {
          const h = inputs.find((x) => x.name === name);
          assert(h !== undefined, 'compaction input without a handle');
          return new SharedReader(h.file);
        };
        outputs = await this.writeTables(compactionOutputs(job, open, this.allocate), async () => {
          await this.yieldSlice();
          // Flushing takes priority: while a memtable waits, compaction pauses.
          while (this.frozen.length > 0 && this.failure === undefined && !this.closing) {
            this.kick();
            await this.progress.promise;
          }
          checkRunning();
        });
      }
      await this.install(
        {
          ...this.o.editExtras(),
          removed,
          added: outputs.map((h) => ({ level: pick.outputLevel, table: h.meta })),
        },
        outputs,
      );
      // Written with the garbage set still current: they hold none of it.
      if (job.garbage === this.garbage) for (const h of outputs) this.cleanTables.add(h.meta.fileNumber);
      this.cursors.set(pick.level, largest);
      this.stats0.compactions++;
      this.stats0.compactionBytesRead += read;
      for (const h of outputs) this.stats0.compactionBytesWritten += h.meta.size;
      this.signalProgress();
    } finally {
      this.release(view);
    }
  }

  /**
   * Makes `edit` durable, then switches reads to the new table set; `switched` runs in the same
   * synchronous step as the switch.
   */
  private async install(edit: ManifestEdit, added: TableHandle[], switched?: () => void): Promise<void> {
    const manifest = this.o.manifest;
    assert(manifest !== undefined, 'install without a manifest');
    let state: LsmState;
    try {
      state = await manifest.apply(edit);
    } catch (error) {
      for (const h of added) h.file.close();
      throw error;
    }
    for (const h of added) this.handles.set(h.meta.fileNumber, h);
    const old = this.view;
    this.view = new View(state, this.handlesOf(state));
    switched?.();
    this.release(old);
  }

  /** Drops one reference to a view; tables no view references any more are deleted. */
  private release(view: View): void {
    if (--view.refs > 0) return;
    const dead: TableHandle[] = [];
    for (const level of view.tables) {
      for (const h of level) if (--h.refs === 0) dead.push(h);
    }
    for (const h of dead) this.deleteTable(h);
  }

  private deleteTable(h: TableHandle): void {
    this.handles.delete(h.meta.fileNumber);
    this.cleanTables.delete(h.meta.fileNumber);
    if (this.loaded.delete(h.meta.fileNumber)) {
      this.loadedBytes -= h.reader?.memoryBytes ?? 0;
      this.rebalanceCaches();
    }
    h.reader = undefined;
    h.file.close();
    this.blockCache.evictTable(h.meta.fileNumber);
    // Unreachable from the manifest and from every view: safe to delete. A failure only leaves
    // garbage that the next open sets aside.
    this.o.backend?.delete(h.name).catch(() => undefined);
  }

  /** Stops background work (waiting for the current slice) and closes every table reader. */
  async close(): Promise<void> {
    this.closing = true;
    this.signalProgress();
    await this.o.offload?.close();
    await Promise.allSettled([this.flushing, this.compacting]);
    for (const h of this.handles.values()) h.file.close();
  }

  /** Resolves once the compactions running now (if any) have finished; failures are left to them. */
  async compactionDone(): Promise<void> {
    await this.compacting?.catch(() => undefined);
  }

  /** Waits until no flush or compaction has work left (tests and benchmarks). */
  async idle(): Promise<void> {
    for (;;) {
      this.kick();
      const running = [this.flushing, this.compacting].filter((p) => p !== undefined);
      if (running.length === 0) break;
      await Promise.allSettled(running);
    }
    if (this.failure !== undefined) throw this.failure;
  }

  stats(): TreeStats {
    const levels = this.view.state.levels.map((level, i) => ({
      level: i,
      tables: level.length,
      bytes: level.reduce((a, t) => a + t.size, 0),
    }));
    const cache = this.blockCache;
    const lookups = cache.hits + cache.misses;
    let memtableBytes = this.active.sizeBytes;
    for (const f of this.frozen) memtableBytes += f.memtable.sizeBytes;
    return {
      memtableBytes,
      frozenMemtables: this.frozen.length,
      levels,
      tables: levels.reduce((a, l) => a + l.tables, 0),
      tableBytes: levels.reduce((a, l) => a + l.bytes, 0),
      blockCache: {
        capacityBytes: cache.capacityBytes,
        usedBytes: cache.usedBytes,
        hits: cache.hits,
        misses: cache.misses,
        hitRate: lookups === 0 ? 0 : cache.hits / lookups,
      },
      tableCache: {
        capacityBytes: this.tableCacheMax,
        usedBytes: this.loadedBytes,
        loaded: this.loaded.size,
      },
      ...this.stats0,
      flushing: this.flushing !== undefined,
      compacting: this.compacting !== undefined,
    };
  }
}
