/**
 * The manifest log (src/lsm/manifest-log.ts, docs/formats/manifest.md):
 * - applyEdit: the level rules, copy-on-write, and every invalid edit refused;
 * - create / open / apply / reopen round trips on MemoryBackend and SimDisk, rolls, queueing;
 * - a torn tail at every byte offset of the last edit (truncated, zeroed, garbage) gives the
 *   state before that edit with a note; damage before a valid edit is corruption;
 * - a crash at every step of apply (appending and rolling) and of open, under each crash model,
 *   reopens to the state before or after, and a second open agrees;
 * - file numbers are never handed out twice across reopens;
 * - fail the Nth backend operation: apply rejects, the log is failed, and both a power loss and
 *   a process crash reopen to a consistent state.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Backend,
  type CrashModel,
  type FaultKind,
  MemoryBackend,
  SimDisk,
} from '../../src/backend/index.js';
import {
  AssertionError,
  equalBytes,
  isStrataError,
  SeededRandom,
  type StrataError,
} from '../../src/base/index.js';
import {
  encodeFrame,
  encodeManifestEdit,
  encodeManifestPointer,
  MANIFEST_LOG_HEADER_BYTES,
  type ManifestEdit,
  readFrame,
  type TableMeta,
} from '../../src/format/index.js';
import {
  FILE_NUMBER_MAX,
  fileNumberOfName,
  MANIFEST_CURRENT,
  MANIFEST_PREFIX,
  manifestLogName,
  parseManifestLogName,
  quarantineName,
  tableName,
  walSegmentName,
} from '../../src/layout/index.js';
import {
  applyEdit,
  EMPTY_LSM_STATE,
  fullEditOf,
  InvalidEditError,
  LEVELS,
  type LsmState,
  ManifestLog,
} from '../../src/lsm/index.js';

const MODELS: readonly CrashModel[] = ['strict', 'ordered', 'weak', 'hostile'];
const KINDS: readonly FaultKind[] = ['eio', 'no_space', 'fsync'];

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

function table(
  fileNumber: number,
  smallest: string,
  largest: string,
  minVersion = 1,
  maxVersion = 10,
): TableMeta {
  return { fileNumber, size: 1000 + fileNumber, smallest, largest, minVersion, maxVersion, entries: 5 };
}

/** Everything durable about a state except nextFileNumber, which every open advances. */
function shape(s: LsmState): string {
  return JSON.stringify({
    levels: s.levels,
    walStartFile: s.walStartFile,
    reservedVersion: s.reservedVersion,
    flushedVersion: s.flushedVersion,
    flushedTimestamp: s.flushedTimestamp,
  });
}

function fileNumbers(s: LsmState): number[][] {
  return s.levels.map((l) => l.map((t) => t.fileNumber));
}

/** The shape after `edit`, however the log fills in nextFileNumber. */
function shapeAfter(before: LsmState, edit: ManifestEdit): string {
  return shape(applyEdit(before, { ...edit, nextFileNumber: FILE_NUMBER_MAX + 1 }));
}

/**
 * The i-th edit of a deterministic workload: two flushes (an L0 table each) then a compaction
 * (every L0 table into one new L1 table), and every fourth compaction also moves the oldest L1
 * table down to L2 in the same edit. Tables are numbered by the log.
 */
function nextEdit(log: ManifestLog, i: number): ManifestEdit {
  const s = log.state;
  if (i % 3 !== 2 || s.levels[0]!.length === 0) {
    const n = log.allocateFileNumber();
    const v = 10 * i;
    return {
      added: [{ level: 0, table: table(n, `a${i}`, `z${i}`, v + 1, v + 10) }],
      flushedVersion: v + 10,
      flushedTimestamp: 1_700_000_000_000 + i * 1.5,
      ...(i % 2 === 0 ? { reservedVersion: v + 10_000 } : {}),
      ...(i % 4 === 1 ? { walStartFile: n } : {}),
    };
  }
  const l0 = s.levels[0]!;
  const n = log.allocateFileNumber();
  const key = `c${String(i).padStart(5, '0')}`;
  const minVersion = Math.min(...l0.map((t) => t.minVersion));
  const maxVersion = Math.max(...l0.map((t) => t.maxVersion));
  const edit: ManifestEdit = {
    removed: l0.map((t) => ({ level: 0, fileNumber: t.fileNumber })),
    added: [{ level: 1, table: table(n, `${key}a`, `${key}z`, minVersion, maxVersion) }],
  };
  const oldest = s.levels[1]![0];
  if (i % 12 === 11 && oldest !== undefined && !s.levels[2]!.some((t) => t.largest >= oldest.smallest)) {
    edit.removed!.push({ level: 1, fileNumber: oldest.fileNumber });
    edit.added!.push({ level: 2, table: oldest });
  }
  return edit;
}

async function openLog(backend: Backend, rollBytes?: number) {
  return ManifestLog.open(backend, rollBytes === undefined ? {} : { rollBytes });
}

/** Opens a fresh manifest on `backend` and applies the first `edits` edits of the workload. */
async function build(backend: Backend, edits: number, rollBytes?: number): Promise<ManifestLog> {
  const { log } = await openLog(backend, rollBytes);
  for (let i = 0; i < edits; i++) await log.apply(nextEdit(log, i));
  return log;
}

async function manifestObjects(backend: Backend): Promise<string[]> {
  return backend.list(MANIFEST_PREFIX);
}

