/**
 * The races a branching engine gets wrong, seeded: a fork issued among writes still in flight and
 * beside flushes and compactions; compaction rewriting every row a child still needs; a branch
 * deleted while a child (and the branch itself) is being scanned; and a deleted branch — or a
 * fork — across crashes and recovery. Each seed replays exactly (STRATA_SEED=<n>).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type OpenOptions, Strata } from '../../src/api/index.js';
import { type CrashModel, SimDisk } from '../../src/backend/index.js';
import { isStrataError, ManualClock, SeededRandom } from '../../src/base/index.js';
import { nodeScheduler } from '../../src/node.js';

const DEEP = process.env.STRATA_DEEP === '1';
const SEEDS =
  process.env.STRATA_SEED !== undefined
    ? [Number(process.env.STRATA_SEED)]
    : Array.from({ length: DEEP ? 40 : 8 }, (_, i) => 100 + i);
const MODELS: readonly CrashModel[] = ['strict', 'ordered', 'weak', 'hostile'];

const TINY: NonNullable<OpenOptions['lsm']> = {
  memtableBytes: 2000,
  tableTargetBytes: 1000,
  blockBytes: 256,
  levelBaseBytes: 4000,
  levelMultiplier: 3,
  l0CompactionTrigger: 2,
  l0SlowdownTrigger: 4,
  l0StopTrigger: 6,
  sliceEntries: 5,
};

function openOn(disk: SimDisk, durability: 'strict' | 'buffered'): Promise<Strata> {
  return Strata.open('races', {
    backend: disk.backend(),
    durability,
    clock: new ManualClock(1_000_000),
    scheduler: nodeScheduler,
    lsm: TINY,
  });
}

/** Late forks lost to a crash, over all crash models (the ordered model keeps most). */
let lostForks = 0;

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** The newest value of each key among `writes` at or below `version`. */
function stateAt(
  writes: readonly { key: string; version: number; value: string }[],
  version: number,
): [string, string][] {
  const m = new Map<string, { version: number; value: string }>();
  for (const w of writes) {
    if (w.version > version) continue;
    const old = m.get(w.key);
    if (old === undefined || old.version < w.version) m.set(w.key, w);
  }
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.value]);
}

