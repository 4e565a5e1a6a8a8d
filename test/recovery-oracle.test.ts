/**
 * Crash recovery checked by the recovery oracle (DESIGN.md, "How it is tested", items 1 and 3):
 *
 * 1. Seeded random workloads on the simulated disk, crashed at a random step under each crash
 *    model, in strict and buffered mode, reopened and checked against the shadow model
 *    (test/support/oracle.ts); then written to again and crashed again, several times. Also,
 *    one short session crashed at every one of its steps in turn (open and close included).
 * 2. A torn tail at every byte offset of the last WAL record: truncated, zero-filled, garbage.
 * 3. Damage inside a synced region (a finished segment, a proven-synced record of the last
 *    segment, manifest/current, a snapshot) never opens silently; quarantine opens degraded with
 *    exactly the prefix before the damage.
 * 4. Version rules across reopen: +1 after a clean close, never a reused version after a crash.
 *
 * A failure names its seed. Replay one seed in every configuration with
 *   STRATA_SEED=<seed> node scripts/run-tests.mjs recovery-oracle
 * run the deep tier (many more seeds and crashes per seed) with STRATA_DEEP=1, set the number of
 * seeds with STRATA_SEEDS=<n>, and print what each open found with STRATA_TRACE=1.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type OpenOptions, Strata } from '../src/api/index.js';
import { type Backend, type CrashModel, MemoryBackend, SimDisk } from '../src/backend/index.js';
import { isStrataError, SeededRandom } from '../src/base/index.js';
import type { Value } from '../src/engine/index.js';
import {
  decodeManifestCurrent,
  decodeWalRecord,
  MANIFEST_CURRENT_BYTES,
  readFrame,
  WAL_HEADER_BYTES,
  type WalRecord,
} from '../src/format/index.js';
import { MANIFEST_CURRENT, QUARANTINE_PREFIX, quarantineName, WAL_PREFIX } from '../src/layout/index.js';
import { type Clocks, canonical, clocks, ShadowModel, WatchedBackend } from './support/oracle.js';

const MODELS: readonly CrashModel[] = ['strict', 'ordered', 'weak', 'hostile'];
const MODES = ['strict', 'buffered'] as const;
type Mode = (typeof MODES)[number];

const DEEP = process.env.STRATA_DEEP === '1';
const SEED_ENV = process.env.STRATA_SEED;
/** Seeds per (mode, crash model): the CI tier, the deep tier, or STRATA_SEEDS=<n>. */
const SEEDS_PER_CONFIG = Number(process.env.STRATA_SEEDS ?? (DEEP ? 500 : 50));
/** Crashes per seed (each followed by a reopen and a check). */
const CRASHES_PER_SEED = DEEP ? 5 : 3;
/** Loop iterations of the workload per session. */
const OPS_PER_SESSION = 40;
/**
 * Crash points are drawn from the next this-many disk steps at first; then from as many steps as
 * the last full session took, so most crashes land inside a session (open, recovery included).
 */
const CRASH_STEP_WINDOW = 100;

/** Small segments and checkpoints, so rotation and checkpoints happen in every session. */
const SMALL: Pick<OpenOptions, 'walSegmentBytes' | 'checkpointWalBytes'> = {
  walSegmentBytes: 4096,
  checkpointWalBytes: 8192,
};

/** STRATA_TRACE=1 prints each round of a scenario: what each open found and how each session ended. */
const TRACE = process.env.STRATA_TRACE === '1';

function trace(line: string): void {
  console.log(line);
}

/** The durable objects of a disk, with the records of each WAL segment (for traces). */
function describeDisk(disk: SimDisk): string {
  const lines: string[] = [];
  for (const name of disk.durableNames()) {
    const bytes = disk.visibleBytes(name) ?? new Uint8Array(0);
    let detail = '';
    if (name === MANIFEST_CURRENT) {
      const m = decodeManifestCurrent(bytes);
      detail = m.ok ? JSON.stringify(m.manifest) : m.reason;
    } else if (name.startsWith(WAL_PREFIX)) {
      detail = recordsOf(bytes)
        .map(({ start, record: r }) => {
          const v =
            r.type === 'commit' ? r.version : r.type === 'reserve' ? r.reservedVersion : r.lastVersion;
          return `${start}:${r.type} ${v} (durable ${r.durable})`;
        })
        .join(', ');
    }
    lines.push(`  ${name} (${bytes.length} bytes) ${detail}`);
  }
  return lines.join('\n');
}

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'k/1', 'k/2', 'ключ'];

