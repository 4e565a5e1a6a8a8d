/**
 * Error paths of the log-structured tree (the LSM-tables issue: "fail-the-Nth-operation loops
 * through flush, compaction and manifest roll"), built like test/fault-nth.test.ts: a shadow model
 * of every commit issued, and one phase of a database's life with the Nth backend step failing,
 * for N = 1, 2, 3, … until a whole pass injects nothing; each of `eio`, `no_space` and `fsync`,
 * failing once and failing continuously.
 *
 * The phases (the fault plan is armed right before each, after a fault-free setup):
 * - flush: a memtable of committed writes spread over several WAL segments; `compact()` writes
 *   it as an L0 table, installs the manifest edit (an append: the log is far from its roll size)
 *   and deletes the WAL segments the table covers; `settle()` waits for that background tail.
 * - compaction: three L0 tables flushed by an earlier session, reopened with the L0 trigger at 4
 *   (opening starts no compaction) and newer commits in the memtable; `db.compact()` flushes a
 *   fourth L0 table and then runs the L0 → L1 compaction it starts, whose output is cut into
 *   several small tables, installs it and deletes the inputs.
 * - manifest roll: `manifestRollBytes: 1`, and a flush whose edit no longer fits next to the
 *   log's base, so the log rolls: new log written and synced, `manifest/current` published, old
 *   log deleted.
 * The fault-free pass of each loop checks that the phase did what it says (a flush, a compaction,
 * a roll) through `stats()` and the disk's durable names (which are not backend steps).
 *
 * For every pass:
 * - The phase either succeeds or rejects with a typed StrataError whose code is the injected one
 *   (`io`, or `no_space` for a full disk), and so is every error it wraps (an assertion or an
 *   untyped error wrapped as `io` by the tree's `fail()` is caught too) — never `corruption`.
 * - After a rejection the tree is failed (tree.ts `fail()`): reads keep showing exactly the
 *   acknowledged commits, and writes and `compact()` are refused with the same code and
 *   committed 'no', also once the disk works again, until the database is reopened.
 * - After a success, with faults cleared: a write is acknowledged, and a further flush succeeds —
 *   or, only if the phase had a fault injected that it did not report (the old log's deletion
 *   after a manifest roll: ManifestLog.apply resolves and fails the log for later edits), rejects
 *   with the injected code, after which writes are refused as above.
 * Then the disk is judged two ways, as in fault-nth: A, power loss (crash, reopen), and B, process
 * loss (a copy reopened, written to, crashed, reopened: whatever the intermediate recovery showed
 * must survive). Each reopen must show a prefix of the issued commits (no gap, nothing never
 * issued), hold every commit acknowledged durable (a resolved `compact()` makes every earlier
 * commit durable, which matters in buffered mode), read every key as its newest present commit
 * (through tables, which the reopened tree must hold where the phase's tables were durable), and
 * accept writes again.
 *
 * A crashes a copy of the disk under each of the four crash models; B crashes under one, rotating
 * with N as in fault-nth. STRATA_DEEP=1 adds buffered mode (its last setup commits unsynced, so
 * only the flush makes them durable), B under all four models, and a fourth phase: a flush that
 * brings L0 to its trigger, then the compaction it starts. STRATA_TRACE=1 prints every pass's
 * outcome.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type OpenOptions, Strata } from '../src/api/index.js';
import { type FaultKind, SimDisk } from '../src/backend/index.js';
import {
  isStrataError,
  ManualClock,
  ManualScheduler,
  SeededRandom,
  type StrataError,
} from '../src/base/index.js';
import { walSegmentName } from '../src/layout/index.js';
import type { Durability } from '../src/storage/index.js';
import {
  checkPrefix,
  expectInjected,
  expectTyped,
  KINDS,
  MODELS,
  PASSES_MAX,
  presentCommits,
  Shadow,
} from './support/fault-shadow.js';

const DEEP = process.env.STRATA_DEEP === '1';
/** STRATA_TRACE=1 prints each pass's outcome. */
const TRACE = process.env.STRATA_TRACE === '1';
const DURABILITIES: readonly Durability[] = DEEP ? ['strict', 'buffered'] : ['strict'];
const WAL_SEGMENT_BYTES = 4096;
/** File numbers visibleWalSegments probes; the phases' databases stay far below it. */
const WAL_FILE_PROBE_MAX = 200;

