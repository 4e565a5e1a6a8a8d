/**
 * The graph API through `Strata` and `Branch`, on an in-memory database and a durable one on a
 * MemoryBackend: every method, reads as of the past, transactions mixing graph and KV, and bad
 * input for every public method — a typed StrataError, and nothing changed (db.version and the
 * graph as they were).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Strata } from '../../src/api/index.js';
import { MemoryBackend } from '../../src/backend/index.js';
import {
  type ErrorCode,
  isStrataError,
  KEY_SIZE_BYTES_MAX,
  ManualClock,
  ManualScheduler,
  VALUE_SIZE_BYTES_MAX,
} from '../../src/base/index.js';

const CONFIGS: [string, () => Promise<Strata>][] = [
  [
    'Strata.cache()',
    () => Strata.cache({ clock: new ManualClock(1_000), scheduler: new ManualScheduler(new ManualClock()) }),
  ],
  [
    'durable (strict) on a MemoryBackend',
    () => {
      const clock = new ManualClock(1_000);
      return Strata.open('memory', {
        backend: new MemoryBackend(),
        durability: 'strict',
        clock,
        scheduler: new ManualScheduler(clock),
      });
    },
  ],
];

function isCode(code: ErrorCode, what: string) {
  return (e: unknown): boolean => {
    assert.ok(isStrataError(e, code), `${what}: expected '${code}', got ${String(e)}`);
    return true;
  };
}

/** A snapshot of the whole graph, to show a refused call changed nothing. */
function snapshot(db: Strata): unknown {
  const g = db.branch('main').graph;
  return { version: db.version, nodes: [...g.nodes()], edges: [...g.edges()] };
}

async function seed(db: Strata): Promise<void> {
  const g = db.branch('main').graph;
  await g.putNode('alice', { kind: 'person' });
  await g.putNode('bob', { kind: 'person' });
  await g.putNode('acme', { kind: 'company' });
  await g.putEdge('alice', 'acme', 'works_at', { since: 2024 });
  await g.putEdge('bob', 'acme', 'works_at', { since: 2020 });
  await g.putEdge('alice', 'bob', 'knows', { cost: 5 });
}