describe('branch races', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: a fork among writes in flight, flushes and compactions sees exactly the rows at its fork version`, async () => {
      const rnd = new SeededRandom(seed);
      const db = await openOn(new SimDisk(), rnd.int(2) === 0 ? 'strict' : 'buffered');
      const main = db.branch();
      const writes: { key: string; version: number; value: string }[] = [];
      const pending: Promise<unknown>[] = [];
      let fork: Promise<unknown> | undefined;
      const forkName = `child${seed}`;
      const forkAt = 20 + rnd.int(160);
      for (let i = 0; i < 200; i++) {
        const key = `k${rnd.int(30)}`;
        const value = `${i}:${'x'.repeat(rnd.int(60))}`;
        pending.push(main.kv.put(key, value).then((c) => writes.push({ key, version: c.version, value })));
        if (i === forkAt) {
          fork = main.fork(forkName);
          pending.push(fork);
        }
        if (rnd.int(25) === 0) pending.push(db.compact());
        if (rnd.int(4) === 0) await turn();
      }
      await Promise.all(pending);
      await db.settle();
      const info = db.branches().find((b) => b.name === forkName);
      assert.ok(info !== undefined, 'the fork landed');
      const child = db.branch(forkName);
      assert.deepEqual(
        [...child.kv.list()],
        stateAt(writes, info.forkVersion),
        'the child sees the parent as of its fork version',
      );
      assert.deepEqual([...main.kv.list()], stateAt(writes, db.version), 'the parent sees everything');
      await db.close();
    });
  }

  it('compaction rewriting every row keeps what a child needs at its fork point', async () => {
    const db = await openOn(new SimDisk(), 'buffered');
    const main = db.branch();
    for (let i = 0; i < 40; i++) await main.kv.put(`k${i}`, `original ${i}`);
    const child = await main.fork('child');
    const grandchild = await child.fork('grandchild');
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 40; i++) await main.kv.put(`k${i}`, `round ${round} ${i}`);
      for (let i = 0; i < 40; i += 7) await main.kv.delete(`k${i}`);
      await db.compact();
    }
    assert.ok(db.stats().tree.compactions >= 5, 'compactions ran');
    for (const b of [child, grandchild]) {
      const got = [...b.kv.list()];
      assert.equal(got.length, 40);
      for (const [k, v] of got) assert.equal(v, `original ${k.slice(1)}`);
    }
    await db.close();
  });

  it('deleting a branch while it and its child are being scanned: the scans finish with what they began with', async () => {
    const db = await openOn(new SimDisk(), 'buffered');
    const main = db.branch();
    for (let i = 0; i < 50; i++) await main.kv.put(`m${String(i).padStart(2, '0')}`, i);
    const parent = await main.fork('parent');
    for (let i = 0; i < 50; i++) await parent.kv.put(`p${String(i).padStart(2, '0')}`, i);
    const child = await parent.fork('child');
    await db.compact();
    const childScan = child.kv.list();
    const parentScan = parent.kv.list();
    const firstChild = [childScan.next().value, childScan.next().value];
    const firstParent = [parentScan.next().value];
    await db.deleteBranch('parent');
    for (let i = 0; i < 30; i++) await main.kv.put(`z${i}`, 'after');
    await db.compact();
    const restChild = [...childScan];
    const restParent = [...parentScan];
    assert.equal(firstChild.length + restChild.length, 100, 'the child scan saw every inherited key');
    assert.equal(
      firstParent.length + restParent.length,
      100,
      'the parent scan, begun before the delete, finished',
    );
    assert.throws(
      () => [...parent.kv.list()],
      (e: unknown) => isStrataError(e, 'not_found'),
      'a new scan of it fails',
    );
    assert.equal([...child.kv.list()].length, 100, 'the child still reads everything after the delete');
    await db.close();
  });

  for (const model of MODELS) {
    it(`${model} crash: a durable delete stays deleted; a fork and its writes survive as a prefix or not at all`, async () => {
      const rnd = new SeededRandom(7 + MODELS.indexOf(model));
      let lateSurvived = 0;
      let lateLost = 0;
      for (let trial = 0; trial < (DEEP ? 40 : 10); trial++) {
        const disk = new SimDisk();
        let db = await openOn(disk, 'buffered');
        const main = db.branch();
        for (let i = 0; i < 20; i++) await main.kv.put(`k${i}`, `main ${i}`);
        const doomed = await main.fork('doomed');
        for (let i = 0; i < 20; i++) await doomed.kv.put(`d${i}`, `doomed ${i}`);
        await db.sync();
        await db.deleteBranch('doomed');
        const syncDelete = rnd.int(2) === 0;
        if (syncDelete) await db.sync();
        // After the delete: a fork that may or may not become durable, with writes of its own.
        const late = await main.fork('late');
        const lateWrites = 5 + rnd.int(20);
        const syncAt = rnd.int(2) === 0 ? rnd.int(lateWrites) : -1;
        for (let i = 0; i < lateWrites; i++) {
          await late.kv.put(`l${String(i).padStart(2, '0')}`, `late ${i}`);
          if (i === syncAt) await db.sync();
        }
        disk.crash(model, new SeededRandom(trial * 31 + 5));
        await db.close().catch(() => undefined);
        db = await openOn(disk, 'buffered');
        const names = db.branches().map((b) => b.name);
        if (syncDelete)
          assert.ok(!names.includes('doomed'), `trial ${trial}: a synced delete does not come back`);
        if (names.includes('doomed')) {
          assert.equal(
            [...db.branch('doomed').kv.list({ prefix: 'd' })].length,
            20,
            'a branch that comes back has all its rows',
          );
        }
        if (syncAt >= 0) assert.ok(names.includes('late'), `trial ${trial}: a synced fork survives`);
        if (names.includes('late')) {
          lateSurvived++;
          const rows = [...db.branch('late').kv.list({ prefix: 'l' })];
          assert.ok(rows.length >= syncAt + 1, 'the synced writes of the late fork survive');
          for (const [i, [k]] of rows.entries())
            assert.equal(k, `l${String(i).padStart(2, '0')}`, 'the late fork keeps a prefix of its writes');
          assert.ok(!names.includes('doomed'), 'a fork after the delete implies the delete');
        } else {
          lateLost++;
          // Without the fork's record, none of its rows may be readable under a later fork of that id.
          const again = await db.branch().fork('late');
          assert.deepEqual(
            [...again.kv.list({ prefix: 'l' })],
            [],
            `trial ${trial}: no rows of a lost fork show up`,
          );
        }
        assert.deepEqual([...db.branch().kv.list()].length, 20, 'main intact');
        await db.close();
      }
      assert.ok(
        lateSurvived > 0,
        `a late fork survived at least once (${lateSurvived} kept, ${lateLost} lost)`,
      );
      lostForks += lateLost;
    });
  }

  it('across the crash models, some late forks were lost (so both outcomes were checked)', () => {
    assert.ok(lostForks > 0, `lost ${lostForks}`);
  });
});
