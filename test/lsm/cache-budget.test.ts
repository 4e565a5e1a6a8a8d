/**
 * The table cache and the block cache share one budget: table indexes and filters come first
 * (up to all but a quarter of the block cache's share), data blocks get what they leave. So a
 * data set whose indexes outgrow the table cache's own share still keeps every index loaded,
 * and nothing is re-read per get; and what both caches hold never exceeds their shares together.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Strata } from '../../src/api/index.js';
import { SimDisk } from '../../src/backend/index.js';
import { ManualClock } from '../../src/base/index.js';
import { treeSizing } from '../../src/lsm/index.js';
import { nodeScheduler } from '../../src/node.js';

const BUDGET = 1024 * 1024;
const LSM = {
  memtableBytes: 64 * 1024,
  tableTargetBytes: 32 * 1024,
  blockBytes: 512,
  tableCacheBytes: 16 * 1024,
  blockCacheBytes: 512 * 1024,
};

describe('table and block caches share one budget', () => {
  it('keeps every index loaded once they outgrow the table cache share, within both shares together', async () => {
    const sizing = treeSizing(BUDGET, LSM);
    const db = await Strata.open('caches', {
      backend: new SimDisk().backend(),
      clock: new ManualClock(1_000_000),
      scheduler: nodeScheduler,
      memoryBudgetBytes: BUDGET,
      lsm: LSM,
    });
    const kv = db.branch().kv;
    const keyOf = (i: number): string => `key${String((i * 7919) % 6000).padStart(6, '0')}`;
    for (let i = 0; i < 6000; i++) await kv.put(keyOf(i), `${i}:${'x'.repeat(150)}`);
    await db.compact();
    for (let i = 0; i < 6000; i += 3) assert.equal(typeof kv.get(keyOf(i)), 'string');
    const t = db.stats().tree;
    assert.ok(
      t.tableCache.usedBytes > sizing.tableCacheBytes,
      `the indexes (${t.tableCache.usedBytes} B) outgrow the table cache's own share`,
    );
    assert.equal(t.tableCache.loaded, t.tables, 'every table keeps its index loaded');
    assert.equal(
      t.tableCache.capacityBytes,
      sizing.tableCacheBytes + Math.floor((sizing.blockCacheBytes * 3) / 4),
    );
    assert.equal(
      t.blockCache.capacityBytes,
      sizing.tableCacheBytes + sizing.blockCacheBytes - t.tableCache.usedBytes,
    );
    assert.ok(
      t.blockCache.usedBytes + t.tableCache.usedBytes <= sizing.tableCacheBytes + sizing.blockCacheBytes,
    );
    // A second pass over the same keys opens no table again.
    const loaded = t.tableCache.loaded;
    for (let i = 1; i < 6000; i += 3) assert.equal(typeof kv.get(keyOf(i)), 'string');
    assert.equal(db.stats().tree.tableCache.loaded, loaded);
    await db.close();
  });
});