interface Env {
  disk: SimDisk;
  clock: ManualClock;
  scheduler: ManualScheduler;
}

function envOf(disk: SimDisk): Env {
  const clock = new ManualClock();
  return { disk, clock, scheduler: new ManualScheduler(clock) };
}

type Tuning = NonNullable<OpenOptions['lsm']>;

function openDb(env: Env, durability: Durability, lsm: Tuning): Promise<Strata> {
  return Strata.open('db', {
    durability,
    backend: env.disk.backend(),
    clock: env.clock,
    scheduler: env.scheduler,
    walSegmentBytes: WAL_SEGMENT_BYTES,
    lsm,
  });
}

/** Lets every chain of promises the simulated disk started run to its end. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Buffered mode: runs the WAL writer's deferred drain (ManualScheduler runs nothing by itself). */
async function drainWal(env: Env): Promise<void> {
  await settle();
  env.scheduler.advance(0);
  await settle();
}

/** The WAL segments reads see now: probed by name, since a listing would be a (faultable) step. */
function visibleWalSegments(disk: SimDisk): string[] {
  const out: string[] = [];
  for (let file = 1; file <= WAL_FILE_PROBE_MAX; file++) {
    const name = walSegmentName(file);
    if (disk.visibleBytes(name) !== undefined) out.push(name);
  }
  return out;
}

/** Durable names under `prefix` (not a backend step, so never faulted and never counted). */
function durableUnder(disk: SimDisk, prefix: string, suffix = ''): string[] {
  return disk.durableNames().filter((n) => n.startsWith(prefix) && n.endsWith(suffix));
}

/** Writes one more key and reads it back: the database accepts writes again. */
async function acceptsWrites(db: Strata, label: string): Promise<void> {
  const key = `after-${label.replace(/[^a-z0-9]+/gi, '-')}`;
  await db.branch().kv.put(key, label);
  assert.equal(db.branch().kv.get(key), label, `${label}: a write after recovery must read back`);
}

/** Issues `count` commits, every third round a batch of four concurrent ones; all must succeed. */
async function commitAll(db: Strata, shadow: Shadow, durability: Durability, count: number, label: string) {
  const kv = db.branch().kv;
  for (let r = 0; shadow.count < count; r++) {
    const width = r % 3 === 1 ? Math.min(4, count - shadow.count) : 1;
    const batch: Promise<StrataError | undefined>[] = [];
    for (let i = 0; i < width; i++) batch.push(shadow.put(kv, durability));
    for (const e of await Promise.all(batch)) {
      assert.equal(e, undefined, `${label}: a setup commit failed: ${e?.message}`);
    }
  }
}

/** Commits `more` writes without faults; in buffered mode synced, then a few left unsynced. */
async function setupCommits(env: Env, db: Strata, shadow: Shadow, durability: Durability, more: number) {
  const label = 'setup';
  if (durability === 'strict') {
    await commitAll(db, shadow, durability, shadow.count + more, label);
    return;
  }
  // Synced in small groups, so that the log rotates through several segments as in strict mode.
  const synced = shadow.count + more - 3;
  while (shadow.count < synced) {
    await commitAll(db, shadow, durability, Math.min(synced, shadow.count + 4), label);
    await db.sync();
    shadow.noteDurableVersion(db.durableVersion);
    shadow.markAllAcknowledgedDurable();
  }
  // Acknowledged and written to the log, but not synced: only a flush can make them durable.
  await commitAll(db, shadow, durability, shadow.count + 3, label);
  await drainWal(env);
  shadow.noteDurableVersion(db.durableVersion);
}

// ── what a failure must leave ────────────────────────────────────────────────────────────────

async function expectRefused(db: Strata, shadow: Shadow, first: StrataError, label: string): Promise<void> {
  const refused = await shadow.put(db.branch().kv, db.stats().durability);
  assert.ok(refused !== undefined, `${label}: a write after a failed flush or compaction must be refused`);
  assert.equal(refused.code, first.code, `${label}: the refusal must repeat the failure's code`);
  assert.equal(refused.committed, 'no', `${label}: a refused write did not commit`);
  await assert.rejects(
    db.compact(),
    (x: unknown) => isStrataError(x, first.code),
    `${label}: compact after a failure must be refused with ${first.code}`,
  );
  await assert.rejects(
    db.settle(),
    (x: unknown) => isStrataError(x, first.code),
    `${label}: settle reports the failure (${first.code})`,
  );
}