function expectCode(error: unknown, code: string, what: string): StrataError {
  assert.ok(isStrataError(error), `${what}: expected a StrataError, got ${String(error)}`);
  assert.equal(error.code, code, `${what}: code (${error.message})`);
  return error;
}

async function rejectsWith(p: Promise<unknown>, code: string, what: string): Promise<StrataError> {
  try {
    await p;
  } catch (error) {
    return expectCode(error, code, what);
  }
  assert.fail(`${what}: expected a rejection with ${code}`);
}

/** The highest file number any name on the disk carries. */
function highestNumber(names: readonly string[]): number {
  let m = 0;
  for (const n of names) m = Math.max(m, fileNumberOfName(n) ?? 0);
  return m;
}

/** A MemoryBackend holding a copy of `objects`. */
async function memoryWith(objects: Map<string, Uint8Array>): Promise<MemoryBackend> {
  const b = new MemoryBackend();
  for (const [name, bytes] of objects) await b.write(name, bytes);
  return b;
}

async function snapshotObjects(backend: Backend): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const prefix of ['manifest/', 'wal/', 'tables/']) {
    for (const name of await backend.list(prefix)) out.set(name, (await backend.read(name))!);
  }
  return out;
}

// ── applyEdit ────────────────────────────────────────────────────────────────────────────────

describe('applyEdit', () => {
  const base = applyEdit(EMPTY_LSM_STATE, {
    full: true,
    nextFileNumber: 20,
    added: [
      { level: 0, table: table(3, 'a', 'z', 1, 10) },
      { level: 0, table: table(4, 'b', 'y', 11, 20) },
      { level: 1, table: table(6, 'm', 'p') },
      { level: 1, table: table(5, 'c', 'f') },
    ],
  });

  it('orders L0 newest first and L1+ by smallest key', () => {
    assert.deepEqual(fileNumbers(base), [[4, 3], [5, 6], [], [], [], [], []], 'levels');
    assert.equal(base.levels.length, LEVELS, 'seven levels');
    const s = applyEdit(base, { added: [{ level: 0, table: table(7, 'a', 'b', 21, 30) }] });
    assert.deepEqual(
      s.levels[0]!.map((t) => t.fileNumber),
      [7, 4, 3],
      'a new flush goes first',
    );
    const tie = applyEdit(s, { added: [{ level: 0, table: table(8, 'a', 'b', 25, 30) }] });
    assert.deepEqual(
      tie.levels[0]!.map((t) => t.fileNumber),
      [8, 7, 4, 3],
      'a tie in maxVersion: newer file first',
    );
  });

  it('copies on write: old states stay as they were, untouched levels are shared, all frozen', () => {
    const before = shape(base);
    const s = applyEdit(base, {
      removed: [{ level: 1, fileNumber: 5 }],
      added: [{ level: 2, table: table(9, 'c', 'd') }],
      flushedVersion: 20,
    });
    assert.equal(shape(base), before, 'the old state is unchanged');
    assert.equal(s.levels[0], base.levels[0], 'L0 is shared');
    assert.notEqual(s.levels[1], base.levels[1], 'L1 is a new array');
    assert.deepEqual(fileNumbers(s).slice(0, 3), [[4, 3], [6], [9]], 'levels after');
    assert.ok(Object.isFrozen(s) && Object.isFrozen(s.levels), 'state frozen');
    for (const l of s.levels) {
      assert.ok(Object.isFrozen(l), 'level frozen');
      for (const t of l) assert.ok(Object.isFrozen(t), 'table frozen');
    }
    // A caller's table object is copied: changing it later does not reach the state.
    const mine = { ...table(10, 'q', 'r') };
    const t = applyEdit(s, { added: [{ level: 1, table: mine }] });
    (mine as { smallest: string }).smallest = 'zzz';
    assert.equal(t.levels[1]!.find((x) => x.fileNumber === 10)!.smallest, 'q', 'copied');
  });

  it('moves a table between levels in one edit (removals apply first)', () => {
    const s = applyEdit(base, {
      removed: [{ level: 1, fileNumber: 6 }],
      added: [{ level: 2, table: table(6, 'm', 'p') }],
    });
    assert.deepEqual(fileNumbers(s).slice(0, 3), [[4, 3], [5], [6]], 'moved');
  });

  it('a full edit replaces every level and keeps counters it does not set', () => {
    const s = applyEdit(applyEdit(base, { reservedVersion: 50 }), {
      full: true,
      added: [{ level: 3, table: table(11, 'a', 'b') }],
    });
    assert.deepEqual(fileNumbers(s), [[], [], [], [11], [], [], []], 'only what the full edit names');
    assert.equal(s.reservedVersion, 50, 'counter kept');
    assert.equal(s.nextFileNumber, 20, 'counter kept');
  });

  it('refuses every invalid edit, leaving the state as it was', () => {
    const t = table(12, 'g', 'h');
    const cases: [string, ManifestEdit][] = [
      ['adding a table present in the same level', { added: [{ level: 1, table: table(5, 'x', 'y') }] }],
      ['adding a table present in another level', { added: [{ level: 3, table: table(3, 'a', 'b') }] }],
      [
        'adding one table twice',
        {
          added: [
            { level: 2, table: t },
            { level: 3, table: t },
          ],
        },
      ],
      ['removing a missing table', { removed: [{ level: 1, fileNumber: 99 }] }],
      ['removing a table from the wrong level', { removed: [{ level: 1, fileNumber: 3 }] }],
      [
        'removing a table twice',
        {
          removed: [
            { level: 0, fileNumber: 3 },
            { level: 0, fileNumber: 3 },
          ],
        },
      ],
      ['overlap in L1', { added: [{ level: 1, table: table(12, 'e', 'g') }] }],
      ['touching ranges in L1', { added: [{ level: 1, table: table(12, 'f', 'g') }] }],
      [
        'overlap among added tables',
        {
          added: [
            { level: 4, table: table(12, 'a', 'c') },
            { level: 4, table: table(13, 'b', 'd') },
          ],
        },
      ],
      ['a range containing another', { added: [{ level: 1, table: table(12, 'b', 'q') }] }],
      ['level 7', { added: [{ level: 7, table: t }] }],
      ['level -1', { removed: [{ level: -1, fileNumber: 3 }] }],
      ['level 1.5', { added: [{ level: 1.5, table: t }] }],
      ['smallest above largest', { added: [{ level: 2, table: table(12, 'h', 'g') }] }],
      ['minVersion above maxVersion', { added: [{ level: 2, table: table(12, 'g', 'h', 9, 8) }] }],
      ['minVersion 0', { added: [{ level: 2, table: table(12, 'g', 'h', 0, 8) }] }],
      ['size 0', { added: [{ level: 2, table: { ...t, size: 0 } }] }],
      ['no entries', { added: [{ level: 2, table: { ...t, entries: 0 } }] }],
      ['a fractional size', { added: [{ level: 2, table: { ...t, size: 1.5 } }] }],
      ['file number 0', { added: [{ level: 2, table: { ...t, fileNumber: 0 } }] }],
      ['a key that is not a byte string', { added: [{ level: 2, table: { ...t, largest: 'h€' } }] }],
      ['a table numbered at nextFileNumber', { added: [{ level: 2, table: table(20, 'g', 'h') }] }],
      ['nextFileNumber going backwards', { nextFileNumber: 19 }],
      ['walStartFile going backwards', { walStartFile: 0 }],
      ['walStartFile above nextFileNumber', { walStartFile: 21 }],
      ['reservedVersion going backwards', { reservedVersion: -1 }],
      ['flushedVersion not an integer', { flushedVersion: 0.5 }],
      ['a non-finite timestamp', { flushedTimestamp: Number.POSITIVE_INFINITY }],
      ['a full edit that removes', { full: true, removed: [{ level: 0, fileNumber: 3 }] }],
      ['nextFileNumber beyond every name', { nextFileNumber: FILE_NUMBER_MAX + 2 }],
    ];
    const before = shape(base);
    for (const [name, edit] of cases) {
      assert.throws(() => applyEdit(base, edit), InvalidEditError, name);
    }
    const s = applyEdit(base, { reservedVersion: 100, flushedVersion: 100, walStartFile: 7 });
    for (const field of ['reservedVersion', 'flushedVersion', 'walStartFile'] as const) {
      assert.throws(() => applyEdit(s, { [field]: s[field] - 1 }), InvalidEditError, `${field} backwards`);
      assert.equal(applyEdit(s, { [field]: s[field] })[field], s[field], `${field} may stay`);
    }
    assert.equal(shape(base), before, 'nothing changed');
  });
});