for (const [label, open] of CONFIGS) {
  describe(`graph API: ${label}`, () => {
    it('puts, gets and lists nodes and edges', async () => {
      const db = await open();
      await seed(db);
      const g = db.branch('main').graph;
      assert.deepEqual(g.getNode('alice'), { kind: 'person' });
      assert.equal(g.getNode('carol'), undefined);
      assert.equal(g.hasNode('acme'), true);
      assert.deepEqual(g.getEdge('alice', 'acme', 'works_at'), { since: 2024 });
      assert.equal(g.getEdge('acme', 'alice', 'works_at'), undefined);
      assert.deepEqual(
        [...g.nodes()].map((n) => n.id),
        ['acme', 'alice', 'bob'],
      );
      assert.deepEqual(
        [...g.nodes({ prefix: 'a', limit: 1 })].map((n) => n.id),
        ['acme'],
      );
      assert.deepEqual(
        [...g.edges({ from: 'alice' })].map((e) => `${e.from}-${e.type}-${e.to}`),
        ['alice-knows-bob', 'alice-works_at-acme'],
      );
      assert.deepEqual(
        [...g.edges({ type: 'works_at' })].map((e) => e.from),
        ['alice', 'bob'],
      );
      // Replacing an edge's props keeps one edge.
      await g.putEdge('alice', 'acme', 'works_at', { since: 2025 });
      assert.equal([...g.edges({ from: 'alice', type: 'works_at' })].length, 1);
      assert.deepEqual(g.getEdge('alice', 'acme', 'works_at'), { since: 2025 });
      // Unicode and 0x00 in ids round-trip.
      await g.putNode('ü\x00x', {});
      await g.putEdge('ü\x00x', 'ü\x00x', 'self', {});
      assert.deepEqual(
        g.neighbors('ü\x00x', { direction: 'both', props: false }).map((n) => n.id),
        ['ü\x00x', 'ü\x00x'],
      );
      assert.deepEqual(
        [...g.nodes({ prefix: 'ü\x00' })].map((n) => n.id),
        ['ü\x00x'],
      );
      await db.close();
    });

    it('neighbors by direction and type', async () => {
      const db = await open();
      await seed(db);
      const g = db.branch('main').graph;
      assert.deepEqual(g.neighbors('alice', { direction: 'out', type: 'works_at' }), [
        { id: 'acme', type: 'works_at', props: { since: 2024 }, direction: 'out' },
      ]);
      assert.deepEqual(g.neighbors('acme', { direction: 'in' }), [
        { id: 'alice', type: 'works_at', props: { since: 2024 }, direction: 'in' },
        { id: 'bob', type: 'works_at', props: { since: 2020 }, direction: 'in' },
      ]);
      assert.deepEqual(
        g.neighbors('bob', { direction: 'both' }).map((n) => `${n.direction}:${n.id}`),
        ['out:acme', 'in:alice'],
      );
      assert.deepEqual(g.neighbors('acme'), []);
      assert.deepEqual(g.neighbors('acme', { direction: 'in', limit: 1, props: false }), [
        { id: 'alice', type: 'works_at', props: {}, direction: 'in' },
      ]);
      assert.deepEqual(
        g.neighbors('alice', { type: ['knows', 'works_at'] }).map((n) => n.id),
        ['bob', 'acme'],
      );
      await db.close();
    });

    it('traverse and shortest paths, unweighted and weighted', async () => {
      const db = await open();
      const g = db.branch('main').graph;
      for (const n of ['a', 'b', 'c', 'd', 'e']) await g.putNode(n);
      await g.putEdge('a', 'b', 'r', { cost: 1 });
      await g.putEdge('b', 'c', 'r', { cost: 1 });
      await g.putEdge('a', 'c', 'r', { cost: 5 });
      await g.putEdge('c', 'd', 'r', { cost: 1 });
      assert.deepEqual(g.traverse('a'), [
        { id: 'a', depth: 0 },
        { id: 'b', depth: 1 },
        { id: 'c', depth: 1 },
        { id: 'd', depth: 2 },
      ]);
      assert.deepEqual(
        g.traverse('a', { maxDepth: 1 }).map((s) => s.id),
        ['a', 'b', 'c'],
      );
      assert.deepEqual(
        g.traverse('a', { maxNodes: 2 }).map((s) => s.id),
        ['a', 'b'],
      );
      assert.deepEqual(
        g.traverse('d', { direction: 'in' }).map((s) => s.id),
        ['d', 'c', 'a', 'b'],
      );
      assert.deepEqual(g.shortestPath('a', 'd'), ['a', 'c', 'd']);
      assert.deepEqual(g.shortestPath('a', 'd', { weight: 'cost' }), ['a', 'b', 'c', 'd']);
      assert.deepEqual(g.shortestPathWithCost('a', 'd', { weight: 'cost' }), {
        path: ['a', 'b', 'c', 'd'],
        cost: 3,
      });
      assert.equal(g.shortestPath('d', 'a'), undefined);
      assert.deepEqual(g.shortestPath('d', 'a', { direction: 'in' }), ['d', 'c', 'a']);
      assert.deepEqual(g.shortestPath('a', 'a'), ['a']);
      assert.equal(g.shortestPath('a', 'e'), undefined);
      assert.equal(g.shortestPath('a', 'd', { maxDepth: 1 }), undefined);
      await db.close();
    });

    it('bad weights: negative, non-numeric or missing → invalid_argument', async () => {
      const db = await open();
      const g = db.branch('main').graph;
      for (const n of ['a', 'b', 'c']) await g.putNode(n);
      await g.putEdge('a', 'b', 'r', { cost: -1 });
      await g.putEdge('b', 'c', 'r', { cost: 'x' });
      await g.putEdge('a', 'c', 'q', {});
      assert.throws(
        () => g.shortestPath('a', 'c', { weight: 'cost', type: 'r' }),
        isCode('invalid_argument', 'negative'),
      );
      assert.throws(
        () => g.shortestPath('a', 'c', { weight: 'cost', type: 'q' }),
        isCode('invalid_argument', 'missing'),
      );
      assert.deepEqual(g.shortestPath('a', 'c', { weight: 'cost', type: 'q', defaultWeight: 2 }), ['a', 'c']);
      await g.putEdge('a', 'b', 'r', { cost: 1 });
      assert.throws(
        () => g.shortestPath('a', 'c', { weight: 'cost', type: 'r' }),
        isCode('invalid_argument', 'string'),
      );
      await db.close();
    });

    it('deleteNode refuses while edges remain, cascades on request; deleteEdge', async () => {
      const db = await open();
      await seed(db);
      const g = db.branch('main').graph;
      const before = snapshot(db);
      await assert.rejects(g.deleteNode('acme'), isCode('conflict', 'refuse'));
      assert.deepEqual(snapshot(db), before, 'a refused deleteNode changes nothing');
      const d = await g.deleteNode('acme', { cascade: true });
      assert.equal(d.deleted, true);
      assert.equal(d.edgesDeleted, 2);
      assert.equal(g.hasNode('acme'), false);
      assert.deepEqual(
        g.neighbors('alice').map((n) => n.id),
        ['bob'],
      );
      assert.deepEqual(
        g.neighbors('bob', { direction: 'both' }).map((n) => n.id),
        ['alice'],
      );
      const v = db.version;
      assert.equal((await g.deleteNode('acme')).deleted, false);
      assert.equal(db.version, v, 'deleting a missing node commits nothing');
      assert.equal((await g.deleteEdge('alice', 'bob', 'knows')).deleted, true);
      assert.equal((await g.deleteEdge('alice', 'bob', 'knows')).deleted, false);
      assert.deepEqual((await g.deleteNode('alice')).deleted, true);
      await db.close();
    });

    it('history and reads as of the past', async () => {
      const db = await open();
      const main = db.branch('main');
      const c1 = await main.graph.putNode('n', { v: 1 });
      await main.graph.putNode('m', { v: 0 });
      const c2 = await main.graph.putEdge('n', 'm', 'r', { w: 1 });
      await main.graph.putNode('n', { v: 2 });
      await main.graph.deleteNode('n', { cascade: true });
      assert.deepEqual(
        main.graph.history('n').map((h) => [h.deleted, h.props]),
        [
          [true, undefined],
          [false, { v: 2 }],
          [false, { v: 1 }],
        ],
      );
      const past = main.at(c2.version).graph;
      assert.deepEqual(past.getNode('n'), { v: 1 });
      assert.deepEqual(
        past.neighbors('n').map((x) => x.id),
        ['m'],
      );
      assert.deepEqual(
        main
          .at(c1.version)
          .graph.traverse('n')
          .map((x) => x.id),
        ['n'],
      );
      await assert.rejects(past.putNode('x'), isCode('read_only', 'view'));
      await assert.rejects(past.putEdge('n', 'm', 'r'), isCode('read_only', 'view'));
      await assert.rejects(past.deleteNode('n'), isCode('read_only', 'view'));
      await assert.rejects(past.deleteEdge('n', 'm', 'r'), isCode('read_only', 'view'));
      await db.close();
    });

    it('transactions mix graph and KV atomically; an aborted one leaves nothing', async () => {
      const db = await open();
      await seed(db);
      await db.transaction('main', (tx) => {
        tx.graph.putNode('carol', { kind: 'person' });
        tx.graph.putEdge('carol', 'acme', 'works_at', { since: 2026 });
        assert.deepEqual(
          tx.graph.neighbors('carol').map((n) => n.id),
          ['acme'],
          'reads its own writes',
        );
        assert.equal(tx.graph.deleteNode('bob', { cascade: true }).edgesDeleted, 2);
        tx.kv.put('hired', 'carol');
      });
      const g = db.branch('main').graph;
      assert.deepEqual(
        g.neighbors('acme', { direction: 'in' }).map((n) => n.id),
        ['alice', 'carol'],
      );
      assert.equal(db.branch('main').kv.get('hired'), 'carol');
      const before = snapshot(db);
      await assert.rejects(
        db.transaction('main', (tx) => {
          tx.kv.put('hired', 'dave');
          tx.graph.putNode('dave');
          tx.graph.putEdge('dave', 'nobody', 'knows');
        }),
        isCode('not_found', 'tx putEdge to a missing node'),
      );
      assert.deepEqual(snapshot(db), before, 'an aborted transaction leaves nothing');
      assert.equal(db.branch('main').kv.get('hired'), 'carol');
      await db.close();
    });

    it('diff and merge between branches', async () => {
      const db = await open();
      await seed(db);
      const main = db.branch('main');
      const exp = await main.fork('exp');
      await exp.graph.putNode('dave', { kind: 'person' });
      await exp.graph.putEdge('dave', 'acme', 'works_at', {});
      await exp.graph.putNode('bob', { kind: 'robot' });
      await exp.graph.deleteEdge('alice', 'bob', 'knows');
      const d = main.diff('exp').graph;
      assert.deepEqual(d.nodes.added, [{ id: 'dave', props: { kind: 'person' } }]);
      assert.deepEqual(d.nodes.changed, [
        { id: 'bob', before: { kind: 'person' }, after: { kind: 'robot' } },
      ]);
      assert.deepEqual(d.edges.added, [{ from: 'dave', type: 'works_at', to: 'acme', props: {} }]);
      assert.deepEqual(d.edges.removed, [{ from: 'alice', type: 'knows', to: 'bob', props: { cost: 5 } }]);
      // The target deletes acme: dave's edge would dangle.
      await main.graph.deleteNode('acme', { cascade: true });
      const before = snapshot(db);
      const strict = await main.merge('exp');
      assert.deepEqual(
        strict.conflicts.map((c) => [c.key, c.reason !== undefined]),
        [['dave -[works_at]-> acme', true]],
      );
      assert.deepEqual(snapshot(db), before, 'strict with conflicts changes nothing');
      const tw = await main.fork('tw');
      await tw.merge('exp', { strategy: 'target-wins' });
      assert.equal(tw.graph.hasNode('acme'), false);
      assert.equal(tw.graph.hasNode('dave'), true);
      assert.deepEqual(tw.graph.neighbors('dave'), [], 'target-wins leaves the dangling edge out');
      const sw = await main.fork('sw');
      await sw.merge('exp', { strategy: 'source-wins' });
      assert.deepEqual(sw.graph.getNode('acme'), { kind: 'company' }, 'source-wins re-creates the node');
      assert.deepEqual(
        sw.graph.neighbors('dave').map((n) => n.id),
        ['acme'],
      );
      await db.close();
    });

    it('bad input: a typed error, and nothing changed', async () => {
      const db = await open();
      await seed(db);
      const g = db.branch('main').graph;
      const before = snapshot(db);
      const big = { x: 'y'.repeat(VALUE_SIZE_BYTES_MAX) };
      const longId = 'x'.repeat(KEY_SIZE_BYTES_MAX + 1);
      const badIds: unknown[] = [undefined, null, 1, '', longId, '\ud800', {}];
      for (const id of badIds) {
        await assert.rejects(g.putNode(id as string), isCode('invalid_argument', `putNode(${String(id)})`));
        await assert.rejects(g.putEdge(id as string, 'bob', 'k'), isCode('invalid_argument', 'putEdge from'));
        await assert.rejects(g.putEdge('alice', id as string, 'k'), isCode('invalid_argument', 'putEdge to'));
        await assert.rejects(
          g.putEdge('alice', 'bob', id as string),
          isCode('invalid_argument', 'putEdge type'),
        );
        await assert.rejects(g.deleteNode(id as string), isCode('invalid_argument', 'deleteNode'));
        await assert.rejects(
          g.deleteEdge(id as string, 'bob', 'k'),
          isCode('invalid_argument', 'deleteEdge'),
        );
        assert.throws(() => g.getNode(id as string), isCode('invalid_argument', 'getNode'));
        assert.throws(() => g.getEdge('alice', id as string, 'k'), isCode('invalid_argument', 'getEdge'));
        assert.throws(() => g.neighbors(id as string), isCode('invalid_argument', 'neighbors'));
        assert.throws(() => g.traverse(id as string), isCode('invalid_argument', 'traverse'));
        assert.throws(
          () => g.shortestPath('alice', id as string),
          isCode('invalid_argument', 'shortestPath'),
        );
        assert.throws(() => g.history(id as string), isCode('invalid_argument', 'history'));
      }
      for (const props of [null, 5, 'x', [1], new Uint8Array(1), { f: () => 1 }, { u: undefined }, big]) {
        await assert.rejects(
          g.putNode('carol', props as never),
          isCode('invalid_argument', `props ${String(props)}`),
        );
        await assert.rejects(
          g.putEdge('alice', 'bob', 'k', props as never),
          isCode('invalid_argument', 'edge props'),
        );
      }
      // Unknown nodes.
      await assert.rejects(
        g.putEdge('alice', 'nobody', 'knows'),
        isCode('not_found', 'putEdge to a missing node'),
      );
      await assert.rejects(
        g.putEdge('nobody', 'alice', 'knows'),
        isCode('not_found', 'putEdge from a missing node'),
      );
      assert.throws(() => g.neighbors('nobody'), isCode('not_found', 'neighbors'));
      assert.throws(() => g.traverse('nobody'), isCode('not_found', 'traverse'));
      assert.throws(() => g.shortestPath('alice', 'nobody'), isCode('not_found', 'shortestPath'));
      // Bad options.
      const badOptions: [string, () => unknown][] = [
        ['direction', () => g.neighbors('alice', { direction: 'up' as never })],
        ['options type', () => g.neighbors('alice', 5 as never)],
        ['type array empty', () => g.neighbors('alice', { type: [] })],
        ['type number', () => g.neighbors('alice', { type: 3 as never })],
        [
          'type too many',
          () => g.neighbors('alice', { type: Array.from({ length: 65 }, (_, i) => `t${i}`) }),
        ],
        ['limit', () => g.neighbors('alice', { limit: -1 })],
        ['props flag', () => g.neighbors('alice', { props: 'no' as never })],
        ['maxDepth', () => g.traverse('alice', { maxDepth: 1.5 })],
        ['maxNodes 0', () => g.traverse('alice', { maxNodes: 0 })],
        ['maxNodes huge', () => g.traverse('alice', { maxNodes: 1e12 })],
        ['traverse direction', () => g.traverse('alice', { direction: 'sideways' as never })],
        ['weight', () => g.shortestPath('alice', 'bob', { weight: '' })],
        ['defaultWeight alone', () => g.shortestPath('alice', 'bob', { defaultWeight: 1 })],
        ['defaultWeight negative', () => g.shortestPath('alice', 'bob', { weight: 'c', defaultWeight: -1 })],
        ['nodes limit', () => g.nodes({ limit: 'x' as never })],
        ['nodes prefix', () => g.nodes({ prefix: 5 as never })],
        ['edges from', () => g.edges({ from: '' })],
        ['edges type', () => g.edges({ type: 7 as never })],
      ];
      for (const [what, fn] of badOptions) assert.throws(fn, isCode('invalid_argument', what));
      await assert.rejects(
        g.deleteNode('alice', { cascade: 'yes' as never }),
        isCode('invalid_argument', 'cascade'),
      );
      await assert.rejects(
        g.deleteNode('alice', 7 as never),
        isCode('invalid_argument', 'deleteNode options'),
      );
      // A path search past maxNodes fails rather than answering "no path".
      assert.throws(
        () => g.shortestPath('alice', 'acme', { maxNodes: 1 }),
        isCode('invalid_argument', 'maxNodes'),
      );
      // In a transaction, too: typed errors, and the transaction's other writes are not committed.
      await assert.rejects(
        db.transaction('main', (tx) => {
          tx.graph.putNode('zed');
          tx.graph.putEdge('zed', 'bob', '');
        }),
        isCode('invalid_argument', 'tx putEdge bad type'),
      );
      assert.deepEqual(snapshot(db), before, 'nothing changed');
      await db.close();
    });
  });
}
