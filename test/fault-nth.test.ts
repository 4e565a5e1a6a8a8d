/**
 * Error paths (DESIGN.md, "How it is tested", item 2): fail the Nth backend operation of one phase
 * of a database's life, for N = 1, 2, 3, … until a whole pass injects nothing; fail once and fail
 * continuously; and a full disk.
 *
 * For every pass, the phase must either succeed or fail with a typed StrataError whose code is the
 * injected one (`io`, or `no_space` for a full disk) — never `corruption`, never an assertion or an
 * untyped error. Then the faults are cleared and the disk is judged two ways:
 * - A: power loss. The disk crashes under one of the four models and the database is reopened.
 * - B: process loss. A copy of the disk taken at the same moment (page cache intact) is reopened,
 *   written to, and only then crashed: whatever that intermediate recovery reported as recovered
 *   must survive the crash, which catches a recovery that trusts data a failed fsync dropped.
 * Each reopen must show a prefix of the issued commits (no gap, nothing never issued), holding
 * every commit that was acknowledged durable, and must accept writes again.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Strata } from '../src/api/index.js';
import { type FaultKind, SimDisk } from '../src/backend/index.js';
import {
  isStrataError,
  ManualClock,
  ManualScheduler,
  SeededRandom,
  type StrataError,
} from '../src/base/index.js';
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

interface Env {
  disk: SimDisk;
  clock: ManualClock;
  scheduler: ManualScheduler;
}

function envOf(disk: SimDisk): Env {
  const clock = new ManualClock();
  return { disk, clock, scheduler: new ManualScheduler(clock) };
}

interface Sizes {
  walSegmentBytes?: number;
  checkpointWalBytes?: number;
}

function openDb(env: Env, durability: Durability, sizes: Sizes = {}): Promise<Strata> {
  return Strata.open('db', {
    durability,
    backend: env.disk.backend(),
    clock: env.clock,
    scheduler: env.scheduler,
    ...sizes,
  });
}

/** Lets every chain of promises the simulated disk started run to its end. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Writes one more key and reads it back: the database accepts writes again. */
async function acceptsWrites(db: Strata, label: string): Promise<void> {
  const key = `after-${label.replace(/[^a-z0-9]+/gi, '-')}`;
  await db.branch().kv.put(key, label);
  assert.equal(db.branch().kv.get(key), label, `${label}: a write after recovery must read back`);
}

// ── the workload and what a failure must leave ───────────────────────────────────────────────

/**
 * After the first failed write in an open database: every later write is refused with the same
 * code and committed 'no', and reads keep returning the last visible state (the acknowledged
 * commits, nothing else).
 */
async function checkRefusesWrites(
  db: Strata,
  shadow: Shadow,
  first: StrataError,
  label: string,
): Promise<void> {
  const visible = (): number[] => [...presentCommits(db, label).keys()].sort((a, b) => a - b);
  const before = visible();
  assert.deepEqual(
    before,
    shadow.acknowledged(),
    `${label}: reads must show exactly the acknowledged commits`,
  );
  const version = db.version;
  const refused = await shadow.put(db.branch().kv, db.stats().durability);
  assert.ok(refused !== undefined, `${label}: a write after a failed one must be refused`);
  assert.equal(refused.code, first.code, `${label}: the refusal must repeat the failure's code`);
  assert.equal(refused.committed, 'no', `${label}: a refused write did not commit`);
  let compactError: unknown;
  try {
    const pending = db.compact();
    await pending;
  } catch (error) {
    compactError = error;
  }
  assert.ok(compactError !== undefined, `${label}: compact after a failed write must be refused`);
  assert.equal(expectTyped(compactError, `${label} compact`).code, first.code, `${label}: compact's code`);
  assert.equal(db.version, version, `${label}: refused writes must not move the version`);
  assert.deepEqual(visible(), before, `${label}: refused writes must not change what reads see`);
}

/**
 * Commits in rounds (single writes and batches of four concurrent ones); in buffered mode also
 * explicit syncs and periodic ones (the scheduler's timer). Stops at the first failure, after
 * checking that the database then refuses writes.
 */
