/**
 * A fault-injecting simulated disk for crash tests (DESIGN.md, "How it is tested", items 2 and 3).
 *
 * The model. Every object is an inode with a durable image (what survives a crash), a visible
 * image (what reads return now) and the list of content operations issued since its last sync
 * (`write` replaces the content, `append` adds bytes at the end). The namespace has a durable map
 * from name to inode, a visible map, and a list of pending directory operations: the creation of
 * an object whose name was never synced, and a rename or delete whose directory sync has not
 * happened. A crash applies one of four models to everything not yet durable; what results
 * becomes both the durable and the visible state.
 *
 * Steps. Every backend call is one or more steps, and reads are steps too, so a test can fail or
 * crash at any point of a run, recovery included:
 * - read, readRange, size, list, lock: one step each;
 * - write, append: one data step;
 * - sync: one sync step (the object's contents and, when pending, its name);
 * - rename, delete: the namespace change, then a directory sync step (a delete of a missing
 *   object is one step, unless an earlier delete of it left its directory sync undone);
 * - publish: write a temporary object in the same family (data), sync it (sync), rename it over
 *   the name (namespace), directory sync (sync).
 * `BackendLock.release` and `close` are not steps: they cannot fail.
 *
 * Directory syncs are per name, not per directory: syncing `wal/a` does not make a pending
 * `wal/b` durable, although fsync of their shared directory would on POSIX. Being less durable
 * than a real file system is the safe side: code that is correct here does not rely on a
 * sibling's sync.
 *
 * Everything is deterministic: the same operations and the same seeds give the same states.
 */
import { assert, type SeededRandom, StrataError, unreachable } from '../base/index.js';
import { type Backend, type BackendLock, BytesReader, isObjectName, type ObjectReader } from './backend.js';
import { checkBytes, checkListPrefix, checkObjectName, checkRange, compareNames } from './memory-backend.js';

/**
 * What a crash keeps of the unsynced state. Durable data always survives (except where a failed
 * fsync dropped it, in every model).
 * - `strict`: a uniformly random prefix of whole unsynced operations, in issue order.
 * - `ordered`: a random prefix in issue order; the operation at the cut may be torn.
 * - `weak`: each unsynced chunk and directory operation independently kept or lost; holes read
 *   as zeros; sizes may persist without data; renames may be non-atomic; new names may vanish.
 * - `hostile`: weak, plus garbage in unsynced tails and bit flips in kept unsynced data.
 */
export type CrashModel = 'strict' | 'ordered' | 'weak' | 'hostile';

/**
 * - `eio`: the step throws `io` and has no effect.
 * - `no_space`: a data step (write, append, publish's write) throws `no_space` and has no effect.
 * - `fsync`: a sync step throws `io`; for an object sync the object's dirty data is dropped from
 *   durability (it stays readable until a crash), as Linux does when fsync fails.
 */
export type FaultKind = 'eio' | 'no_space' | 'fsync';

/** When and how the disk fails. */
export interface FaultPlan {
  /**
   * 1-based index among eligible steps, counted from when the plan is set. For `fsync` only sync
   * steps are eligible; `eio` and `no_space` count every step. A `no_space` fault that comes due
   * on a step that adds no data fires on the next data step instead, so that a loop which fails
   * the Nth step for N = 1, 2, ... stops only when no data step is left to fail.
   */
  failAt: number;
  kind: FaultKind;
  /** Fail every eligible step from `failAt` on, not only the first (default false). */
  continuous?: boolean;
}

/** Options for {@link SimDisk}. */
export interface SimDiskOptions {
  /** Largest total of visible object sizes; a write or append beyond it throws `no_space`. */
  capacityBytes?: number;
}

/**
 * The name publish() uses for its temporary object: the same family, so a rename never crosses
 * directories. A crash or failure during publish may leave it behind; recovery deletes it.
 */
export function publishTempName(name: string): string {
  return `${name}_publish.tmp`;
}

/**
 * A simulated disk shared by any number of backend handles (openers). Tests drive it through
 * {@link SimDisk.backend} and crash it with {@link SimDisk.crash} or {@link SimDisk.crashAtStep}.
 */
export class SimDisk {
  readonly #core: DiskCore;