// ── open, apply, reopen ──────────────────────────────────────────────────────────────────────

describe('ManifestLog on MemoryBackend', () => {
  it('creates an empty manifest, then reopens it', async () => {
    const backend = new MemoryBackend();
    const first = await openLog(backend);
    assert.equal(first.created, true, 'created');
    assert.deepEqual(first.notes, ['created a new database manifest'], 'notes');
    assert.equal(shape(first.log.state), shape(EMPTY_LSM_STATE), 'empty');
    assert.equal(first.log.logFileNumber, 1, 'the first log takes number 1');
    assert.equal(first.log.state.nextFileNumber, 2, 'and the counter records it');
    assert.deepEqual(await manifestObjects(backend), [manifestLogName(1), MANIFEST_CURRENT], 'objects');

    const again = await openLog(backend);
    assert.equal(again.created, false, 'not created twice');
    assert.deepEqual(again.notes, [], 'a clean open has nothing to say');
    assert.equal(again.log.logFileNumber, 2, 'every open rolls to a new log');
    assert.deepEqual(
      await manifestObjects(backend),
      [manifestLogName(2), MANIFEST_CURRENT],
      'old log deleted',
    );
    assert.equal(shape(again.log.state), shape(EMPTY_LSM_STATE), 'still empty');
  });

  it('applies edits and reopens to the same state, again and again', async () => {
    const backend = new MemoryBackend();
    let { log } = await openLog(backend);
    let edits = 0;
    for (let session = 0; session < 5; session++) {
      for (let k = 0; k < 7; k++) {
        const before = log.state;
        const edit = nextEdit(log, edits++);
        const after = await log.apply(edit);
        assert.equal(after, log.state, 'apply resolves with the new state');
        assert.equal(shape(after), shapeAfter(before, edit), 'the edit as applyEdit applies it');
        assert.ok(
          after.nextFileNumber > Math.max(0, ...after.levels.flat().map((t) => t.fileNumber)),
          'counter',
        );
      }
      const expected = shape(log.state);
      const next = await openLog(backend);
      assert.equal(shape(next.log.state), expected, `session ${session}: reopen gives the same state`);
      assert.ok(next.log.state.nextFileNumber > log.state.nextFileNumber, 'the counter moves on');
      log = next.log;
    }
    assert.ok(log.state.levels[1]!.length > 0 && log.state.levels[2]!.length > 0, 'the workload reached L2');
  });

  it('queues edits: concurrent calls apply one at a time, in call order', async () => {
    const backend = new MemoryBackend();
    const { log } = await openLog(backend);
    const numbers = [log.allocateFileNumber(), log.allocateFileNumber(), log.allocateFileNumber()];
    const pending = numbers.map((n, i) =>
      log.apply({
        added: [{ level: 0, table: table(n, 'a', 'b', 10 * i + 1, 10 * i + 10) }],
        flushedVersion: 10 * i + 10,
      }),
    );
    const states = await Promise.all(pending);
    assert.deepEqual(
      states.map((s) => s.levels[0]!.length),
      [1, 2, 3],
      'each sees the one before',
    );
    assert.deepEqual(fileNumbers(log.state)[0], [...numbers].reverse(), 'newest first');
    const reopened = await openLog(backend);
    assert.equal(shape(reopened.log.state), shape(log.state), 'all durable');
  });

  it('refuses a full edit, a nextFileNumber or an invalid edit without failing the log', async () => {
    const backend = new MemoryBackend();
    const { log } = await openLog(backend);
    const bad: ManifestEdit[] = [
      { full: true },
      { nextFileNumber: 100 },
      { removed: [{ level: 0, fileNumber: 1 }] },
      { added: [{ level: 0, table: table(1000, 'a', 'b') }] }, // never handed out
    ];
    for (const edit of bad) await assert.rejects(log.apply(edit), AssertionError, JSON.stringify(edit));
    assert.equal(log.failure, undefined, 'not failed');
    const n = log.allocateFileNumber();
    await log.apply({ added: [{ level: 0, table: table(n, 'a', 'b') }] });
    assert.deepEqual(fileNumbers(log.state)[0], [n], 'later edits apply');
    const size = (await backend.size(manifestLogName(log.logFileNumber)))!;
    assert.equal(size, log.logBytes, 'nothing of the refused edits was written');
  });

  it('rolls to a new log once the log grows past rollBytes', async () => {
    const backend = new MemoryBackend();
    const { log } = await openLog(backend, 600);
    const files = new Set<number>([log.logFileNumber]);
    for (let i = 0; i < 40; i++) {
      await log.apply(nextEdit(log, i));
      files.add(log.logFileNumber);
      const names = await manifestObjects(backend);
      assert.deepEqual(names, [manifestLogName(log.logFileNumber), MANIFEST_CURRENT], 'one log at a time');
      assert.equal((await backend.size(names[0]!))!, log.logBytes, 'size tracked');
    }
    assert.ok(files.size > 3, `rolled several times (${files.size} logs)`);
    const reopened = await openLog(backend, 600);
    assert.equal(shape(reopened.log.state), shape(log.state), 'reopen after rolls');
  });

  it('reports tables no edit references, but never one numbered in this session', async () => {
    const backend = new MemoryBackend();
    const { log } = await openLog(backend);
    const kept = log.allocateFileNumber();
    const orphan = log.allocateFileNumber();
    await log.apply({ added: [{ level: 0, table: table(kept, 'a', 'b') }] });
    const listed = [tableName(kept), tableName(orphan), 'tables/readme.txt', tableName(999)];
    assert.deepEqual(log.unreferencedTables(listed), [], 'this session may still be writing them');
    const reopened = (await openLog(backend)).log;
    assert.deepEqual(reopened.unreferencedTables(listed), [tableName(orphan)], 'after a reopen');
    const fresh = reopened.allocateFileNumber();
    assert.deepEqual(
      reopened.unreferencedTables([...listed, tableName(fresh)]),
      [tableName(orphan)],
      'fresh ones never',
    );
  });

  it('starts the file counter above every numbered object, quarantined ones included', async () => {
    for (const [name, n] of [
      [walSegmentName(50), 50],
      [tableName(60), 60],
      ['snapshots/000000000070.snap', 70],
      [quarantineName(walSegmentName(80), 0), 80],
      [manifestLogName(90), 90],
    ] as const) {
      const backend = new MemoryBackend();
      await build(backend, 3);
      await backend.write(name, Uint8Array.of(1));
      const { log } = await openLog(backend);
      assert.equal(log.logFileNumber, n + 1, `${name}: the rolled log is numbered above it`);
      assert.equal(log.allocateFileNumber(), n + 2, `${name}: and so is the next number`);
    }
  });

  it('never hands out a file number twice across reopens', async () => {
    const backend = new MemoryBackend();
    const rnd = new SeededRandom(11);
    const seen = new Set<number>();
    const claim = (n: number, what: string): void => {
      assert.ok(!seen.has(n), `${what}: file number ${n} handed out twice`);
      seen.add(n);
    };
    let edits = 0;
    for (let session = 0; session < 12; session++) {
      const { log } = await openLog(backend, 500);
      claim(log.logFileNumber, `session ${session} log`);
      for (let k = rnd.int(5); k > 0; k--) {
        const before = log.logFileNumber;
        const present = new Set(log.state.levels.flat().map((t) => t.fileNumber));
        const edit = nextEdit(log, edits++);
        // New tables only: a table moved between levels keeps its number.
        for (const a of edit.added ?? [])
          if (!present.has(a.table.fileNumber)) claim(a.table.fileNumber, 'table');
        await log.apply(edit);
        if (log.logFileNumber !== before) claim(log.logFileNumber, 'rolled log');
      }
      // A WAL segment created but not yet recorded by any edit: its object protects its number.
      const wal = log.allocateFileNumber();
      claim(wal, 'wal');
      await backend.write(walSegmentName(wal), Uint8Array.of(1));
    }
  });
});

