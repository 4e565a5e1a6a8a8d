/**
 * The Node.js backend: every Strata object is one file under the database root, `family/leaf` at
 * `<root>/family/leaf`, reached through `node:fs/promises` so all disk work (including fsync) runs
 * on libuv's thread pool and never blocks the event loop.
 *
 * How it keeps the Backend contract (src/backend/backend.ts):
 * - Durability. `sync` is `fdatasync` of the object's file, plus `fsync` of its folder the first
 *   time after this backend opened the file for writing (POSIX makes a new name durable only when
 *   its folder is synced; we cannot tell whether an existing file's name was ever synced by an
 *   earlier opener that crashed, so the first sync per opener always pays the one folder sync).
 *   `publish`, `delete` and `rename` sync the folders they change before resolving. A family
 *   folder, once created (or first touched by this opener), is made durable by syncing the root.
 *   On macOS libuv implements both fsync and fdatasync with `F_FULLFSYNC`, so the drive cache is
 *   flushed too; on Windows folders cannot be synced (NTFS journals its metadata) and we skip it.
 * - Order. Mutations of one object (write, append, publish, delete, rename, and the start of a
 *   sync) run one after another in the order they were called, so a WAL writer may issue appends
 *   without awaiting each one. Reads wait for the mutations issued before them but do not hold up
 *   later ones; a read that overlaps a later, unresolved mutation may see it partly applied.
 *   The fdatasync itself runs outside that queue, so appends issued after a sync proceed while
 *   the disk works (the base of group commit).
 * - Handles. One FileHandle per object is cached, read-write once the object has been mutated or
 *   synced, read-only when it has only been read; appends write at a tracked position instead of
 *   reopening. At most `maxOpenFiles` idle handles stay open, least recently used closed first.
 *   Closing a handle with unsynced data is safe: fsync works on the file, not the descriptor.
 * - Failed syncs. After a failed fdatasync, Linux may drop the dirty pages and report success on
 *   the next attempt. So a failed sync sticks: later syncs of that object fail with the same error
 *   until the object is replaced (`write`, `publish`), deleted or the database is reopened.
 * - Temporary files. `publish` writes `<leaf>.tmp-<RANDOM>`; the upper-case suffix is not a legal
 *   object name, so a temporary file can never collide with an object and `list` never shows it.
 *   Recovery never needs them: a publish that did not reach its rename never resolved, so nothing
 *   acknowledged depends on the temporary copy, and the target still holds the old contents.
 *   Leftovers of a crashed opener are deleted by `lock()` once this opener holds the lock.
 * - Locks. `lock('locks/db.lock')` creates `<root>/locks/db.lock` exclusively, holding the pid,
 *   the process start time and a random token. See {@link NodeBackend.lock}.
 *
 * This is the only module below the front ends allowed to import `node:*`.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import {
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { invalidArgument, isStrataError, StrataError } from '../../base/index.js';
import {
  type Backend,
  type BackendLock,
  checkReadRange,
  isObjectName,
  type ObjectReader,
} from '../backend.js';
import { checkListPrefix } from '../memory-backend.js';

/** Options for {@link NodeBackend.open}. */
export interface NodeBackendOptions {
  /**
   * Most cached file handles kept open at once (default 128, at least 1). Handles in use are
   * never closed, so the count can briefly exceed it; idle ones beyond it are closed, least
   * recently used first. macOS allows 256 descriptors per process by default, hence the margin.
   */
  maxOpenFiles?: number;
  /**
   * Appends up to this many bytes use a synchronous write into the page cache (default 256 KiB;
   * 0 makes every append asynchronous). See SYNC_APPEND_BYTES_MAX.
   */
  syncAppendBytesMax?: number;
}

const DEFAULT_MAX_OPEN_FILES = 128;

/** Marks temporary files; followed by upper-case hex, which no object name may contain. */
const TEMP_MARKER = '.tmp-';

/** readRange allocates the requested length up to this size; beyond it, it clips by the file size first. */
const READ_ALLOCATION_BYTES_MAX = 1 << 20;

/** A lock file with no readable pid younger than this may be a holder still writing it. */
const LOCK_WRITE_GRACE_MS = 2000;

/** Attempts to take a lock when its file keeps changing under us (holders racing). */
const LOCK_ATTEMPTS_MAX = 5;

/** Folder fsync errors that mean "this file system cannot sync folders", not "the sync failed". */
const DIRECTORY_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EBADF']);

/** link(2) errors that mean the file system has no hard links (FAT, some network shares). */
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

interface OpenFile {
  readonly handle: FileHandle;
  readonly writable: boolean;
  /** Writable handles only: where the next append goes; `undefined` after a failed write (ask fstat). */
  sizeBytes: number | undefined;
  /** Operations using the handle right now; closing waits until none are left. */
  users: number;
  idle: Array<() => void>;
}

