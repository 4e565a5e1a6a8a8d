/**
 * The manifest: the durable LSM state (the tables of each level and a few counters) kept as an
 * append-only log of edits, `manifest/<n>.log`, named by the pointer in `manifest/current`.
 * Formats: docs/formats/manifest.md.
 *
 * Why it is safe:
 * - A log is written whole (header and one full edit), synced, and only then named by
 *   `manifest/current` through the backend's atomic, durable `publish`. So the log that
 *   `manifest/current` names was complete and durable when it was named; a damaged first edit
 *   is corruption.
 * - Each later edit is one frame, appended and synced before `apply` resolves, and nothing is
 *   appended after a failure. So only the newest frame can be torn, and a damaged frame followed
 *   by a valid one is corruption (the damaged one had been synced before the next was written).
 * - Every open rolls: it writes the whole state to a new log, syncs it, publishes the pointer,
 *   and only then deletes the old log. A torn tail is thereby dropped for good (nothing is ever
 *   appended after it), and an edit a failed fsync may have lost while reads still show it
 *   becomes durable before anything acts on it.
 * - The file counter starts above every number in use (the recorded counter and every numbered
 *   object's name), so no number is handed out twice, even after a crash lost the edit that
 *   recorded it.
 */
import type { Backend } from '../backend/index.js';
import {
  AssertionError,
  assert,
  concatBytes,
  FRAME_PAYLOAD_BYTES_MAX,
  isStrataError,
  StrataError,
} from '../base/index.js';
import {
  type AddedTable,
  decodeManifestEdit,
  decodeManifestLogHeader,
  decodeManifestPointer,
  encodeFrame,
  encodeManifestEdit,
  encodeManifestLogHeader,
  encodeManifestPointer,
  MANIFEST_KEY_BYTES_MAX,
  MANIFEST_LEVELS,
  MANIFEST_LOG_HEADER_BYTES,
  type ManifestEdit,
  readFrame,
  type TableMeta,
} from '../format/index.js';
import {
  FILE_NUMBER_MAX,
  fileNumberOfName,
  MANIFEST_CURRENT,
  MANIFEST_PREFIX,
  manifestLogName,
  parseManifestLogName,
  parseTableName,
  QUARANTINE_PREFIX,
  SNAPSHOT_PREFIX,
  TABLE_PREFIX,
  WAL_PREFIX,
} from '../layout/index.js';

/** Number of levels: L0 (tables may overlap) and L1..L6 (sorted, non-overlapping). */
export const LEVELS = MANIFEST_LEVELS;
/** A log is rolled once appending would take it past this size (see ManifestLogOptions). */
export const MANIFEST_ROLL_BYTES_DEFAULT = 4 * 1024 * 1024;

export interface LsmState {
  /**
   * levels[0] = L0 ordered newest first (maxVersion descending, then file number descending);
   * levels[1..] sorted by smallest key, non-overlapping. Frozen arrays of frozen tables: every
   * edit produces new arrays for the levels it changes (copy-on-write), so a reader holding an
   * old LsmState keeps a consistent view.
   */
  readonly levels: readonly (readonly TableMeta[])[];
  /** The first WAL segment recovery replays. */
  readonly walStartFile: number;
  /** Every file number below it has been handed out (as far as the manifest has recorded). */
  readonly nextFileNumber: number;
  /** Versions up to here may have been issued (and seen) before the newest edit was written. */
  readonly reservedVersion: number;
  /** Every version <= flushedVersion is in tables; WAL replay skips them. */
  readonly flushedVersion: number;
  /** The timestamp of flushedVersion (ms since the Unix epoch). */
  readonly flushedTimestamp: number;
}

function freezeState(s: LsmState): LsmState {
  return Object.freeze({ ...s });
}

const EMPTY_LEVEL: readonly TableMeta[] = Object.freeze([]);

/** The state of a database that has never held anything: the base every log's full edit applies to. */
export const EMPTY_LSM_STATE: LsmState = freezeState({
  levels: Object.freeze(Array.from({ length: LEVELS }, () => EMPTY_LEVEL)),
  walStartFile: 1,
  nextFileNumber: 1,
  reservedVersion: 0,
  flushedVersion: 0,
  flushedTimestamp: 0,
});