/**
 * After a failed flush or compaction: the tree is failed, so every write is refused with the
 * failure's code and committed 'no' (with the faults still armed, and again once the disk works:
 * only a reopen clears the failure), and reads keep showing exactly the acknowledged commits.
 */
async function checkRefusesWrites(
  env: Env,
  db: Strata,
  shadow: Shadow,
  first: StrataError,
  label: string,
): Promise<void> {
  assert.equal(first.committed, 'no', `${label}: a failed flush or compaction changed no commit`);
  const visible = (): number[] => [...presentCommits(db, label).keys()].sort((a, b) => a - b);
  const before = visible();
  assert.deepEqual(
    before,
    shadow.acknowledged(),
    `${label}: reads must show exactly the acknowledged commits`,
  );
  const version = db.version;
  await expectRefused(db, shadow, first, `${label} (faults armed)`);
  env.disk.setFaults(undefined);
  await expectRefused(db, shadow, first, `${label} (faults cleared)`);
  assert.equal(db.stats().state, 'failed', `${label}: the database reports its failed state`);
  assert.equal(db.version, version, `${label}: refused writes must not move the version`);
  assert.deepEqual(visible(), before, `${label}: refused writes must not change what reads see`);
}

// ── the phases ───────────────────────────────────────────────────────────────────────────────

interface PassContext {
  env: Env;
  durability: Durability;
  kind: FaultKind;
  label: string;
  /** Sets the fault plan; its count starts at the next step. Call once, right before the phase. */
  arm(): void;
  /** Faults injected since arm(). */
  injected(): number;
  /** Tallies of the loop: phases rejected, and failures only the next flush reported. */
  counts: { rejected: number; latent: number };
}

interface PassResult {
  shadow: Shadow;
  /** The phase's tables were durably installed: every reopen must hold tables. */
  tablesDurable: boolean;
}

interface Phase {
  name: string;
  /** The tuning of the session under test and of every reopen that judges it. */
  lsm: Tuning;
  /** Fault-free setup; resolves with the database and the shadow of what it committed. */
  setup(env: Env, durability: Durability): Promise<{ db: Strata; shadow: Shadow }>;
  /**
   * The phase under test. Calls `flushed()` once `compact()` resolved: the memtable's table is
   * installed, so every commit before it is durable.
   */
  run(db: Strata, flushed: () => void): Promise<void>;
  /** Tables hold data before the phase: every reopen must hold tables, whatever the phase did. */
  tablesBefore: boolean;
  /** What the phase's fault-free pass must have done, from the database and disk before and after. */
  evidence(db: Strata, disk: SimDisk, before: Snapshot, label: string): void;
}

interface Snapshot {
  flushes: number;
  compactions: number;
  levels: number[];
  manifestLogs: string[];
  /** Visible WAL segments, and those that are durable. */
  walSegments: string[];
  walDurable: string[];
}

function snapshot(db: Strata, disk: SimDisk): Snapshot {
  const tree = db.stats().tree;
  return {
    flushes: tree.flushes,
    compactions: tree.compactions,
    levels: tree.levels.map((l) => l.tables),
    manifestLogs: durableUnder(disk, 'manifest/', '.log'),
    walSegments: visibleWalSegments(disk),
    walDurable: durableUnder(disk, 'wal/'),
  };
}

/** The fault-free flush: one L0 table, the covered WAL segments gone. */
function flushEvidence(db: Strata, disk: SimDisk, before: Snapshot, label: string): void {
  const after = snapshot(db, disk);
  assert.equal(after.flushes, before.flushes + 1, `${label}: the phase flushed once`);
  assert.equal(after.compactions, before.compactions, `${label}: no compaction ran`);
  assert.equal(after.levels[0], before.levels[0]! + 1, `${label}: the flush added an L0 table`);
  assert.equal(db.stats().tree.frozenMemtables, 0, `${label}: nothing waits for a flush`);
  // The setup's commits span several segments; the flush covers every one before the segment
  // the log writes to now: the newest, or (buffered mode, where the next segment is created by
  // the next write) one not created yet.
  const newest = before.walSegments[before.walSegments.length - 1];
  assert.ok(before.walSegments.length >= 2, `${label}: several WAL segments before the flush`);
  const kept = db.stats().durability === 'buffered' && after.walSegments.length === 0 ? [] : [newest];
  assert.deepEqual(
    after.walSegments,
    kept,
    `${label}: the flush released every WAL segment but the current one (${before.walSegments.join(', ')} → ${after.walSegments.join(', ')})`,
  );
  assert.ok(
    after.walDurable.every((n) => n === newest),
    `${label}: the released segments' deletion is durable (${after.walDurable.join(', ')})`,
  );
}

