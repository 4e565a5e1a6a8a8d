/**
 * Cross-primitive atomicity: transactions that write KV, a JSON document, an event and graph
 * rows together land in one commit with one version, or not at all — also across crashes of
 * the simulated disk under every crash model (buffered and strict), where recovery must leave
 * every primitive at the same prefix of the committed transactions. Reads outside a transaction
 * see one version across primitives. Replay with STRATA_SEED=<n>.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Strata } from '../../src/api/index.js';
import { type CrashModel, SimDisk } from '../../src/backend/index.js';
import { ManualClock, SeededRandom } from '../../src/base/index.js';
import { nodeScheduler } from '../../src/node.js';
import type { Durability } from '../../src/storage/index.js';
import { DEEP, seeds } from '../support/seeds.js';
import { copyDisk } from '../support/sim.js';

const SEEDS = seeds([1, 2], [1, 2, 3, 4, 5, 6]);
const MODELS: readonly CrashModel[] = ['strict', 'ordered', 'weak', 'hostile'];
const STEPS = DEEP ? 300 : 80;

const TINY = {
  memtableBytes: 4000,
  tableTargetBytes: 2000,
  blockBytes: 256,
  levelBaseBytes: 8000,
  levelMultiplier: 3,
  l0CompactionTrigger: 2,
  l0SlowdownTrigger: 4,
  l0StopTrigger: 6,
  sliceEntries: 7,
};

async function openOn(disk: SimDisk, durability: Durability, clock: ManualClock): Promise<Strata> {
  return Strata.open('sim', {
    backend: disk.backend(),
    durability,
    clock,
    scheduler: nodeScheduler,
    lsm: TINY,
    compactionWorker: false,
  });
}

/** Step i of the session, as every primitive records it. */
function checkPrefix(db: Strata, where: string): number {
  const main = db.branch('main');
  const k = (main.kv.get('step') as number | undefined) ?? 0;
  const doc = main.json.get('task', '$') as { step: number; log: number[] } | undefined;
  assert.equal(doc?.step ?? 0, k, `${where}: the document is at step ${k}`);
  assert.deepEqual(
    doc?.log ?? [],
    Array.from({ length: k }, (_, i) => i + 1),
    `${where}: document log`,
  );
  const events = k === 0 ? [] : main.events.read('run', {});
  assert.equal(events.length, k, `${where}: one event per step`);
  for (const [i, e] of events.entries()) assert.deepEqual(e.data, { step: i + 1 }, `${where}: event ${i}`);
  if (k > 0) assert.equal(main.events.verify('run').ok, true, `${where}: chain intact`);
  for (let i = 1; i <= k; i++) assert.ok(main.graph.getNode(`s${i}`) !== undefined, `${where}: node s${i}`);
  assert.equal(main.graph.getNode(`s${k + 1}`), undefined, `${where}: no node past step ${k}`);
  if (k > 1)
    assert.deepEqual(
      main.graph.neighbors(`s${k - 1}`, { direction: 'out' }).map((n) => n.id),
      [`s${k}`],
      `${where}: edge to the last step`,
    );
  return k;
}

async function step(db: Strata, i: number): Promise<number> {
  const r = await db.transaction('main', (tx) => {
    tx.kv.put('step', i);
    if (i === 1) tx.json.set('task', '$', { step: 1, log: [1] });
    else {
      tx.json.set('task', '$.step', i);
      tx.json.set('task', `$.log[${i - 1}]`, i);
    }
    tx.events.append('run', 'step', { step: i });
    tx.graph.putNode(`s${i}`, { i });
    if (i > 1) tx.graph.putEdge(`s${i - 1}`, `s${i}`, 'next', {});
  });
  return r.version;
}

describe('cross-primitive transactions', () => {
  it('all writes of a transaction share one version; an aborted one leaves nothing anywhere', async () => {
    const db = await Strata.cache();
    const v = await step(db, 1);
    const main = db.branch('main');
    assert.equal(main.kv.getVersioned('step')?.version, v);
    assert.equal(main.json.history('task')[0]?.version, v);
    assert.equal(main.events.read('run', {})[0]?.version, v);
    assert.equal(main.graph.history('s1')[0]?.version, v);
    const before = db.version;
    await assert.rejects(
      db.transaction('main', (tx) => {
        tx.kv.put('step', 2);
        tx.json.set('task', '$.step', 2);
        tx.events.append('run', 'step', { step: 2 });
        tx.graph.putNode('s2', {});
        throw new Error('abort');
      }),
      /abort/,
    );
    assert.equal(db.version, before);
    checkPrefix(db, 'after the abort');
    await db.close();
  });

  for (const durability of ['buffered', 'strict'] as const) {
    for (const seed of SEEDS) {
      it(`${durability}, seed ${seed}: after a crash every primitive is at the same step`, async () => {
        const rnd = new SeededRandom(seed);
        const clock = new ManualClock(1_000);
        let disk = new SimDisk();
        let db = await openOn(disk, durability, clock);
        let acked = 0;
        let next = 1;
        let crashes = 0;
        for (let s = 0; s < STEPS; s++) {
          clock.advance(1 + rnd.int(5));
          const pending = step(db, next).then(() => {
            acked = Math.max(acked, next);
          });
          await pending;
          next++;
          if (rnd.int(20) === 0) {
            const model = MODELS[rnd.int(MODELS.length)]!;
            disk.crash(model, new SeededRandom(seed * 1000 + s));
            crashes++;
            await db.close().catch(() => undefined);
            disk = await copyDisk(disk);
            db = await openOn(disk, durability, clock);
            const k = checkPrefix(db, `seed ${seed} step ${s} after a ${model} crash`);
            if (durability === 'strict')
              assert.ok(k >= acked, `strict keeps every acknowledged step (${k} < ${acked})`);
            next = k + 1;
            acked = k;
          }
        }
        checkPrefix(db, 'at the end');
        assert.ok(crashes > 0, 'crashes happened');
        await db.close();
      });
    }
  }
});