async function commitWorkload(
  env: Env,
  db: Strata,
  shadow: Shadow,
  durability: Durability,
  rounds: number,
  kind: FaultKind | undefined,
  label: string,
): Promise<StrataError | undefined> {
  const kv = db.branch().kv;
  for (let r = 0; r < rounds; r++) {
    const width = r % 3 === 1 ? 4 : 1;
    const batch: Promise<StrataError | undefined>[] = [];
    for (let i = 0; i < width; i++) batch.push(shadow.put(kv, durability));
    let failure = (await Promise.all(batch)).find((e) => e !== undefined);
    if (failure === undefined && durability === 'buffered' && r % 4 === 3) {
      const through = shadow.count - 1;
      try {
        await db.sync();
        shadow.markDurable(through);
      } catch (error) {
        failure = expectTyped(error, `${label} sync`);
      }
    }
    if (failure === undefined && durability === 'buffered' && r % 5 === 4) {
      // The periodic sync: the timer is armed once the drain loop has written.
      await settle();
      env.scheduler.advance(100);
    }
    shadow.noteDurableVersion(db.durableVersion);
    if (failure !== undefined) {
      assert.ok(kind !== undefined, `${label}: a write failed with no fault injected: ${failure.message}`);
      expectInjected(failure, kind, `${label} round ${r}`);
      await checkRefusesWrites(db, shadow, failure, label);
      return failure;
    }
  }
  return undefined;
}

// ── the loop ─────────────────────────────────────────────────────────────────────────────────

/**
 * One phase: sets up a database without faults, calls `arm()` right before the part under test,
 * runs it, and handles every error it expects (through expectInjected). Returns the shadow of
 * every commit issued in the phase and its setup.
 */
type Phase = (env: Env, arm: () => void, kind: FaultKind, label: string) => Promise<Shadow>;

const passTotals = new Map<string, number>();

async function recoverAndCheck(env: Env, shadow: Shadow, required: number, label: string): Promise<number> {
  let db: Strata;
  try {
    db = await openDb(env, 'strict');
  } catch (error) {
    const e = expectTyped(error, `${label} reopen`);
    assert.fail(`${label}: reopening without faults failed with ${e.code}: ${e.message}`);
  }
  const count = checkPrefix(db, shadow, required, label);
  assert.equal(
    db.recovery.recoveredVersion,
    db.version,
    `${label}: recovery reports the version it opened at`,
  );
  await acceptsWrites(db, label);
  return count;
}

/** Runs `phase` for N = 1, 2, … until a pass injects nothing; returns the number of passes. */
async function failNthLoop(
  name: string,
  phase: Phase,
  kind: FaultKind,
  continuous: boolean,
): Promise<number> {
  for (let n = 1; n <= PASSES_MAX; n++) {
    const label = `${name} ${kind}${continuous ? ' continuous' : ''} N=${n}`;
    const env = envOf(new SimDisk());
    let baseline = -1;
    const arm = (): void => {
      assert.equal(baseline, -1, `${label}: arm once`);
      baseline = env.disk.faultsInjected;
      env.disk.setFaults({ failAt: n, kind, continuous });
    };
    const shadow = await phase(env, arm, kind, label);
    await settle();
    assert.notEqual(baseline, -1, `${label}: the phase must arm the faults`);
    const injected = env.disk.faultsInjected - baseline;
    env.disk.setFaults(undefined);
    const copy = env.disk.clone();

    // A: power loss right after the phase.
    const model = MODELS[n % MODELS.length]!;
    env.disk.crash(model, new SeededRandom(n * 7919 + KINDS.indexOf(kind)));
    await recoverAndCheck(env, shadow, shadow.requiredCount(), `${label} A(${model})`);

    // B: the process died; reopen from the page cache, write, then lose power.
    const envB = envOf(copy);
    const survived = await recoverAndCheck(envB, shadow, shadow.requiredCount(), `${label} B`);
    const modelB = MODELS[(n + 1) % MODELS.length]!;
    envB.disk.crash(modelB, new SeededRandom(n * 104729 + KINDS.indexOf(kind)));
    const envB2 = envOf(envB.disk);
    let db: Strata;
    try {
      db = await openDb(envB2, 'strict');
    } catch (error) {
      const e = expectTyped(error, `${label} B reopen`);
      assert.fail(`${label} B(${modelB}): reopening after the second crash failed: ${e.code}: ${e.message}`);
    }
    checkPrefix(db, shadow, survived, `${label} B(${modelB}): what the intermediate recovery opened with`);
    const afterKey = `after-${`${label} B`.replace(/[^a-z0-9]+/gi, '-')}`;
    assert.equal(
      db.branch().kv.get(afterKey),
      `${label} B`,
      `${label} B: its acknowledged strict write survives`,
    );
    await db.close();

    if (injected === 0) {
      passTotals.set(`${name} ${kind}${continuous ? ' continuous' : ''}`, n);
      return n;
    }
  }
  assert.fail(`${name}: still injecting faults after ${PASSES_MAX} passes`);
}