/** A flush through `compact()`; `settle()` waits for the WAL release after the install. */
async function flushPhase(db: Strata, flushed: () => void): Promise<void> {
  await db.compact();
  flushed();
  await db.settle();
}

const FLUSH: Phase = {
  name: 'flush',
  lsm: {},
  run: flushPhase,
  tablesBefore: false,
  async setup(env, durability) {
    const db = await openDb(env, durability, this.lsm);
    const shadow = new Shadow();
    await setupCommits(env, db, shadow, durability, 25);
    return { db, shadow };
  },
  evidence(db, disk, before, label) {
    flushEvidence(db, disk, before, label);
    const after = snapshot(db, disk);
    assert.deepEqual(
      after.manifestLogs,
      before.manifestLogs,
      `${label}: far below its roll size, the manifest log took the edit as an append`,
    );
  },
};

/**
 * Session 1 flushes three L0 tables; the session under test (L0 trigger 4, so opening starts no
 * compaction) holds newer commits in its memtable, and the phase is `db.compact()`: the flush of
 * a fourth L0 table, then the compaction of all four into L1 that it starts.
 */
const COMPACTION_SIZES: Tuning = { tableTargetBytes: 1024, blockBytes: 512 };
const COMPACTION: Phase = {
  name: 'compaction',
  lsm: { ...COMPACTION_SIZES, l0CompactionTrigger: 4 },
  run: (db) => db.compact(),
  tablesBefore: true,
  async setup(env, durability) {
    const shadow = new Shadow();
    const first = await openDb(env, durability, COMPACTION_SIZES);
    for (let t = 0; t < 3; t++) {
      await setupCommits(env, first, shadow, durability, 10);
      await first.compact();
      await first.settle();
    }
    await first.close();
    shadow.markAllAcknowledgedDurable();
    const db = await openDb(env, durability, this.lsm);
    const tree = db.stats().tree;
    assert.deepEqual(
      [tree.levels[0]!.tables, tree.tables, tree.compactions],
      [3, 3, 0],
      'setup: three L0 tables, and opening started no compaction',
    );
    // Newer writes in the memtable (and the WAL): the phase flushes them, then compacts.
    await setupCommits(env, db, shadow, durability, 6);
    assert.equal(db.stats().tree.compactions, 0, 'setup: writes below the memtable size start nothing');
    return { db, shadow };
  },
  evidence(db, disk, before, label) {
    const after = snapshot(db, disk);
    assert.equal(after.compactions, before.compactions + 1, `${label}: one compaction ran in the phase`);
    assert.equal(after.flushes, before.flushes + 1, `${label}: one flush, the fourth L0 table`);
    assert.equal(after.levels[0], 0, `${label}: L0 was compacted away`);
    assert.ok(after.levels[1]! >= 3, `${label}: into several L1 tables (got ${after.levels[1]})`);
    assert.equal(
      durableUnder(disk, 'tables/').length,
      after.levels[1],
      `${label}: the input tables were deleted`,
    );
  },
};

const ROLL: Phase = {
  name: 'manifest roll',
  lsm: { manifestRollBytes: 1 },
  run: flushPhase,
  tablesBefore: false,
  setup: FLUSH.setup,
  evidence(db, disk, before, label) {
    flushEvidence(db, disk, before, label);
    const after = snapshot(db, disk);
    assert.equal(before.manifestLogs.length, 1, `${label}: one manifest log before`);
    assert.equal(after.manifestLogs.length, 1, `${label}: one manifest log after`);
    assert.notEqual(
      after.manifestLogs[0],
      before.manifestLogs[0],
      `${label}: the flush's edit rolled the manifest log to a new object`,
    );
  },
};

/**
 * Deep tier: a flush that brings L0 to its trigger, so the phase is a flush and then, in the
 * background, the compaction it starts (one session: the compaction follows the install).
 */