// ── recovery of the log: torn tails and corruption ──────────────────────────────────────────

describe('ManifestLog recovery', () => {
  /** A manifest with a few edits, the state before the last one, and the last frame's offset. */
  async function withLastEdit(): Promise<{
    objects: Map<string, Uint8Array>;
    logName: string;
    before: LsmState;
    after: LsmState;
    lastFrame: number;
  }> {
    const backend = new MemoryBackend();
    const log = await build(backend, 5);
    const before = log.state;
    const logName = manifestLogName(log.logFileNumber);
    const lastFrame = log.logBytes;
    const after = await log.apply(nextEdit(log, 5));
    return { objects: await snapshotObjects(backend), logName, before, after, lastFrame };
  }

  it('a torn tail at every byte offset of the last edit gives the state before it, with a note', async () => {
    const { objects, logName, before, after, lastFrame } = await withLastEdit();
    const bytes = objects.get(logName)!;
    let checked = 0;
    for (let cut = lastFrame; cut <= bytes.length; cut++) {
      for (const fill of ['truncated', 'zeros', 'garbage'] as const) {
        if (cut === bytes.length && fill !== 'truncated') continue;
        const damaged = new Uint8Array(fill === 'truncated' ? cut : bytes.length);
        damaged.set(bytes.subarray(0, cut));
        if (fill === 'garbage') {
          const rnd = new SeededRandom(cut);
          damaged.set(rnd.bytes(bytes.length - cut), cut);
        }
        const backend = await memoryWith(new Map([...objects, [logName, damaged]]));
        const what = `${fill} from byte ${cut}`;
        const { log, notes } = await openLog(backend);
        // Zeros over bytes that were zero anyway (the end tag) leave the edit whole.
        const whole = equalBytes(damaged, bytes);
        assert.equal(shape(log.state), shape(whole ? after : before), `${what}: state`);
        if (whole || (fill === 'truncated' && cut === lastFrame))
          assert.deepEqual(notes, [], `${what}: nothing to say`);
        else {
          assert.equal(notes.length, 1, `${what}: one note`);
          assert.match(
            notes[0]!,
            new RegExp(`discarded ${damaged.length - lastFrame} bytes .* ${logName}`),
            what,
          );
        }
        // The torn tail is gone for good: the next open finds a clean log and the same state.
        const again = await openLog(backend);
        assert.deepEqual(again.notes, [], `${what}: the second open is clean`);
        assert.equal(shape(again.log.state), shape(log.state), `${what}: and agrees`);
        checked++;
      }
    }
    assert.ok(checked > 100, `checked ${checked} torn tails`);
  });

  it('damage to an edit followed by a valid one is corruption naming the log and offset', async () => {
    const { objects, logName, lastFrame } = await withLastEdit();
    const bytes = objects.get(logName)!;
    // Every frame but the last: flip one byte in its length, checksum or payload.
    const frames: number[] = [];
    for (let p = MANIFEST_LOG_HEADER_BYTES; p < bytes.length; ) {
      const f = readFrame(bytes, p);
      assert.equal(f.kind, 'ok', 'a clean log');
      if (f.kind !== 'ok') break;
      frames.push(p);
      p = f.end;
    }
    assert.equal(frames[frames.length - 1], lastFrame, 'frames found');
    for (const at of frames.slice(0, -1)) {
      const end = readFrame(bytes, at);
      const size = end.kind === 'ok' ? end.end - at : 0;
      for (const offset of [0, 3, 5, 8, size - 1]) {
        const damaged = bytes.slice();
        damaged[at + offset]! ^= 0x10;
        const backend = await memoryWith(new Map([...objects, [logName, damaged]]));
        const e = await rejectsWith(openLog(backend), 'corruption', `frame at ${at}, byte ${offset}`);
        assert.equal(e.object, logName, 'names the log');
        assert.equal(e.offset, at, 'and the damaged frame');
      }
    }
  });

  it('a valid frame holding garbage, or an edit that does not apply, is corruption', async () => {
    const { objects, logName } = await withLastEdit();
    const bytes = objects.get(logName)!;
    const cases: [string, Uint8Array][] = [
      ['an undecodable payload', encodeFrame(Uint8Array.of(0xff, 0x00))],
      ['a second full edit', encodeFrame(encodeManifestEdit({ full: true }))],
      [
        'removing a missing table',
        encodeFrame(encodeManifestEdit({ removed: [{ level: 6, fileNumber: 1 }] })),
      ],
      ['a counter going backwards', encodeFrame(encodeManifestEdit({ flushedVersion: 0 }))],
    ];
    for (const [name, frame] of cases) {
      const backend = await memoryWith(
        new Map([...objects, [logName, Uint8Array.from([...bytes, ...frame])]]),
      );
      const e = await rejectsWith(openLog(backend), 'corruption', name);
      assert.equal(e.object, logName, `${name}: names the log`);
      assert.equal(e.offset, bytes.length, `${name}: at the bad edit`);
    }
  });

  it('a damaged root, a missing or mismatched log, or a log without its full edit is corruption', async () => {
    const { objects, logName } = await withLastEdit();
    const bytes = objects.get(logName)!;
    const first = readFrame(bytes, MANIFEST_LOG_HEADER_BYTES);
    assert.equal(first.kind, 'ok', 'first frame');
    const firstEnd = first.kind === 'ok' ? first.end : 0;
    const pointer = objects.get(MANIFEST_CURRENT)!;
    const otherNumber = parseManifestLogName(logName)! + 1;
    const cases: [string, Map<string, Uint8Array>, string][] = [
      [
        'a damaged pointer',
        new Map([...objects, [MANIFEST_CURRENT, Uint8Array.from(pointer, (b, i) => (i === 20 ? b ^ 1 : b))]]),
        MANIFEST_CURRENT,
      ],
      [
        'the old record format',
        new Map([...objects, [MANIFEST_CURRENT, new Uint8Array(64)]]),
        MANIFEST_CURRENT,
      ],
      ['the log missing', new Map([...objects].filter(([n]) => n !== logName)), logName],
      [
        'a log under another number',
        new Map([
          ...objects,
          [MANIFEST_CURRENT, encodeManifestPointer({ manifestFile: otherNumber })],
          [manifestLogName(otherNumber), bytes],
        ]),
        manifestLogName(otherNumber),
      ],
      [
        'a damaged log header',
        new Map([...objects, [logName, Uint8Array.from(bytes, (b, i) => (i === 3 ? b ^ 1 : b))]]),
        logName,
      ],
      [
        'a header alone',
        new Map([...objects, [logName, bytes.slice(0, MANIFEST_LOG_HEADER_BYTES)]]),
        logName,
      ],
      ['a torn first edit', new Map([...objects, [logName, bytes.slice(0, firstEnd - 1)]]), logName],
      [
        'a delta first',
        new Map([
          ...objects,
          [
            logName,
            Uint8Array.from([...bytes.subarray(0, MANIFEST_LOG_HEADER_BYTES), ...bytes.subarray(firstEnd)]),
          ],
        ]),
        logName,
      ],
    ];
    for (const [name, objs, object] of cases) {
      const e = await rejectsWith(openLog(await memoryWith(objs)), 'corruption', name);
      assert.equal(e.object, object, `${name}: names ${object}`);
    }
  });

  it('creates only where nothing but an unfinished creation was left behind', async () => {
    // Data without a root.
    for (const name of [walSegmentName(3), tableName(4), 'snapshots/000000000005.snap']) {
      const backend = new MemoryBackend();
      await backend.write(name, Uint8Array.of(1));
      const e = await rejectsWith(openLog(backend), 'corruption', name);
      assert.equal(e.object, MANIFEST_CURRENT, 'names manifest/current');
    }
    // A log of a database that held tables, whose pointer is gone.
    const held = new MemoryBackend();
    const log = await build(held, 4);
    await held.delete(MANIFEST_CURRENT);
    for (const name of await held.list('tables/')) await held.delete(name);
    await rejectsWith(openLog(held), 'corruption', 'a lost pointer');
    assert.ok(
      log.state.levels.some((l) => l.length > 0),
      'it held tables',
    );
    // An unknown object under manifest/.
    const unknown = new MemoryBackend();
    await unknown.write('manifest/notes.txt', Uint8Array.of(1));
    await rejectsWith(openLog(unknown), 'corruption', 'an unknown object');
    // What a crashed creation leaves: an empty log (whole or torn) and publish's temporary object.
    const leftovers = new MemoryBackend();
    await build(leftovers, 0);
    const name = (await leftovers.list(MANIFEST_PREFIX)).find((n) => n !== MANIFEST_CURRENT)!;
    const bytes = (await leftovers.read(name))!;
    await leftovers.delete(MANIFEST_CURRENT);
    await leftovers.write(manifestLogName(7), bytes.subarray(0, 40));
    await leftovers.write('manifest/current_publish.tmp', Uint8Array.of(1));
    const { log: created, created: wasCreated, notes } = await openLog(leftovers);
    assert.equal(wasCreated, true, 'created');
    assert.equal(created.logFileNumber, 8, 'numbered above the leftovers');
    assert.match(notes.join(' '), /removed 2 unreachable manifest log/, notes.join(' '));
    assert.deepEqual(
      (await leftovers.list(MANIFEST_PREFIX)).filter((n) => parseManifestLogName(n) !== undefined),
      [manifestLogName(8)],
      'leftover logs removed',
    );
  });
});