function describePhase(name: string, phase: Phase): void {
  describe(name, () => {
    for (const kind of KINDS) {
      for (const continuous of [false, true]) {
        it(`${kind}${continuous ? ', continuous' : ', once'}`, async (t) => {
          const passes = await failNthLoop(name, phase, kind, continuous);
          t.diagnostic(`${passes} passes`);
        });
      }
    }
  });
}

// ── the phases ───────────────────────────────────────────────────────────────────────────────

describePhase('open of a new database', async (env, arm, kind, label) => {
  arm();
  try {
    await openDb(env, 'strict');
  } catch (error) {
    expectInjected(error, kind, label);
  }
  return new Shadow();
});

/**
 * An existing database: a strict session with a checkpoint between commits and several WAL
 * segments, closed cleanly; then a buffered session, partly synced and abandoned (no close); and
 * a torn frame at the end of the newest segment. The phase is the recovery that opens it.
 */
describePhase('open and recovery of an existing database', async (env, arm, kind, label) => {
  const shadow = new Shadow();
  const sizes = { walSegmentBytes: 4096 };
  const first = await openDb(env, 'strict', sizes);
  assert.equal(await commitWorkload(env, first, shadow, 'strict', 5, undefined, label), undefined);
  await first.compact();
  assert.equal(await commitWorkload(env, first, shadow, 'strict', 5, undefined, label), undefined);
  await first.close();
  const second = await openDb(env, 'buffered', sizes);
  assert.equal(await commitWorkload(env, second, shadow, 'buffered', 7, undefined, label), undefined);
  await settle();
  // The buffered session is abandoned: its process died with its page cache intact.
  const disk = env.disk.clone();
  const raw = disk.backend();
  const segments = await raw.list('wal/');
  const newest = segments[segments.length - 1];
  assert.ok(newest !== undefined, `${label}: the database must have a WAL segment`);
  await raw.append(newest, new Uint8Array([200, 1, 0, 0, 7, 7, 7, 7, 9, 9, 9]));
  await raw.close();
  env.disk = disk;

  arm();
  let db: Strata | undefined;
  try {
    db = await openDb(env, 'strict', sizes);
  } catch (error) {
    expectInjected(error, kind, label);
  }
  if (db !== undefined) {
    // Recovery said it recovered (and synced) this much: all of it must survive a crash.
    const present = checkPrefix(db, shadow, shadow.requiredCount(), `${label} (faulted open)`);
    const issued = shadow.issued();
    if (present > 0) shadow.markDurable(issued[present - 1]!);
  }
  return shadow;
});

for (const durability of ['strict', 'buffered'] as const) {
  describePhase(`commits in ${durability} mode`, async (env, arm, kind, label) => {
    const shadow = new Shadow();
    const db = await openDb(env, durability, { walSegmentBytes: 4096, checkpointWalBytes: 4096 });
    assert.equal(await commitWorkload(env, db, shadow, durability, 2, undefined, label), undefined);
    arm();
    await commitWorkload(env, db, shadow, durability, 12, kind, label);
    return shadow;
  });
}