/** An edit that does not fit the state it is applied to. */
export class InvalidEditError extends Error {
  override readonly name = 'InvalidEditError';
}

// ── applying edits ─────────────────────────────────────────────────────────────────────────

function invalid(reason: string): never {
  throw new InvalidEditError(reason);
}

function checkLevel(level: unknown, what: string): number {
  if (!(Number.isInteger(level) && (level as number) >= 0 && (level as number) < LEVELS)) {
    invalid(`${what}: level ${String(level)} is out of range 0..${LEVELS - 1}`);
  }
  return level as number;
}

function isByteString(s: unknown): s is string {
  if (typeof s !== 'string' || s.length > MANIFEST_KEY_BYTES_MAX) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Checks one table's own fields and returns a frozen copy holding exactly them. */
function checkTable(t: TableMeta): TableMeta {
  const n = t.fileNumber;
  const what = `table ${String(n)}`;
  if (!(Number.isSafeInteger(n) && n >= 1 && n <= FILE_NUMBER_MAX)) invalid(`${what}: bad file number`);
  if (!(Number.isSafeInteger(t.size) && t.size >= 1)) invalid(`${what}: size ${t.size} is not positive`);
  if (!(Number.isSafeInteger(t.entries) && t.entries >= 1)) invalid(`${what}: ${t.entries} entries`);
  if (!(Number.isSafeInteger(t.minVersion) && t.minVersion >= 1)) invalid(`${what}: bad minVersion`);
  if (!(Number.isSafeInteger(t.maxVersion) && t.maxVersion >= t.minVersion)) {
    invalid(`${what}: maxVersion ${t.maxVersion} is below minVersion ${t.minVersion}`);
  }
  if (!isByteString(t.smallest) || !isByteString(t.largest)) invalid(`${what}: keys are not byte strings`);
  if (t.smallest > t.largest) invalid(`${what}: smallest key is above largest key`);
  return Object.freeze({
    fileNumber: n,
    size: t.size,
    smallest: t.smallest,
    largest: t.largest,
    minVersion: t.minVersion,
    maxVersion: t.maxVersion,
    entries: t.entries,
  });
}

/** A counter the edit sets: a safe integer at least `min`, not below its value in `state`. */
function nextCounter(
  edit: ManifestEdit,
  state: LsmState,
  field: keyof LsmState & keyof ManifestEdit,
  min: number,
): number {
  const previous = state[field] as number;
  const v = edit[field];
  if (v === undefined) return previous;
  if (!(Number.isSafeInteger(v) && (v as number) >= min)) invalid(`${field} ${String(v)} is out of range`);
  if ((v as number) < previous) invalid(`${field} goes backwards, from ${previous} to ${String(v)}`);
  return v as number;
}

/** L0: newest first. Ties in maxVersion (never produced by a flush) fall back to the newer file. */
function compareL0(a: TableMeta, b: TableMeta): number {
  return b.maxVersion - a.maxVersion || b.fileNumber - a.fileNumber;
}

function compareBySmallest(a: TableMeta, b: TableMeta): number {
  return a.smallest < b.smallest ? -1 : a.smallest > b.smallest ? 1 : 0;
}

/**
 * The state after `edit`. Pure: `state` is not changed, untouched levels are shared, and every
 * changed level is a new frozen array.
 *
 * Rules: a `full` edit replaces every level (levels it does not mention become empty) and may
 * not remove anything; removals apply before additions, so a table can move levels in one edit;
 * a removal must name a table present at that level; an added table must be well formed
 * (file number 1..FILE_NUMBER_MAX, size and entries >= 1, 1 <= minVersion <= maxVersion,
 * smallest <= largest as byte strings) and its file number must not be present anywhere after
 * the removals; in L1..L6 key ranges must not overlap (`largest < next smallest`); counters
 * (walStartFile, nextFileNumber, reservedVersion, flushedVersion) must not decrease; every
 * table's file number must be below nextFileNumber and walStartFile at most nextFileNumber;
 * flushedTimestamp must be finite.
 *
 * Throws InvalidEditError (a plain Error) naming the first rule broken.
 */
export function applyEdit(state: LsmState, edit: ManifestEdit): LsmState {
  const walStartFile = nextCounter(edit, state, 'walStartFile', 1);
  const nextFileNumber = nextCounter(edit, state, 'nextFileNumber', 1);
  const reservedVersion = nextCounter(edit, state, 'reservedVersion', 0);
  const flushedVersion = nextCounter(edit, state, 'flushedVersion', 0);
  let flushedTimestamp = state.flushedTimestamp;
  if (edit.flushedTimestamp !== undefined) {
    if (typeof edit.flushedTimestamp !== 'number' || !Number.isFinite(edit.flushedTimestamp)) {
      invalid('flushedTimestamp is not a finite number');
    }
    flushedTimestamp = edit.flushedTimestamp;
  }
  if (nextFileNumber > FILE_NUMBER_MAX + 1) invalid(`nextFileNumber ${nextFileNumber} is beyond every name`);
  if (walStartFile > nextFileNumber) {
    invalid(`walStartFile ${walStartFile} is above nextFileNumber ${nextFileNumber}`);
  }

  const full = edit.full === true;
  const removed = edit.removed ?? [];
  const added = edit.added ?? [];
  if (full && removed.length > 0) invalid('a full edit removes tables');
  const base = full ? EMPTY_LSM_STATE.levels : state.levels;
  assert(base.length === LEVELS, 'one array per level');

  // Removals, per level; each must name a table present there, at most once.
  const removedAt: Set<number>[] = Array.from({ length: LEVELS }, () => new Set<number>());
  for (const r of removed) {
    const level = checkLevel(r.level, `removal of table ${String(r.fileNumber)}`);
    const set = removedAt[level]!;
    if (set.has(r.fileNumber)) invalid(`table ${r.fileNumber} is removed twice`);
    if (!base[level]!.some((t) => t.fileNumber === r.fileNumber)) {
      invalid(`table ${String(r.fileNumber)} is not in L${level}`);
    }
    set.add(r.fileNumber);
  }

  // Additions: well formed, numbered below the counter, and not present anywhere.
  const present = new Set<number>();
  base.forEach((tables, level) => {
    for (const t of tables) if (!removedAt[level]!.has(t.fileNumber)) present.add(t.fileNumber);
  });
  const addedAt: TableMeta[][] = Array.from({ length: LEVELS }, () => []);
  for (const a of added as readonly AddedTable[]) {
    const level = checkLevel(a.level, `addition of table ${String(a.table.fileNumber)}`);
    const t = checkTable(a.table);
    if (present.has(t.fileNumber)) invalid(`table ${t.fileNumber} is already present`);
    if (t.fileNumber >= nextFileNumber) {
      invalid(`table ${t.fileNumber} is not below nextFileNumber ${nextFileNumber}`);
    }
    present.add(t.fileNumber);
    addedAt[level]!.push(t);
  }

  const levels = base.map((tables, level) => {
    const drop = removedAt[level]!;
    const add = addedAt[level]!;
    if (drop.size === 0 && add.length === 0) return tables;
    const next = tables.filter((t) => !drop.has(t.fileNumber)).concat(add);
    if (level === 0) {
      next.sort(compareL0);
    } else {
      next.sort(compareBySmallest);
      for (let i = 1; i < next.length; i++) {
        const before = next[i - 1]!;
        const after = next[i]!;
        if (!(before.largest < after.smallest)) {
          invalid(`tables ${before.fileNumber} and ${after.fileNumber} overlap in L${level}`);
        }
      }
    }
    return Object.freeze(next);
  });

  return freezeState({
    levels: Object.freeze(levels),
    walStartFile,
    nextFileNumber,
    reservedVersion,
    flushedVersion,
    flushedTimestamp,
  });
}

/** The edit that describes `state` whole: what a new log starts with. */
export function fullEditOf(state: LsmState): ManifestEdit {
  const added: AddedTable[] = [];
  state.levels.forEach((tables, level) => {
    for (const table of tables) added.push({ level, table });
  });
  return {
    full: true,
    walStartFile: state.walStartFile,
    nextFileNumber: state.nextFileNumber,
    reservedVersion: state.reservedVersion,
    flushedVersion: state.flushedVersion,
    flushedTimestamp: state.flushedTimestamp,
    added,
  };
}

/** Every table file number the state references. */
function referencedFiles(state: LsmState): Set<number> {
  const out = new Set<number>();
  for (const tables of state.levels) for (const t of tables) out.add(t.fileNumber);
  return out;
}

// ── reading a log ──────────────────────────────────────────────────────────────────────────

function corruption(object: string, offset: number, reason: string): StrataError {
  return new StrataError(
    'corruption',
    `${object} is damaged at byte ${offset}: ${reason}. The manifest is needed to open the database; restore it from a backup.`,
    { object, offset },
  );
}

/** The offset of the first frame at or after `from` whose checksum verifies, if any. */
function findValidFrame(bytes: Uint8Array, from: number): number | undefined {
  for (let p = from; p + 8 < bytes.length; p++) if (readFrame(bytes, p).kind === 'ok') return p;
  return undefined;
}

/**
 * Replays the log `name` (file number `fileNumber`) from EMPTY_LSM_STATE. A damaged or truncated
 * frame with no valid frame after it is a torn tail: noted in `notes` and ignored. Throws
 * StrataError `corruption` for a bad header, a damaged first edit, a damaged frame followed by
 * a valid one, a malformed payload in a valid frame, a first edit that is not full or a later
 * one that is, and an edit applyEdit refuses.
 */
function replayLog(name: string, fileNumber: number, bytes: Uint8Array, notes: string[]): LsmState {
  const header = decodeManifestLogHeader(bytes);
  if (!header.ok) throw corruption(name, 0, header.reason);
  if (header.header.fileNumber !== fileNumber) {
    throw corruption(name, 16, `its header says file ${header.header.fileNumber}`);
  }
  let state = EMPTY_LSM_STATE;
  let edits = 0;
  let off = MANIFEST_LOG_HEADER_BYTES;
  while (off < bytes.length) {
    const f = readFrame(bytes, off);
    if (f.kind !== 'ok') {
      const later = findValidFrame(bytes, off + 1);
      if (later !== undefined) {
        throw corruption(name, off, `a damaged edit, though a valid one follows at byte ${later}`);
      }
      if (edits === 0) throw corruption(name, off, 'the first edit (the whole state) is damaged');
      notes.push(
        `discarded ${bytes.length - off} bytes of an unfinished manifest edit at the end of ${name}`,
      );
      break;
    }
    const edit = decodeManifestEdit(bytes, f.start, f.end);
    if (edit === undefined) throw corruption(name, off, 'an edit with a valid checksum is malformed');
    if ((edits === 0) !== (edit.full === true)) {
      throw corruption(
        name,
        off,
        edits === 0 ? 'the first edit is not the whole state' : 'a second full edit',
      );
    }
    try {
      state = applyEdit(state, edit);
    } catch (error) {
      if (!(error instanceof InvalidEditError)) throw error;
      throw corruption(name, off, `an invalid edit (${error.message})`);
    }
    edits++;
    off = f.end;
  }
  if (edits === 0) throw corruption(name, MANIFEST_LOG_HEADER_BYTES, 'the log holds no edit');
  return state;
}

/**
 * With `manifest/current` missing: checks that what is under manifest/ is only what an
 * unfinished creation leaves (a log written before the first publish, or that publish's
 * temporary object), and not the log of a database that held data, whose pointer was lost.
 */
async function checkCreationLeftovers(backend: Backend, manifestNames: readonly string[]): Promise<void> {
  for (const name of manifestNames) {
    const file = parseManifestLogName(name);
    if (file === undefined) {
      // A backend may list publish's temporary object for manifest/current (the simulated disk's
      // `manifest/current_publish.tmp`); the next publish replaces it.
      if (name.startsWith(MANIFEST_CURRENT)) continue;
      throw corruption(MANIFEST_CURRENT, 0, `missing, while manifest/ holds ${name}, which is not ours`);
    }
    const bytes = await backend.read(name);
    if (bytes === undefined) continue;
    let state: LsmState;
    try {
      state = replayLog(name, file, bytes, []);
    } catch (error) {
      // A log that does not replay was never finished, so nothing ever depended on it.
      if (isStrataError(error, 'corruption')) continue;
      throw error;
    }
    const held =
      state.levels.some((t) => t.length > 0) || state.flushedVersion > 0 || state.reservedVersion > 0;
    if (held) {
      throw corruption(MANIFEST_CURRENT, 0, `missing, while ${name} describes a database that held data`);
    }
  }
}

/**
 * One edit in its frame. A payload above the frame limit (64 MiB: hundreds of thousands of tables in one full
 * edit) would make a log no reader accepts, so it is a bug to write one, not a file to leave.
 */
function frameOf(edit: ManifestEdit): Uint8Array {
  const payload = encodeManifestEdit(edit);
  assert(payload.length <= FRAME_PAYLOAD_BYTES_MAX, 'manifest edit larger than a frame');
  return encodeFrame(payload);
}

// ── the live log ───────────────────────────────────────────────────────────────────────────

export interface ManifestLogOptions {
  /**
   * Roll to a new log once appending an edit would take the log past this many bytes, or past
   * twice the size of its first (full) edit when that is larger, so that a large state does not
   * roll on every edit. Default 4 MiB.
   */
  rollBytes?: number;
}

export interface ManifestLogOpened {
  log: ManifestLog;
  /** What the open did, in sentences (a torn tail discarded, leftovers removed, creation). */
  notes: string[];
  /** True when the manifest was created (an empty database). */
  created: boolean;
}

/**
 * The live manifest log of one open database. One owner: the caller holds the database lock.
 * After any I/O failure the log is failed: every later `apply` rejects with the same code.
 */
export class ManifestLog {
  readonly #backend: Backend;
  readonly #rollBytes: number;
  /** File numbers below this were handed out before this session; see unreferencedTables. */
  readonly #sessionFirstFile: number;
  #state: LsmState;
  #nextFile: number;
  #logFile = 0;
  #logBytes = 0;
  #baseBytes = 0;
  #failure: StrataError | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(backend: Backend, rollBytes: number, state: LsmState, nextFile: number) {
    this.#backend = backend;
    this.#rollBytes = rollBytes;
    this.#state = state;
    this.#nextFile = nextFile;
    this.#sessionFirstFile = nextFile;
  }

  /**
   * Opens the manifest under `backend`, or creates an empty database's manifest when
   * manifest/current is missing and no wal/, tables/ or snapshots/ objects exist (manifest/ may
   * hold only the leftovers of an unfinished creation: logs that describe no data, and publish's
   * temporary object; anything else is StrataError 'corruption' naming manifest/current).
   *
   * Reads manifest/current (syncing it first: a publish whose directory sync failed may have left
   * the name non-durable), reads the log it names (missing: corruption) and replays its edits (see
   * replayLog for torn tails and corruption). Then rolls: writes the whole state as one full edit
   * to a new log, syncs it, publishes manifest/current naming it, and deletes every other
   * manifest log. The file counter starts at max(state.nextFileNumber, 1 + the highest file
   * number named by any object under wal/, tables/, snapshots/, manifest/ and quarantine/).
   *
   * Throws StrataError 'corruption' (with object and offset), 'invalid_argument' for bad
   * options, and the backend's 'io' / 'no_space' errors (the open can simply be retried).
   */
  static async open(backend: Backend, options: ManifestLogOptions = {}): Promise<ManifestLogOpened> {
    const rollBytes = options.rollBytes ?? MANIFEST_ROLL_BYTES_DEFAULT;
    if (!(Number.isSafeInteger(rollBytes) && rollBytes > 0)) {
      throw new StrataError('invalid_argument', `rollBytes must be a positive integer, got ${rollBytes}`);
    }
    const notes: string[] = [];
    const manifestNames = await backend.list(MANIFEST_PREFIX);
    const dataNames: string[] = [];
    for (const prefix of [WAL_PREFIX, TABLE_PREFIX, SNAPSHOT_PREFIX])
      dataNames.push(...(await backend.list(prefix)));
    const quarantined = await backend.list(QUARANTINE_PREFIX);
    let highestFile = 0;
    for (const n of [...manifestNames, ...dataNames, ...quarantined]) {
      highestFile = Math.max(highestFile, fileNumberOfName(n) ?? 0);
    }

    const currentBytes = await backend.read(MANIFEST_CURRENT);
    let state: LsmState;
    let liveLog: string | undefined;
    if (currentBytes === undefined) {
      if (dataNames.length > 0) {
        throw corruption(MANIFEST_CURRENT, 0, `missing, while ${dataNames[0]} exists`);
      }
      await checkCreationLeftovers(backend, manifestNames);
      state = EMPTY_LSM_STATE;
      notes.push('created a new database manifest');
    } else {
      const decoded = decodeManifestPointer(currentBytes);
      if (!decoded.ok) throw corruption(MANIFEST_CURRENT, 0, decoded.reason);
      const file = decoded.pointer.manifestFile;
      if (file > FILE_NUMBER_MAX)
        throw corruption(MANIFEST_CURRENT, 16, `manifest file ${file} is beyond every name`);
      await backend.sync(MANIFEST_CURRENT);
      liveLog = manifestLogName(file);
      const bytes = await backend.read(liveLog);
      if (bytes === undefined) throw corruption(liveLog, 0, 'named by manifest/current, but missing');
      state = replayLog(liveLog, file, bytes, notes);
    }

    const log = new ManifestLog(backend, rollBytes, state, Math.max(state.nextFileNumber, highestFile + 1));
    const stale = manifestNames.filter((n) => parseManifestLogName(n) !== undefined);
    await log.#roll(state, stale);
    const unreachable = stale.filter((n) => n !== liveLog);
    if (unreachable.length > 0) {
      notes.push(`removed ${unreachable.length} unreachable manifest log(s): ${unreachable.join(', ')}`);
    }
    return { log, notes, created: currentBytes === undefined };
  }

  /** The current state (immutable; a later edit produces a new one). */
  get state(): LsmState {
    return this.#state;
  }

  /** The file number of the live log, `manifest/<n>.log`. */
  get logFileNumber(): number {
    return this.#logFile;
  }

  /** The size of the live log in bytes. */
  get logBytes(): number {
    return this.#logBytes;
  }

  /** The failure that stopped this log, or undefined while it works. */
  get failure(): StrataError | undefined {
    return this.#failure;
  }

  /**
   * Hands out the next file number (for WAL segments, tables, manifest logs). Recorded durably by
   * the next edit (apply writes nextFileNumber itself); until then, a crash may forget it, which
   * is harmless because the next open starts the counter above every object name it finds.
   */
  allocateFileNumber(): number {
    const n = this.#nextFile;
    assert(n <= FILE_NUMBER_MAX, 'file numbers exhausted');
    this.#nextFile = n + 1;
    return n;
  }

  /**
   * Appends `edit` (with nextFileNumber filled in) as one frame and syncs it, then updates the
   * state and resolves with it. When appending would take the log past its roll size, writes the
   * state after the edit to a new log instead (write, sync, publish manifest/current, delete the
   * old log). Calls queue: edits apply one at a time in call order.
   *
   * Requires a delta: `full` and `nextFileNumber` must be absent, and the edit must be valid for
   * the state it meets (see applyEdit); otherwise rejects with an AssertionError (a bug in the
   * caller) and writes nothing, leaving the log usable.
   *
   * On an I/O failure rejects with StrataError 'io' or 'no_space' (committed 'unknown' once
   * bytes may have reached the log; a reopen shows the state before or after the edit) and the
   * log is failed: the state stays as before the edit and every later call rejects with the same
   * code (committed 'no'). One exception: when only the deletion of the old log after a roll
   * fails, the edit is durable, so apply resolves, and the log is failed for later calls.
   */
  apply(edit: ManifestEdit): Promise<LsmState> {
    const run = this.#queue.then(() => this.#applyNow(edit));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Names among `listed` (e.g. the listing of tables/) of tables the state does not reference:
   * leftovers of a flush or compaction that crashed before its edit. Only tables numbered before
   * this session began are reported, so a table being built right now is never among them.
   * Names that are not table names are ignored.
   */
  unreferencedTables(listed: readonly string[]): string[] {
    const referenced = referencedFiles(this.#state);
    return listed.filter((name) => {
      const file = parseTableName(name);
      return file !== undefined && file < this.#sessionFirstFile && !referenced.has(file);
    });
  }

  async #applyNow(edit: ManifestEdit): Promise<LsmState> {
    if (this.#failure !== undefined) {
      const first = this.#failure;
      throw new StrataError(
        first.code,
        `the manifest log failed earlier (${first.message}); reopen the database`,
        { cause: first, committed: 'no' },
      );
    }
    if (edit.full === true) throw new AssertionError('apply takes deltas; the log writes full edits itself');
    if (edit.nextFileNumber !== undefined) throw new AssertionError('apply fills in nextFileNumber itself');
    const delta: ManifestEdit = { ...edit, nextFileNumber: this.#nextFile };
    let next: LsmState;
    try {
      next = applyEdit(this.#state, delta);
    } catch (error) {
      if (error instanceof InvalidEditError)
        throw new AssertionError(`invalid manifest edit: ${error.message}`);
      throw error;
    }
    const frame = frameOf(delta);
    if (this.#logBytes + frame.length > Math.max(this.#rollBytes, 2 * this.#baseBytes)) {
      await this.#roll(next, [manifestLogName(this.#logFile)]);
      return this.#state;
    }
    const name = manifestLogName(this.#logFile);
    try {
      await this.#backend.append(name, frame);
      await this.#backend.sync(name);
    } catch (error) {
      throw this.#fail(error, name, 'unknown');
    }
    this.#logBytes += frame.length;
    this.#state = next;
    return next;
  }

  /**
   * Writes `state` whole to a new log, syncs it, publishes manifest/current naming it (the
   * commit point), makes it the live log, then deletes each of `stale`. A failure before the
   * commit point leaves the state unchanged; every failure fails the log and rethrows, except a
   * failed deletion in `apply`, which only fails the log (the edit is durable).
   */
  async #roll(state: LsmState, stale: readonly string[]): Promise<void> {
    const file = this.allocateFileNumber();
    const rolled = freezeState({ ...state, nextFileNumber: this.#nextFile });
    const name = manifestLogName(file);
    const bytes = concatBytes([encodeManifestLogHeader({ fileNumber: file }), frameOf(fullEditOf(rolled))]);
    try {
      await this.#backend.write(name, bytes);
      await this.#backend.sync(name);
    } catch (error) {
      throw this.#fail(error, name, 'no');
    }
    try {
      await this.#backend.publish(MANIFEST_CURRENT, encodeManifestPointer({ manifestFile: file }));
    } catch (error) {
      throw this.#fail(error, MANIFEST_CURRENT, 'unknown');
    }
    const opening = this.#logFile === 0;
    this.#logFile = file;
    this.#logBytes = bytes.length;
    this.#baseBytes = bytes.length;
    this.#state = rolled;
    try {
      for (const old of stale) await this.#backend.delete(old);
    } catch (error) {
      const e = this.#fail(error, stale.join(', '), 'yes');
      if (opening) throw e;
    }
  }

  /**
   * Fails the log for good and returns the error to throw for the edit at hand: the backend's
   * StrataError rewrapped with what it means for the edit, or anything else (a bug) as it is.
   */
  #fail(error: unknown, object: string, committed: 'no' | 'unknown' | 'yes'): unknown {
    const message = error instanceof Error ? error.message : String(error);
    const e = new StrataError(
      isStrataError(error) ? error.code : 'io',
      `manifest update failed at ${object}: ${message}`,
      { cause: error, committed, object },
    );
    this.#failure ??= e;
    return isStrataError(error) ? e : error;
  }
}