interface ObjectState {
  readonly name: string;
  readonly family: string;
  readonly path: string;
  readonly directory: string;
  /** Settles when every mutation queued so far has finished; never rejects. */
  tail: Promise<void>;
  /** Operations queued or running on this object; the state is forgotten when it drops to 0 and nothing else is kept. */
  refs: number;
  file: OpenFile | undefined;
  /** Set while a handle is being opened, so only one open happens at a time. */
  opening: Promise<OpenFile> | undefined;
  /** Bumped whenever the path may name a different file (publish, delete, rename). */
  pathEpoch: number;
  /** Bumped whenever a writable handle is opened. */
  writeOpenEpoch: number;
  /** The folder must be synced at the next sync, because the name may not be durable yet. */
  nameUnsynced: boolean;
  /** A failed sync; repeated by every later sync until the object is replaced or deleted. */
  syncFailure: StrataError | undefined;
}

interface HeldLock {
  readonly name: string;
  readonly path: string;
  readonly token: string;
  released: boolean;
}

interface LockHolder {
  readonly content: string;
  readonly mtimeMs: number;
}

function noop(): void {}

/** The errno-style code of a Node error (`ENOENT`), if it has one. */
function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Translates a platform error into the StrataError the Backend contract promises: `no_space`
 * for a full disk or quota (ENOSPC, EDQUOT), `io` for anything else, with the platform error as
 * `cause` and a message naming the operation and the object. A StrataError passes through.
 * Exported so front ends doing their own file I/O report errors the same way.
 */
export function toStrataError(operation: string, object: string, error: unknown): StrataError {
  if (isStrataError(error)) return error;
  const code = errnoCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new StrataError(
      'no_space',
      `${operation} ${object}: no space left (disk or quota full); free some space, then reopen the database (${detail})`,
      { cause: error, object },
    );
  }
  return new StrataError('io', `${operation} ${object} failed: ${detail}`, { cause: error, object });
}

function tempSuffix(): string {
  return `${TEMP_MARKER}${randomBytes(6).toString('hex').toUpperCase()}`;
}

/** Makes the entries of a folder durable (see the module comment for Windows). */
async function syncDirectory(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(path, constants.O_RDONLY);
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems (certain FUSE and network mounts) refuse to sync folders at all; there is
    // nothing more a program can do there, and failing would make the database unusable on them.
    if (!DIRECTORY_SYNC_UNSUPPORTED.has(errnoCode(error) ?? '')) throw error;
  } finally {
    await handle.close();
  }
}

/**
 * Appends up to this size are written with a synchronous `write(2)`. Such a write only copies
 * into the page cache (microseconds), while an asynchronous one costs a round trip through
 * libuv's thread pool (30 µs idle, 150+ µs on a busy machine). In strict mode that round trip
 * sits on every commit's critical path beside the fdatasync, which stays asynchronous (it is
 * the slow part, and must not block the event loop). Larger appends stay asynchronous so that a
 * big write never stalls the application.
 */
const SYNC_APPEND_BYTES_MAX = 256 * 1024;

function writeAllNow(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    const written = writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (written <= 0) throw new Error(`write made no progress at byte ${position + done}`);
    done += written;
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    // A regular file never takes zero bytes without an error; guard against looping forever.
    if (bytesWritten <= 0) throw new Error(`write made no progress at byte ${position + done}`);
    done += bytesWritten;
  }
}

/** Reads into `into` from `position` until it is full or the file ends; returns the bytes read. */
async function readAll(handle: FileHandle, into: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

function isFamilyName(part: string): boolean {
  return /^[a-z0-9._-]+$/.test(part) && part !== '.' && part !== '..';
}

/**
 * `isObjectName`, plus: neither part may be `.`, which the pattern allows but which would name
 * the root or the family folder itself rather than a file in it.
 */
function isFileObjectName(name: string): boolean {
  if (!isObjectName(name)) return false;
  const slash = name.indexOf('/');
  return isFamilyName(name.slice(0, slash)) && isFamilyName(name.slice(slash + 1));
}

function checkBytes(operation: string, name: string, bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw invalidArgument(`${operation} ${String(name)}: bytes must be a Uint8Array`);
  }
}

// ── locks ─────────────────────────────────────────────────────────────────────────────────────

/**
 * Lock files held by this process, shared through a global symbol so that two bundled copies of
 * this module (and every NodeBackend) see the same set.
 */
function heldLockPaths(): Set<string> {
  const key = Symbol.for('strata.node-backend.held-locks');
  const registry = globalThis as unknown as Record<symbol, Set<string> | undefined>;
  let set = registry[key];
  if (set === undefined) {
    set = new Set();
    registry[key] = set;
  }
  return set;
}

/**
 * When this process started, in whole seconds. Written into lock files (with the thread id) so a
 * lock naming our own pid can be told apart: same start time and another thread → that thread
 * holds it; same start time and this thread → a leftover of ours whose release failed to delete
 * it; another start time → an earlier process that had the same pid (usual in containers, where
 * the pid is often 1).
 */
const PROCESS_START_S = Math.round(Date.now() / 1000 - process.uptime());
const PROCESS_START_TOLERANCE_S = 2;

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errnoCode(error) === 'EPERM';
  }
}

function busyError(name: string, path: string, holder: string): StrataError {
  return new StrataError(
    'busy',
    `the database is in use: lock ${name} is held by ${holder}. Close that process and retry; ` +
      `if you are sure no process is using the database, delete ${path}`,
    { committed: 'no', object: name },
  );
}