// ── crashes on the simulated disk ────────────────────────────────────────────────────────────

describe('ManifestLog crashes on SimDisk', () => {
  /**
   * Crashes at every step of the `k`-th apply of the workload (0-based), under every model with a
   * few seeds, and checks that a reopen gives the state before or after it and a second reopen
   * agrees. Returns how many crash points were checked.
   */
  async function crashEveryStepOfApply(
    k: number,
    rollBytes: number | undefined,
    expectRoll: boolean,
  ): Promise<number> {
    // The reference run, without a crash.
    const refDisk = new SimDisk();
    const ref = await build(refDisk.backend(), k, rollBytes);
    const before = shape(ref.state);
    const logBefore = ref.logFileNumber;
    const edit = nextEdit(ref, k);
    const after = shapeAfter(ref.state, edit);
    await ref.apply(edit);
    assert.equal(
      ref.logFileNumber !== logBefore,
      expectRoll,
      `apply #${k} ${expectRoll ? 'rolls' : 'appends'}`,
    );

    let checked = 0;
    const outcomes = new Set<string>();
    for (const model of MODELS) {
      for (let step = 1; ; step++) {
        let done = false;
        for (let seed = 0; seed < 3; seed++) {
          const disk = new SimDisk();
          const log = await build(disk.backend(), k, rollBytes);
          const recordedNext = log.state.nextFileNumber;
          const e = nextEdit(log, k);
          disk.crashAtStep(disk.steps + step, model, new SeededRandom(step * 101 + seed));
          try {
            await log.apply(e);
            // Resolved: either the crash point is past the apply, or only the deletion of the
            // old log crashed (the edit was durable), which leaves the log failed.
            if (log.failure === undefined) {
              done = true;
              break;
            }
          } catch (error) {
            expectCode(error, 'io', `${model} step ${step}`);
          }
          const what = `${model} crash at step ${step} of apply #${k} (seed ${seed})`;
          const names = disk.durableNames();
          const reopened = await openLog(disk.backend(), rollBytes);
          const got = shape(reopened.log.state);
          assert.ok(got === before || got === after, `${what}: the state before or after the edit`);
          outcomes.add(got === before ? 'before' : 'after');
          assert.ok(reopened.log.state.nextFileNumber > recordedNext, `${what}: the counter moves on`);
          assert.ok(reopened.log.logFileNumber > highestNumber(names), `${what}: no number reused`);
          const again = await openLog(disk.backend(), rollBytes);
          assert.equal(shape(again.log.state), got, `${what}: a second open agrees`);
          assert.deepEqual(again.notes, [], `${what}: and has nothing to say`);
          checked++;
        }
        if (done) break;
      }
    }
    assert.deepEqual([...outcomes].sort(), ['after', 'before'], 'crashes land on both sides of the edit');
    return checked;
  }

  it('a crash at any step of an appending apply gives the state before or after', async () => {
    const checked = await crashEveryStepOfApply(4, undefined, false);
    assert.ok(checked >= MODELS.length * 2 * 3, `checked ${checked} crashes`);
  });

  it('a crash at any step of a rolling apply gives the state before or after', async () => {
    // Find an apply that rolls with a small roll size.
    const disk = new SimDisk();
    const { log } = await openLog(disk.backend(), 300);
    let k = 0;
    for (; k < 30; k++) {
      const file = log.logFileNumber;
      await log.apply(nextEdit(log, k));
      if (log.logFileNumber !== file && k >= 3) break;
    }
    assert.ok(k < 30, 'some apply rolls');
    const checked = await crashEveryStepOfApply(k, 300, true);
    assert.ok(checked >= MODELS.length * 8 * 3, `checked ${checked} crashes`);
  });

  it('a crash at any step of open (creation, a plain reopen, a torn tail) loses nothing', async () => {
    const scenarios: [string, (disk: SimDisk) => Promise<void>][] = [
      ['creation', async () => {}],
      [
        'reopen',
        async (disk) => {
          await build(disk.backend(), 5);
        },
      ],
      [
        'reopen over a torn tail',
        async (disk) => {
          const log = await build(disk.backend(), 5);
          const name = manifestLogName(log.logFileNumber);
          const frame = encodeFrame(encodeManifestEdit({ reservedVersion: 10 ** 9 }));
          const b = disk.backend();
          await b.append(name, frame.subarray(0, frame.length - 3));
          await b.sync(name);
        },
      ],
    ];
    let checked = 0;
    for (const [name, setup] of scenarios) {
      for (const model of MODELS) {
        for (let step = 1; ; step++) {
          const disk = new SimDisk();
          await setup(disk);
          const probe = await openLog(disk.clone().backend());
          const expected = shape(probe.log.state);
          if (name === 'reopen over a torn tail') assert.equal(probe.notes.length, 1, 'the tail is torn');
          disk.crashAtStep(disk.steps + step, model, new SeededRandom(step));
          const what = `${name}: ${model} crash at step ${step} of open`;
          try {
            await openLog(disk.backend());
            break;
          } catch (error) {
            expectCode(error, 'io', what);
          }
          const reopened = await openLog(disk.backend());
          assert.equal(shape(reopened.log.state), expected, `${what}: the same state`);
          const again = await openLog(disk.backend());
          assert.equal(shape(again.log.state), expected, `${what}: a second open agrees`);
          assert.equal(again.created, false, `${what}: not created again`);
          checked++;
        }
      }
    }
    assert.ok(checked > 3 * MODELS.length * 8, `checked ${checked} crashes`);
  });

  it('round trips on SimDisk through crashes after each acknowledged edit', async () => {
    const disk = new SimDisk();
    let log = (await openLog(disk.backend(), 400)).log;
    let edits = 0;
    for (let round = 0; round < 16; round++) {
      for (let k = 0; k < 3; k++) await log.apply(nextEdit(log, edits++));
      const expected = shape(log.state);
      disk.crash(MODELS[round % MODELS.length]!, new SeededRandom(round));
      log = (await openLog(disk.backend(), 400)).log;
      assert.equal(shape(log.state), expected, `round ${round}: every acknowledged edit survives`);
    }
  });
});

