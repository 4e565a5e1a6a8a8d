/**
 * What every primitive reads and writes through: one consistent state of the storage boundary.
 *
 * - `View` reads at one read point, fixed when it is made: every read of one public call (a
 *   traverse, a document rebuilt from many rows) sees one version across all primitives.
 * - `Batch` adds buffered writes on top of a read point, and reads its own writes. A transaction
 *   is a Batch at a snapshot that records what it read (validated at commit); a single write
 *   outside a transaction is a Batch at HEAD built at the moment its commit is ordered, so
 *   nothing can come between its reads and its write.
 *
 * Keys are full storage keys (keyspace + tag + the primitive's key); values are bytes.
 */
import { StrataError } from '../base/index.js';
import {
  type CommitResult,
  HEAD,
  type HistoryVersion,
  type ReadPoint,
  type Storage,
  type StoredVersion,
  type WriteOp,
} from '../storage/index.js';

/** Version reported for a row this batch wrote and has not committed yet. */
export const PENDING_VERSION = 0;

/** Reads of one consistent state. */
export interface Reads {
  /** The live value of `key`, or undefined when it is missing or deleted. */
  get(key: string): Uint8Array | undefined;
  /** The live value with the version and timestamp that wrote it (PENDING_VERSION for a batch's own write). */
  getVersioned(key: string): StoredVersion | undefined;
  /** Live keys of `[start, end)` in key order (or reversed), with their versions. */
  scan(start: string, end: string, reverse?: boolean): Iterable<[string, StoredVersion]>;
  /** Committed versions of `key`, newest first, deletes included. */
  history(key: string): HistoryVersion[];
  /** A timestamp for a record made now (never behind the last commit's). */
  now(): number;
}

/** Reads plus buffered writes. */
export interface Writes extends Reads {
  put(key: string, value: Uint8Array): void;
  delete(key: string): void;
}

/** Reads at one read point (now, when none is given), fixed when the view is made. */
export class View implements Reads {
  readonly point: ReadPoint;

  constructor(
    readonly storage: Storage,
    at?: ReadPoint,
  ) {
    // "Now" is pinned to the version visible at this moment; the storage checks the point.
    this.point = at ?? { version: storage.version };
    storage.resolve(this.point);
  }

  get(key: string): Uint8Array | undefined {
    const v = this.storage.getv(key, this.point);
    return v === undefined || v.value === null ? undefined : v.value;
  }

  getVersioned(key: string): StoredVersion | undefined {
    const v = this.storage.getv(key, this.point);
    return v === undefined || v.value === null ? undefined : v;
  }

  scan(start: string, end: string, reverse = false): Iterable<[string, StoredVersion]> {
    return this.storage.scan({ start, end, reverse, at: this.point });
  }

  history(key: string): HistoryVersion[] {
    return this.storage.history(key, this.point);
  }

  now(): number {
    return this.storage.now();
  }
}

