/**
 * Crashes at every step of the log-structured tree's background work, checked by the recovery
 * oracle (test/support/oracle.ts): flushes (table written empty, appended slice by slice, synced,
 * read back; the manifest edit; the covered WAL segments deleted) and compactions (L0 → L1 and
 * L1 → L2: merged tables written, the edit installed, dead tables deleted), with manifest rolls
 * and WAL rotation in between.
 *
 * 1. One seeded session with tiny LSM sizes writes a few dozen keys (values of a few hundred
 *    bytes, overwrites, deletes, compare-and-sets), flushes explicitly (`db.compact()`) and
 *    automatically (full memtables), until L0 compacts into L1 and L1 into L2. A crash-free run
 *    labels every disk step; then, for every step S from the first step of the first flush to
 *    the last step of the last compaction, the session is replayed on a fresh simulated disk
 *    that crashes at step S (each crash model, strict and buffered mode). The crashed disk is
 *    reopened and the oracle checks it: every acknowledged durable write is there, nothing is
 *    invented, the history is a prefix. The reopened database then flushes and compacts again,
 *    closes, and is checked once more.
 * 2. For every 20th crash point inside a flush and every 20th inside a compaction (every 8th in
 *    the deep tier) the recovery itself is crashed at every one of its steps R (the open and the
 *    background work it starts), and the disk is opened a third time: recovering twice must give
 *    exactly what recovering once gave (the oracle checks the third open against the state the
 *    single recovery produced).
 *
 * Background work yields to a ManualScheduler, which the test runs by hand between event-loop
 * turns, so every run of one seed performs the same steps in the same order.
 *
 * A failure names the seed, the configuration and the step. Replay one seed with
 *   STRATA_SEED=<seed> node scripts/run-tests.mjs lsm-crash
 * and one crash point with STRATA_STEP=<S> as well. STRATA_DEEP=1 runs the deep tier (more
 * seeds, a longer session, more recoveries crashed at every step).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type OpenOptions, Strata } from '../src/api/index.js';
import type { Backend, BackendLock, CrashModel, ObjectReader } from '../src/backend/index.js';
import { SimDisk } from '../src/backend/index.js';
import { isStrataError, ManualScheduler, SeededRandom } from '../src/base/index.js';
import type { Value } from '../src/engine/index.js';
import { MANIFEST_PREFIX, TABLE_PREFIX, WAL_PREFIX } from '../src/layout/index.js';
import type { LsmTuning } from '../src/lsm/index.js';
import { type Clocks, clocks, ShadowModel, WatchedBackend } from './support/oracle.js';

const MODELS: readonly CrashModel[] = ['strict', 'ordered', 'weak', 'hostile'];
const MODES = ['strict', 'buffered'] as const;
type Mode = (typeof MODES)[number];

const DEEP = process.env.STRATA_DEEP === '1';
const SEED_ENV = process.env.STRATA_SEED;
const STEP_ENV = process.env.STRATA_STEP;

/** The session's shape: how many rounds of writes, how many writes per round, over how many keys. */
interface Plan {
  keys: number;
  rounds: number;
  writesPerRound: number;
}

/**
 * Three rounds reach 4-5 flushes and 4-6 compactions (L0 → L1 and L1 → L2) in about 200-280
 * steps; the deep tier's longer rounds over more keys reach L3.
 */
const PLAN: Plan = DEEP
  ? { keys: 32, rounds: 4, writesPerRound: 12 }
  : { keys: 24, rounds: 3, writesPerRound: 10 };
/** Seeds per (mode, crash model). */
const SEEDS_PER_CONFIG = DEEP ? 2 : 1;
/**
 * Crash points whose recovery is crashed at every one of its steps too: every this-many-th crash
 * point in a flush and every this-many-th in a compaction (a recovery takes about 50-100 steps).
 */
const RECOVERY_CRASH_STRIDE = DEEP ? 8 : 20;

/** Tiny sizes: a memtable holds about a dozen values, L0 compacts at two tables, L1 overflows fast. */
const LSM: LsmTuning = {
  memtableBytes: 3000,
  blockBytes: 256,
  tableTargetBytes: 1500,
  levelBaseBytes: 3000,
  levelMultiplier: 2,
  l0CompactionTrigger: 2,
  sliceEntries: 6,
  manifestRollBytes: 1024,
};

