import { StrataError } from '../base/index.js';

/**
 * L1: object-first I/O. Everything above works with named objects under one database root,
 * never with paths, descriptors or fsync calls. Names are built only by the layout layer
 * (`wal/000000000001.log`); a name is `family/leaf` with [a-z0-9._-] characters.
 *
 * The contract, which every implementation passes (test/backend-conformance.ts):
 * - `write` and `append` change what later reads return at once, but nothing is durable until
 *   `sync(name)` resolves. A crash may keep any part of unsynced data, or none, depending on the
 *   medium; the simulated disk models the possibilities.
 * - `sync(name)` makes the object's contents durable and, if the object was created since its
 *   last sync, its name too (on POSIX: fsync of the file, then of its directory).
 * - `publish(name, bytes)` atomically replaces `name` with `bytes`, durably: when it resolves
 *   the new contents survive a crash; a crash before then leaves the old contents or the new
 *   ones, never a mix. Used for `manifest/current`.
 * - `delete` and `rename` are durable when they resolve.
 * - Reads never return partial results: a read of a missing object says so, not empty bytes.
 * - Failures are StrataError with code `io` or `no_space` and the platform error as `cause`.
 *   After a failed `sync`, the object's unsynced data may be lost even though later reads still
 *   return it: callers must not retry the sync and then trust it (see DESIGN.md, Errors).
 */

/**
 * A synchronous reader of one object, for immutable objects read at random (tables). Reads see
 * the object as it was when opened: later writes, renames or a delete of the name do not change
 * what an open reader returns (POSIX semantics of an open descriptor).
 */
export interface ObjectReader {
  /** Size in bytes when opened. */
  readonly size: number;
  /**
   * Bytes `[offset, offset + length)`, synchronously. A range outside `[0, size]` throws
   * `invalid_argument`; an I/O failure throws `io`. The result may be a view of a shared buffer
   * and must not be modified.
   */
  readSync(offset: number, length: number): Uint8Array;
  /** Releases the reader (idempotent). */
  close(): void;
}

/** An ObjectReader over bytes already in memory (memory and simulated backends). */
export class BytesReader implements ObjectReader {
  private closed = false;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly name: string,
  ) {}

  get size(): number {
    return this.bytes.length;
  }

  readSync(offset: number, length: number): Uint8Array {
    if (this.closed) throw new StrataError('closed', `the reader of ${this.name} is closed`);
    checkReadRange(this.name, offset, length, this.bytes.length);
    return this.bytes.subarray(offset, offset + length);
  }

  close(): void {
    this.closed = true;
  }
}

/** Throws `invalid_argument` unless `[offset, offset + length)` lies inside `[0, size]`. */
export function checkReadRange(name: string, offset: number, length: number, size: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  ) {
    throw new StrataError(
      'invalid_argument',
      `read of ${name}: bytes [${offset}, ${offset + length}) are outside the object's ${size} bytes`,
      { object: name },
    );
  }
}

export interface BackendLock {
  release(): Promise<void>;
}

export interface Backend {
  /** The whole object, or `undefined` when there is no such object. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** Bytes `[offset, offset + length)`, clipped at the object's end; throws `not_found` if missing. */
  readRange(name: string, offset: number, length: number): Promise<Uint8Array>;
  /** Opens a synchronous reader of the object; throws `not_found` if missing. */
  openReader(name: string): Promise<ObjectReader>;
  /** Size in bytes, or `undefined` when there is no such object. */
  size(name: string): Promise<number | undefined>;
  /** Creates or replaces the object with `bytes`. Not durable until `sync(name)`. */
  write(name: string, bytes: Uint8Array): Promise<void>;
  /** Appends `bytes`, creating the object when missing. Not durable until `sync(name)`. */
  append(name: string, bytes: Uint8Array): Promise<void>;
  /** Makes the object's contents (and a new object's name) durable. */
  sync(name: string): Promise<void>;
  /** Atomically and durably replaces the object with `bytes`. */
  publish(name: string, bytes: Uint8Array): Promise<void>;
  /** Names of the objects whose names start with `prefix`, sorted ascending. */
  list(prefix: string): Promise<string[]>;
  /** Removes the object durably. Deleting a missing object is not an error. */
  delete(name: string): Promise<void>;
  /** Moves an object to a new name durably, replacing any object there. */
  rename(from: string, to: string): Promise<void>;
  /**
   * Takes an exclusive lock named `name` for this opener. Throws `busy` when another live opener
   * (in this process or another) holds it. A lock left by a dead process is taken over.
   */
  lock(name: string): Promise<BackendLock>;
  /** Releases open handles. The backend must not be used afterwards. */
  close(): Promise<void>;
}

/**
 * Object names: `family/leaf`, lower-case ASCII letters, digits, '.', '_' and '-', each part
 * starting with a letter or digit (so neither part can be `.`, `..` or a hidden name).
 */
export const OBJECT_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*$/;

export function isObjectName(name: string): boolean {
  return OBJECT_NAME_PATTERN.test(name) && !name.includes('..');
}
