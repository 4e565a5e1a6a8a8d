/**
 * A plain in-memory backend: a map from object name to bytes. It is the backend of `ephemeral`
 * databases and of unit tests that do not care about crashes (those use the simulated disk in
 * sim-disk.ts). Nothing here is durable beyond the life of the instance, so `sync` has nothing to
 * do; every other rule of the Backend contract holds exactly.
 */
import { invalidArgument, StrataError } from '../base/index.js';
import { type Backend, type BackendLock, BytesReader, isObjectName, type ObjectReader } from './backend.js';

/**
 * Throws `invalid_argument` unless `name` is a valid object name (see {@link isObjectName}).
 * Shared by the in-memory backends so both reject exactly the same input.
 */
export function checkObjectName(name: string): void {
  if (typeof name !== 'string' || !isObjectName(name)) {
    throw invalidArgument(
      `invalid object name ${JSON.stringify(name)}: expected family/leaf with [a-z0-9._-]`,
    );
  }
}

/** Prefixes that could start a valid object name: a family part, optionally '/' and a leaf part. */
const LIST_PREFIX_PATTERN = /^[a-z0-9._-]*(\/[a-z0-9._-]*)?$/;

/** Throws `invalid_argument` unless `prefix` could be the start of some valid object name. */
export function checkListPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || !LIST_PREFIX_PATTERN.test(prefix)) {
    throw invalidArgument(`invalid list prefix ${JSON.stringify(prefix)}`);
  }
}

/** Throws `invalid_argument` unless `bytes` is a Uint8Array (a view of any offset is fine). */
export function checkBytes(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('bytes must be a Uint8Array');
}

/** Throws `invalid_argument` unless `offset` and `length` are non-negative safe integers. */
export function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw invalidArgument(`invalid range: offset ${offset}, length ${length}`);
  }
}

/**
 * An in-memory Backend. Each instance is its own namespace and its own lock table; reads return
 * copies and writes store copies, so no caller can alias the stored bytes.
 */
export class MemoryBackend implements Backend {
  private readonly objects = new Map<string, Uint8Array>();
  private readonly locks = new Set<string>();
  private closed = false;

  /** Returns a copy of the object, or `undefined` when missing. Throws `invalid_argument`, `closed`. */
  async read(name: string): Promise<Uint8Array | undefined> {
    this.check(name);
    const bytes = this.objects.get(name);
    return bytes === undefined ? undefined : bytes.slice();
  }

  /** Returns a copy of `[offset, offset + length)` clipped at the end. Throws `not_found` when missing. */
  async readRange(name: string, offset: number, length: number): Promise<Uint8Array> {
    this.check(name);
    checkRange(offset, length);
    const bytes = this.objects.get(name);
    if (bytes === undefined) throw notFound(name);
    return bytes.slice(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length));
  }

  /** A reader of the object's bytes as they are now (a copy, so later writes do not show). */
  async openReader(name: string): Promise<ObjectReader> {
    this.check(name);
    const bytes = this.objects.get(name);
    if (bytes === undefined) throw notFound(name);
    return new BytesReader(bytes.slice(), name);
  }

  /** Returns the object's size in bytes, or `undefined` when missing. */
  async size(name: string): Promise<number | undefined> {
    this.check(name);
    return this.objects.get(name)?.length;
  }

  /** Creates or replaces the object with a copy of `bytes`. */
  async write(name: string, bytes: Uint8Array): Promise<void> {
    this.check(name);
    checkBytes(bytes);
    this.objects.set(name, bytes.slice());
  }

  /**
   * Appends a copy of `bytes`. Each append copies the whole object, which is fine for the sizes
   * ephemeral databases and tests use; the simulated disk keeps growable buffers instead.
   */
  async append(name: string, bytes: Uint8Array): Promise<void> {
    this.check(name);
    checkBytes(bytes);
    const old = this.objects.get(name);
    if (old === undefined) {
      this.objects.set(name, bytes.slice());
      return;
    }
    const next = new Uint8Array(old.length + bytes.length);
    next.set(old, 0);
    next.set(bytes, old.length);
    this.objects.set(name, next);
  }

  /** Nothing in memory is ever durable, so there is nothing to do beyond checking the object exists. */
  async sync(name: string): Promise<void> {
    this.check(name);
    if (!this.objects.has(name)) throw notFound(name);
  }

  /** Replaces the object with a copy of `bytes` in one step, which is trivially atomic here. */
  async publish(name: string, bytes: Uint8Array): Promise<void> {
    this.check(name);
    checkBytes(bytes);
    this.objects.set(name, bytes.slice());
  }

  /** Names starting with `prefix`, sorted ascending by code unit (byte order for ASCII names). */
  async list(prefix: string): Promise<string[]> {
    this.checkOpen();
    checkListPrefix(prefix);
    const names: string[] = [];
    for (const name of this.objects.keys()) if (name.startsWith(prefix)) names.push(name);
    return names.sort(compareNames);
  }

  /** Removes the object; a missing object is not an error. */
  async delete(name: string): Promise<void> {
    this.check(name);
    this.objects.delete(name);
  }

  /** Moves `from` to `to`, replacing any object at `to`. Throws `not_found` when `from` is missing. */
  async rename(from: string, to: string): Promise<void> {
    this.check(from);
    checkObjectName(to);
    const bytes = this.objects.get(from);
    if (bytes === undefined) throw notFound(from);
    if (from === to) return;
    this.objects.delete(from);
    this.objects.set(to, bytes);
  }

  /** Takes the lock `name`; throws `busy` while it is held, even by this same instance. */
  async lock(name: string): Promise<BackendLock> {
    this.check(name);
    if (this.locks.has(name)) {
      throw new StrataError('busy', `lock ${name} is held by another opener; close it or wait`, {
        committed: 'no',
      });
    }
    this.locks.add(name);
    let held = true;
    return {
      release: async () => {
        // Releasing twice must not free a lock someone else has taken since.
        if (held) {
          held = false;
          this.locks.delete(name);
        }
      },
    };
  }

  /** Marks the backend closed and frees its locks; later calls throw `closed`. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.locks.clear();
  }

  private check(name: string): void {
    this.checkOpen();
    checkObjectName(name);
  }

  private checkOpen(): void {
    if (this.closed) throw new StrataError('closed', 'the backend is closed; open the database again');
  }
}

/** Orders names by UTF-16 code unit, which for the ASCII object names is byte order. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function notFound(name: string): StrataError {
  return new StrataError('not_found', `no object named ${name}`, { committed: 'no', object: name });
}