// ── failing the Nth operation ────────────────────────────────────────────────────────────────

describe('ManifestLog under injected faults', () => {
  const PASSES_MAX = 200;

  /**
   * Fails the Nth backend operation of a run of applies (a small roll size, so it rolls too) for
   * N = 1, 2, … until a pass injects nothing, once and continuously. The first failure must
   * reject with the injected code and fail the log; the state must be the one before the failed
   * edit; later calls must reject with the same code. Then both a power loss and a process crash
   * (reopen from the page cache, then lose power) must reopen to the last acknowledged state or
   * the state after the failed edit.
   */
  async function failNth(kind: FaultKind, continuous: boolean): Promise<number> {
    for (let n = 1; n <= PASSES_MAX; n++) {
      const label = `${kind}${continuous ? ' continuous' : ''} N=${n}`;
      const disk = new SimDisk();
      const log = await build(disk.backend(), 3, 350);
      const baseline = disk.faultsInjected;
      disk.setFaults({ failAt: n, kind, continuous });
      let acknowledged = shape(log.state);
      let failedAfter: string | undefined;
      for (let i = 3; i < 12; i++) {
        const before = log.state;
        const edit = nextEdit(log, i);
        try {
          const s = await log.apply(edit);
          acknowledged = shape(s);
          if (log.failure !== undefined) {
            // Only deleting the old log failed: the edit is durable, the log refuses more.
            expectCode(log.failure, kind === 'no_space' ? 'no_space' : 'io', `${label}: deletion failure`);
            const refused = await rejectsWith(log.apply({}), log.failure.code, `${label}: after`);
            assert.equal(refused.committed, 'no', `${label}: refused calls did not commit`);
            break;
          }
        } catch (error) {
          const e = expectCode(error, kind === 'no_space' ? 'no_space' : 'io', `${label}: apply #${i}`);
          assert.equal(log.failure?.code, e.code, `${label}: the log is failed`);
          assert.equal(log.state, before, `${label}: the state is as before the failed edit`);
          failedAfter = shapeAfter(before, edit);
          const refused = await rejectsWith(log.apply({}), e.code, `${label}: a later apply`);
          assert.equal(refused.committed, 'no', `${label}: refused calls did not commit`);
          break;
        }
      }
      const injected = disk.faultsInjected - baseline;
      disk.setFaults(undefined);
      const allowed = new Set([acknowledged, ...(failedAfter === undefined ? [] : [failedAfter])]);
      const copy = disk.clone();

      // A: power loss.
      disk.crash(MODELS[n % MODELS.length]!, new SeededRandom(n));
      const a = await openLog(disk.backend(), 350);
      assert.ok(allowed.has(shape(a.log.state)), `${label} A: acknowledged or after the failed edit`);
      const a2 = await openLog(disk.backend(), 350);
      assert.equal(shape(a2.log.state), shape(a.log.state), `${label} A: a second open agrees`);

      // B: process crash; what the reopen found must survive a later power loss.
      const b = await openLog(copy.backend(), 350);
      const found = shape(b.log.state);
      assert.ok(allowed.has(found), `${label} B: acknowledged or after the failed edit`);
      copy.crash(MODELS[(n + 1) % MODELS.length]!, new SeededRandom(n + 1000));
      const b2 = await openLog(copy.backend(), 350);
      assert.equal(shape(b2.log.state), found, `${label} B: the reopened state survives a power loss`);

      if (injected === 0) return n;
    }
    assert.fail(`${kind}: the loop did not end within ${PASSES_MAX} passes`);
  }

  for (const kind of KINDS) {
    for (const continuous of [false, true]) {
      it(`fails the Nth operation of apply: ${kind}${continuous ? ', continuously' : ''}`, async () => {
        const passes = await failNth(kind, continuous);
        assert.ok(passes > 3, `${passes} passes`);
      });
    }
  }

  it('fails the Nth operation of open: the open rejects or succeeds, and the state is kept', async () => {
    for (const kind of KINDS) {
      for (let n = 1; n <= PASSES_MAX; n++) {
        const label = `open ${kind} N=${n}`;
        const disk = new SimDisk();
        const expected = shape((await build(disk.backend(), 5)).state);
        const baseline = disk.faultsInjected;
        disk.setFaults({ failAt: n, kind });
        try {
          const { log } = await openLog(disk.backend());
          assert.equal(shape(log.state), expected, `${label}: the state`);
        } catch (error) {
          expectCode(error, kind === 'no_space' ? 'no_space' : 'io', label);
        }
        const injected = disk.faultsInjected - baseline;
        disk.setFaults(undefined);
        disk.crash(MODELS[n % MODELS.length]!, new SeededRandom(n));
        const { log } = await openLog(disk.backend());
        assert.equal(shape(log.state), expected, `${label}: reopen after a crash`);
        if (injected === 0) break;
        assert.ok(n < PASSES_MAX, `${label}: the loop ends`);
      }
    }
  });
});

// Keep fullEditOf honest: applying it to the empty state gives the state back.
describe('fullEditOf', () => {
  it('describes a state whole', async () => {
    const log = await build(new MemoryBackend(), 20);
    const s = log.state;
    assert.deepEqual(applyEdit(EMPTY_LSM_STATE, fullEditOf(s)), s, 'round trip');
  });
});
