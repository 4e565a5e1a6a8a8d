/**
 * The graph's adjacency cache (src/engine/graph-cache.ts) against the storage path: every read
 * answered from the cache must equal, exactly and in order (errors included), what the storage
 * path returns at the same version. The storage path is a view at the current version
 * (`branch.at(db.version).graph`: views never use the cache). Random writes through every path
 * (single writes, transactions, merges, raw storage commits), forks, branch deletes, un-awaited
 * strict commits read before they are visible, reopens and crashes; plus targeted tests of the
 * registry: hits, the byte cap and eviction, 'auto' building, damaged rows.
 *
 * Replay a seed with STRATA_SEED=<n>; STRATA_DEEP=1 runs more seeds and longer sessions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Strata } from '../../src/api/index.js';
import { SimDisk } from '../../src/backend/index.js';
import { isStrataError, ManualClock, SeededRandom, utf8ToBinary } from '../../src/base/index.js';
import { GRAPH_CACHE_CALL_EXPANSIONS } from '../../src/engine/graph-cache.js';
import { GRAPH_TAG, inKey, outKey } from '../../src/engine/graph-keys.js';
import type { Graph } from '../../src/engine/index.js';
import { encodeValue } from '../../src/engine/value-codec.js';
import { nodeScheduler } from '../../src/node.js';
import { DEEP, seeds } from '../support/seeds.js';

const SEEDS = seeds([7, 8], [1, 2, 3, 4, 5, 6]);
const STEPS = DEEP ? 1500 : 500;

const IDS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'a\u0000x', 'é'];
const TYPES = ['knows', 'likes', 'k'];

/** The outcome of a read: its value, or its error's code and message. */
function outcome(read: () => unknown): unknown {
  try {
    return { ok: read() };
  } catch (error) {
    if (!isStrataError(error)) throw error;
    return { code: error.code, message: error.message };
  }
}

/** Random adjacency reads, each on the cached graph and the storage path; returns how many. */
function compareReads(cached: Graph, storage: Graph, rnd: SeededRandom, where: string, n = 4): void {
  for (let i = 0; i < n; i++) {
    const id = IDS[rnd.int(IDS.length)]!;
    const to = IDS[rnd.int(IDS.length)]!;
    const direction = (['out', 'in', 'both'] as const)[rnd.int(3)]!;
    const r = rnd.int(4);
    const type =
      r === 0
        ? TYPES[rnd.int(TYPES.length)]!
        : r === 1
          ? [TYPES[rnd.int(3)]!, 'zz', TYPES[rnd.int(3)]!]
          : undefined;
    const filter = { direction, ...(type === undefined ? {} : { type }) };
    const limit = rnd.int(3) === 0 ? { limit: rnd.int(4) } : {};
    const props = rnd.int(2) === 0 ? { props: false } : {};
    const maxNodes = rnd.int(3) === 0 ? { maxNodes: 1 + rnd.int(6) } : {};
    const maxDepth = rnd.int(2) === 0 ? { maxDepth: rnd.int(4) } : {};
    const weights = [{ weight: 'w', defaultWeight: 1 }, { weight: 'w' }, { weight: 'bad', defaultWeight: 2 }][
      rnd.int(3)
    ]!;
    const reads: [string, (g: Graph) => unknown][] = [
      ['neighbors', (g) => g.neighbors(id, { ...filter, ...limit, ...props })],
      ['traverse', (g) => g.traverse(id, { ...filter, ...maxNodes, ...maxDepth })],
      ['shortestPath', (g) => g.shortestPathWithCost(id, to, { ...filter, ...maxNodes, ...maxDepth })],
      ['weighted', (g) => g.shortestPathWithCost(id, to, { ...filter, ...weights, ...maxNodes })],
    ];
    for (const [name, read] of reads) {
      const want = outcome(() => read(storage));
      assert.deepEqual(
        outcome(() => read(cached)),
        want,
        `${where}: ${name} ${id}→${to} ${JSON.stringify(filter)}`,
      );
    }
  }
}

interface Counts {
  hits: number;
  pending: number;
  raw: number;
  merges: number;
  deletes: number;
  crashes: number;
}

