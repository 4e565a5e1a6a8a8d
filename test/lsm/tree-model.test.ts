/**
 * Model-based test of the log-structured tree through the public API: random puts, deletes,
 * reads, reads as of past versions and timestamps, history and scans, checked against a naive
 * model of every version, with memtables and tables so small that flushes and multi-level
 * compactions happen constantly. Reopens in between, so recovery reads tables too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type OpenOptions, Strata } from '../../src/api/index.js';
import { SimDisk } from '../../src/backend/index.js';
import { ManualClock, SeededRandom } from '../../src/base/index.js';
import { nodeScheduler } from '../../src/node.js';

interface ModelVersion {
  version: number;
  timestamp: number;
  value: string | null;
}

const TINY: NonNullable<OpenOptions['lsm']> = {
  memtableBytes: 3000,
  tableTargetBytes: 1500,
  blockBytes: 256,
  levelBaseBytes: 6000,
  levelMultiplier: 3,
  l0CompactionTrigger: 2,
  l0SlowdownTrigger: 4,
  l0StopTrigger: 6,
  blockCacheBytes: 8 * 1024,
  tableCacheBytes: 4 * 1024,
  sliceEntries: 7,
};

class Model {
  readonly keys = new Map<string, ModelVersion[]>();
  /** Every commit's (version, timestamp) in order. */
  readonly commits: { version: number; timestamp: number }[] = [];

  write(key: string, version: number, timestamp: number, value: string | null): void {
    let vs = this.keys.get(key);
    if (vs === undefined) {
      vs = [];
      this.keys.set(key, vs);
    }
    vs.unshift({ version, timestamp, value });
    this.commits.push({ version, timestamp });
  }

  at(key: string, version: number, timestamp = Number.POSITIVE_INFINITY): ModelVersion | undefined {
    return this.keys.get(key)?.find((v) => v.version <= version && v.timestamp <= timestamp);
  }

  history(key: string, version: number): ModelVersion[] {
    return (this.keys.get(key) ?? []).filter((v) => v.version <= version);
  }

  list(version: number, start: string, end: string, reverse: boolean, limit: number): [string, string][] {
    const out: [string, string][] = [];
    for (const key of [...this.keys.keys()].sort()) {
      if (key < start || key >= end) continue;
      const v = this.at(key, version);
      if (v !== undefined && v.value !== null) out.push([key, v.value]);
    }
    if (reverse) out.reverse();
    return out.slice(0, limit);
  }
}

function keyOf(rnd: SeededRandom): string {
  const n = rnd.int(120);
  // Keys that are prefixes of others, and a few long ones, to stress block and prefix encoding.
  const suffix = rnd.int(4) === 0 ? 'x' : rnd.int(20) === 0 ? 'y'.repeat(60) : '';
  return `k${String(n).padStart(3, '0')}${suffix}`;
}