/** A write buffered in a batch: bytes, or null for a delete. */
type Buffered = Uint8Array | null;

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The first index of sorted `keys` whose key is not below `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Buffered writes over any Reads, reading its own writes: a Batch's writes over storage, or a
 * merge's writes over one side. Reads of keys it did not write go to `reads`; scans merge its
 * own keys (kept sorted between writes of new keys) with the underlying scan.
 */
export class Overlay implements Writes {
  private readonly writes = new Map<string, Buffered>();
  /** The buffered keys in order, rebuilt on the first scan after a new key was written. */
  private sorted: string[] | undefined = [];

  constructor(private readonly reads: Reads) {}

  /** Runs first in every call; a Batch refuses calls once closed. */
  protected check(): void {}

  private pending(value: Uint8Array): StoredVersion {
    return { version: PENDING_VERSION, timestamp: this.reads.now(), value };
  }

  get(key: string): Uint8Array | undefined {
    this.check();
    const w = this.writes.get(key);
    return w !== undefined ? (w ?? undefined) : this.reads.get(key);
  }

  getVersioned(key: string): StoredVersion | undefined {
    this.check();
    const w = this.writes.get(key);
    if (w === undefined) return this.reads.getVersioned(key);
    return w === null ? undefined : this.pending(w);
  }

  *scan(start: string, end: string, reverse = false): Generator<[string, StoredVersion]> {
    this.check();
    const under = this.reads.scan(start, end, reverse);
    const own = this.ownKeys(start, end);
    if (reverse) own.reverse();
    let i = 0;
    const before = (a: string, b: string): boolean => (reverse ? a > b : a < b);
    const ownEntry = (k: string): [string, StoredVersion] | undefined => {
      const w = this.writes.get(k);
      return w === null || w === undefined ? undefined : [k, this.pending(w)];
    };
    for (const [k, v] of under) {
      while (i < own.length && before(own[i]!, k)) {
        const e = ownEntry(own[i++]!);
        if (e !== undefined) yield e;
      }
      if (i < own.length && own[i] === k) {
        const e = ownEntry(own[i++]!);
        if (e !== undefined) yield e;
        continue;
      }
      yield [k, v];
    }
    while (i < own.length) {
      const e = ownEntry(own[i++]!);
      if (e !== undefined) yield e;
    }
  }

  /** Buffered keys of `[start, end)` in order: two binary searches over the sorted keys. */
  private ownKeys(start: string, end: string): string[] {
    if (this.writes.size === 0) return [];
    const keys = this.sortedKeys();
    return keys.slice(lowerBound(keys, start), lowerBound(keys, end));
  }

  private sortedKeys(): string[] {
    if (this.sorted === undefined) this.sorted = [...this.writes.keys()].sort(compareKeys);
    return this.sorted;
  }

  history(key: string): HistoryVersion[] {
    this.check();
    return this.reads.history(key);
  }

  now(): number {
    return this.reads.now();
  }

  put(key: string, value: Uint8Array): void {
    this.check();
    if (!this.writes.has(key)) this.sorted = undefined;
    this.writes.set(key, value);
  }

  delete(key: string): void {
    this.check();
    if (!this.writes.has(key)) this.sorted = undefined;
    this.writes.set(key, null);
  }

  /** Whether anything is buffered. */
  get empty(): boolean {
    return this.writes.size === 0;
  }

  /** The buffered writes as commit operations, in key order. */
  ops(): WriteOp[] {
    return this.sortedKeys().map((key) => ({ key, value: this.writes.get(key)! }));
  }
}

/** Reads of a view that, with `track`, record the keys and ranges read (for a transaction's validation). */
class TrackedReads implements Reads {
  readonly keys = new Set<string>();
  readonly ranges: [string, string][] = [];

  constructor(
    readonly view: View,
    private readonly track: boolean,
  ) {}

  get(key: string): Uint8Array | undefined {
    if (this.track) this.keys.add(key);
    return this.view.get(key);
  }

  getVersioned(key: string): StoredVersion | undefined {
    if (this.track) this.keys.add(key);
    return this.view.getVersioned(key);
  }

  scan(start: string, end: string, reverse = false): Iterable<[string, StoredVersion]> {
    if (this.track) this.ranges.push([start, end]);
    return this.view.scan(start, end, reverse);
  }

  history(key: string): HistoryVersion[] {
    if (this.track) this.keys.add(key);
    return this.view.history(key);
  }

  now(): number {
    return this.view.now();
  }
}

/**
 * Buffered writes over a read point of the storage, reading its own writes. With `track`, it
 * records the keys and ranges it read from storage, and `validate` (run as the commit is
 * ordered) fails with `conflict` when any of them was written after the read point: commits of
 * tracked batches are serializable in commit order.
 */
export class Batch extends Overlay {
  private readonly tracked: TrackedReads;
  private closed = false;

  constructor(
    readonly storage: Storage,
    at: ReadPoint,
    track: boolean,
  ) {
    // A view at HEAD reads pending commits too; a batch there exists only inside a commit being built.
    const tracked = new TrackedReads(new View(storage, at), track);
    super(tracked);
    this.tracked = tracked;
  }

  /** The read point's version (Number.MAX_SAFE_INTEGER at HEAD). */
  get version(): number {
    const p = this.tracked.view.point;
    return 'version' in p ? p.version : this.storage.version;
  }

  /** After close, every call fails with `closed`: a transaction's objects must not outlive it. */
  close(): void {
    this.closed = true;
  }

  protected override check(): void {
    if (this.closed)
      throw new StrataError('closed', 'this transaction has finished; its objects cannot be used any more');
  }

  /**
   * Throws `conflict` (a ValidationConflict) when a key or range the batch read was written
   * after its read point, pending commits included.
   */
  validate(): void {
    const v = this.version;
    for (const key of this.tracked.keys) {
      if (this.storage.changedSince(key, v)) throw new ValidationConflict();
    }
    for (const [start, end] of this.tracked.ranges) {
      if (this.storage.rangeChangedSince(start, end, v)) throw new ValidationConflict();
    }
  }
}

/** What a tracked batch's validate throws: something it read changed before it could commit. */
export class ValidationConflict extends StrataError {
  constructor() {
    super('conflict', 'a value this transaction read was changed by another commit; run it again', {
      committed: 'no',
    });
  }
}

/**
 * Commits one write built at the moment its commit is ordered: `build` reads and writes a Batch
 * at HEAD (the newest state, pending commits included) and returns what the call reports. It
 * throws to refuse; nothing is written then.
 */
export function commitBuilt<T>(
  storage: Storage,
  build: (batch: Batch) => T,
): Promise<{ result: T; commit: CommitResult }> {
  let result: T | undefined;
  return storage
    .commit(() => {
      const batch = new Batch(storage, HEAD, false);
      result = build(batch);
      return batch.ops();
    })
    .then((commit) => ({ result: result as T, commit }));
}

/** The error for a write through a view as of the past. */
export function readOnly(): StrataError {
  return new StrataError('read_only', 'this view is read-only (as of a past version)', { committed: 'no' });
}