const FLUSH_INTO_COMPACTION: Phase = {
  name: 'flush into compaction',
  lsm: { ...COMPACTION_SIZES, l0CompactionTrigger: 2 },
  run: flushPhase,
  tablesBefore: true,
  async setup(env, durability) {
    const db = await openDb(env, durability, this.lsm);
    const shadow = new Shadow();
    await setupCommits(env, db, shadow, durability, 12);
    await db.compact();
    await db.settle();
    shadow.markAllAcknowledgedDurable();
    await setupCommits(env, db, shadow, durability, 25);
    const tree = db.stats().tree;
    assert.deepEqual(
      [tree.levels[0]!.tables, tree.compactions],
      [1, 0],
      'setup: one L0 table, no compaction',
    );
    return { db, shadow };
  },
  evidence(db, disk, before, label) {
    const after = snapshot(db, disk);
    assert.equal(after.flushes, before.flushes + 1, `${label}: the phase flushed once`);
    assert.equal(after.compactions, before.compactions + 1, `${label}: and the flush started a compaction`);
    assert.equal(after.levels[0], 0, `${label}: L0 was compacted away`);
    assert.ok(after.levels[1]! >= 2, `${label}: into several L1 tables (got ${after.levels[1]})`);
    assert.equal(
      durableUnder(disk, 'tables/').length,
      after.levels[1],
      `${label}: the input tables were deleted`,
    );
  },
};

/** One pass: setup, arm, the phase, then what the phase's outcome promises about later writes. */
async function runPass(phase: Phase, ctx: PassContext): Promise<PassResult> {
  const { env, durability, kind, label, counts } = ctx;
  const { db, shadow } = await phase.setup(env, durability);
  const before = snapshot(db, env.disk);
  ctx.arm();
  let flushed = false;
  let failure: StrataError | undefined;
  try {
    await phase.run(db, () => {
      flushed = true;
    });
  } catch (error) {
    failure = expectInjected(error, kind, label);
  }
  await settle();
  if (flushed) shadow.markAllAcknowledgedDurable();
  if (TRACE) {
    const outcome =
      failure === undefined ? 'ok' : `rejected${flushed ? ' after the flush' : ''}: ${failure.message}`;
    console.log(`${label}: ${ctx.injected()} injected; ${outcome}`);
  }
  if (ctx.injected() === 0) {
    assert.equal(failure, undefined, `${label}: the phase failed with no fault injected`);
    phase.evidence(db, env.disk, before, label);
  }
  if (failure !== undefined) {
    counts.rejected++;
    await checkRefusesWrites(env, db, shadow, failure, label);
    return { shadow, tablesDurable: phase.tablesBefore || flushed };
  }

  // The phase succeeded. With the disk working again, the database goes on.
  const injected = ctx.injected();
  env.disk.setFaults(undefined);
  const write = await shadow.put(db.branch().kv, durability);
  assert.equal(write, undefined, `${label}: a write after a successful phase failed: ${write?.message}`);
  try {
    await db.compact();
    shadow.markAllAcknowledgedDurable();
    await db.settle();
  } catch (error) {
    const e = expectInjected(error, kind, `${label} (the next flush)`);
    assert.ok(injected > 0, `${label}: the next flush failed though the phase injected nothing`);
    counts.latent++;
    await checkRefusesWrites(env, db, shadow, e, `${label} (the next flush)`);
  }
  return { shadow, tablesDurable: true };
}

// ── the loop ─────────────────────────────────────────────────────────────────────────────────

async function recoverAndCheck(
  env: Env,
  phase: Phase,
  pass: PassResult,
  required: number,
  label: string,
): Promise<number> {
  let db: Strata;
  try {
    db = await openDb(env, 'strict', phase.lsm);
  } catch (error) {
    const e = expectTyped(error, `${label} reopen`);
    assert.fail(`${label}: reopening without faults failed with ${e.code}: ${e.message}`);
  }
  const count = checkPrefix(db, pass.shadow, required, label);
  if (pass.tablesDurable) {
    const stats = db.stats();
    assert.ok(stats.tree.tables >= 1, `${label}: the phase's tables were durable, yet the tree has none`);
    assert.ok(
      stats.memtable.versions < count,
      `${label}: some commits must be read from tables (${stats.memtable.versions} of ${count} replayed)`,
    );
  }
  assert.equal(
    db.recovery.recoveredVersion,
    db.version,
    `${label}: recovery reports the version it opened at`,
  );
  await acceptsWrites(db, label);
  return count;
}

const passTotals = new Map<string, number>();