function seedsFor(configIndex: number): number[] {
  if (SEED_ENV !== undefined) {
    const seed = Number(SEED_ENV);
    assert.ok(Number.isSafeInteger(seed), `STRATA_SEED must be an integer, got ${SEED_ENV}`);
    return [seed];
  }
  assert.ok(
    Number.isSafeInteger(SEEDS_PER_CONFIG) && SEEDS_PER_CONFIG > 0 && SEEDS_PER_CONFIG < 1_000_000,
    `STRATA_SEEDS must be a positive integer below 1000000, got ${process.env.STRATA_SEEDS}`,
  );
  return Array.from({ length: SEEDS_PER_CONFIG }, (_, i) => configIndex * 1_000_000 + i + 1);
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function randomValue(r: SeededRandom, tag: number): Value {
  switch (r.int(5)) {
    case 0:
      return `v${tag}-${'x'.repeat(r.int(300))}`;
    case 1:
      return tag * 1000 + r.int(1000) - 500;
    case 2:
      return { tag, s: 'y'.repeat(r.int(80)), list: [tag, true, null] };
    case 3:
      return r.bytes(1 + r.int(64));
    default:
      return `short-${tag}`;
  }
}

function open(
  backend: Backend,
  durability: Mode,
  c: Clocks,
  extra: Partial<OpenOptions> = {},
): Promise<Strata> {
  return Strata.open('sim', { durability, backend, clock: c.clock, scheduler: c.scheduler, ...extra });
}

// ---------------------------------------------------------------------------------------------
// 1. Random workloads, crashed at random steps, checked by the oracle.

interface ScenarioStats {
  /** Reopens checked after a crash. */
  crashStates: number;
  /** Crashes that hit during the workload, during close, or during an open (recovery). */
  midWorkload: number;
  atEnd: number;
  duringOpen: number;
  cleanCloses: number;
  lostAcked: number;
}

/** One session's workload: puts, overwrites, deletes, CAS, bursts of un-awaited writes, syncs, checkpoints. */
async function workload(
  db: Strata,
  model: ShadowModel,
  r: SeededRandom,
  watch: WatchedBackend,
  c: Clocks,
  tagStart: number,
  ops = OPS_PER_SESSION,
): Promise<number> {
  const kv = db.branch().kv;
  let tag = tagStart;
  const issueOne = (): Promise<void> => {
    const key = r.pick(KEYS);
    const x = r.float();
    if (x < 0.55) return model.put(kv, key, randomValue(r, tag++));
    if (x < 0.7) return model.delete(kv, key);
    const ifVersion = casVersion(key);
    return r.bool(0.8)
      ? model.put(kv, key, randomValue(r, tag++), { ifVersion })
      : model.delete(kv, key, { ifVersion });
  };
  const casVersion = (key: string): number | null => {
    switch (r.int(4)) {
      case 0:
        return kv.getVersioned(key)?.version ?? null;
      case 1:
        return model.headVersion(key) ?? null;
      case 2:
        return null;
      default:
        return 1 + r.int(Math.max(1, db.version));
    }
  };
  for (let i = 0; i < ops && !watch.crashed && !model.crashSeen; i++) {
    const x = r.float();
    if (x < 0.3) {
      await model.put(kv, r.pick(KEYS), randomValue(r, tag++));
    } else if (x < 0.45) {
      // Concurrent writers: a burst issued without waiting; sometimes left in flight.
      const burst: Promise<void>[] = [];
      const n = 2 + r.int(5);
      for (let j = 0; j < n; j++) burst.push(issueOne());
      if (r.bool(0.6)) await Promise.all(burst);
    } else if (x < 0.53) {
      await model.delete(kv, r.pick(KEYS));
    } else if (x < 0.66) {
      const key = r.pick(KEYS);
      await model.put(kv, key, randomValue(r, tag++), { ifVersion: casVersion(key) });
    } else if (x < 0.72) {
      await model.sync(db);
    } else if (x < 0.76) {
      await model.compact(db);
    } else if (x < 0.88) {
      // Time passes: the periodic sync of buffered mode may run.
      c.scheduler.advance(r.int(150));
      await tick();
    } else {
      c.clock.advance(r.int(5));
      void issueOne();
    }
    model.observe(db);
  }
  return tag;
}

async function runScenario(seed: number, durability: Mode, crashModel: CrashModel): Promise<ScenarioStats> {
  const context = `seed ${seed}, ${durability} mode, crash model ${crashModel} (replay: STRATA_SEED=${seed} node scripts/run-tests.mjs recovery-oracle)`;
  const r = new SeededRandom(seed);
  const crashRandom = new SeededRandom(seed ^ 0x5bd1e995);
  const disk = new SimDisk();
  const c = clocks();
  const model = new ShadowModel({ durability, context });
  const stats: ScenarioStats = {
    crashStates: 0,
    midWorkload: 0,
    atEnd: 0,
    duringOpen: 0,
    cleanCloses: 0,
    lostAcked: 0,
  };
  let tag = 0;
  let crashes = 0;
  let previous: 'none' | 'crash' | 'clean' = 'none';
  let window = CRASH_STEP_WINDOW;
  // Each iteration opens (recovering the last crash), checks, writes, and crashes or closes.
  for (let round = 0; round < CRASHES_PER_SEED * 3 + 2; round++) {
    const final = crashes >= CRASHES_PER_SEED;
    const stepsBefore = disk.steps;
    // The crash may land anywhere from this open (recovery itself) to the end of the workload.
    disk.crashAtStep(
      final ? Number.MAX_SAFE_INTEGER : disk.steps + 1 + r.int(window),
      crashModel,
      crashRandom,
    );
    const watch = new WatchedBackend(disk.backend());
    let db: Strata;
    try {
      db = await open(watch, durability, c, SMALL);
    } catch (error) {
      if (!final && watch.crashed) {
        stats.duringOpen++;
        crashes++;
        previous = 'crash';
        model.openCrashed();
        continue;
      }
      throw new Error(`${context}: open failed: ${String(error)}`, { cause: error });
    }
    if (TRACE)
      trace(
        `round ${round} open: version ${db.version}; ${db.recovery.notes.join(' | ')}\n${describeDisk(disk)}`,
      );
    const result = model.verifyOpen(db);
    if (previous === 'crash') stats.crashStates++;
    stats.lostAcked += result.lostAcked;
    if (final) {
      await db.close();
      return stats;
    }
    // Now and then a session that writes nothing: it must not disturb the version rules.
    if (r.bool(0.9)) tag = await workload(db, model, r, watch, c, tag);
    if (!watch.crashed) window = Math.max(20, disk.steps - stepsBefore);
    if (!watch.crashed && r.bool(0.2)) {
      await model.settle();
      try {
        await db.close();
      } catch (error) {
        // Close reports acknowledged commits it could not make durable: the crash hit it.
        assert.ok(watch.crashed && isStrataError(error, 'io'), `${context}: close failed: ${String(error)}`);
      }
    }
    if (TRACE) {
      trace(
        `round ${round} end: crashed ${watch.crashed}, ${db.stats().state}, version ${db.version}, durable ${db.durableVersion}`,
      );
    }
    if (watch.crashed) {
      stats.midWorkload++;
    } else if (db.stats().state === 'closed') {
      stats.cleanCloses++;
      await model.endSession('clean');
      previous = 'clean';
      continue;
    } else {
      stats.atEnd++;
      disk.crash(crashModel, crashRandom);
    }
    crashes++;
    previous = 'crash';
    await model.endSession('crash');
  }
  assert.fail(`${context}: the scenario did not finish`);
}

describe('recovery oracle: random workloads crashed at random steps', () => {
  let configIndex = 0;
  for (const durability of MODES) {
    for (const crashModel of MODELS) {
      const index = configIndex++;
      it(`${durability} mode, ${crashModel} crashes`, async (t) => {
        const total: ScenarioStats = {
          crashStates: 0,
          midWorkload: 0,
          atEnd: 0,
          duringOpen: 0,
          cleanCloses: 0,
          lostAcked: 0,
        };
        for (const seed of seedsFor(index)) {
          const s = await runScenario(seed, durability, crashModel);
          for (const k of Object.keys(total) as (keyof ScenarioStats)[]) total[k] += s[k];
        }
        t.diagnostic(
          `${total.crashStates} crash states checked (${total.midWorkload} mid-workload, ${total.duringOpen} during recovery, ${total.atEnd} at the end), ${total.cleanCloses} clean closes, ${total.lostAcked} acknowledged unsynced commits lost`,
        );
        assert.ok(total.crashStates > 0, 'some crash states were checked');
        if (SEED_ENV === undefined) {
          assert.ok(total.midWorkload > 0, 'some crashes hit during the workload');
          if (durability === 'strict') assert.equal(total.lostAcked, 0, 'strict mode never loses an ack');
        }
      });
    }
  }
});

/**
 * Every crash point of one short session: the history is replayed from scratch and crashed at
 * step 1, 2, 3, ... until a run finishes without reaching the crash step (open, checkpoints and
 * close included); each crashed disk is reopened, checked, written to, closed and checked again.
 */
async function everyCrashPoint(durability: Mode, crashModel: CrashModel, seed: number): Promise<number> {
  let states = 0;
  for (let step = 1; ; step++) {
    const context = `crash at step ${step}, seed ${seed}, ${durability} mode, crash model ${crashModel}`;
    const r = new SeededRandom(seed);
    const disk = new SimDisk();
    const c = clocks();
    const model = new ShadowModel({ durability, context });
    disk.crashAtStep(step, crashModel, new SeededRandom(seed * 31 + step));
    const watch = new WatchedBackend(disk.backend());
    let db: Strata | undefined;
    try {
      db = await open(watch, durability, c, SMALL);
    } catch (error) {
      assert.ok(watch.crashed, `${context}: only the crash fails the open (${String(error)})`);
      model.openCrashed();
    }
    if (db !== undefined) {
      model.verifyOpen(db);
      await workload(db, model, r, watch, c, 0, 24);
      if (!watch.crashed) {
        await model.settle();
        await db.close().catch((error: unknown) => {
          assert.ok(watch.crashed, `${context}: close failed: ${String(error)}`);
        });
      }
      if (!watch.crashed) {
        assert.ok(states > 0, `${context}: some crash points were checked`);
        return states;
      }
      await model.endSession('crash');
    }
    const again = await open(disk.backend(), durability, c, SMALL);
    model.verifyOpen(again);
    states++;
    await model.put(again.branch().kv, 'after', step);
    await model.endSession('clean');
    await again.close();
    const last = await open(disk.backend(), durability, c, SMALL);
    model.verifyOpen(last);
    await last.close();
  }
}

describe('recovery oracle: a crash at every step of a short session', () => {
  for (const durability of MODES) {
    for (const crashModel of MODELS) {
      it(`${durability} mode, ${crashModel} crashes`, async (t) => {
        let states = 0;
        for (const seed of [2024, 99]) states += await everyCrashPoint(durability, crashModel, seed);
        t.diagnostic(`${states} crash points checked`);
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Helpers for crafted files.

interface RecordAt {
  start: number;
  end: number;
  record: WalRecord;
}

/** The valid records of a WAL segment, in order, up to the first damaged one. */
function recordsOf(bytes: Uint8Array): RecordAt[] {
  const out: RecordAt[] = [];
  let off = WAL_HEADER_BYTES;
  while (off < bytes.length) {
    const f = readFrame(bytes, off);
    if (f.kind !== 'ok') break;
    const record = decodeWalRecord(bytes, f.start, f.end);
    assert.ok(record !== undefined, `a valid frame at ${off} holds a record`);
    out.push({ start: off, end: f.end, record });
    off = f.end;
  }
  return out;
}

function versionOf(r: RecordAt): number {
  assert.ok(r.record.type === 'commit', `record at ${r.start} is a commit`);
  return r.record.version;
}

async function allObjects(backend: Backend): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const name of await backend.list('')) {
    const bytes = await backend.read(name);
    assert.ok(bytes !== undefined, `${name} is readable`);
    out.set(name, bytes);
  }
  return out;
}

/** A disk holding exactly `objects`, all durable. */
async function diskWith(objects: Map<string, Uint8Array>): Promise<SimDisk> {
  const disk = new SimDisk();
  const b = disk.backend();
  for (const [name, bytes] of objects) {
    await b.write(name, bytes);
    await b.sync(name);
  }
  await b.close();
  return disk;
}

/** The live state of the main branch as canonical text, for exact comparisons. */
function stateOf(db: Strata): string {
  return [...db.branch().kv.list()].map(([k, v]) => `${k}=${canonical(v)}`).join(';');
}

async function expectCorruption(
  opening: Promise<Strata>,
  object: string,
  offset: number | undefined,
  what: string,
): Promise<void> {
  let db: Strata | undefined;
  try {
    db = await opening;
  } catch (error) {
    assert.ok(
      isStrataError(error, 'corruption'),
      `${what}: open fails with corruption, got ${String(error)}`,
    );
    assert.equal(error.object, object, `${what}: the error names the damaged object (${error.message})`);
    if (offset !== undefined) assert.equal(error.offset, offset, `${what}: the error names the offset`);
    else assert.equal(typeof error.offset, 'number', `${what}: the error names an offset`);
    return;
  }
  await db.close();
  assert.fail(`${what}: the database opened silently over damage in a synced region`);
}

// ---------------------------------------------------------------------------------------------
// 2. A torn tail at every byte offset of the last WAL record.

describe('recovery oracle: a torn tail at every byte of the last record', () => {
  for (const durability of MODES) {
    it(`${durability} mode: truncated, zero-filled and garbage tails recover exactly the intact prefix`, async () => {
      const N = 6;
      const c = clocks();
      const backend = new MemoryBackend();
      const db = await open(backend, durability, c);
      const kv = db.branch().kv;
      const states: string[] = [stateOf(db)];
      const versions: number[] = [db.version];
      for (let i = 1; i <= N + 1; i++) {
        if (i === N + 1 && durability === 'buffered') await db.sync();
        c.clock.advance(1);
        await kv.put(`k${i % 4}`, { i, text: `value ${i} ${'z'.repeat(10 + i * 3)}` });
        await tick();
        states.push(stateOf(db));
        versions.push(db.version);
      }
      // The session is left open (no close record): the last record is the newest thing written.
      const objects = await allObjects(backend);
      const segments = [...objects.keys()].filter((n) => n.startsWith(WAL_PREFIX));
      const segment = segments[segments.length - 1]!;
      const bytes = objects.get(segment)!;
      const records = recordsOf(bytes);
      const last = records[records.length - 1]!;
      assert.equal(last.end, bytes.length, 'the segment ends with the last record');
      assert.equal(versionOf(last), versions[N + 1], 'the last record is commit N+1');
      const garbage = new SeededRandom(4242);

      const variants: { name: string; bytes: Uint8Array; intact: boolean; discarded: number }[] = [];
      for (let o = last.start; o <= last.end; o++) {
        variants.push({
          name: `truncated at ${o}`,
          bytes: bytes.slice(0, o),
          intact: o === last.end,
          discarded: o === last.end ? 0 : o - last.start,
        });
        if (o === last.end) break;
        const zeros = bytes.slice();
        zeros.fill(0, o);
        variants.push({
          name: `zeros from ${o}`,
          bytes: zeros,
          intact: false,
          discarded: last.end - last.start,
        });
        const junk = bytes.slice();
        junk.set(garbage.bytes(last.end - o), o);
        variants.push({
          name: `garbage from ${o}`,
          bytes: junk,
          intact: false,
          discarded: last.end - last.start,
        });
      }
      for (const tail of [new Uint8Array(40), garbage.bytes(40)]) {
        const extended = new Uint8Array(bytes.length + tail.length);
        extended.set(bytes);
        extended.set(tail, bytes.length);
        variants.push({
          name: `intact + ${tail[0] === 0 ? 'zeros' : 'garbage'}`,
          bytes: extended,
          intact: true,
          discarded: tail.length,
        });
      }

      for (const v of variants) {
        const what = `${durability}, ${v.name} (record ${last.start}..${last.end})`;
        const copy = new Map(objects);
        copy.set(segment, v.bytes);
        const d = await diskWith(copy);
        const expected = v.intact ? N + 1 : N;
        const db2 = await open(d.backend(), durability, clocks());
        assert.equal(db2.recovery.health, 'clean', `${what}: health clean`);
        assert.equal(db2.version, versions[expected], `${what}: recovered version`);
        assert.equal(stateOf(db2), states[expected], `${what}: recovered state`);
        const note = db2.recovery.notes.find((n) => n.includes('discarded'));
        if (v.discarded > 0) {
          assert.ok(
            note?.includes(`discarded ${v.discarded} bytes`),
            `${what}: a note says ${v.discarded} bytes were discarded (${db2.recovery.notes.join(' | ')})`,
          );
          const cut = d.visibleBytes(segment);
          assert.equal(cut?.length, v.intact ? last.end : last.start, `${what}: the torn tail was cut off`);
        } else {
          assert.equal(note, undefined, `${what}: nothing discarded, no note`);
        }
        await db2.close();
        const db3 = await open(d.backend(), durability, clocks());
        assert.equal(db3.recovery.health, 'clean', `${what}: second open clean`);
        assert.equal(stateOf(db3), states[expected], `${what}: second open, same state`);
        assert.equal(db3.version, versions[expected], `${what}: second open, same version`);
        assert.ok(
          !db3.recovery.notes.some((n) => n.includes('discarded')),
          `${what}: second open discards nothing`,
        );
        await db3.close();
      }
      await db.close();
    });
  }
});

// ---------------------------------------------------------------------------------------------
// 3. Damage inside a synced region never opens silently.

/** Writes `n` strict commits (values big enough to fill small segments); returns the state after each. */
async function writeHistory(
  db: Strata,
  c: Clocks,
  n: number,
  valueBytes: number,
): Promise<{ states: string[]; versions: number[] }> {
  const kv = db.branch().kv;
  const states = [stateOf(db)];
  const versions = [db.version];
  for (let i = 1; i <= n; i++) {
    c.clock.advance(1);
    await kv.put(`key${i % 5}`, `${i}:${'v'.repeat(valueBytes)}`);
    states.push(stateOf(db));
    versions.push(db.version);
  }
  return { states, versions };
}

/** Byte offsets of a record worth flipping: its length, checksum, type, versions and payload. */
function offsetsIn(r: RecordAt): number[] {
  const out = new Set<number>();
  for (let o = r.start; o < Math.min(r.end, r.start + 34); o++) out.add(o);
  for (let o = r.start + 34; o < r.end; o += 7) out.add(o);
  out.add(r.end - 1);
  return [...out];
}

describe('recovery oracle: damage inside a synced region', () => {
  it('(a) a record of a finished segment: corruption; quarantine keeps the prefix', async () => {
    const c = clocks();
    const disk = new SimDisk();
    const db = await open(disk.backend(), 'strict', c, { walSegmentBytes: 4096 });
    const { states, versions } = await writeHistory(db, c, 40, 300);
    const maxAcked = db.version;
    await db.close();
    const segments = disk.durableNames().filter((n) => n.startsWith(WAL_PREFIX));
    assert.ok(segments.length >= 3, `the history spans several segments (${segments.length})`);
    // A finished segment in the middle, and the third record in it.
    const segment = segments[1]!;
    const records = recordsOf(disk.visibleBytes(segment)!);
    const target = records[2]!;
    const lost = versionOf(target);

    for (const off of offsetsIn(target)) {
      const d = disk.clone();
      d.corruptDurable(segment, off, 1 << (off % 8));
      await expectCorruption(
        open(d.backend(), 'strict', clocks()),
        segment,
        target.start,
        `flip at byte ${off} of ${segment}`,
      );
    }

    for (const off of [target.start, target.start + 5, target.start + 20, target.end - 1]) {
      const what = `quarantine after a flip at byte ${off} of ${segment}`;
      const d = disk.clone();
      d.corruptDurable(segment, off, 0x10);
      const c2 = clocks();
      const q = await open(d.backend(), 'strict', c2, { onCorruption: 'quarantine' });
      assert.equal(q.recovery.health, 'degraded', `${what}: health degraded`);
      assert.equal(q.version, lost - 1, `${what}: recovered through the record before the damage`);
      assert.equal(stateOf(q), states[versions.indexOf(lost - 1)], `${what}: exactly the prefix`);
      const quarantined = await d.backend().list(QUARANTINE_PREFIX);
      assert.ok(
        quarantined.includes(quarantineName(segment, 0)),
        `${what}: the damaged segment is under quarantine/ (${quarantined.join(', ')})`,
      );
      for (const later of segments.slice(2)) {
        assert.ok(
          quarantined.includes(quarantineName(later, 0)),
          `${what}: later segment ${later} set aside`,
        );
      }
      // New versions never reuse one that was acknowledged before the damage was found.
      const next = await q.branch().kv.put('after', 'quarantine');
      assert.ok(
        next.version > maxAcked,
        `${what}: new version ${next.version} must be above every acknowledged version (${maxAcked})`,
      );
      const afterState = stateOf(q);
      await q.close();
      for (let i = 0; i < 2; i++) {
        const again = await open(d.backend(), 'strict', clocks());
        assert.equal(again.recovery.health, 'clean', `${what}: reopen ${i + 1} is clean`);
        assert.equal(stateOf(again), afterState, `${what}: reopen ${i + 1} has the same state`);
        assert.equal(again.version, next.version, `${what}: reopen ${i + 1} has the same version`);
        await again.close();
      }
    }
  });

  it('(a′) a crash at any step of a quarantining open loses nothing more than the damage', async () => {
    const c = clocks();
    const disk = new SimDisk();
    const db = await open(disk.backend(), 'strict', c, { walSegmentBytes: 4096 });
    const { states, versions } = await writeHistory(db, c, 40, 300);
    const maxAcked = db.version;
    await db.close();
    const segments = disk.durableNames().filter((n) => n.startsWith(WAL_PREFIX));
    const segment = segments[1]!;
    const target = recordsOf(disk.visibleBytes(segment)!)[2]!;
    const lost = versionOf(target);
    const damaged = disk.clone();
    damaged.corruptDurable(segment, target.start + 20, 0x08);
    let crashed = 0;
    for (let step = 1; ; step++) {
      for (const crashModel of MODELS) {
        const what = `a ${crashModel} crash at step ${step} of the quarantining open`;
        const d = damaged.clone();
        d.crashAtStep(d.steps + step, crashModel, new SeededRandom(step));
        const watch = new WatchedBackend(d.backend());
        let q: Strata | undefined;
        try {
          q = await open(watch, 'strict', clocks(), { onCorruption: 'quarantine' });
        } catch (error) {
          assert.ok(watch.crashed, `${what}: only the crash fails the open (${String(error)})`);
        }
        if (q !== undefined) {
          // The open finished before the crash step: every crash point has been covered.
          assert.equal(crashModel, MODELS[0], `${what}: the open finishes at the same step for every model`);
          await q.close();
          assert.ok(crashed > 0, 'some crash points were checked');
          return;
        }
        crashed++;
        const again = await open(d.backend(), 'strict', clocks(), { onCorruption: 'quarantine' });
        assert.equal(again.version, lost - 1, `${what}: recovered through the record before the damage`);
        assert.equal(stateOf(again), states[versions.indexOf(lost - 1)], `${what}: exactly the prefix`);
        const next = await again.branch().kv.put('after', 'crash');
        assert.ok(next.version > maxAcked, `${what}: new version ${next.version} above ${maxAcked}`);
        await again.close();
      }
    }
  });

  it('(b) a record of the last segment proven synced by later records: corruption; quarantine keeps the prefix', async () => {
    const c = clocks();
    const disk = new SimDisk();
    const db = await open(disk.backend(), 'strict', c);
    const { states, versions } = await writeHistory(db, c, 12, 40);
    const maxAcked = db.version;
    // No close: the proof must come from the commit records themselves.
    const segments = disk.durableNames().filter((n) => n.startsWith(WAL_PREFIX));
    const segment = segments[segments.length - 1]!;
    const records = recordsOf(disk.visibleBytes(segment)!);
    assert.equal(records.length, 12, 'one segment holds every commit');
    const target = records[4]!;
    const lost = versionOf(target);

    for (const off of offsetsIn(target)) {
      const d = disk.clone();
      d.corruptDurable(segment, off, 1 << (off % 8));
      await expectCorruption(
        open(d.backend(), 'strict', clocks()),
        segment,
        target.start,
        `flip at byte ${off} of ${segment}`,
      );
    }

    for (const off of [target.start + 1, target.start + 6, target.start + 30, target.end - 1]) {
      const what = `quarantine after a flip at byte ${off} of ${segment}`;
      const d = disk.clone();
      d.corruptDurable(segment, off, 0x04);
      const q = await open(d.backend(), 'strict', clocks(), { onCorruption: 'quarantine' });
      assert.equal(q.recovery.health, 'degraded', `${what}: health degraded`);
      assert.equal(q.version, lost - 1, `${what}: recovered through the record before the damage`);
      assert.equal(stateOf(q), states[versions.indexOf(lost - 1)], `${what}: exactly the prefix`);
      const quarantined = await d.backend().list(QUARANTINE_PREFIX);
      assert.ok(
        quarantined.includes(quarantineName(segment, 0)),
        `${what}: the damaged segment is under quarantine/ (${quarantined.join(', ')})`,
      );
      const next = await q.branch().kv.put('after', 'quarantine');
      assert.ok(
        next.version > maxAcked,
        `${what}: new version ${next.version} must be above every acknowledged version (${maxAcked})`,
      );
      const afterState = stateOf(q);
      await q.close();
      for (let i = 0; i < 2; i++) {
        const again = await open(d.backend(), 'strict', clocks());
        assert.equal(again.recovery.health, 'clean', `${what}: reopen ${i + 1} is clean`);
        assert.equal(stateOf(again), afterState, `${what}: reopen ${i + 1} has the same state`);
        await again.close();
      }
    }
    await db.close();
  });

  it('(b″) after a quarantine, a session that writes nothing and closes cleanly keeps the version floor', async () => {
    const c = clocks();
    const disk = new SimDisk();
    const db = await open(disk.backend(), 'strict', c);
    await writeHistory(db, c, 12, 40);
    const maxAcked = db.version;
    const segment = disk.durableNames().filter((n) => n.startsWith(WAL_PREFIX))[0]!;
    const target = recordsOf(disk.visibleBytes(segment)!)[3]!;
    const d = disk.clone();
    d.corruptDurable(segment, target.start + 20, 0x02);
    const q = await open(d.backend(), 'strict', clocks(), { onCorruption: 'quarantine' });
    assert.equal(q.recovery.health, 'degraded', 'opened degraded');
    await q.close();
    for (const durability of MODES) {
      const again = await open(d.backend(), durability, clocks());
      assert.equal(again.recovery.health, 'clean', `${durability} reopen is clean`);
      await again.close();
    }
    const last = await open(d.backend(), 'strict', clocks());
    const next = await last.branch().kv.put('after', 1);
    assert.ok(
      next.version > maxAcked,
      `new version ${next.version} above every acknowledged one (${maxAcked})`,
    );
    await last.close();
    await db.close();
  });

  it('(b′) a flip in the newest record with nothing after it reads as a torn tail (documented)', async () => {
    const c = clocks();
    const disk = new SimDisk();
    const db = await open(disk.backend(), 'strict', c);
    const { states } = await writeHistory(db, c, 5, 40);
    const segment = disk.durableNames().filter((n) => n.startsWith(WAL_PREFIX))[0]!;
    const records = recordsOf(disk.visibleBytes(segment)!);
    const last = records[records.length - 1]!;
    const d = disk.clone();
    d.corruptDurable(segment, last.start + 12, 0x01);
    const db2 = await open(d.backend(), 'strict', clocks());
    assert.equal(db2.recovery.health, 'clean', 'docs/durability.md: indistinguishable from a torn write');
    assert.equal(stateOf(db2), states[4], 'the prefix before the damaged record');
    assert.ok(
      db2.recovery.notes.some((n) => n.includes('discarded')),
      `a note says bytes were discarded (${db2.recovery.notes.join(' | ')})`,
    );
    await db2.close();
    await db.close();
  });

  it('(c) manifest/current: every byte flipped fails the open, with either policy', async () => {
    const c = clocks();
    const disk = new SimDisk();
    const db = await open(disk.backend(), 'strict', c);
    await writeHistory(db, c, 6, 20);
    await db.compact();
    await writeHistory(db, c, 3, 20);
    await db.close();
    assert.equal(disk.visibleBytes(MANIFEST_CURRENT)?.length, MANIFEST_CURRENT_BYTES, 'manifest size');
    for (let off = 0; off < MANIFEST_CURRENT_BYTES; off++) {
      for (const onCorruption of ['fail', 'quarantine'] as const) {
        const d = disk.clone();
        d.corruptDurable(MANIFEST_CURRENT, off, 1 << (off % 8));
        await expectCorruption(
          open(d.backend(), 'strict', clocks(), { onCorruption }),
          MANIFEST_CURRENT,
          undefined,
          `flip at byte ${off} of ${MANIFEST_CURRENT} (${onCorruption})`,
        );
      }
    }
  });

  it('(d) a table: every byte flipped fails the open or the read that touches it, never a wrong answer', async () => {
    const c = clocks();
    const disk = new SimDisk();
    const db = await open(disk.backend(), 'strict', c);
    await writeHistory(db, c, 12, 20);
    await db.branch().kv.delete('key1');
    await db.compact();
    await writeHistory(db, c, 3, 20);
    await db.close();
    const tables = disk.durableNames().filter((n) => n.startsWith('tables/'));
    assert.equal(tables.length, 1, `one table (${tables.join(', ')})`);
    const table = tables[0]!;
    // Every read the database can answer: each key's whole history, and the list.
    const readEverything = (d: Strata): string =>
      JSON.stringify([
        ...Array.from({ length: 5 }, (_, i) => d.branch().kv.history(`key${i}`)),
        [...d.branch().kv.list()],
      ]);
    const truthDb = await open(disk.clone().backend(), 'strict', clocks());
    const truth = readEverything(truthDb);
    await truthDb.close();
    const size = disk.visibleBytes(table)!.length;
    let failedOpen = 0;
    let failedRead = 0;
    for (let off = 0; off < size; off++) {
      const d = disk.clone();
      d.corruptDurable(table, off, 1 << (off % 8));
      let damaged: Strata;
      try {
        damaged = await open(d.backend(), 'strict', clocks());
      } catch (error) {
        assert.ok(
          isStrataError(error, 'corruption'),
          `flip at ${off}: open fails with corruption, got ${String(error)}`,
        );
        assert.equal(error.object, table, `flip at ${off}: the error names the table`);
        failedOpen++;
        continue;
      }
      try {
        const got = readEverything(damaged);
        assert.equal(got, truth, `flip at byte ${off} of ${table}: a read that succeeds is right`);
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error;
        assert.ok(
          isStrataError(error, 'corruption'),
          `flip at ${off}: a read fails with corruption, got ${String(error)}`,
        );
        assert.equal(error.object, table, `flip at ${off}: the read error names the table`);
        failedRead++;
      } finally {
        await damaged.close();
      }
    }
    // Every byte is under a checksum: each flip is caught one way or the other.
    assert.equal(
      failedOpen + failedRead,
      size,
      `every flip detected (${failedOpen} at open, ${failedRead} on read)`,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Version rules across reopen.

describe('recovery oracle: version rules', () => {
  for (const durability of MODES) {
    it(`${durability} mode: after a clean close versions continue at +1`, async () => {
      const disk = new SimDisk();
      let expected = 0;
      for (let session = 0; session < 4; session++) {
        const c = clocks();
        const db = await open(disk.backend(), durability, c, SMALL);
        assert.equal(db.version, expected, `session ${session}: reopened at the last version`);
        assert.equal(db.recovery.health, 'clean', `session ${session}: clean`);
        const kv = db.branch().kv;
        for (let i = 0; i < 5 + session * 20; i++) {
          const commit = await kv.put(`k${i % 7}`, `s${session}-${i}-${'p'.repeat(i * 5)}`);
          expected++;
          assert.equal(commit.version, expected, `session ${session}: commit ${i} gets the next version`);
        }
        await db.close();
      }
    });
  }

  for (const crashModel of MODELS) {
    it(`buffered mode, ${crashModel} crash: new versions start above every version seen`, async () => {
      const disk = new SimDisk();
      let seen = 0;
      let durable = 0;
      for (let session = 0; session < 4; session++) {
        const c = clocks();
        const db = await open(disk.backend(), 'buffered', c, SMALL);
        assert.ok(db.version >= durable, `session ${session}: recovered ${db.version} ≥ durable ${durable}`);
        const kv = db.branch().kv;
        for (let i = 0; i < 30; i++) {
          const commit = await kv.put(`k${i % 5}`, `s${session}-${i}`);
          assert.ok(commit.version > seen, `session ${session}: version ${commit.version} above ${seen}`);
          seen = Math.max(seen, commit.version, db.version);
          if (i === 10) {
            await db.sync();
            durable = db.durableVersion;
          }
        }
        await tick();
        disk.crash(crashModel, new SeededRandom(session * 31 + 7));
      }
    });
  }

  it('buffered: an empty session after a crash, closed cleanly, does not reset versions', async () => {
    let hits = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const disk = new SimDisk();
      const a = await open(disk.backend(), 'buffered', clocks());
      let seen = 0;
      for (let i = 0; i < 20; i++) {
        const c = await a.branch().kv.put(`k${i % 3}`, i);
        seen = Math.max(seen, c.version);
        if (i === 9) await a.sync();
      }
      await tick();
      disk.crash('strict', new SeededRandom(seed));
      const b = await open(disk.backend(), 'buffered', clocks());
      if (b.version < seen) hits++;
      await b.close();
      const c = await open(disk.backend(), 'buffered', clocks());
      const next = await c.branch().kv.put('x', 1);
      assert.ok(
        next.version > seen,
        `seed ${seed}: version ${next.version} reuses one seen before (${seen}); recovered ${b.version}`,
      );
      await c.close();
    }
    assert.ok(hits > 0, 'some crash lost acknowledged versions');
  });

  it('buffered: a session after a clean close whose commits are all lost does not let the next reuse them', async () => {
    let hits = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const disk = new SimDisk();
      const a = await open(disk.backend(), 'buffered', clocks());
      for (let i = 0; i < 5; i++) await a.branch().kv.put(`k${i}`, i);
      await a.close();
      // Session b inherits a durable reservation, so its commits are visible at once, unsynced.
      const b = await open(disk.backend(), 'buffered', clocks());
      let seen = 0;
      for (let i = 0; i < 8; i++) seen = (await b.branch().kv.put(`k${i % 3}`, `b${i}`)).version;
      await tick();
      disk.crash('strict', new SeededRandom(seed));
      const c = await open(disk.backend(), 'buffered', clocks());
      if (c.version < seen) hits++;
      const next = await c.branch().kv.put('x', 1);
      assert.ok(
        next.version > seen,
        `seed ${seed}: version ${next.version} reuses one seen before (${seen}); recovered ${c.version}`,
      );
      await c.close();
    }
    assert.ok(hits > 0, 'some crash lost acknowledged versions');
  });

  it('strict mode: versions strictly increase across crashes and reopen', async () => {
    const disk = new SimDisk();
    let last = 0;
    for (let session = 0; session < 5; session++) {
      const c = clocks();
      const db = await open(disk.backend(), 'strict', c, SMALL);
      assert.equal(db.version, last, `session ${session}: every acknowledged strict commit recovered`);
      const kv = db.branch().kv;
      for (let i = 0; i < 15; i++) {
        const commit = await kv.put(`k${i % 3}`, i);
        assert.ok(commit.version > last, `session ${session}: ${commit.version} > ${last}`);
        last = commit.version;
      }
      disk.crash(MODELS[session % MODELS.length]!, new SeededRandom(session));
    }
  });
});
