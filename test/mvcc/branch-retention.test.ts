/**
 * Retention with branches: the database's policy and per-branch overrides drop old versions in
 * compaction, but never the versions a live branch reads at its fork point (nor, since what a
 * branch keeps has no gaps, any newer one); a read of a point
 * older than what was kept fails with `history_unavailable` — never a silent wrong answer; and
 * once the child is deleted its fork point is no longer kept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type OpenOptions, Strata } from '../../src/api/index.js';
import { SimDisk } from '../../src/backend/index.js';
import { isStrataError, ManualClock } from '../../src/base/index.js';
import { nodeScheduler } from '../../src/node.js';

const TINY: NonNullable<OpenOptions['lsm']> = {
  memtableBytes: 2048,
  tableTargetBytes: 1024,
  blockBytes: 256,
  levelBaseBytes: 4096,
  levelMultiplier: 3,
  l0CompactionTrigger: 2,
  l0SlowdownTrigger: 6,
  l0StopTrigger: 8,
};

function open(options: Partial<OpenOptions> = {}, clock = new ManualClock(1_000_000)): Promise<Strata> {
  return Strata.open('retention', {
    backend: new SimDisk().backend(),
    clock,
    scheduler: nodeScheduler,
    lsm: TINY,
    ...options,
  });
}

const unavailable = (e: unknown): boolean => isStrataError(e, 'history_unavailable');

async function overwrite(db: Strata, b: ReturnType<Strata['branch']>, rounds: number): Promise<void> {
  for (let r = 1; r <= rounds; r++) {
    for (let i = 0; i < 20; i++)
      await b.kv.put(`k${String(i).padStart(2, '0')}`, `round ${r} ${'x'.repeat(40)}`);
    await db.compact();
  }
}

describe('retention with branches', () => {
  it('keepNewest drops old versions but keeps what a live child reads at its fork point', async () => {
    const db = await open({ retention: { keepNewest: 1 } });
    const main = db.branch();
    for (let i = 0; i < 20; i++) await main.kv.put(`k${String(i).padStart(2, '0')}`, `original ${i}`);
    const early = db.version;
    await main.kv.put('k00', 'second');
    const forkPoint = db.version;
    const child = await main.fork('child');
    await overwrite(db, main, 8);
    assert.ok(db.stats().tree.compactions > 3, 'compactions ran');
    const expected = Array.from({ length: 20 }, (_, i) => [
      `k${String(i).padStart(2, '0')}`,
      i === 0 ? 'second' : `original ${i}`,
    ]);
    assert.deepEqual([...child.kv.list()], expected, 'the child reads its fork point exactly');
    assert.deepEqual([...main.at(forkPoint).kv.list()], expected, 'so does the parent, as of that point');
    assert.throws(() => main.at(early).kv.get('k00'), unavailable, 'older points were dropped: unavailable');
    assert.throws(() => [...main.at(early).kv.list()], unavailable, 'an old list too');
    // Keeping the fork point keeps every newer version too (what a branch keeps has no gaps).
    assert.equal(main.at(forkPoint + 5).kv.get('k01'), `round 1 ${'x'.repeat(40)}`);
    assert.equal(main.kv.get('k05'), `round 8 ${'x'.repeat(40)}`, 'now is always there');
    await db.deleteBranch('child');
    await overwrite(db, main, 4);
    // Without the child nothing protects its fork point: a read there is exact while compaction
    // has not reached those versions yet, and unavailable once it has — never wrong.
    let gone = 0;
    for (let i = 0; i < 20; i++) {
      const k = `k${String(i).padStart(2, '0')}`;
      try {
        assert.equal(main.at(forkPoint).kv.get(k), i === 0 ? 'second' : `original ${i}`, k);
      } catch (error) {
        assert.ok(unavailable(error), `${k} as of ${forkPoint}: ${String(error)}`);
        gone++;
      }
    }
    assert.ok(gone > 0, 'compaction dropped some of what the child had kept');
    const kept = main.kv.history('k05').length;
    assert.ok(kept < 13, `history lists only what was kept (${kept} of 13 versions)`);
    await db.close();
  });

  it('a per-branch override applies to that branch only', async () => {
    const db = await open({ branchRetention: { scratch: { keepNewest: 1 } } });
    const main = db.branch();
    for (let i = 0; i < 20; i++) await main.kv.put(`k${String(i).padStart(2, '0')}`, 'base');
    const scratch = await main.fork('scratch');
    const before = db.version;
    await overwrite(db, scratch, 6);
    await overwrite(db, main, 6);
    assert.equal(main.at(before).kv.get('k03'), 'base', 'main keeps everything');
    assert.equal(main.kv.history('k03').length, 7);
    assert.throws(
      () => scratch.at(before + 25).kv.get('k03'),
      unavailable,
      "scratch's old versions are gone",
    );
    assert.equal(scratch.kv.get('k03'), `round 6 ${'x'.repeat(40)}`);
    await assert.rejects(
      () => open({ branchRetention: { scratch: { keepNewest: 0 } } }),
      (e: unknown) => isStrataError(e, 'invalid_argument'),
    );
    await db.close();
  });

  it('dropShadowedBefore: reads before the horizon are unavailable, after it exact', async () => {
    const clock = new ManualClock(1_000);
    const db = await open({ retention: { dropShadowedBefore: 2_500 } }, clock);
    const main = db.branch();
    const c1 = await main.kv.put('k', 'one');
    clock.advance(1_000);
    const c2 = await main.kv.put('k', 'two');
    clock.advance(1_000);
    await main.kv.put('k', 'three');
    for (let i = 0; i < 40; i++) await main.kv.put(`fill${i}`, 'x'.repeat(60));
    await db.compact();
    await db.compact();
    assert.throws(() => main.at(c1.version).kv.get('k'), unavailable);
    assert.equal(
      main.at(c2.version).kv.get('k'),
      'two',
      'the newest version at or before the horizon is kept',
    );
    assert.equal(main.at({ timestamp: 3_500 }).kv.get('k'), 'three');
    await db.close();
  });
});