/** Runs `phase` for N = 1, 2, … until a pass injects nothing; returns the number of passes. */
async function failNthLoop(
  phase: Phase,
  durability: Durability,
  kind: FaultKind,
  continuous: boolean,
  counts: PassContext['counts'],
): Promise<number> {
  const name = `${phase.name} (${durability}) ${kind}${continuous ? ' continuous' : ''}`;
  for (let n = 1; n <= PASSES_MAX; n++) {
    const label = `${name} N=${n}`;
    const env = envOf(new SimDisk());
    let baseline = -1;
    const pass = await runPass(phase, {
      env,
      durability,
      kind,
      label,
      arm: () => {
        assert.equal(baseline, -1, `${label}: arm once`);
        baseline = env.disk.faultsInjected;
        env.disk.setFaults({ failAt: n, kind, continuous });
      },
      injected: () => env.disk.faultsInjected - baseline,
      counts,
    });
    await settle();
    assert.notEqual(baseline, -1, `${label}: the phase must arm the faults`);
    const injected = env.disk.faultsInjected - baseline;
    env.disk.setFaults(undefined);
    const shadow = pass.shadow;
    const required = shadow.requiredCount();
    const copy = env.disk.clone();

    // A: power loss right after the phase, under every crash model, each on its own copy.
    for (const [i, model] of MODELS.entries()) {
      const disk = i === MODELS.length - 1 ? env.disk : env.disk.clone();
      disk.crash(model, new SeededRandom(n * 7919 + KINDS.indexOf(kind) * 31 + i));
      await recoverAndCheck(envOf(disk), phase, pass, required, `${label} A(${model})`);
    }

    // B: the process died; reopen from the page cache, write, then lose power (deep: the
    // intermediate state crashed under every model; normal: one, rotating with N).
    const envB = envOf(copy);
    const survived = await recoverAndCheck(envB, phase, pass, required, `${label} B`);
    const modelsB = DEEP ? MODELS : [MODELS[(n + 1) % MODELS.length]!];
    for (const [i, modelB] of modelsB.entries()) {
      const disk = i === modelsB.length - 1 ? envB.disk : envB.disk.clone();
      disk.crash(modelB, new SeededRandom(n * 104729 + KINDS.indexOf(kind) * 31 + i));
      let db: Strata;
      try {
        db = await openDb(envOf(disk), 'strict', phase.lsm);
      } catch (error) {
        const e = expectTyped(error, `${label} B reopen`);
        assert.fail(
          `${label} B(${modelB}): reopening after the second crash failed: ${e.code}: ${e.message}`,
        );
      }
      checkPrefix(db, shadow, survived, `${label} B(${modelB}): what the intermediate recovery opened with`);
      const afterKey = `after-${`${label} B`.replace(/[^a-z0-9]+/gi, '-')}`;
      assert.equal(
        db.branch().kv.get(afterKey),
        `${label} B`,
        `${label} B(${modelB}): its acknowledged strict write survives`,
      );
      await db.close();
    }

    if (injected === 0) {
      passTotals.set(name, n);
      return n;
    }
  }
  assert.fail(`${name}: still injecting faults after ${PASSES_MAX} passes`);
}

for (const phase of DEEP ? [FLUSH, COMPACTION, ROLL, FLUSH_INTO_COMPACTION] : [FLUSH, COMPACTION, ROLL]) {
  for (const durability of DURABILITIES) {
    describe(`${phase.name} (${durability})`, () => {
      for (const kind of KINDS) {
        for (const continuous of [false, true]) {
          it(`${kind}${continuous ? ', continuous' : ', once'}`, async (t) => {
            const counts = { rejected: 0, latent: 0 };
            const passes = await failNthLoop(phase, durability, kind, continuous, counts);
            t.diagnostic(
              `${passes} passes (the last injected nothing); ${counts.rejected} rejected the phase, ${counts.latent} left a failure only the next flush reported`,
            );
          });
        }
      }
    });
  }
}

after(() => {
  if (passTotals.size === 0) return;
  const byPhase = new Map<string, number>();
  let total = 0;
  for (const [name, n] of passTotals) {
    total += n;
    const phase = name.split(' (')[0]!;
    byPhase.set(phase, (byPhase.get(phase) ?? 0) + n);
  }
  console.log(`lsm-fault-nth: ${total} passes in ${passTotals.size} loops`);
  for (const [phase, n] of byPhase) console.log(`  ${phase}: ${n} passes`);
  for (const [name, n] of passTotals) console.log(`    ${name}: N reached ${n}`);
});