describePhase('checkpoint via compact', async (env, arm, kind, label) => {
  const shadow = new Shadow();
  const db = await openDb(env, 'strict', { walSegmentBytes: 4096 });
  assert.equal(await commitWorkload(env, db, shadow, 'strict', 5, undefined, label), undefined);
  await db.compact();
  assert.equal(await commitWorkload(env, db, shadow, 'strict', 5, undefined, label), undefined);
  arm();
  let failure: StrataError | undefined;
  try {
    await db.compact();
  } catch (error) {
    failure = expectInjected(error, kind, label);
  }
  if (failure !== undefined) await checkRefusesWrites(db, shadow, failure, label);
  return shadow;
});

for (const durability of ['strict', 'buffered'] as const) {
  describePhase(`close in ${durability} mode`, async (env, arm, kind, label) => {
    const shadow = new Shadow();
    const db = await openDb(env, durability);
    assert.equal(await commitWorkload(env, db, shadow, durability, 6, undefined, label), undefined);
    // The last commits are acknowledged but (in buffered mode) not yet synced: close must sync them.
    for (let i = 0; i < 3; i++) assert.equal(await shadow.put(db.branch().kv, durability), undefined, label);
    arm();
    try {
      await db.close();
      // Close syncs: once it resolves, everything acknowledged is durable.
      const acknowledged = shadow.acknowledged();
      const last = acknowledged[acknowledged.length - 1];
      if (last !== undefined) shadow.markDurable(last);
    } catch (error) {
      expectInjected(error, kind, label);
    }
    return shadow;
  });
}

// ── single scenarios ─────────────────────────────────────────────────────────────────────────

describe('failed writes in an open database', () => {
  it('a strict commit whose fsync failed rejects with committed unknown and stays invisible', async () => {
    const env = envOf(new SimDisk());
    const db = await openDb(env, 'strict');
    const kv = db.branch().kv;
    const ok = await kv.put('a', 1);
    env.disk.setFaults({ failAt: 1, kind: 'fsync' });
    let error: unknown;
    try {
      await kv.put('b', 2);
    } catch (e) {
      error = e;
    }
    const e = expectInjected(error, 'fsync', 'strict commit');
    assert.equal(e.committed, 'unknown', 'a strict commit whose fsync failed may or may not be on disk');
    assert.equal(kv.get('b'), undefined, 'the failed commit must not be visible');
    assert.equal(db.version, ok.version, 'the version must not move past the failed commit');
    assert.equal(kv.get('a'), 1, 'earlier commits stay readable');
    await assert.rejects(
      kv.put('c', 3),
      (x: unknown) => isStrataError(x, 'io') && x.committed === 'no',
      'refused',
    );
    assert.equal(env.disk.faultsInjected, 1, 'the database must not retry the failed fsync');
    env.disk.setFaults(undefined);
    await db.close();
    const again = await openDb(envOf(env.disk), 'strict');
    assert.equal(again.branch().kv.get('a'), 1, 'the acknowledged commit survives reopening');
    await again.branch().kv.put('d', 4);
    await again.close();
  });

  it('a buffered commit acknowledged before a failed periodic sync stays visible; writes are refused', async () => {
    const env = envOf(new SimDisk());
    const db = await openDb(env, 'buffered');
    const kv = db.branch().kv;
    await kv.put('a', 1); // The first buffered commit waits for the version reservation's sync.
    await kv.put('b', 2);
    assert.ok(db.durableVersion < db.version, 'the second commit is not yet synced');
    await settle(); // The drain loop writes the commit and arms the periodic sync.
    env.disk.setFaults({ failAt: 1, kind: 'fsync' });
    env.scheduler.advance(100);
    await settle();
    assert.equal(env.disk.faultsInjected, 1, 'the periodic sync ran and failed');
    assert.equal(kv.get('b'), 2, 'an acknowledged buffered commit stays visible');
    await assert.rejects(
      kv.put('c', 3),
      (x: unknown) => isStrataError(x, 'io') && x.committed === 'no',
      'refused',
    );
    await assert.rejects(db.sync(), (x: unknown) => isStrataError(x, 'io'), 'sync must report the failure');
    env.disk.setFaults(undefined);
    env.disk.crash('strict', new SeededRandom(1));
    const again = await openDb(envOf(env.disk), 'strict');
    assert.equal(again.branch().kv.get('a'), 1, 'the synced commit survives');
    assert.equal(again.branch().kv.get('c'), undefined, 'the refused commit never happened');
    await again.close();
  });
});