/** Decides whether a lock file's holder still lives: 'stale' may be taken over, anything else is busy. */
function judgeHolder(holder: LockHolder): { stale: true } | { stale: false; who: string } {
  const [pidLine, startLine, , threadLine] = holder.content.split('\n');
  const pid = /^\d+$/.test(pidLine ?? '') ? Number(pidLine) : Number.NaN;
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    // No pid: a holder that created the file but has not written it yet, or one that crashed
    // doing so. Only the age tells them apart.
    return Date.now() - holder.mtimeMs > LOCK_WRITE_GRACE_MS
      ? { stale: true }
      : { stale: false, who: 'a process that is still writing the lock file' };
  }
  if (pid === process.pid) {
    const start = /^\d+$/.test(startLine ?? '') ? Number(startLine) : Number.NaN;
    const sameProcess = Math.abs(start - PROCESS_START_S) <= PROCESS_START_TOLERANCE_S;
    // Locks this thread holds were caught by the registry before the file was read.
    if (sameProcess && threadLine !== String(threadId)) {
      return { stale: false, who: `another thread of this process (pid ${pid})` };
    }
    return { stale: true };
  }
  return isProcessAlive(pid) ? { stale: false, who: `another process (pid ${pid})` } : { stale: true };
}

/** Creates the lock file holding `content`, atomically; false when it already exists. */
async function createLockFile(path: string, content: string): Promise<boolean> {
  // Written under a temporary name and hard-linked into place, so the lock file never exists
  // without its contents: a reader can never mistake a holder still writing it for a dead one.
  const temp = `${path}${tempSuffix()}`;
  await writeFile(temp, content, { flag: 'wx' });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    const code = errnoCode(error) ?? '';
    if (code === 'EEXIST') return false;
    if (!LINK_UNSUPPORTED.has(code)) throw error;
    try {
      await writeFile(path, content, { flag: 'wx' });
      return true;
    } catch (fallbackError) {
      if (errnoCode(fallbackError) === 'EEXIST') return false;
      throw fallbackError;
    }
  } finally {
    await unlink(temp).catch(noop);
  }
}

async function readLockHolder(path: string): Promise<LockHolder | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const info = await handle.stat();
    const content = await handle.readFile({ encoding: 'utf8' });
    return { content, mtimeMs: info.mtimeMs };
  } finally {
    await handle.close();
  }
}

/**
 * Removes a stale lock file, unless it changed since we judged it. Returns true when the way is
 * clear to try again, false when someone else took the lock in between (then it is busy).
 */