  /** Creates an empty disk. Throws `invalid_argument` for a negative or non-integer capacity. */
  constructor(options: SimDiskOptions = {}) {
    const capacity = options.capacityBytes ?? Number.POSITIVE_INFINITY;
    if (!(capacity === Number.POSITIVE_INFINITY || (Number.isSafeInteger(capacity) && capacity >= 0))) {
      throw new StrataError(
        'invalid_argument',
        `capacityBytes must be a non-negative integer, got ${capacity}`,
      );
    }
    this.#core = new DiskCore(capacity);
  }

  /** A new opener of this disk. All handles share the disk; a crash invalidates all of them. */
  backend(): Backend {
    return new SimBackend(this.#core, this.#core.newHandleId(), this.#core.generation);
  }

  /**
   * Crashes the disk now: applies `model` to everything not yet durable, drawing choices from
   * `random`; the result becomes the durable and visible state. Every existing handle then throws
   * `io` ("disk crashed"), locks are released, and the fault plan and any armed crash are cleared.
   */
  crash(model: CrashModel, random: SeededRandom): void {
    checkModel(model);
    this.#core.crash(model, random);
  }

  /**
   * Arms a crash: the step that would become step number `step` (see {@link SimDisk.steps})
   * crashes the disk per `model` instead of running, and its operation throws `io`. So
   * `crashAtStep(disk.steps + 1, ...)` crashes on the very next step. Throws `invalid_argument`
   * when `step` is not after the steps already performed.
   */
  crashAtStep(step: number, model: CrashModel, random: SeededRandom): void {
    checkModel(model);
    if (!Number.isSafeInteger(step) || step <= this.#core.steps) {
      throw new StrataError('invalid_argument', `crash step ${step} must be after step ${this.#core.steps}`);
    }
    this.#core.armedCrash = { step, model, random };
  }

  /** Sets (or, with `undefined`, clears) the fault plan; its count starts at the next step. */
  setFaults(plan: FaultPlan | undefined): void {
    if (plan !== undefined) {
      if (!Number.isSafeInteger(plan.failAt) || plan.failAt < 1) {
        throw new StrataError('invalid_argument', `failAt must be a positive integer, got ${plan.failAt}`);
      }
      if (plan.kind !== 'eio' && plan.kind !== 'no_space' && plan.kind !== 'fsync') {
        throw new StrataError('invalid_argument', `unknown fault kind ${String(plan.kind)}`);
      }
    }
    this.#core.faults = plan === undefined ? undefined : { plan: { ...plan }, eligibleSeen: 0, fired: 0 };
  }

  /**
   * Steps performed so far, faulted ones included and a step replaced by an armed crash not;
   * monotonic across crashes.
   */
  get steps(): number {
    return this.#core.steps;
  }

  /** Faults the plan injected so far (capacity refusals are not counted), monotonic across crashes. */
  get faultsInjected(): number {
    return this.#core.faultsInjected;
  }

  /**
   * A deep copy of the disk's state (durable, visible, pending, counters), so one state can be
   * crashed many ways. The copy has no handles and no locks, and no fault plan or armed crash.
   */
  clone(): SimDisk {
    const copy = new SimDisk();
    copy.#core.copyFrom(this.#core);
    return copy;
  }

  /**
   * Flips the bits of `xorMask` in byte `offset` of the synced object `name`, in the durable image
   * and, when the same object is still visible under that name, in the visible image: media
   * corruption of a synced region. Throws `not_found` when `name` is not durable and
   * `invalid_argument` for an offset outside the durable image or a mask outside 1..255.
   */
  corruptDurable(name: string, offset: number, xorMask: number): void {
    checkObjectName(name);
    if (!Number.isSafeInteger(xorMask) || xorMask < 1 || xorMask > 255) {
      throw new StrataError('invalid_argument', `xorMask must be in 1..255, got ${xorMask}`);
    }
    this.#core.corruptDurable(name, offset, xorMask);
  }

  /** The durable names, sorted ascending. */
  durableNames(): string[] {
    return [...this.#core.durable.keys()].sort(compareNames);
  }

  /** A copy of what a read of `name` returns now, or `undefined`; not a step and never faulted. */
  visibleBytes(name: string): Uint8Array | undefined {
    return this.#core.visible.get(name)?.visibleCopy();
  }
}

function checkModel(model: CrashModel): void {
  if (model !== 'strict' && model !== 'ordered' && model !== 'weak' && model !== 'hostile') {
    throw new StrataError('invalid_argument', `unknown crash model ${String(model)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The disk state.

/** One unsynced content operation. `bytes` is a private copy and is never mutated. */
interface ContentOp {
  /** Global issue order across all objects and directory operations. */
  readonly seq: number;
  readonly kind: 'write' | 'append';
  /** Where the bytes land: 0 for a write, the visible size at issue time for an append. */
  readonly offset: number;
  readonly bytes: Uint8Array;
  /** Set by a failed fsync: the data can never become durable (see FaultKind `fsync`). */
  lost: boolean;
}

type DirOp =
  | { readonly seq: number; readonly kind: 'create'; readonly name: string; readonly inode: Inode }
  | { readonly seq: number; readonly kind: 'delete'; readonly name: string; readonly inode: Inode }
  | {
      readonly seq: number;
      readonly kind: 'rename';
      readonly from: string;
      readonly to: string;
      readonly inode: Inode;
    };

/** The kinds of step, which decide which faults can hit them. */
type StepKind = 'read' | 'data' | 'sync' | 'namespace';

/** An object's contents, independent of the names that point at it. */
class Inode {
  /** What survives a crash. Never mutated in place, so clones may share it. */
  durable: Uint8Array;
  /** The visible contents are `buffer[0, length)`; the buffer grows by doubling so appends are cheap. */
  buffer: Uint8Array;
  length: number;
  /** Content operations since the last sync, in issue order. */
  pending: ContentOp[] = [];

  constructor(durable: Uint8Array, visible: Uint8Array) {
    this.durable = durable;
    this.buffer = visible;
    this.length = visible.length;
  }

  visibleCopy(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  /** Replaces the visible contents with a copy of `bytes`. */
  replaceVisible(bytes: Uint8Array): void {
    this.buffer = bytes.slice();
    this.length = bytes.length;
  }

  /** Appends `bytes` to the visible contents, growing the buffer geometrically. */
  appendVisible(bytes: Uint8Array): void {
    const needed = this.length + bytes.length;
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2, 64));
      grown.set(this.buffer.subarray(0, this.length), 0);
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.length);
    this.length = needed;
  }

  clone(): Inode {
    const copy = new Inode(this.durable, this.visibleCopy());
    copy.pending = this.pending.map((op) => ({ ...op }));
    return copy;
  }
}

interface ActiveFaults {
  plan: FaultPlan;
  eligibleSeen: number;
  fired: number;
}

interface ArmedCrash {
  step: number;
  model: CrashModel;
  random: SeededRandom;
}

/**
 * The error of an operation the disk crashed under, and of every later call on a handle from
 * before the crash: like a process that died, the handle can do nothing more.
 */
function crashedError(): StrataError {
  return new StrataError('io', 'disk crashed: reopen the database on the recovered disk', {
    committed: 'unknown',
  });
}

/** The shared state of one simulated disk and the implementation of every backend step. */
class DiskCore {
  visible = new Map<string, Inode>();
  durable = new Map<string, Inode>();
  dirOps: DirOp[] = [];
  /** Sum of visible object sizes, kept incrementally for the capacity check. */
  visibleBytes = 0;
  steps = 0;
  faultsInjected = 0;
  /** Incremented by each crash; a handle from an older generation is dead. */
  generation = 0;
  faults: ActiveFaults | undefined;
  armedCrash: ArmedCrash | undefined;
  /** Lock name → id of the handle holding it. */
  locks = new Map<string, number>();
  private seq = 0;
  private handles = 0;

  constructor(public capacityBytes: number) {}

  newHandleId(): number {
    this.handles += 1;
    return this.handles;
  }

  copyFrom(other: DiskCore): void {
    assert(this.visible.size === 0 && this.durable.size === 0, 'copyFrom needs an empty disk');
    // Inodes are shared between names and directory operations, so each is copied once.
    const copies = new Map<Inode, Inode>();
    const copyOf = (inode: Inode): Inode => {
      let c = copies.get(inode);
      if (c === undefined) {
        c = inode.clone();
        copies.set(inode, c);
      }
      return c;
    };
    for (const [name, inode] of other.visible) this.visible.set(name, copyOf(inode));
    for (const [name, inode] of other.durable) this.durable.set(name, copyOf(inode));
    this.dirOps = other.dirOps.map((op) => ({ ...op, inode: copyOf(op.inode) }));
    this.visibleBytes = other.visibleBytes;
    this.steps = other.steps;
    this.faultsInjected = other.faultsInjected;
    this.seq = other.seq;
    this.capacityBytes = other.capacityBytes;
  }

  // --- steps and faults ---------------------------------------------------------------------

  /**
   * Starts one step of kind `kind`: crashes the disk if a crash is armed for it, throws an
   * injected fault, or counts it. Returns true when an `fsync` fault hits this (sync) step: the
   * caller applies the fault's effect and throws.
   */
  step(kind: StepKind): boolean {
    const armed = this.armedCrash;
    if (armed !== undefined && this.steps + 1 >= armed.step) {
      this.crash(armed.model, armed.random);
      throw crashedError();
    }
    this.steps += 1;
    const active = this.faults;
    if (active === undefined) return false;
    const { plan } = active;
    const eligible = plan.kind !== 'fsync' || kind === 'sync';
    if (!eligible) return false;
    active.eligibleSeen += 1;
    if (active.eligibleSeen < plan.failAt) return false;
    if (active.fired > 0 && plan.continuous !== true) return false;
    // A due no_space fault waits for a step that adds data (see FaultPlan.failAt).
    if (plan.kind === 'no_space' && kind !== 'data') return false;
    active.fired += 1;
    this.faultsInjected += 1;
    switch (plan.kind) {
      case 'eio':
        throw new StrataError('io', `injected I/O error at step ${this.steps}`, { committed: 'no' });
      case 'no_space':
        throw new StrataError('no_space', `injected disk full at step ${this.steps}`, { committed: 'no' });
      case 'fsync':
        return true;
      default:
        return unreachable(plan.kind);
    }
  }

  private checkCapacity(growthBytes: number): void {
    if (this.visibleBytes + growthBytes > this.capacityBytes) {
      throw new StrataError(
        'no_space',
        `disk full: ${this.visibleBytes} + ${growthBytes} bytes exceeds capacity ${this.capacityBytes}`,
        { committed: 'no' },
      );
    }
  }

  // --- operations (each called after the handle checked its arguments) -----------------------

  read(name: string): Uint8Array | undefined {
    this.step('read');
    return this.visible.get(name)?.visibleCopy();
  }

  readRange(name: string, offset: number, length: number): Uint8Array {
    this.step('read');
    const inode = this.visible.get(name);
    if (inode === undefined) throw notFound(name);
    const start = Math.min(offset, inode.length);
    const end = Math.min(offset + length, inode.length);
    return inode.buffer.slice(start, end);
  }

  size(name: string): number | undefined {
    this.step('read');
    return this.visible.get(name)?.length;
  }

  list(prefix: string): string[] {
    this.step('read');
    const names: string[] = [];
    for (const name of this.visible.keys()) if (name.startsWith(prefix)) names.push(name);
    return names.sort(compareNames);
  }

  write(name: string, bytes: Uint8Array): void {
    this.step('data');
    const existing = this.visible.get(name);
    this.checkCapacity(bytes.length - (existing?.length ?? 0));
    const inode = existing ?? this.create(name);
    const copy = bytes.slice();
    inode.pending.push({ seq: this.nextSeq(), kind: 'write', offset: 0, bytes: copy, lost: false });
    this.visibleBytes += copy.length - inode.length;
    inode.replaceVisible(copy);
  }

  append(name: string, bytes: Uint8Array): void {
    this.step('data');
    this.checkCapacity(bytes.length);
    const inode = this.visible.get(name) ?? this.create(name);
    const copy = bytes.slice();
    inode.pending.push({
      seq: this.nextSeq(),
      kind: 'append',
      offset: inode.length,
      bytes: copy,
      lost: false,
    });
    this.visibleBytes += copy.length;
    inode.appendVisible(copy);
  }

  sync(name: string): void {
    const failed = this.step('sync');
    const inode = this.visible.get(name);
    if (inode === undefined) throw notFound(name);
    if (failed) {
      // As on Linux: the kernel reports the error once and marks the pages clean, so this data
      // never reaches the media, although reads keep returning it until the cache is dropped.
      for (const op of inode.pending) op.lost = true;
      throw new StrataError('io', `injected fsync failure on ${name}: its unsynced data may be lost`, {
        committed: 'unknown',
        object: name,
      });
    }
    settleContent(inode);
    this.commitDirOps([name]);
  }

  publish(name: string, bytes: Uint8Array): void {
    const temp = publishTempName(name);
    assert(isObjectName(temp), `publish temp name ${temp} must be a valid object name`);
    this.write(temp, bytes);
    this.sync(temp);
    this.rename(temp, name);
  }

  delete(name: string): void {
    this.step('namespace');
    const inode = this.visible.get(name);
    if (inode !== undefined) {
      this.visible.delete(name);
      this.visibleBytes -= inode.length;
      this.dirOps.push({ seq: this.nextSeq(), kind: 'delete', name, inode });
    }
    // A retried delete whose earlier directory sync failed still has work to do.
    if (this.hasDirOps([name])) this.dirSync([name]);
  }

  rename(from: string, to: string): void {
    this.step('namespace');
    const inode = this.visible.get(from);
    if (inode === undefined) throw notFound(from);
    if (from !== to) {
      const replaced = this.visible.get(to);
      if (replaced !== undefined) this.visibleBytes -= replaced.length;
      this.visible.delete(from);
      this.visible.set(to, inode);
      this.dirOps.push({ seq: this.nextSeq(), kind: 'rename', from, to, inode });
    }
    if (this.hasDirOps([from, to])) this.dirSync([from, to]);
  }

  lock(name: string, handle: number): void {
    this.step('namespace');
    if (this.locks.has(name)) {
      throw new StrataError('busy', `lock ${name} is held by another opener; close it or wait`, {
        committed: 'no',
      });
    }
    this.locks.set(name, handle);
  }

  releaseLocksOf(handle: number): void {
    for (const [name, holder] of [...this.locks]) if (holder === handle) this.locks.delete(name);
  }

  /** The directory sync step of rename, delete and publish. */
  private dirSync(names: string[]): void {
    // A failed directory fsync leaves the directory operations pending: a crash may or may not
    // apply them, exactly as if the sync had never been attempted.
    if (this.step('sync')) {
      throw new StrataError('io', `injected directory fsync failure for ${names.join(', ')}`, {
        committed: 'unknown',
      });
    }
    this.commitDirOps(names);
  }

  private create(name: string): Inode {
    const inode = new Inode(EMPTY, EMPTY);
    this.visible.set(name, inode);
    this.dirOps.push({ seq: this.nextSeq(), kind: 'create', name, inode });
    return inode;
  }

  private nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  private hasDirOps(names: string[]): boolean {
    return this.dirOps.some((op) => dirOpNames(op).some((n) => names.includes(n)));
  }

  /**
   * Makes durable, in issue order, the pending directory operations that mention any of `names`
   * and the other pending operations on the same objects (so a rename of a never-synced object
   * also makes its creation durable, as a directory fsync would).
   */
  private commitDirOps(names: string[]): void {
    const inodes = new Set<Inode>();
    for (const op of this.dirOps) if (dirOpNames(op).some((n) => names.includes(n))) inodes.add(op.inode);
    if (inodes.size === 0) return;
    const keep: DirOp[] = [];
    for (const op of this.dirOps) {
      if (inodes.has(op.inode) || dirOpNames(op).some((n) => names.includes(n))) {
        applyDirOp(this.durable, op, 'new');
      } else {
        keep.push(op);
      }
    }
    this.dirOps = keep;
  }

  corruptDurable(name: string, offset: number, xorMask: number): void {
    const inode = this.durable.get(name);
    if (inode === undefined) throw notFound(name);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= inode.durable.length) {
      throw new StrataError(
        'invalid_argument',
        `offset ${offset} is outside the ${inode.durable.length} durable bytes of ${name}`,
      );
    }
    // Images are shared (with clones, and between an object's durable and visible images), so
    // corruption writes fresh copies instead of flipping bits in place.
    const corrupted = inode.durable.slice();
    const synced = corrupted[offset]!;
    corrupted[offset] = synced ^ xorMask;
    inode.durable = corrupted;
    // The cached copy is corrupted too only where it still shows the synced byte: data written
    // over it since the sync lives in the page cache, which the media fault does not reach.
    if (this.visible.get(name) === inode && offset < inode.length && inode.buffer[offset] === synced) {
      const buffer = inode.buffer.slice();
      buffer[offset] = synced ^ xorMask;
      inode.buffer = buffer;
    }
  }

  // --- crashes --------------------------------------------------------------------------------

  crash(model: CrashModel, random: SeededRandom): void {
    const images = new Map<Inode, Uint8Array>();
    const all = this.allInodes();
    // Every unsynced operation, in issue order, for the models that cut a global prefix.
    const contentOps: { inode: Inode; index: number; seq: number }[] = [];
    for (const inode of all) {
      inode.pending.forEach((op, index) => {
        contentOps.push({ inode, index, seq: op.seq });
      });
    }
    contentOps.sort((a, b) => a.seq - b.seq);
    const dirOps = this.dirOps;

    // outcome[inode][i]: how much of pending op i persisted (see Outcome).
    const outcomes = new Map<Inode, Outcome[]>();
    for (const inode of all)
      outcomes.set(
        inode,
        inode.pending.map(() => DROP),
      );
    const dirModes: (RenameMode | undefined)[] = dirOps.map(() => undefined);

    if (model === 'strict' || model === 'ordered') {
      const merged: (
        | { kind: 'content'; at: (typeof contentOps)[number] }
        | { kind: 'dir'; index: number }
      )[] = [];
      let c = 0;
      let d = 0;
      while (c < contentOps.length || d < dirOps.length) {
        const nextContent = contentOps[c];
        const nextDir = dirOps[d];
        if (nextDir === undefined || (nextContent !== undefined && nextContent.seq < nextDir.seq)) {
          merged.push({ kind: 'content', at: nextContent! });
          c += 1;
        } else {
          merged.push({ kind: 'dir', index: d });
          d += 1;
        }
      }
      const cut = random.int(merged.length + 1);
      for (let i = 0; i < merged.length; i++) {
        const entry = merged[i]!;
        if (entry.kind === 'dir') {
          if (i < cut) dirModes[entry.index] = 'new';
          continue;
        }
        const op = entry.at.inode.pending[entry.at.index]!;
        const list = outcomes.get(entry.at.inode)!;
        // Data lost by a failed fsync never persists, whatever the model.
        if (i < cut) list[entry.at.index] = op.lost ? DROP : KEEP;
        else if (i === cut && model === 'ordered' && !op.lost) {
          // The write in flight at the crash: only a prefix of its bytes reached the media.
          list[entry.at.index] = random.int(op.bytes.length + 1);
        }
      }
    } else {
      for (const at of contentOps) {
        const lost = at.inode.pending[at.index]!.lost;
        outcomes.get(at.inode)![at.index] = !lost && random.bool() ? KEEP : DROP;
      }
      for (const inode of all) {
        // Size persisted without data: the file may grow past its last kept byte, up to the end
        // of some later dropped operation.
        const list = outcomes.get(inode)!;
        let lastKept = -1;
        for (let i = 0; i < list.length; i++) if (list[i] !== DROP) lastKept = i;
        const candidates: number[] = [];
        for (let i = lastKept + 1; i < list.length; i++) if (!inode.pending[i]!.lost) candidates.push(i);
        if (candidates.length > 0 && random.bool(0.3)) list[random.pick(candidates)] = SIZE_ONLY;
      }
      dirOps.forEach((op, i) => {
        if (op.kind === 'rename') dirModes[i] = random.pick(RENAME_MODES);
        else dirModes[i] = random.bool() ? 'new' : undefined;
      });
    }

    for (const inode of all) {
      if (inode.pending.length === 0) continue;
      images.set(inode, rebuild(inode.durable, inode.pending, outcomes.get(inode)!, model, random));
    }

    const names = new Map(this.durable);
    dirOps.forEach((op, i) => {
      const mode = dirModes[i];
      if (mode !== undefined) applyDirOp(names, op, mode);
    });

    // The survivors become fresh inodes, one per name, so a rename that left both names behind
    // yields two independent objects (a real file system would show a hard link, which the
    // backend contract has no way to express, so copies are the closest model).
    this.visible = new Map();
    this.durable = new Map();
    this.visibleBytes = 0;
    for (const [name, inode] of [...names].sort((a, b) => compareNames(a[0], b[0]))) {
      const image = images.get(inode) ?? inode.durable;
      const fresh = new Inode(image, image.slice());
      this.durable.set(name, fresh);
      this.visible.set(name, fresh);
      this.visibleBytes += image.length;
    }
    this.dirOps = [];
    this.generation += 1;
    this.locks.clear();
    this.faults = undefined;
    this.armedCrash = undefined;
  }

  /** Every inode reachable from a name or a pending directory operation, in a stable order. */
  private allInodes(): Inode[] {
    const seen = new Set<Inode>();
    for (const inode of this.visible.values()) seen.add(inode);
    for (const inode of this.durable.values()) seen.add(inode);
    for (const op of this.dirOps) seen.add(op.inode);
    return [...seen];
  }
}

const EMPTY = new Uint8Array(0);

/**
 * How much of one unsynced content operation persisted: `KEEP` (all), `DROP` (nothing),
 * `SIZE_ONLY` (the size it gave the object, without its data), or a byte count for a torn write.
 */
type Outcome = number;
const KEEP = Number.POSITIVE_INFINITY;
const DROP = -1;
const SIZE_ONLY = -2;

/**
 * How a crash applies a pending directory operation: `new` applies it, `both` is a rename that
 * added the new name but never removed the old one. Not applying it at all is `undefined`.
 */
type RenameMode = 'new' | 'both';
const RENAME_MODES: readonly (RenameMode | undefined)[] = [undefined, 'new', 'both'];

function dirOpNames(op: DirOp): string[] {
  return op.kind === 'rename' ? [op.from, op.to] : [op.name];
}

/** Applies `op` to the name map `names`; `both` keeps a renamed object's old name too. */
function applyDirOp(names: Map<string, Inode>, op: DirOp, mode: RenameMode): void {
  switch (op.kind) {
    case 'create':
      names.set(op.name, op.inode);
      return;
    case 'delete':
      // Only the object the delete saw: with operations applied out of order, the name may
      // meanwhile belong to another object, which this delete never touched.
      if (names.get(op.name) === op.inode) names.delete(op.name);
      return;
    case 'rename':
      if (mode === 'new' && names.get(op.from) === op.inode) names.delete(op.from);
      names.set(op.to, op.inode);
      return;
    default:
      unreachable(op);
  }
}

/** A sync that succeeds: the object's pending data becomes durable, except data a failed fsync lost. */
function settleContent(inode: Inode): void {
  if (inode.pending.length === 0) return;
  if (inode.pending.some((op) => op.lost)) {
    const outcomes = inode.pending.map((op) => (op.lost ? DROP : KEEP));
    inode.durable = rebuild(inode.durable, inode.pending, outcomes, 'strict', undefined);
  } else {
    // No copy: bytes below `length` are never changed in place (appends write past it, a write
    // or a corruption installs a new buffer), so the durable image can share the buffer.
    inode.durable = inode.buffer.subarray(0, inode.length);
  }
  inode.pending = [];
}

/**
 * Rebuilds an object's durable image from `base` and its unsynced operations with the given
 * outcomes. Rules:
 * - a kept (or torn) operation writes its (prefix of) bytes and sets the size to its end;
 * - a dropped operation followed by any persisted one, and a SIZE_ONLY one, persisted its size
 *   but not its data: its range reads as zeros (for `hostile`, possibly as garbage, unless a
 *   failed fsync lost it, which leaves zeros);
 * - a dropped operation with nothing persisted after it leaves no trace.
 * `hostile` also flips a bit in some kept ranges. Only `hostile` draws from `random`.
 */
function rebuild(
  base: Uint8Array,
  ops: readonly ContentOp[],
  outcomes: readonly Outcome[],
  model: CrashModel,
  random: SeededRandom | undefined,
): Uint8Array {
  assert(ops.length === outcomes.length, 'one outcome per operation');
  const hostile = model === 'hostile';
  assert(!hostile || random !== undefined, 'hostile rebuild needs randomness');
  const image = new GrowableImage(base);
  let laterPersisted = false;
  const persistedAfter: boolean[] = new Array(ops.length);
  for (let i = ops.length - 1; i >= 0; i--) {
    persistedAfter[i] = laterPersisted;
    if (outcomes[i] !== DROP) laterPersisted = true;
  }
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    let outcome = outcomes[i]!;
    if (outcome === DROP) {
      if (!persistedAfter[i]) continue;
      outcome = SIZE_ONLY;
    }
    image.setLength(op.offset);
    if (outcome === SIZE_ONLY) {
      image.setLength(op.offset + op.bytes.length);
      if (hostile && !op.lost && random!.bool()) {
        // Unsynced blocks that were allocated but never written hold whatever was on the media.
        image.fill(op.offset, random!.bytes(op.bytes.length));
      }
      continue;
    }
    const kept = Math.min(outcome, op.bytes.length);
    image.setLength(op.offset + kept);
    image.fill(op.offset, op.bytes.subarray(0, kept));
    if (hostile && kept > 0 && random!.bool(0.25)) {
      image.flipBit(op.offset + random!.int(kept), random!.int(8));
    }
  }
  return image.toBytes();
}

/** A byte image that can grow (new bytes are zero) and shrink; used only to rebuild after a crash. */
class GrowableImage {
  private buffer: Uint8Array;
  private length: number;

  constructor(base: Uint8Array) {
    this.buffer = base.slice();
    this.length = base.length;
  }

  setLength(length: number): void {
    if (length > this.buffer.length) {
      const grown = new Uint8Array(Math.max(length, this.buffer.length * 2));
      grown.set(this.buffer.subarray(0, this.length), 0);
      this.buffer = grown;
    } else if (length > this.length) {
      // The buffer may still hold bytes from before a shrink; new positions must read as zero.
      this.buffer.fill(0, this.length, length);
    }
    this.length = length;
  }

  fill(offset: number, bytes: Uint8Array): void {
    assert(offset + bytes.length <= this.length, 'fill inside the image');
    this.buffer.set(bytes, offset);
  }

  flipBit(offset: number, bit: number): void {
    assert(offset < this.length, 'flip inside the image');
    this.buffer[offset] = this.buffer[offset]! ^ (1 << bit);
  }

  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

function notFound(name: string): StrataError {
  return new StrataError('not_found', `no object named ${name}`, { committed: 'no', object: name });
}

/** One opener of a SimDisk. It dies when the disk crashes or when it is closed. */
class SimBackend implements Backend {
  private closed = false;

  constructor(
    private readonly core: DiskCore,
    private readonly id: number,
    private readonly generation: number,
  ) {}

  async read(name: string): Promise<Uint8Array | undefined> {
    this.check(name);
    return this.core.read(name);
  }

  async readRange(name: string, offset: number, length: number): Promise<Uint8Array> {
    this.check(name);
    checkRange(offset, length);
    return this.core.readRange(name, offset, length);
  }

  async openReader(name: string): Promise<ObjectReader> {
    this.check(name);
    const bytes = this.core.read(name);
    if (bytes === undefined) throw notFound(name);
    return new BytesReader(bytes, name);
  }

  async size(name: string): Promise<number | undefined> {
    this.check(name);
    return this.core.size(name);
  }

  async write(name: string, bytes: Uint8Array): Promise<void> {
    this.check(name);
    checkBytes(bytes);
    this.core.write(name, bytes);
  }

  async append(name: string, bytes: Uint8Array): Promise<void> {
    this.check(name);
    checkBytes(bytes);
    this.core.append(name, bytes);
  }

  async sync(name: string): Promise<void> {
    this.check(name);
    this.core.sync(name);
  }

  async publish(name: string, bytes: Uint8Array): Promise<void> {
    this.check(name);
    checkBytes(bytes);
    this.core.publish(name, bytes);
  }

  async list(prefix: string): Promise<string[]> {
    this.checkLive();
    checkListPrefix(prefix);
    return this.core.list(prefix);
  }

  async delete(name: string): Promise<void> {
    this.check(name);
    this.core.delete(name);
  }

  async rename(from: string, to: string): Promise<void> {
    this.check(from);
    checkObjectName(to);
    this.core.rename(from, to);
  }

  async lock(name: string): Promise<BackendLock> {
    this.check(name);
    this.core.lock(name, this.id);
    const generation = this.core.generation;
    let held = true;
    return {
      release: async () => {
        // After a crash the lock table was cleared and someone else may hold the name now.
        if (held && this.core.generation === generation && this.core.locks.get(name) === this.id) {
          this.core.locks.delete(name);
        }
        held = false;
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A closing process drops its locks; after a crash they are gone already.
    if (this.core.generation === this.generation) this.core.releaseLocksOf(this.id);
  }

  private check(name: string): void {
    this.checkLive();
    checkObjectName(name);
  }

  private checkLive(): void {
    if (this.closed) throw new StrataError('closed', 'the backend is closed; open the database again');
    if (this.core.generation !== this.generation) throw crashedError();
  }
}