describe('close', () => {
  it('is durable: after a power loss the next session continues at the next version', async () => {
    for (const model of MODELS) {
      for (let seed = 1; seed <= 4; seed++) {
        const label = `close, then a ${model} crash (seed ${seed})`;
        const env = envOf(new SimDisk());
        const db = await openDb(env, 'buffered');
        for (let i = 0; i < 3; i++) await db.branch().kv.put(`k${i}`, i);
        // With every commit synced already, the close record is the only thing left to sync.
        if (seed % 2 === 0) await db.sync();
        await db.close();
        env.disk.crash(model, new SeededRandom(seed));
        const again = await openDb(envOf(env.disk), 'buffered');
        assert.equal(again.version, 3, `${label}: close synced every commit`);
        // Without a durable close record the session would have to start above the reservation.
        const c = await again.branch().kv.put('next', 1);
        assert.equal(c.version, 4, `${label}: the clean-close record must be durable`);
        await again.close();
      }
    }
  });

  it('rejects when acknowledged commits could not be made durable, and still releases the database', async () => {
    const env = envOf(new SimDisk());
    const db = await openDb(env, 'buffered');
    await db.branch().kv.put('a', 1);
    await db.branch().kv.put('b', 2);
    env.disk.setFaults({ failAt: 1, kind: 'fsync' });
    await assert.rejects(
      db.close(),
      (x: unknown) => isStrataError(x, 'io'),
      'close must report the lost sync',
    );
    env.disk.setFaults(undefined);
    const again = await openDb(envOf(env.disk), 'strict');
    assert.equal(again.branch().kv.get('a'), 1, 'the synced commit is there');
    await again.close();
  });
});

describe('disk full', () => {
  it('fills the disk: typed no_space, reads keep working, recoverable on a larger disk', async () => {
    const env = envOf(new SimDisk({ capacityBytes: 48 * 1024 }));
    const db = await openDb(env, 'strict', { walSegmentBytes: 8192, checkpointWalBytes: 16384 });
    const shadow = new Shadow();
    let failure: StrataError | undefined;
    for (let round = 0; round < 1000 && failure === undefined; round++) {
      failure = await shadow.put(db.branch().kv, 'strict');
    }
    assert.ok(failure !== undefined, 'a 48 KiB disk must fill up');
    assert.equal(
      failure.code,
      'no_space',
      `a full disk is no_space, got ${failure.code}: ${failure.message}`,
    );
    await settle();
    await checkRefusesWrites(db, shadow, failure, 'disk full');
    assert.ok(shadow.acknowledged().length > 10, 'many commits fit before the disk filled');

    // Reopening on the same full disk may fail, but only with a typed error.
    const full = env.disk.clone();
    try {
      const db2 = await openDb(envOf(full), 'strict');
      checkPrefix(db2, shadow, shadow.requiredCount(), 'disk full, reopened on the full disk');
      await db2.close();
    } catch (error) {
      assert.ok(
        isStrataError(error, 'no_space'),
        `reopening a full disk: ${error instanceof Error ? error.message : String(error)}`,
      );
    }

    // Move the files to a larger disk (as an operator would) and open there.
    env.disk.crash('ordered', new SeededRandom(5));
    const larger = new SimDisk({ capacityBytes: 1024 * 1024 });
    const from = env.disk.backend();
    const to = larger.backend();
    for (const name of await from.list('')) {
      const bytes = await from.read(name);
      assert.ok(bytes !== undefined, `${name} is listed, so it reads`);
      await to.write(name, bytes);
      await to.sync(name);
    }
    await from.close();
    await to.close();
    const envL = envOf(larger);
    const db3 = await openDb(envL, 'strict');
    checkPrefix(db3, shadow, shadow.requiredCount(), 'disk full, reopened on a larger disk');
    await acceptsWrites(db3, 'larger disk');
    await db3.close();
  });
});

after(() => {
  if (passTotals.size === 0) return;
  let total = 0;
  for (const [, n] of passTotals) total += n;
  console.log(`fault-nth: ${total} passes in ${passTotals.size} loops`);
  for (const [name, n] of passTotals) console.log(`  ${name}: N reached ${n}`);
});