async function removeStaleLock(path: string, stale: LockHolder): Promise<boolean> {
  // Moving the file aside first, then checking what we moved, means two processes taking over
  // the same stale lock cannot delete each other's fresh one: only the stale file is deleted.
  const aside = `${path}${tempSuffix()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return true;
    throw error;
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined);
  if (moved === stale.content) {
    await unlink(aside);
    return true;
  }
  // We moved a lock someone took after we looked: put it back (link never overwrites) and yield.
  try {
    await link(aside, path);
    await unlink(aside);
  } catch (error) {
    if (LINK_UNSUPPORTED.has(errnoCode(error) ?? '')) await rename(aside, path);
  }
  return false;
}

/**
 * Reads of table blocks are carved from shared read slabs. A typed array above 64 bytes gets an
 * off-heap backing store of its own in V8, and creating one for every 4 KiB block read cost
 * about as much CPU as the `read(2)` itself (1.4 µs against 1.7 µs here), and its external memory
 * drove extra garbage collections; a view of an existing buffer costs ~40 ns. Slabs are not
 * zero-filled (`Buffer.allocUnsafeSlow`): every byte handed out is overwritten by the read, and a
 * short read throws before the bytes are seen. A slab is filled front to back and never reused,
 * so a caller owns its bytes; a piece kept long keeps its slab alive, which is why the table
 * reader copies a block out of its slab once it proves hot (a cache hit), so that a slab is held
 * only by blocks read at about the same time, which the block cache evicts at about the same time.
 */
const READ_SLAB_BYTES = 64 * 1024;
const READ_SLAB_PIECE_MAX_BYTES = 64 * 1024;
let readSlab = new Uint8Array(0);
let readSlabAt = 0;

function readBuffer(length: number): Uint8Array {
  if (length > READ_SLAB_PIECE_MAX_BYTES) {
    const b = Buffer.allocUnsafeSlow(length);
    return new Uint8Array(b.buffer, b.byteOffset, length);
  }
  if (readSlabAt + length > readSlab.length) {
    const b = Buffer.allocUnsafeSlow(READ_SLAB_BYTES);
    readSlab = new Uint8Array(b.buffer, b.byteOffset, READ_SLAB_BYTES);
    readSlabAt = 0;
  }
  const piece = readSlab.subarray(readSlabAt, readSlabAt + length);
  // 8-byte aligned pieces, so word reads of them (CRC, DataView) stay aligned.
  readSlabAt = (readSlabAt + length + 7) & ~7;
  return piece;
}

// ── the backend ───────────────────────────────────────────────────────────────────────────────

/**
 * The Backend over a folder of the local file system (Linux, macOS, Windows), for Node 20+.
 * Create one with {@link NodeBackend.open}; see this module's comment for the guarantees.
 */
/** A synchronous reader over one descriptor. */
class FdReader implements ObjectReader {
  #fd: number | undefined;
  constructor(
    fd: number,
    readonly size: number,
    private readonly name: string,
  ) {
    this.#fd = fd;
  }

  readSync(offset: number, length: number): Uint8Array {
    const fd = this.#fd;
    if (fd === undefined) throw new StrataError('closed', `the reader of ${this.name} is closed`);
    checkReadRange(this.name, offset, length, this.size);
    const out = readBuffer(length);
    let got = 0;
    try {
      while (got < length) {
        const n = readSync(fd, out, got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
    } catch (error) {
      throw toStrataError('read', this.name, error);
    }
    if (got < length) {
      throw new StrataError(
        'io',
        `read of ${this.name}: the object ended at ${offset + got}, before ${offset + length}`,
        {
          object: this.name,
        },
      );
    }
    return out;
  }

  close(): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    this.#fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // Nothing was written through this descriptor, so a failed close loses nothing.
    }
  }
}

/**
 * A reader of the file at `path` (the object `name`) outside any NodeBackend: for a worker thread
 * reading immutable tables of a database another thread has open. Throws `not_found` or `io`.
 */
export function openFileReader(path: string, name: string): ObjectReader {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    return new FdReader(fd, fstatSync(fd).size, name);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    throw toStrataError('open', name, error);
  }
}

export class NodeBackend implements Backend {
  /** The database root: absolute, with symbolic links resolved. */
  readonly rootDir: string;
  readonly #maxOpenFiles: number;
  readonly #objects = new Map<string, ObjectState>();
  /** States with an open handle, least recently used first. */
  readonly #openFiles = new Map<string, ObjectState>();
  readonly #familiesReady = new Map<string, Promise<void>>();
  readonly #locks = new Set<HeldLock>();
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #backgroundCloses = new Set<Promise<void>>();
  /** Temporary files this opener is writing right now, which the sweep must leave alone. */
  readonly #tempsInFlight = new Set<string>();
  #closed = false;

  readonly #syncAppendBytesMax: number;

  private constructor(rootDir: string, maxOpenFiles: number, syncAppendBytesMax: number) {
    this.#syncAppendBytesMax = syncAppendBytesMax;
    this.rootDir = rootDir;
    this.#maxOpenFiles = maxOpenFiles;
  }

  /**
   * Opens the database folder `rootDir`, creating it (and any missing parents, durably) when
   * missing. Takes no lock: call {@link lock} before writing.
   * Throws `invalid_argument` for an empty path or a bad option, `io`/`no_space` when the folder
   * cannot be created or resolved.
   */
  static async open(rootDir: string, options: NodeBackendOptions = {}): Promise<NodeBackend> {
    if (typeof rootDir !== 'string' || rootDir === '')
      throw invalidArgument('NodeBackend.open: rootDir must be a path');
    const maxOpenFiles = options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES;
    const syncAppendBytesMax = options.syncAppendBytesMax ?? SYNC_APPEND_BYTES_MAX;
    if (!Number.isSafeInteger(syncAppendBytesMax) || syncAppendBytesMax < 0) {
      throw invalidArgument(
        `NodeBackend.open: syncAppendBytesMax must be a non-negative integer, got ${syncAppendBytesMax}`,
      );
    }
    if (!Number.isSafeInteger(maxOpenFiles) || maxOpenFiles < 1) {
      throw invalidArgument(`NodeBackend.open: maxOpenFiles must be a positive integer, got ${maxOpenFiles}`);
    }
    const absolute = resolve(rootDir);
    try {
      const firstCreated = await mkdir(absolute, { recursive: true });
      if (firstCreated !== undefined) {
        // Every folder from `firstCreated` down to the root is new, and each one's name lives in
        // its parent: sync those parents, deepest last, so the whole path survives a crash.
        const parents: string[] = [];
        for (let dir = absolute; ; dir = dirname(dir)) {
          parents.push(dirname(dir));
          if (dir === firstCreated || dirname(dir) === dir) break;
        }
        for (const parent of parents.reverse()) await syncDirectory(parent);
      }
      const real = await realpath(absolute);
      if (!(await stat(real)).isDirectory())
        throw invalidArgument(`NodeBackend.open: ${absolute} is not a folder`);
      return new NodeBackend(real, maxOpenFiles, syncAppendBytesMax);
    } catch (error) {
      throw toStrataError('open database folder', absolute, error);
    }
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    const s = this.#state('read', name);
    return this.#shared(s, async () => {
      let file: OpenFile;
      try {
        file = await this.#acquire(s, 'read', false);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return undefined;
        throw toStrataError('read', name, error);
      }
      try {
        const { size } = await file.handle.stat();
        const bytes = new Uint8Array(size);
        const got = await readAll(file.handle, bytes, 0);
        return got === size ? bytes : bytes.slice(0, got);
      } catch (error) {
        throw toStrataError('read', name, error);
      } finally {
        this.#done(file);
      }
    });
  }

  async readRange(name: string, offset: number, length: number): Promise<Uint8Array> {
    const s = this.#state('readRange', name);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw invalidArgument(`readRange ${name}: offset and length must be non-negative integers`);
    }
    return this.#shared(s, async () => {
      let file: OpenFile;
      try {
        file = await this.#acquire(s, 'read', false);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') {
          throw new StrataError('not_found', `readRange ${name}: no such object`, { object: name });
        }
        throw toStrataError('readRange', name, error);
      }
      try {
        let want = length;
        if (want > READ_ALLOCATION_BYTES_MAX) {
          // A caller may ask for "the rest" with a huge length: clip before allocating.
          const { size } = await file.handle.stat();
          want = Math.min(want, Math.max(0, size - offset));
        }
        const bytes = new Uint8Array(want);
        const got = await readAll(file.handle, bytes, offset);
        return got === want ? bytes : bytes.slice(0, got);
      } catch (error) {
        throw toStrataError('readRange', name, error);
      } finally {
        this.#done(file);
      }
    });
  }

  /**
   * Opens a descriptor of its own for synchronous reads (`pread`); it stays valid when the name is
   * later replaced or deleted. The caller closes it.
   */
  async openReader(name: string): Promise<ObjectReader> {
    const s = this.#state('openReader', name);
    return this.#shared(s, async () => {
      let fd: number;
      try {
        fd = openSync(s.path, constants.O_RDONLY);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') {
          throw new StrataError('not_found', `openReader ${name}: no such object`, { object: name });
        }
        throw toStrataError('open for reading', name, error);
      }
      try {
        return new FdReader(fd, fstatSync(fd).size, name);
      } catch (error) {
        closeSync(fd);
        throw toStrataError('open for reading', name, error);
      }
    });
  }

  async size(name: string): Promise<number | undefined> {
    const s = this.#state('size', name);
    return this.#shared(s, async () => {
      try {
        return (await stat(s.path)).size;
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return undefined;
        throw toStrataError('size of', name, error);
      }
    });
  }

  async write(name: string, bytes: Uint8Array): Promise<void> {
    checkBytes('write', name, bytes);
    const s = this.#state('write', name);
    return this.#exclusive([s], async () => {
      try {
        const file = await this.#acquire(s, 'write', true);
        try {
          file.sizeBytes = undefined;
          // Write first, then cut: a reader racing this write never sees an empty object.
          await writeAll(file.handle, bytes, 0);
          await file.handle.truncate(bytes.length);
          file.sizeBytes = bytes.length;
          // New contents replace whatever a failed sync may have lost.
          s.syncFailure = undefined;
        } finally {
          this.#done(file);
        }
      } catch (error) {
        throw toStrataError('write', name, error);
      }
    });
  }

  async append(name: string, bytes: Uint8Array): Promise<void> {
    checkBytes('append', name, bytes);
    const s = this.#state('append', name);
    return this.#exclusive([s], async () => {
      try {
        const file = await this.#acquire(s, 'write', true);
        try {
          const at = file.sizeBytes ?? (await file.handle.stat()).size;
          // Unknown until the write completes: a partial write leaves an unknown tail.
          file.sizeBytes = undefined;
          if (bytes.length <= this.#syncAppendBytesMax) writeAllNow(file.handle.fd, bytes, at);
          else await writeAll(file.handle, bytes, at);
          file.sizeBytes = at + bytes.length;
        } finally {
          this.#done(file);
        }
      } catch (error) {
        throw toStrataError('append to', name, error);
      }
    });
  }

  async sync(name: string): Promise<void> {
    const s = this.#state('sync', name);
    s.refs++;
    return this.#track(
      this.#syncObject(s).finally(() => {
        this.#release(s);
      }),
    );
  }

  async #syncObject(s: ObjectState): Promise<void> {
    const name = s.name;
    // Taking the handle in queue order makes the sync cover every mutation issued before it.
    const { file, syncName, epoch } = await this.#exclusive([s], async () => {
      if (s.syncFailure !== undefined) throw s.syncFailure;
      try {
        const acquired = await this.#acquire(s, 'write', false);
        return { file: acquired, syncName: s.nameUnsynced, epoch: s.writeOpenEpoch };
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') {
          throw new StrataError('not_found', `sync ${name}: no such object`, { object: name });
        }
        throw toStrataError('sync', name, error);
      }
    });
    // The data sync runs outside the queue, so appends issued after this call need not wait.
    try {
      await file.handle.datasync();
    } catch (error) {
      const failure = toStrataError('sync', name, error);
      s.syncFailure = failure;
      throw failure;
    } finally {
      this.#done(file);
    }
    if (syncName) {
      try {
        await syncDirectory(s.directory);
      } catch (error) {
        throw toStrataError('sync folder of', name, error);
      }
      // Unless the file was reopened (say, deleted and created again) since we looked.
      if (s.writeOpenEpoch === epoch) s.nameUnsynced = false;
    }
  }

  async publish(name: string, bytes: Uint8Array): Promise<void> {
    checkBytes('publish', name, bytes);
    const s = this.#state('publish', name);
    const temp = join(s.directory, `${name.slice(s.family.length + 1)}${tempSuffix()}`);
    return this.#exclusive([s], async () => {
      let handle: FileHandle | undefined;
      let renamed = false;
      this.#tempsInFlight.add(temp);
      try {
        await this.#ensureFamily(s.family);
        handle = await open(temp, 'wx');
        await writeAll(handle, bytes, 0);
        await handle.datasync();
        await handle.close();
        handle = undefined;
        // The cached handle points at the file being replaced; later operations must open the new one.
        await this.#closeFile(s);
        await rename(temp, s.path);
        renamed = true;
        s.pathEpoch++;
        await this.#closeFile(s);
        await syncDirectory(s.directory);
        s.nameUnsynced = false;
        s.syncFailure = undefined;
      } catch (error) {
        if (handle !== undefined) await handle.close().catch(noop);
        if (!renamed) await unlink(temp).catch(noop);
        throw toStrataError('publish', name, error);
      } finally {
        this.#tempsInFlight.delete(temp);
      }
    });
  }

  async list(prefix: string): Promise<string[]> {
    this.#checkOpen('list', prefix);
    // The same rule as the in-memory backends, so every backend rejects the same prefixes.
    checkListPrefix(prefix);
    return this.#track(
      (async () => {
        // Mutations issued before this call (say, an append that creates an object) count.
        const pending: Promise<void>[] = [];
        for (const s of this.#objects.values())
          if (s.refs > 0 && s.name.startsWith(prefix)) pending.push(s.tail);
        await Promise.all(pending);
        try {
          const slash = prefix.indexOf('/');
          const families =
            slash >= 0
              ? [prefix.slice(0, slash)]
              : (await this.#readFolder(this.rootDir))
                  .filter((e) => e.isDirectory() && e.name.startsWith(prefix))
                  .map((e) => e.name);
          const names: string[] = [];
          for (const family of families) {
            // Never read outside the root, whatever the prefix says.
            if (!isFamilyName(family)) continue;
            for (const entry of await this.#readFolder(join(this.rootDir, family))) {
              const name = `${family}/${entry.name}`;
              // Invalid names (temporary files, strays such as .DS_Store) are not objects.
              if (entry.isFile() && name.startsWith(prefix) && isFileObjectName(name)) names.push(name);
            }
          }
          return names.sort();
        } catch (error) {
          throw toStrataError('list', `'${prefix}'`, error);
        }
      })(),
    );
  }

  async delete(name: string): Promise<void> {
    const s = this.#state('delete', name);
    return this.#exclusive([s], async () => {
      try {
        await this.#closeFile(s);
        try {
          await unlink(s.path);
        } catch (error) {
          // Missing is fine, but still sync the folder below: an earlier delete may have removed
          // the file and then failed before making that durable.
          if (errnoCode(error) !== 'ENOENT') throw error;
        }
        s.pathEpoch++;
        await this.#closeFile(s);
        try {
          await syncDirectory(s.directory);
        } catch (error) {
          if (errnoCode(error) !== 'ENOENT') throw error;
        }
        s.nameUnsynced = false;
        s.syncFailure = undefined;
      } catch (error) {
        throw toStrataError('delete', name, error);
      }
    });
  }

  async rename(from: string, to: string): Promise<void> {
    this.#checkName('rename', to);
    const source = this.#state('rename', from);
    const target = this.#state('rename', to);
    return this.#exclusive([source, target], async () => {
      try {
        await this.#closeFile(source);
        await this.#closeFile(target);
        await this.#ensureFamily(target.family);
        try {
          if (source === target) await stat(source.path);
          else await rename(source.path, target.path);
        } catch (error) {
          if (errnoCode(error) === 'ENOENT') {
            throw new StrataError('not_found', `rename ${from} to ${to}: no object ${from}`, {
              object: from,
            });
          }
          throw error;
        }
        if (source === target) return;
        source.pathEpoch++;
        target.pathEpoch++;
        await this.#closeFile(source);
        await this.#closeFile(target);
        // The new name first: a crash between the two syncs leaves the object under both names,
        // never under neither.
        await syncDirectory(target.directory);
        if (source.directory !== target.directory) await syncDirectory(source.directory);
        target.syncFailure = source.syncFailure;
        source.syncFailure = undefined;
        source.nameUnsynced = false;
        target.nameUnsynced = false;
      } catch (error) {
        throw toStrataError('rename', `${from} to ${to}`, error);
      }
    });
  }

  /**
   * Takes the lock file `<root>/<name>` (for example `locks/db.lock`), created exclusively and
   * holding, one per line, this process's pid, its start time in seconds, a random token and the
   * worker thread id.
   *
   * - Held by this process already (any NodeBackend, any copy of this module) → `busy`.
   * - The file exists and names a live process (signal 0 succeeds, or fails with EPERM) → `busy`,
   *   saying which pid holds it and which file to delete if that is wrong.
   * - The file names our pid and start time but another worker thread → `busy`.
   * - The file names a dead process, our own pid with another start time (a previous process
   *   with the same pid), or no pid and is older than two seconds → taken over.
   *
   * Once held, temporary files left by a crashed publish in other families are deleted, since
   * no one else can be writing them. The lock is released by `release()` or by {@link close}.
   * Limits: a pid reused by an unrelated live process keeps the lock busy until the file is
   * deleted by hand; on network file systems, exclusive creation may not be atomic.
   */
  async lock(name: string): Promise<BackendLock> {
    this.#checkName('lock', name);
    const family = name.slice(0, name.indexOf('/'));
    const path = join(this.rootDir, name);
    const registry = heldLockPaths();
    if (registry.has(path)) throw busyError(name, path, 'another opener in this process');
    // Reserved at once, so two concurrent lock() calls in this process cannot both get past here.
    registry.add(path);
    return this.#track(
      (async () => {
        let held: HeldLock;
        try {
          held = await this.#takeLockFile(name, family, path);
        } catch (error) {
          registry.delete(path);
          throw toStrataError('lock', name, error);
        }
        this.#locks.add(held);
        await this.#sweepTemporaryFiles(family);
        return { release: () => this.#releaseLock(held) };
      })(),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    let firstError: unknown;
    for (const s of [...this.#objects.values()]) {
      await this.#closeFile(s).catch((error: unknown) => {
        firstError ??= toStrataError('close', s.name, error);
      });
    }
    await Promise.allSettled([...this.#backgroundCloses]);
    for (const held of [...this.#locks]) {
      await this.#releaseLock(held).catch((error: unknown) => {
        firstError ??= error;
      });
    }
    this.#objects.clear();
    if (firstError !== undefined) throw firstError;
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────

  #checkOpen(operation: string, name: string): void {
    if (this.#closed) {
      throw new StrataError('closed', `${operation} ${name}: the backend is closed; reopen the database`, {
        committed: 'no',
      });
    }
  }

  #checkName(operation: string, name: string): void {
    this.#checkOpen(operation, name);
    if (typeof name !== 'string' || !isFileObjectName(name)) {
      throw invalidArgument(
        `${operation}: '${String(name)}' is not an object name (family/leaf of [a-z0-9._-])`,
      );
    }
  }

  #state(operation: string, name: string): ObjectState {
    this.#checkName(operation, name);
    let s = this.#objects.get(name);
    if (s === undefined) {
      const family = name.slice(0, name.indexOf('/'));
      s = {
        name,
        family,
        path: join(this.rootDir, name),
        directory: join(this.rootDir, family),
        tail: Promise.resolve(),
        refs: 0,
        file: undefined,
        opening: undefined,
        pathEpoch: 0,
        writeOpenEpoch: 0,
        nameUnsynced: false,
        syncFailure: undefined,
      };
      this.#objects.set(name, s);
    }
    return s;
  }

  /** Keeps `close()` waiting for `work`. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#inflight.add(work);
    const forget = () => this.#inflight.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Runs `body` after every mutation already queued on `states`; later ones wait for it. */
  #exclusive<T>(states: ObjectState[], body: () => Promise<T>): Promise<T> {
    const unique = [...new Set(states)];
    for (const s of unique) s.refs++;
    const prior = unique.length === 1 ? unique[0]!.tail : Promise.all(unique.map((s) => s.tail));
    const run = prior.then(body);
    const tail = run.then(noop, noop);
    for (const s of unique) s.tail = tail;
    return this.#track(
      run.finally(() => {
        for (const s of unique) this.#release(s);
      }),
    );
  }

  /** Runs `body` after the mutations queued so far, without holding up later ones. */
  #shared<T>(s: ObjectState, body: () => Promise<T>): Promise<T> {
    s.refs++;
    return this.#track(
      s.tail.then(body).finally(() => {
        this.#release(s);
      }),
    );
  }

  #release(s: ObjectState): void {
    s.refs--;
    this.#forgetIfIdle(s);
  }

  /** Forgets an object with nothing worth remembering, so the map does not grow with every name. */
  #forgetIfIdle(s: ObjectState): void {
    if (
      s.refs === 0 &&
      s.file === undefined &&
      s.opening === undefined &&
      !s.nameUnsynced &&
      s.syncFailure === undefined &&
      this.#objects.get(s.name) === s
    ) {
      this.#objects.delete(s.name);
    }
  }

  /**
   * A handle for `s`, counted as in use until {@link #done}. 'write' handles are read-write
   * and, with `create`, create the object. Platform errors (ENOENT) are passed through.
   */
  async #acquire(s: ObjectState, mode: 'read' | 'write', create: boolean): Promise<OpenFile> {
    for (;;) {
      if (s.opening !== undefined) {
        await s.opening.then(noop, noop);
        continue;
      }
      const file = s.file;
      if (file !== undefined && (file.writable || mode === 'read')) {
        file.users++;
        this.#openFiles.delete(s.name);
        this.#openFiles.set(s.name, s);
        return file;
      }
      const opening = this.#openFile(s, mode, create);
      s.opening = opening;
      try {
        return await opening;
      } finally {
        if (s.opening === opening) s.opening = undefined;
      }
    }
  }

  async #openFile(s: ObjectState, mode: 'read' | 'write', create: boolean): Promise<OpenFile> {
    // A read-only handle is replaced by a read-write one (Windows cannot flush a read-only handle).
    await this.#closeFile(s);
    for (;;) {
      if (create) await this.#ensureFamily(s.family);
      const epoch = s.pathEpoch;
      const flags =
        mode === 'read' ? constants.O_RDONLY : constants.O_RDWR | (create ? constants.O_CREAT : 0);
      const handle = await open(s.path, flags);
      if (s.pathEpoch !== epoch) {
        // The path was published over, renamed or deleted while we opened it: this may be the old file.
        await handle.close();
        continue;
      }
      const file: OpenFile = { handle, writable: mode === 'write', sizeBytes: undefined, users: 1, idle: [] };
      s.file = file;
      if (file.writable) {
        s.writeOpenEpoch++;
        s.nameUnsynced = true;
      }
      this.#openFiles.set(s.name, s);
      this.#evictIdleFiles();
      return file;
    }
  }

  #done(file: OpenFile): void {
    file.users--;
    if (file.users === 0) for (const wake of file.idle.splice(0)) wake();
  }

  /** Detaches the handle of `s` at once, and closes it once no operation uses it. */
  async #closeFile(s: ObjectState): Promise<void> {
    const file = s.file;
    if (file === undefined) return;
    s.file = undefined;
    this.#openFiles.delete(s.name);
    if (file.users > 0) await new Promise<void>((wake) => file.idle.push(wake));
    await file.handle.close();
  }

  #evictIdleFiles(): void {
    if (this.#openFiles.size <= this.#maxOpenFiles) return;
    for (const s of this.#openFiles.values()) {
      if (this.#openFiles.size <= this.#maxOpenFiles) break;
      if (s.refs > 0 || s.opening !== undefined) continue;
      const closing = this.#closeFile(s).then(
        () => this.#forgetIfIdle(s),
        (error: unknown) => {
          // Some file systems (NFS) report write errors only at close: the data may be lost,
          // so the next sync of this object must not succeed.
          const current = this.#objects.get(s.name) ?? s;
          current.syncFailure ??= toStrataError('close', s.name, error);
          this.#objects.set(s.name, current);
        },
      );
      this.#backgroundCloses.add(closing);
      closing.then(() => this.#backgroundCloses.delete(closing));
    }
  }

  /** Creates the family folder if needed and makes its name durable; once per family per opener. */
  #ensureFamily(family: string): Promise<void> {
    let ready = this.#familiesReady.get(family);
    if (ready === undefined) {
      const created = (async () => {
        try {
          await mkdir(join(this.rootDir, family));
        } catch (error) {
          if (errnoCode(error) !== 'EEXIST') throw error;
        }
        // Synced even when the folder already existed: an earlier opener may have crashed after
        // creating it and before syncing the root, and the folder, with all we put in it, would
        // then vanish at the next power loss. It costs one fsync per family per opener.
        await syncDirectory(this.rootDir);
      })();
      ready = created;
      this.#familiesReady.set(family, created);
      created.catch(() => {
        if (this.#familiesReady.get(family) === created) this.#familiesReady.delete(family);
      });
    }
    return ready;
  }

  async #readFolder(path: string) {
    try {
      return await readdir(path, { withFileTypes: true });
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw error;
    }
  }

  async #takeLockFile(name: string, family: string, path: string): Promise<HeldLock> {
    await this.#ensureFamily(family);
    const token = randomBytes(8).toString('hex');
    const content = `${process.pid}\n${PROCESS_START_S}\n${token}\n${threadId}\n`;
    for (let attempt = 0; attempt < LOCK_ATTEMPTS_MAX; attempt++) {
      if (await createLockFile(path, content)) return { name, path, token, released: false };
      const holder = await readLockHolder(path);
      if (holder === undefined) continue; // released meanwhile
      const verdict = judgeHolder(holder);
      if (!verdict.stale) throw busyError(name, path, verdict.who);
      if (!(await removeStaleLock(path, holder)))
        throw busyError(name, path, 'a process that just took it over');
    }
    throw busyError(name, path, 'processes racing for it (tried repeatedly)');
  }

  async #releaseLock(held: HeldLock): Promise<void> {
    if (held.released) return;
    held.released = true;
    this.#locks.delete(held);
    try {
      const content = await readFile(held.path, 'utf8').catch((error: unknown) => {
        if (errnoCode(error) === 'ENOENT') return undefined;
        throw error;
      });
      // Delete the file only while it is still ours, never a lock someone else took over.
      if (content?.split('\n')[2] === held.token) await unlink(held.path);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw toStrataError('release lock', held.name, error);
    } finally {
      heldLockPaths().delete(held.path);
    }
  }

  /** Deletes temporary files of crashed publishes; best effort, since they are only garbage. */
  async #sweepTemporaryFiles(lockFamily: string): Promise<void> {
    try {
      for (const family of await this.#readFolder(this.rootDir)) {
        // The lock family holds other openers' lock attempts in progress: not ours to touch.
        if (!family.isDirectory() || family.name === lockFamily) continue;
        const directory = join(this.rootDir, family.name);
        for (const entry of await this.#readFolder(directory)) {
          const path = join(directory, entry.name);
          const isTemporary =
            entry.name.includes(TEMP_MARKER) && !isObjectName(`${family.name}/${entry.name}`);
          if (entry.isFile() && isTemporary && !this.#tempsInFlight.has(path)) await unlink(path).catch(noop);
        }
      }
    } catch {
      // Leftovers cost only space; the next lock tries again.
    }
  }
}
