/**
 * A data set several times the memory budget, on the real file system: every key reads back
 * (point reads, a full scan, after a reopen); the process's RSS stays within the budget plus a
 * fixed overhead; and live memory (sampled after full collections) stays within the budget plus
 * a small overhead and does not grow with the data: twice the data holds no more. The figures
 * are reported in the test output (t.diagnostic).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Strata } from '../src/index.js';

const MiB = 1024 * 1024;
const BUDGET = 4 * MiB;
/**
 * What the process may hold beyond the budget: the V8 heap's own slack and garbage not yet
 * collected, the compaction worker's isolate, I/O buffers, the test's own arrays.
 */
const FIXED_OVERHEAD = 160 * MiB;
/** Live memory (after full collections) Strata may hold beyond the budget: code, maps, handles. */
const LIVE_OVERHEAD = 32 * MiB;
/** Twice the data may hold at most this much more live memory (noise, not growth). */
const GROWTH_SLACK = 12 * MiB;
const VALUE = 'v'.repeat(1000);

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

// A full collection on demand, so live memory can be told from garbage V8 has not yet collected.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Memory held by live objects: the V8 heap after a full collection, plus array buffers. */
function liveBytes(): number {
  collect();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const keyOf = (i: number): string => `user${String(Math.imul(i, 0x9e3779b1) >>> 0).padStart(10, '0')}`;
const valueAt = (i: number): string => `${i}:${VALUE}`;

interface Measured {
  records: number;
  userBytes: number;
  rssGrowth: number;
  rssPeak: number;
  /** Largest live memory over the base, sampled after full collections. */
  liveGrowth: number;
  tableBytes: number;
  levels: string;
}

async function fill(factor: number): Promise<Measured> {
  const root = await mkdtemp(join(tmpdir(), 'strata-memory-'));
  roots.push(root);
  const records = Math.ceil((factor * BUDGET) / (keyOf(0).length + valueAt(0).length));
  const liveBase = liveBytes();
  let live = 0;
  const sampleLive = (): void => {
    const l = liveBytes() - liveBase;
    if (process.env.STRATA_TRACE === '1') console.error('live', (l / MiB).toFixed(1));
    live = Math.max(live, l);
  };
  const before = process.memoryUsage.rss();
  let peak = before;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const db = await Strata.open(root, { memoryBudgetBytes: BUDGET });
  const kv = db.branch().kv;
  for (let i = 0; i < records; i++) {
    await kv.put(keyOf(i), valueAt(i));
    if ((i & 255) === 0) sample();
    if (i % 4096 === 4095) sampleLive();
  }
  await db.settle();
  sample();
  sampleLive();
  for (let i = 0; i < records; i++) {
    assert.equal(kv.get(keyOf(i)), valueAt(i), `key ${i}`);
    if ((i & 255) === 0) sample();
  }
  let listed = 0;
  let previous = '';
  for (const [k, v] of kv.list()) {
    assert.ok(k > previous, 'keys in order');
    previous = k;
    assert.equal(typeof v, 'string');
    listed++;
  }
  assert.equal(listed, records, 'a full scan returns every key once');
  sample();
  sampleLive();
  const t = db.stats().tree;
  assert.ok(t.tableBytes >= factor * BUDGET * 0.9, 'the data lives in tables, not in memory');
  assert.ok(t.levels.filter((l) => l.tables > 0).length >= 2, 'the data spans more than one level');
  await db.close();

  const again = await Strata.open(root, { memoryBudgetBytes: BUDGET });
  for (let i = 0; i < records; i += 7)
    assert.equal(again.branch().kv.get(keyOf(i)), valueAt(i), `key ${i} after reopen`);
  await again.close();
  return {
    records,
    userBytes: records * (keyOf(0).length + valueAt(0).length),
    rssGrowth: peak - before,
    rssPeak: peak,
    liveGrowth: live,
    tableBytes: t.tableBytes,
    levels: t.levels
      .filter((l) => l.tables > 0)
      .map((l) => `L${l.level} ${l.tables}`)
      .join(', '),
  };
}

describe('a data set many times the memory budget', () => {
  it('reads back every key, with RSS within the budget plus a fixed overhead, not growing with the data', async (t) => {
    const mib = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;
    const small = await fill(4.5);
    const large = await fill(9);
    for (const m of [small, large]) {
      t.diagnostic(
        `${m.records} keys, ${mib(m.userBytes)} of data (${(m.userBytes / BUDGET).toFixed(1)}× the ${mib(BUDGET)} budget), ` +
          `tables ${mib(m.tableBytes)} (${m.levels}); live memory ${mib(m.liveGrowth)}; peak RSS growth ${mib(m.rssGrowth)} ` +
          `(limit: budget + ${mib(FIXED_OVERHEAD)} = ${mib(BUDGET + FIXED_OVERHEAD)})`,
      );
      assert.ok(m.userBytes >= 4 * BUDGET, 'the data set is at least 4× the budget');
      assert.ok(
        m.rssGrowth <= BUDGET + FIXED_OVERHEAD,
        `peak RSS growth ${mib(m.rssGrowth)} exceeds the budget plus the fixed overhead`,
      );
    }
    // RSS also holds what V8 and the allocator keep after collecting (pages are not returned at
    // once), so whether memory follows the data is judged on live memory.
    t.diagnostic(
      `absolute peak RSS: ${mib(small.rssPeak)} with ${mib(small.userBytes)} of data, ${mib(large.rssPeak)} with ${mib(large.userBytes)} (same process, one after the other)`,
    );
    for (const m of [small, large]) {
      assert.ok(
        m.liveGrowth <= BUDGET + LIVE_OVERHEAD,
        `live memory ${mib(m.liveGrowth)} exceeds the budget + ${mib(LIVE_OVERHEAD)}`,
      );
    }
    assert.ok(
      large.liveGrowth <= small.liveGrowth + GROWTH_SLACK,
      `twice the data raised live memory from ${mib(small.liveGrowth)} to ${mib(large.liveGrowth)}`,
    );
  });
});