/**
 * The same clock (timestamps go on from where the crashed session left them) with a fresh
 * scheduler, so nothing the dead session left scheduled ever runs.
 */
function afterCrash(c: Clocks): Clocks {
  return { clock: c.clock, scheduler: new ManualScheduler(c.clock) };
}

function open(backend: Backend, durability: Mode, c: Clocks): Promise<Strata> {
  const options: OpenOptions = {
    durability,
    backend,
    clock: c.clock,
    scheduler: c.scheduler,
    walSegmentBytes: 4096,
    memoryBudgetBytes: 1024 * 1024,
    lsm: LSM,
  };
  return Strata.open('sim', options);
}

/** An open that must succeed; a failure names the crash point. */
async function reopen(backend: Backend, durability: Mode, c: Clocks, context: string): Promise<Strata> {
  try {
    return await drive(c, open(backend, durability, c), 'open');
  } catch (error) {
    throw new Error(`${context}: the open failed: ${String(error)}`, { cause: error });
  }
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Event-loop turns `drive` allows one operation; reaching it means nothing can make progress. */
const TURNS_MAX = 100_000;

type Settled<T> =
  | { done: false }
  | { done: true; ok: true; value: T }
  | { done: true; ok: false; error: unknown };

/**
 * Awaits `p` while running the tasks the manual scheduler has due (background slices, buffered
 * WAL writes), one batch per event-loop turn. Deterministic: every I/O of the simulated disk
 * completes within the turn that issued it.
 */
async function drive<T>(c: Clocks, p: Promise<T>, what: string): Promise<T> {
  let s: Settled<T> = { done: false };
  p.then(
    (value) => {
      s = { done: true, ok: true, value };
    },
    (error: unknown) => {
      s = { done: true, ok: false, error };
    },
  );
  for (let turns = 0; !s.done; turns++) {
    assert.ok(turns < TURNS_MAX, `${what} made no progress in ${TURNS_MAX} turns`);
    c.scheduler.advance(0);
    await tick();
  }
  const r = s as Settled<T> & { done: true };
  if (!r.ok) throw r.error;
  return r.value;
}

// ---------------------------------------------------------------------------------------------
// What each step of a run was doing.

type StepKind = 'open' | 'flush' | 'compaction' | 'wal' | 'other';

interface StepLabel {
  kind: StepKind;
  op: string;
  name: string;
}

/**
 * A backend wrapper that labels every disk step with the operation, the object, and what the
 * tree was doing. Every run of a session goes through it (so all runs take the same event-loop
 * path); only the crash-free run reads the labels.
 */
class StepLog implements Backend {
  /** labels[s - 1] describes step s. */
  readonly labels: StepLabel[] = [];
  db: Strata | undefined;

  constructor(
    private readonly inner: Backend,
    private readonly disk: SimDisk,
  ) {}

  private run<T>(op: string, name: string, call: () => Promise<T>): Promise<T> {
    const before = this.disk.steps;
    const kind = this.kindOf(name);
    const p = call();
    for (let s = before + 1; s <= this.disk.steps; s++) this.labels[s - 1] = { kind, op, name };
    return p;
  }

  private kindOf(name: string): StepKind {
    const db = this.db;
    if (db === undefined) return 'open';
    const tree = db.stats().tree;
    if (tree.flushing && !tree.compacting) return 'flush';
    if (tree.compacting && !tree.flushing) return 'compaction';
    if (tree.flushing && tree.compacting) {
      // Both loops run; table and manifest work of a compaction pauses while a memtable waits.
      return tree.frozenMemtables > 0 ? 'flush' : 'compaction';
    }
    // The first step of a loop comes before the loop is recorded as running: a table created
    // while a memtable waits starts a flush, otherwise a compaction.
    if (name.startsWith(TABLE_PREFIX)) return tree.frozenMemtables > 0 ? 'flush' : 'compaction';
    if (name.startsWith(WAL_PREFIX)) return 'wal';
    if (name.startsWith(MANIFEST_PREFIX)) return tree.frozenMemtables > 0 ? 'flush' : 'compaction';
    return 'other';
  }

  read(name: string): Promise<Uint8Array | undefined> {
    return this.run('read', name, () => this.inner.read(name));
  }
  readRange(name: string, offset: number, length: number): Promise<Uint8Array> {
    return this.run('readRange', name, () => this.inner.readRange(name, offset, length));
  }
  openReader(name: string): Promise<ObjectReader> {
    return this.run('openReader', name, () => this.inner.openReader(name));
  }
  size(name: string): Promise<number | undefined> {
    return this.run('size', name, () => this.inner.size(name));
  }
  write(name: string, bytes: Uint8Array): Promise<void> {
    return this.run('write', name, () => this.inner.write(name, bytes));
  }
  append(name: string, bytes: Uint8Array): Promise<void> {
    return this.run('append', name, () => this.inner.append(name, bytes));
  }
  sync(name: string): Promise<void> {
    return this.run('sync', name, () => this.inner.sync(name));
  }
  publish(name: string, bytes: Uint8Array): Promise<void> {
    return this.run('publish', name, () => this.inner.publish(name, bytes));
  }
  list(prefix: string): Promise<string[]> {
    return this.run('list', prefix, () => this.inner.list(prefix));
  }
  delete(name: string): Promise<void> {
    return this.run('delete', name, () => this.inner.delete(name));
  }
  rename(from: string, to: string): Promise<void> {
    return this.run('rename', from, () => this.inner.rename(from, to));
  }
  lock(name: string): Promise<BackendLock> {
    return this.run('lock', name, () => this.inner.lock(name));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The session.

function keyName(i: number): string {
  return `key/${String(i).padStart(2, '0')}`;
}

/** Values of a few hundred bytes, of several types, so tables span several blocks. */
function valueFor(r: SeededRandom, tag: number): Value {
  switch (r.int(4)) {
    case 0:
      return `v${tag}:${'abcdefghij'.repeat(10 + r.int(30))}`;
    case 1:
      return r.bytes(100 + r.int(250));
    case 2:
      return { tag, pad: 'y'.repeat(80 + r.int(200)), list: [tag, true, null] };
    default:
      return `short-${tag}`;
  }
}

interface SessionStats {
  flushes: number;
  compactions: number;
  /** The deepest level that ever held a table. */
  deepestLevel: number;
}

function deepestLevel(db: Strata): number {
  let deepest = 0;
  for (const l of db.stats().tree.levels) if (l.tables > 0) deepest = Math.max(deepest, l.level);
  return deepest;
}

/**
 * The workload: rounds of puts, overwrites, deletes and compare-and-sets (some issued together),
 * each round ended by an explicit flush or by time passing (the buffered periodic sync); then
 * the background compactions are waited for. Stops at the first sign of the crash.
 */
async function session(
  db: Strata,
  model: ShadowModel,
  r: SeededRandom,
  watch: WatchedBackend,
  c: Clocks,
  plan: Plan,
): Promise<SessionStats> {
  const kv = db.branch().kv;
  const keys = Array.from({ length: plan.keys }, (_, i) => keyName(i));
  let tag = 0;
  let deepest = 0;
  const stopped = (): boolean => watch.crashed || model.crashSeen;
  const issueOne = (): Promise<void> => {
    const key = r.pick(keys);
    const x = r.float();
    if (x < 0.65) return model.put(kv, key, valueFor(r, tag++));
    if (x < 0.85) return model.delete(kv, key);
    return model.put(kv, key, valueFor(r, tag++), { ifVersion: model.headVersion(key) ?? null });
  };
  for (let round = 0; round < plan.rounds && !stopped(); round++) {
    for (let i = 0; i < plan.writesPerRound && !stopped(); i++) {
      if (r.bool(0.15)) {
        const burst: Promise<void>[] = [];
        for (let j = 2 + r.int(3); j > 0; j--) burst.push(issueOne());
        await drive(c, Promise.all(burst), 'a burst of writes');
      } else {
        await drive(c, issueOne(), 'a write');
      }
      c.clock.advance(r.int(3));
      model.observe(db);
      if (!stopped()) deepest = Math.max(deepest, deepestLevel(db));
    }
    if (stopped()) break;
    if (round % 2 === 0) {
      await drive(c, model.compact(db), 'db.compact()');
    } else {
      // Time passes: in buffered mode the periodic sync runs.
      c.scheduler.advance(150);
      await drive(c, model.sync(db), 'db.sync()');
    }
    model.observe(db);
    if (!stopped()) deepest = Math.max(deepest, deepestLevel(db));
  }
  if (!stopped()) {
    try {
      await drive(c, db.settle(), 'db.settle()');
    } catch (error) {
      assert.ok(
        watch.crashed && isStrataError(error, 'io'),
        `${model.context}: settle failed without a crash: ${String(error)}`,
      );
    }
    model.observe(db);
    if (!stopped()) deepest = Math.max(deepest, deepestLevel(db));
  }
  const tree = db.stats().tree;
  return { flushes: tree.flushes, compactions: tree.compactions, deepestLevel: deepest };
}

/**
 * After recovery: more writes, a flush, the compactions it causes, a clean close, a reopen the
 * oracle checks. A recovered tree must go on flushing and compacting (no file number reused, no
 * table set aside that a later edit names).
 */
async function followUp(
  db: Strata,
  model: ShadowModel,
  disk: SimDisk,
  durability: Mode,
  c: Clocks,
  r: SeededRandom,
  plan: Plan,
): Promise<void> {
  const kv = db.branch().kv;
  for (let i = 0; i < 8; i++) {
    const key = keyName(r.int(plan.keys));
    await drive(
      c,
      r.bool(0.8) ? model.put(kv, key, valueFor(r, 10_000 + i)) : model.delete(kv, key),
      'a write',
    );
  }
  assert.ok(await drive(c, model.compact(db), 'db.compact()'), `${model.context}: compact after recovery`);
  await drive(c, db.settle(), 'db.settle()');
  await drive(c, model.endSession('clean'), 'endSession');
  await drive(c, db.close(), 'db.close()');
  const again = await reopen(disk.backend(), durability, c, `${model.context}, reopen after a clean close`);
  model.verifyOpen(again);
  await drive(c, again.close(), 'db.close()');
  await drive(c, model.endSession('clean'), 'endSession');
}

// ---------------------------------------------------------------------------------------------
// The crash-free run, and the crash points.

interface Reference {
  labels: StepLabel[];
  /** Every step from the first flush step to the last flush or compaction step. */
  first: number;
  last: number;
  stats: SessionStats;
}

interface Config {
  seed: number;
  durability: Mode;
  crashModel: CrashModel;
}

function replayHint(cfg: Config): string {
  return `seed ${cfg.seed}, ${cfg.durability} mode, crash model ${cfg.crashModel} (replay: STRATA_SEED=${cfg.seed} node scripts/run-tests.mjs lsm-crash)`;
}

/** Runs the session without a crash and labels its steps. */
async function reference(cfg: Config): Promise<Reference> {
  const disk = new SimDisk();
  const c = clocks();
  const model = new ShadowModel({
    durability: cfg.durability,
    context: `crash-free run, ${replayHint(cfg)}`,
  });
  const watch = new WatchedBackend(disk.backend());
  const log = new StepLog(watch, disk);
  const db = await reopen(log, cfg.durability, c, model.context);
  model.verifyOpen(db);
  log.db = db;
  const stats = await session(db, model, new SeededRandom(cfg.seed), watch, c, PLAN);
  assert.ok(!watch.crashed, `${model.context}: the disk never crashes here`);
  log.db = undefined;
  await drive(c, model.endSession('clean'), 'endSession');
  await drive(c, db.close(), 'db.close()');
  const again = await reopen(disk.backend(), cfg.durability, c, model.context);
  model.verifyOpen(again);
  await drive(c, again.close(), 'db.close()');
  const labels = log.labels;
  const tree = (s: number): boolean =>
    labels[s - 1]?.kind === 'flush' || labels[s - 1]?.kind === 'compaction';
  let first = 0;
  let last = 0;
  for (let s = 1; s <= labels.length; s++) {
    if (!tree(s)) continue;
    if (first === 0) first = s;
    last = s;
  }
  return { labels, first, last, stats };
}

interface PointResult {
  /** Steps of recovery crashed (second crashes). */
  recoveryCrashes: number;
  /** Acknowledged writes the crash lost (buffered mode only: the oracle allows none in strict). */
  lostAcked: number;
  /** What the first recovery reported doing, by kind (see NOTE_KINDS). */
  notes: Set<string>;
}

/** Recovery notes worth counting: evidence that the crash points reach the interesting states. */
const NOTE_KINDS: readonly [string, RegExp][] = [
  ['tables set aside', /^set tables\/\S+ aside/],
  ['manifest edit cut', /unfinished manifest edit/],
  ['WAL tail cut', /unfinished writes at the end of wal\//],
  ['WAL segment removed', /a log segment whose creation never became durable/],
  ['old manifest removed', /unreachable manifest log/],
];

function noteKinds(notes: readonly string[]): Set<string> {
  const kinds = new Set<string>();
  for (const note of notes) for (const [kind, re] of NOTE_KINDS) if (re.test(note)) kinds.add(kind);
  return kinds;
}

/** Replays the session crashing at step `step`, then checks recovery (and crashed recoveries). */
async function crashPoint(cfg: Config, step: number, crashRecovery: boolean): Promise<PointResult> {
  const context = `crash at step ${step}, ${replayHint(cfg)} STRATA_STEP=${step}`;
  const disk = new SimDisk();
  const c = clocks();
  const model = new ShadowModel({ durability: cfg.durability, context });
  disk.crashAtStep(step, cfg.crashModel, new SeededRandom(cfg.seed * 31 + step));
  const watch = new WatchedBackend(disk.backend());
  const log = new StepLog(watch, disk);
  const db = await reopen(log, cfg.durability, c, context);
  model.verifyOpen(db);
  log.db = db;
  await session(db, model, new SeededRandom(cfg.seed), watch, c, PLAN);
  assert.ok(watch.crashed, `${context}: the replay did not reach the crash step (not deterministic?)`);
  log.db = undefined;
  await drive(c, model.endSession('crash'), 'endSession');

  // The crashed disk as it is now: every crashed recovery starts from a copy of it.
  const crashed = disk.clone();
  const c1 = afterCrash(c);
  let recovered = await reopen(disk.backend(), cfg.durability, c1, context);
  const { lostAcked } = model.verifyOpen(recovered);
  const notes = noteKinds(recovered.recovery.notes);
  let recoveryCrashes = 0;
  if (crashRecovery) {
    // What the single recovery gave is now the oracle's baseline; close it (writing nothing), so
    // that each crashed recovery below must come back to exactly that state.
    await drive(c1, recovered.settle(), 'db.settle()');
    await drive(c1, model.endSession('clean'), 'endSession');
    await drive(c1, recovered.close(), 'db.close()');
    recoveryCrashes = await crashRecoveries(cfg, model, crashed, c1, context);
    recovered = await reopen(disk.backend(), cfg.durability, c1, `${context}, after the crashed recoveries`);
    model.verifyOpen(recovered);
  }
  await followUp(recovered, model, disk, cfg.durability, c1, new SeededRandom(cfg.seed + step), PLAN);
  return { recoveryCrashes, lostAcked, notes };
}

/** The steps a recovery of `crashed` takes: the open, and the background work it starts. */
async function recoverySteps(cfg: Config, crashed: SimDisk, c: Clocks, context: string): Promise<number> {
  const d = crashed.clone();
  const start = d.steps;
  const cr = afterCrash(c);
  const db = await reopen(
    new WatchedBackend(d.backend()),
    cfg.durability,
    cr,
    `${context}, crash-free recovery`,
  );
  await drive(cr, db.settle(), 'db.settle()');
  const steps = d.steps - start;
  await drive(cr, db.close(), 'db.close()');
  return steps;
}

/**
 * Crashes the recovery of `crashed` at each of its steps in turn, then opens a third time: the
 * oracle (whose baseline is the single recovery's state, with no writes since) must find exactly
 * that state again.
 */
async function crashRecoveries(
  cfg: Config,
  model: ShadowModel,
  crashed: SimDisk,
  c: Clocks,
  context: string,
): Promise<number> {
  const total = await recoverySteps(cfg, crashed, c, context);
  assert.ok(total > 0, `${context}: recovery takes steps`);
  for (let at = 1; at <= total; at++) {
    const ctx = `${context}, recovery crashed at its step ${at} of ${total}`;
    model.context = ctx;
    const d = crashed.clone();
    d.crashAtStep(d.steps + at, cfg.crashModel, new SeededRandom(cfg.seed * 17 + at));
    const watch = new WatchedBackend(d.backend());
    const cr = afterCrash(c);
    let db: Strata | undefined;
    try {
      db = await drive(cr, open(watch, cfg.durability, cr), 'crashed recovery');
    } catch (error) {
      assert.ok(
        watch.crashed && isStrataError(error, 'io'),
        `${ctx}: only the crash fails the open (${String(error)})`,
      );
      model.openCrashed();
    }
    if (db !== undefined) {
      // The crash hit the work the open started (a flush of the recovered memtable).
      model.verifyOpen(db);
      try {
        await drive(cr, db.settle(), 'db.settle()');
      } catch (error) {
        assert.ok(watch.crashed && isStrataError(error, 'io'), `${ctx}: settle failed: ${String(error)}`);
      }
      assert.ok(watch.crashed, `${ctx}: the crash step was reached`);
      await drive(cr, model.endSession('crash'), 'endSession');
    }
    const c3 = afterCrash(cr);
    const third = await reopen(d.backend(), cfg.durability, c3, `${ctx}, third open`);
    model.verifyOpen(third);
    await drive(c3, third.close(), 'db.close()');
    await drive(c3, model.endSession('clean'), 'endSession');
  }
  model.context = context;
  return total;
}

function seedsFor(configIndex: number): number[] {
  if (SEED_ENV !== undefined) {
    const seed = Number(SEED_ENV);
    assert.ok(Number.isSafeInteger(seed), `STRATA_SEED must be an integer, got ${SEED_ENV}`);
    return [seed];
  }
  return Array.from({ length: SEEDS_PER_CONFIG }, (_, i) => 7000 + configIndex * 100 + i);
}

describe('LSM tree: a crash at every step of flushes and compactions, recovered through the oracle', () => {
  let configIndex = 0;
  for (const durability of MODES) {
    for (const crashModel of MODELS) {
      const index = configIndex++;
      it(`${durability} mode, ${crashModel} crashes`, async (t) => {
        let points = 0;
        let flushPoints = 0;
        let compactionPoints = 0;
        let recoveryPoints = 0;
        let recoveryCrashes = 0;
        let lostAcked = 0;
        const notes = new Map<string, number>();
        for (const seed of seedsFor(index)) {
          const cfg: Config = { seed, durability, crashModel };
          const ref = await reference(cfg);
          assert.ok(ref.stats.flushes >= 2, `${replayHint(cfg)}: the session flushes (${ref.stats.flushes})`);
          assert.ok(
            ref.stats.compactions >= 2,
            `${replayHint(cfg)}: the session compacts (${ref.stats.compactions})`,
          );
          assert.ok(ref.stats.deepestLevel >= 2, `${replayHint(cfg)}: L1 compacts into L2`);
          assert.ok(ref.first > 0 && ref.last >= ref.first, `${replayHint(cfg)}: the tree took steps`);
          let flushSeen = 0;
          let compactionSeen = 0;
          const only = STEP_ENV === undefined ? undefined : Number(STEP_ENV);
          for (let s = ref.first; s <= ref.last; s++) {
            if (only !== undefined && s !== only) continue;
            const kind = ref.labels[s - 1]!.kind;
            let crashRecovery = false;
            if (kind === 'flush') crashRecovery = flushSeen++ % RECOVERY_CRASH_STRIDE === 0;
            if (kind === 'compaction') crashRecovery = compactionSeen++ % RECOVERY_CRASH_STRIDE === 0;
            if (only !== undefined) crashRecovery = true;
            const result = await crashPoint(cfg, s, crashRecovery);
            points++;
            if (kind === 'flush') flushPoints++;
            if (kind === 'compaction') compactionPoints++;
            if (crashRecovery) recoveryPoints++;
            recoveryCrashes += result.recoveryCrashes;
            lostAcked += result.lostAcked;
            for (const kind of result.notes) notes.set(kind, (notes.get(kind) ?? 0) + 1);
          }
          t.diagnostic(
            `seed ${seed}: ${ref.labels.length} steps, crash points ${ref.first}..${ref.last}; ${ref.stats.flushes} flushes, ${ref.stats.compactions} compactions, deepest level L${ref.stats.deepestLevel}`,
          );
        }
        t.diagnostic(
          `${points} crash points (${flushPoints} in flushes, ${compactionPoints} in compactions), ${recoveryPoints} of them with the recovery crashed at each of its steps (${recoveryCrashes} recovery crashes)`,
        );
        t.diagnostic(
          `recoveries that found: ${NOTE_KINDS.map(([kind]) => `${kind} ${notes.get(kind) ?? 0}`).join(', ')}; ${lostAcked} acknowledged unsynced writes lost`,
        );
        assert.ok(points > 0, 'some crash points were checked');
        if (STEP_ENV === undefined) {
          assert.ok(flushPoints > 0, 'some crashes hit a flush');
          assert.ok(compactionPoints > 0, 'some crashes hit a compaction');
          assert.ok(recoveryCrashes > 0, 'some recoveries were crashed');
        }
      });
    }
  }
});