async function runSeed(seed: number): Promise<Counts> {
  const rnd = new SeededRandom(seed);
  let disk = new SimDisk();
  const clock = new ManualClock(1_000_000);
  const open = async (): Promise<Strata> => {
    const db = await Strata.open('cache', {
      backend: disk.backend(),
      durability: 'strict',
      clock,
      scheduler: nodeScheduler,
    });
    db.branch().graph.configureCache({ mode: 'always' });
    return db;
  };
  let db = await open();
  const names = ['main'];
  const counts: Counts = { hits: 0, pending: 0, raw: 0, merges: 0, deletes: 0, crashes: 0 };
  const hitsNow = (): number => names.reduce((n, b) => n + db.branch(b).graph.cacheInfo().hits, 0);
  let forks = 0;
  const id = (): string => IDS[rnd.int(IDS.length)]!;
  const check = (b: string, where: string): void =>
    compareReads(db.branch(b).graph, db.branch(b).at(db.version).graph, rnd, `${where} on ${b}`);
  for (let step = 0; step < STEPS; step++) {
    const where = `seed ${seed}, step ${step}`;
    clock.advance(1);
    const b = names[rnd.int(names.length)]!;
    const g = db.branch(b).graph;
    const r = rnd.int(100);
    const swallow = (p: Promise<unknown>): Promise<unknown> => p.catch(() => undefined);
    if (r < 45) {
      // A burst of un-awaited single writes, read while they may still be pending.
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 1 + rnd.int(4); i++) {
        const k = rnd.int(10);
        const w = rnd.int(4) === 0 ? { w: 'heavy' } : rnd.int(5) === 0 ? {} : { w: rnd.int(5) };
        if (k < 3) writes.push(swallow(g.putNode(id(), { v: k })));
        else if (k < 8) writes.push(swallow(g.putEdge(id(), id(), TYPES[rnd.int(3)]!, w)));
        else if (k < 9) writes.push(swallow(g.deleteEdge(id(), id(), TYPES[rnd.int(3)]!)));
        else writes.push(swallow(g.deleteNode(id(), { cascade: rnd.int(2) === 0 })));
      }
      const visible = db.version;
      check(b, `${where} (writes in flight)`);
      await Promise.all(writes);
      // The writes became visible only now: the reads above ran while they were pending.
      if (db.version > visible) counts.pending++;
      check(b, where);
    } else if (r < 55) {
      await db
        .transaction(b, (tx) => {
          for (let i = 0; i < 3; i++) tx.graph.putNode(id(), {});
          const ids = [...tx.graph.nodes()].map((n) => n.id);
          for (let i = 0; i < 4 && ids.length > 0; i++)
            tx.graph.putEdge(ids[rnd.int(ids.length)]!, ids[rnd.int(ids.length)]!, TYPES[rnd.int(3)]!, {
              w: rnd.int(9),
            });
          if (rnd.int(4) === 0) tx.graph.deleteNode(ids[0]!, { cascade: true });
        })
        .catch(() => undefined);
      check(b, `${where} (after a transaction)`);
    } else if (r < 62) {
      // Raw storage commits: an edge's two rows, or (rarely) only one of them.
      const storage = g.storage;
      const base = g.keyspace + GRAPH_TAG;
      const [f, t, ty] = [utf8ToBinary(id()), utf8ToBinary(id()), TYPES[rnd.int(3)]!];
      const del = rnd.int(3) === 0;
      const ops = [
        { key: outKey(base, f, ty, t), value: del ? null : encodeValue({ w: rnd.int(5) }) },
        { key: inKey(base, f, ty, t), value: del ? null : new Uint8Array(0) },
      ];
      const one = rnd.int(2);
      await storage.commit(rnd.int(8) === 0 ? ops.slice(one, one + 1) : ops);
      counts.raw++;
      check(b, `${where} (after a raw commit)`);
    } else if (r < 68 && names.length < 5) {
      const name = `b${forks++}`;
      const past = rnd.int(3) === 0 ? { at: rnd.int(db.version + 1) } : {};
      await db.branch(b).fork(name, past);
      names.push(name);
      check(name, `${where} (new fork)`);
    } else if (r < 76 && names.length > 1) {
      const source = names[rnd.int(names.length)]!;
      if (source === b) continue;
      const strategy = (['strict', 'source-wins', 'target-wins'] as const)[rnd.int(3)]!;
      await db.branch(b).merge(source, { strategy });
      counts.merges++;
      check(b, `${where} (after a merge)`);
    } else if (r < 79 && names.length > 2) {
      const victim = names[1 + rnd.int(names.length - 1)]!;
      const before = db.branch(victim).graph;
      outcome(() => before.traverse('a'));
      counts.hits += before.cacheInfo().hits;
      await db.deleteBranch(victim).catch(() => undefined);
      names.splice(names.indexOf(victim), 1);
      await assert.rejects(
        async () => before.traverse('a'),
        (e: unknown) => isStrataError(e, 'not_found'),
        `${where}: reads of a deleted branch fail`,
      );
      assert.equal(before.cacheInfo().state, 'none', `${where}: a deleted branch's cache is dropped`);
      counts.deletes++;
    } else if (r < 81) {
      counts.hits += hitsNow();
      await db.close();
      db = await open();
      for (const n of names) check(n, `${where} (reopened)`);
    } else if (r < 83) {
      counts.hits += hitsNow();
      disk.crash('strict', new SeededRandom(seed * 1000 + step));
      await db.close().catch(() => undefined);
      counts.crashes++;
      db = await open();
      for (const n of names) check(n, `${where} (after a crash)`);
      const copy = new SimDisk();
      for (const name of await disk.backend().list('')) {
        const bytes = await disk.backend().read(name);
        if (bytes !== undefined) {
          await copy.backend().write(name, bytes);
          await copy.backend().sync(name);
        }
      }
      await db.close();
      disk = copy;
      db = await open();
    } else {
      check(b, where);
      // A view as of a past point reads storage and equals a view at the same point.
      const past = rnd.int(db.version + 1);
      const v = db.branch(b).at(past).graph;
      assert.deepEqual(
        outcome(() => v.traverse('a', { direction: 'both' })),
        outcome(() => db.branch(b).at(past).graph.traverse('a', { direction: 'both' })),
      );
    }
  }
  counts.hits += hitsNow();
  await db.close();
  return counts;
}