async function runSeed(seed: number, steps: number): Promise<{ compactions: number; deepest: number }> {
  const rnd = new SeededRandom(seed);
  const disk = new SimDisk();
  const clock = new ManualClock(1_000_000);
  const open = (): Promise<Strata> =>
    Strata.open('model', {
      backend: disk.backend(),
      durability: 'buffered',
      clock,
      scheduler: nodeScheduler,
      lsm: TINY,
    });
  let db = await open();
  const model = new Model();
  let compactions = 0;
  let deepest = 0;
  const where = (step: number, what: string): string => `seed ${seed}, step ${step}: ${what}`;

  for (let step = 0; step < steps; step++) {
    const main = db.branch();
    const op = rnd.int(100);
    if (rnd.int(4) === 0) clock.advance(1 + rnd.int(5));
    if (op < 40) {
      const key = keyOf(rnd);
      const value = `v${step}-${'z'.repeat(rnd.int(40))}`;
      const c = await main.kv.put(key, value);
      model.write(key, c.version, c.timestamp, value);
    } else if (op < 50) {
      const key = keyOf(rnd);
      const had = model.at(key, db.version);
      const c = await main.kv.delete(key);
      assert.equal(c.deleted, had !== undefined && had.value !== null, where(step, `delete ${key}`));
      if (c.deleted) model.write(key, c.version, c.timestamp, null);
    } else if (op < 65) {
      const key = keyOf(rnd);
      const want = model.at(key, db.version);
      assert.deepEqual(main.kv.get(key), want?.value ?? undefined, where(step, `get ${key}`));
    } else if (op < 72) {
      if (model.commits.length === 0) continue;
      const c = model.commits[rnd.int(model.commits.length)]!;
      const key = keyOf(rnd);
      const byVersion = model.at(key, c.version);
      assert.deepEqual(
        main.at(c.version).kv.get(key),
        byVersion?.value ?? undefined,
        where(step, `get ${key} as of version ${c.version}`),
      );
      const byTime = model.at(key, db.version, c.timestamp);
      assert.deepEqual(
        main.at({ timestamp: c.timestamp }).kv.get(key),
        byTime?.value ?? undefined,
        where(step, `get ${key} as of time ${c.timestamp}`),
      );
    } else if (op < 78) {
      const key = keyOf(rnd);
      const at =
        model.commits.length === 0 ? db.version : model.commits[rnd.int(model.commits.length)]!.version;
      const got = main
        .at(at)
        .kv.history(key)
        .map((h) => ({ version: h.version, value: h.deleted ? null : (h.value as string) }));
      const want = model.history(key, at).map((v) => ({ version: v.version, value: v.value }));
      assert.deepEqual(got, want, where(step, `history ${key} at ${at}`));
    } else if (op < 90) {
      const a = keyOf(rnd);
      const b = keyOf(rnd);
      const [start, end] = a < b ? [a, b] : [b, a];
      const reverse = rnd.int(2) === 0;
      const limit = rnd.int(3) === 0 ? 5 : 1000;
      const at =
        rnd.int(2) === 0 || model.commits.length === 0
          ? db.version
          : model.commits[rnd.int(model.commits.length)]!.version;
      const got = [...main.at(at).kv.list({ start, end, reverse, limit })];
      assert.deepEqual(
        got,
        model.list(at, start, end, reverse, limit),
        where(step, `list [${start}, ${end}) reverse=${reverse} limit=${limit} at ${at}`),
      );
    } else if (op < 94) {
      await db.compact();
    } else if (op < 97) {
      await db.settle();
    } else {
      const before = db.stats().tree;
      compactions += before.compactions;
      await db.close();
      db = await open();
      assert.equal(db.recovery.health, 'clean', where(step, 'reopen is clean'));
      assert.equal(db.version, model.commits.at(-1)?.version ?? 0, where(step, 'reopen keeps every version'));
    }
    const levels = db.stats().tree.levels;
    for (const l of levels) if (l.tables > 0 && l.level > deepest) deepest = l.level;
  }
  // A full read of every key at the end, and of the whole range.
  await db.settle();
  const main = db.branch();
  for (const key of model.keys.keys()) {
    assert.deepEqual(
      main.kv.get(key),
      model.at(key, db.version)?.value ?? undefined,
      `seed ${seed}: final get ${key}`,
    );
  }
  assert.deepEqual(
    [...main.kv.list({})],
    model.list(db.version, '', '\uffff', false, 1e9),
    `seed ${seed}: final list`,
  );
  compactions += db.stats().tree.compactions;
  await db.close();
  return { compactions, deepest };
}

describe('LSM tree against a model', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: random operations with constant flushes and compactions`, async () => {
      const { compactions, deepest } = await runSeed(seed, 1500);
      assert.ok(compactions > 0, `compactions happened (${compactions})`);
      assert.ok(deepest >= 2, `tables reached at least L2 (deepest L${deepest})`);
    });
  }
});
