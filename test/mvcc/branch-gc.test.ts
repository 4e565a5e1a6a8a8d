/**
 * Rows of deleted branches are garbage once nothing can read them — the branch is deleted, the
 * delete is durable, and no live branch descends from it — and compaction then drops them (and
 * rewrites the tables that may hold them). Rows a live child still inherits are kept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type OpenOptions, Strata } from '../../src/api/index.js';
import { SimDisk } from '../../src/backend/index.js';
import { ManualClock } from '../../src/base/index.js';
import { nodeScheduler } from '../../src/node.js';

const TINY: NonNullable<OpenOptions['lsm']> = {
  memtableBytes: 8 * 1024,
  tableTargetBytes: 4 * 1024,
  blockBytes: 512,
  levelBaseBytes: 16 * 1024,
  levelMultiplier: 4,
  l0CompactionTrigger: 2,
  l0SlowdownTrigger: 6,
  l0StopTrigger: 8,
};

function open(disk: SimDisk): Promise<Strata> {
  return Strata.open('gc', {
    backend: disk.backend(),
    durability: 'buffered',
    clock: new ManualClock(1_000_000),
    scheduler: nodeScheduler,
    lsm: TINY,
  });
}

async function fill(b: ReturnType<Strata['branch']>, prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await b.kv.put(`${prefix}${String(i).padStart(4, '0')}`, `${prefix}:${'x'.repeat(200)}`);
}

async function collected(db: Strata): Promise<number> {
  await db.sync();
  await db.settle();
  return db.stats().tree.tableBytes;
}

describe('garbage of deleted branches', () => {
  it('compaction drops the rows of a deleted branch once nothing can read them', async () => {
    const db = await open(new SimDisk());
    const main = db.branch();
    await fill(main, 'm', 100);
    const big = await main.fork('big');
    await fill(big, 'b', 1000);
    await db.compact();
    const before = db.stats().tree.tableBytes;
    assert.ok(before > 200_000, `the branch's rows are in tables (${before} B)`);
    await db.deleteBranch('big');
    const after = await collected(db);
    assert.ok(after < before / 4, `table bytes fell from ${before} to ${after}`);
    assert.equal([...main.kv.list()].length, 100, 'main keeps all its rows');
    await db.close();
  });

  it('keeps what a live child inherits; collects it once the child goes too; works after a reopen', async () => {
    const disk = new SimDisk();
    let db = await open(disk);
    const main = db.branch();
    await fill(main, 'm', 50);
    const parent = await main.fork('parent');
    await fill(parent, 'p', 600);
    const child = await parent.fork('child');
    await fill(child, 'c', 10);
    await db.compact();
    const full = db.stats().tree.tableBytes;
    await db.deleteBranch('parent');
    const kept = await collected(db);
    assert.ok(kept > full * 0.8, `the child's inherited rows are kept (${kept} of ${full} B)`);
    assert.equal([...child.kv.list({ prefix: 'p' })].length, 600, 'the child reads everything it inherited');
    // Close before the child goes: the garbage is found again from the records when reopening.
    await db.deleteBranch('child');
    await db.sync();
    await db.close();
    db = await open(disk);
    const after = await collected(db);
    assert.ok(
      after < full / 4,
      `after the child's delete and a reopen, table bytes fell from ${full} to ${after}`,
    );
    assert.equal([...db.branch().kv.list()].length, 50);
    const again = await db.branch().fork('parent');
    assert.deepEqual(
      [...again.kv.list({ prefix: 'p' })],
      [],
      'a new branch of the name sees none of the old rows',
    );
    await db.close();
  });
});