describe('graph adjacency cache against the storage path', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: every cached read equals the storage path's, through all write paths, forks, deletes, pending commits, reopens and crashes`, async (t) => {
      const c = await runSeed(seed);
      t.diagnostic(JSON.stringify(c));
      assert.ok(c.hits > 500, `reads were answered from the cache (${c.hits})`);
      assert.ok(c.raw > 0 && c.merges > 0 && c.crashes > 0, 'raw commits, merges and crashes ran');
      assert.ok(c.pending > 10, 'reads ran while strict commits were pending');
    });
  }
});

async function chain(db: Strata, n: number, branch = 'main'): Promise<void> {
  await db.transaction(branch, (tx) => {
    for (let i = 0; i < n; i++) tx.graph.putNode(`n${i}`, {});
    for (let i = 0; i + 1 < n; i++) tx.graph.putEdge(`n${i}`, `n${i + 1}`, 'next', { w: 1 });
  });
}

describe('graph adjacency cache registry', () => {
  it('follows every commit path: single writes, transactions, merges and raw storage commits', async () => {
    const db = await Strata.cache();
    const g = db.branch().graph;
    g.configureCache({ mode: 'always' });
    await chain(db, 4);
    assert.deepEqual(
      g.traverse('n0').map((s) => s.id),
      ['n0', 'n1', 'n2', 'n3'],
    );
    assert.equal(g.cacheInfo().state, 'ready');
    const hits0 = g.cacheInfo().hits;
    await g.putNode('x', {});
    await g.putEdge('n3', 'x', 'next');
    assert.deepEqual(
      g.traverse('n2').map((s) => s.id),
      ['n2', 'n3', 'x'],
      'a single write',
    );
    await db.transaction('main', (tx) => {
      tx.graph.putNode('y', {});
      tx.graph.putEdge('x', 'y', 'next');
    });
    assert.deepEqual(
      g.traverse('n3').map((s) => s.id),
      ['n3', 'x', 'y'],
      'a transaction',
    );
    await db.branch().fork('exp');
    const exp = db.branch('exp').graph;
    await exp.putNode('z', {});
    await exp.putEdge('y', 'z', 'next');
    assert.deepEqual(
      g.traverse('x').map((s) => s.id),
      ['x', 'y'],
      'a fork does not leak into its parent',
    );
    await db.branch().merge('exp');
    assert.deepEqual(
      g.traverse('x').map((s) => s.id),
      ['x', 'y', 'z'],
      'a merge',
    );
    const base = g.keyspace + GRAPH_TAG;
    await g.storage.commit([
      { key: outKey(base, 'z', 'next', 'n0'), value: encodeValue({}) },
      { key: inKey(base, 'z', 'next', 'n0'), value: new Uint8Array(0) },
    ]);
    assert.deepEqual(
      g.traverse('z').map((s) => s.id),
      ['z', 'n0', 'n1', 'n2', 'n3', 'x', 'y'],
      'a raw commit',
    );
    assert.deepEqual(g.neighbors('n0', { direction: 'in', props: false }), [
      { id: 'z', type: 'next', props: {}, direction: 'in' },
    ]);
    const info = g.cacheInfo();
    assert.equal(info.builds, 1, 'built once, then followed the commits');
    assert.ok(info.hits >= hits0 + 6, 'the reads were cache hits');
    assert.equal(info.version, db.version);
    await db.close();
    assert.equal(g.cacheInfo().state, 'none', 'closing drops the caches');
  });

  it('reads at now skip strict commits not yet visible, and see them once they are', async () => {
    const disk = new SimDisk();
    const db = await Strata.open('p', {
      backend: disk.backend(),
      durability: 'strict',
      scheduler: nodeScheduler,
    });
    const g = db.branch().graph;
    g.configureCache({ mode: 'always' });
    await chain(db, 3);
    assert.equal(g.traverse('n0').length, 3);
    const visible = db.version;
    const w1 = g.putNode('n3', {});
    const w2 = g.putEdge('n2', 'n3', 'next');
    assert.equal(db.version, visible, 'the writes are pending');
    assert.deepEqual(
      g.traverse('n0').map((s) => s.id),
      ['n0', 'n1', 'n2'],
    );
    assert.ok(g.cacheInfo().queued > 0, 'their deltas wait in the queue');
    await Promise.all([w1, w2]);
    assert.deepEqual(
      g.traverse('n0').map((s) => s.id),
      ['n0', 'n1', 'n2', 'n3'],
    );
    assert.equal(g.cacheInfo().queued, 0);
    await db.close();
  });

  it("'off' never builds; 'auto' builds once one call expands many nodes, with the same answer", async () => {
    const db = await Strata.cache();
    const g = db.branch().graph;
    const n = GRAPH_CACHE_CALL_EXPANSIONS + 500;
    await chain(db, n);
    g.configureCache({ mode: 'off' });
    const off = g.traverse('n0');
    assert.equal(off.length, n);
    assert.equal(g.cacheInfo().state, 'none');
    assert.equal(g.cacheInfo().hits, 0);
    g.configureCache({ mode: 'auto' });
    assert.deepEqual(g.traverse('n0', { maxDepth: 3 }).length, 4);
    assert.equal(g.cacheInfo().state, 'none', 'a small traverse does not build');
    assert.deepEqual(g.traverse('n0'), off, 'the large traverse builds and answers from the cache');
    assert.equal(g.cacheInfo().state, 'ready');
    assert.equal(g.cacheInfo().builds, 1);
    assert.deepEqual(g.shortestPathWithCost('n0', `n${n - 1}`, { weight: 'w' })?.cost, n - 1);
    assert.ok(g.cacheInfo().hits >= 2);
    await db.close();
  });

  it('keeps the estimated bytes under maxBytes: too large falls back to storage, LRU eviction', async () => {
    const db = await Strata.cache();
    const main = db.branch().graph;
    await chain(db, 300);
    await db.branch().fork('b');
    const b = db.branch('b').graph;
    main.configureCache({ mode: 'always', maxBytes: 1000 });
    assert.equal(main.traverse('n0').length, 300);
    assert.equal(main.cacheInfo().state, 'too_large');
    assert.equal(main.cacheInfo().hits, 0);
    main.configureCache({ maxBytes: 64 * 1024 * 1024 });
    main.traverse('n0');
    const one = main.cacheInfo().bytes;
    assert.ok(one > 300 * 8, `an estimate that counts the entries (${one})`);
    main.configureCache({ maxBytes: Math.floor(one * 1.5) });
    assert.equal(main.cacheInfo().state, 'ready', 'still fits');
    assert.equal(b.traverse('n0').length, 300);
    assert.equal(b.cacheInfo().state, 'ready', 'the newer cache');
    assert.equal(main.cacheInfo().state, 'none', 'the least recently used one was evicted');
    assert.ok(main.cacheInfo().totalBytes <= Math.floor(one * 1.5));
    await db.close();
  });

  it('a damaged adjacency key: the cache steps aside and the storage path reports corruption', async () => {
    const db = await Strata.cache();
    const g = db.branch().graph;
    g.configureCache({ mode: 'always' });
    await chain(db, 3);
    g.traverse('n0');
    const base = g.keyspace + GRAPH_TAG;
    await g.storage.commit([{ key: `${base}on0\x00\x01junk`, value: encodeValue({}) }]);
    assert.throws(
      () => g.traverse('n0'),
      (e: unknown) => isStrataError(e, 'corruption'),
    );
    assert.equal(g.cacheInfo().state, 'damaged');
    await db.close();
  });

  it('rejects bad settings with invalid_argument', async () => {
    const db = await Strata.cache();
    const g = db.branch().graph;
    assert.throws(
      () => g.configureCache({ mode: 'sometimes' as 'off' }),
      (e: unknown) => isStrataError(e, 'invalid_argument'),
    );
    assert.throws(
      () => g.configureCache({ maxBytes: -1 }),
      (e: unknown) => isStrataError(e, 'invalid_argument'),
    );
    assert.throws(
      () => g.configureCache(null as never),
      (e: unknown) => isStrataError(e, 'invalid_argument'),
    );
    await db.close();
  });
});
