/**
 * The JSON API through `Strata` and `Branch`: set / get / patch / delete by path, list and keys,
 * getVersioned, history and reads as of the past, transactions mixed with KV (atomic; an abort
 * leaves nothing), concurrent un-awaited writes to one document, views, diff and merge — and bad
 * input for every public method, which must give a typed StrataError and change nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Strata } from '../../src/api/index.js';
import { MemoryBackend } from '../../src/backend/index.js';
import {
  type ErrorCode,
  isStrataError,
  JSON_DOCUMENT_BYTES_MAX,
  ManualClock,
  ManualScheduler,
  VALUE_DEPTH_MAX,
} from '../../src/base/index.js';
import type { Value } from '../../src/engine/index.js';

async function openDb(durable: boolean): Promise<Strata> {
  const clock = new ManualClock(1_000);
  const scheduler = new ManualScheduler(clock);
  return durable
    ? Strata.open('memory', { backend: new MemoryBackend(), durability: 'strict', clock, scheduler })
    : Strata.cache({ clock, scheduler });
}

function isCode(code: ErrorCode): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(isStrataError(e, code), `expected StrataError '${code}', got ${String(e)}`);
    return true;
  };
}

function nested(depth: number): Value {
  let v: Value = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

const bigItems = (n: number, tag = ''): Value[] =>
  Array.from({ length: n }, (_, i) => ({ i, tag, pad: 'x'.repeat(90) }));

for (const durable of [false, true]) {
  describe(`JSON API (${durable ? 'durable, strict' : 'in memory'})`, () => {
    it('follows the contract example', async () => {
      const db = await openDb(durable);
      const main = db.branch('main');
      await main.json.set('task:1', '$', { title: 'x', steps: [] });
      await main.json.set('task:1', '$.steps[0]', { tool: 'search' });
      assert.equal(main.json.get('task:1', '$.steps[0].tool'), 'search');
      await main.json.patch('task:1', { title: 'y' });
      assert.equal(main.json.get('task:1', '$.title'), 'y');
      const d = await main.json.delete('task:1', '$.title');
      assert.equal(d.deleted, true);
      assert.deepEqual(main.json.get('task:1'), { steps: [{ tool: 'search' }] });
      await db.close();
    });

    for (const size of ['small', 'split'] as const) {
      it(`has the documented path semantics (${size} document)`, async () => {
        const db = await openDb(durable);
        const j = db.branch('main').json;
        const items = size === 'small' ? [{ i: 0 }, { i: 1 }, { i: 2 }] : bigItems(200);
        await j.set('d', '$', { items, o: { a: 1 }, s: 'str' });
        // Append at n == length; n > length and a negative index past the start are invalid.
        await j.set('d', `$.items[${items.length}]`, 'last');
        assert.equal(j.get('d', '$.items[-1]'), 'last');
        await assert.rejects(j.set('d', `$.items[${items.length + 2}]`, 1), isCode('invalid_argument'));
        await assert.rejects(j.set('d', `$.items[-${items.length + 5}]`, 1), isCode('invalid_argument'));
        await j.set('d', '$.items[-1]', 'LAST');
        assert.equal(j.get('d', `$.items[${items.length}]`), 'LAST');
        // Missing parents are not created; a parent of the wrong kind is invalid.
        await assert.rejects(j.set('d', '$.nope.x', 1), isCode('not_found'));
        await assert.rejects(j.set('d', '$.items[9999].x', 1), isCode('not_found'));
        await assert.rejects(j.set('d', '$.o[0]', 1), isCode('invalid_argument'));
        await assert.rejects(j.set('d', '$.items.x', 1), isCode('invalid_argument'));
        await assert.rejects(j.set('d', '$.s.x', 1), isCode('invalid_argument'));
        await assert.rejects(j.set('missing', '$.a', 1), isCode('not_found'));
        // Gets of missing paths are undefined.
        assert.equal(j.get('d', '$.nope'), undefined);
        assert.equal(j.get('d', '$.o.a.b'), undefined);
        assert.equal(j.get('d', '$.items[99999]'), undefined);
        assert.equal(j.get('d', '$.o[0]'), undefined);
        assert.equal(j.get('missing'), undefined);
        // Deletes of missing paths commit nothing.
        const v = db.version;
        for (const p of ['$.nope', '$.o.zz', '$.items[99999]', '$.o[0]', '$.s.x'])
          assert.deepEqual((await j.delete('d', p)).deleted, false, p);
        assert.equal((await j.delete('missing')).deleted, false);
        assert.equal(db.version, v);
        // Deleting an element moves the later ones down.
        const before = j.get('d', '$.items') as Value[];
        await j.delete('d', '$.items[1]');
        assert.deepEqual(j.get('d', '$.items'), [before[0], ...before.slice(2)]);
        // Member order is insertion order; replacing keeps the place.
        await j.set('d', '$.o.b', 2);
        await j.set('d', '$.o.a', 3);
        await j.set('d', '$.z', 0);
        assert.deepEqual(Object.keys(j.get('d', '$.o') as object), ['a', 'b']);
        assert.deepEqual(Object.keys(j.get('d') as object), ['items', 'o', 's', 'z']);
        // Patch at a path; null removes; a missing parent is not_found.
        await j.patch('d', { a: null, c: { d: 1 } }, '$.o');
        assert.deepEqual(j.get('d', '$.o'), { b: 2, c: { d: 1 } });
        await assert.rejects(j.patch('d', { a: 1 }, '$.nope.x'), isCode('not_found'));
        await j.patch('new', { a: { b: 1 } });
        assert.deepEqual(j.get('new'), { a: { b: 1 } });
        await db.close();
      });
    }

    it('lists, keys, getVersioned, history and as-of', async () => {
      const db = await openDb(durable);
      const main = db.branch('main');
      const j = main.json;
      const c1 = await j.set('a:1', '$', { n: 1 });
      await j.set('a:2', '$', { items: bigItems(100, 'v1') });
      await j.set('b:1', '$', [1]);
      const c2 = await j.set('a:1', '$.n', 2);
      const c3 = await j.set('a:2', '$.items[5].tag', 'v2');
      const del = await j.delete('a:1');
      assert.deepEqual([...j.keys()], ['a:2', 'b:1']);
      assert.deepEqual([...j.keys({ prefix: 'a:' })], ['a:2']);
      assert.deepEqual([...j.list({ reverse: true, limit: 1 })], [['b:1', [1]]]);
      assert.deepEqual([...j.keys({ start: 'a:3', end: 'c' })], ['b:1']);
      const gv = j.getVersioned('a:2', '$.items[5].tag');
      assert.deepEqual(gv, { value: 'v2', version: c3.version, timestamp: c3.timestamp });
      assert.equal(j.getVersioned('a:2', '$.nope'), undefined);
      const h = j.history('a:1');
      assert.deepEqual(
        h.map((e) => [e.version, e.deleted, e.value]),
        [
          [del.version, true, undefined],
          [c2.version, false, { n: 2 }],
          [c1.version, false, { n: 1 }],
        ],
      );
      const h2 = j.history('a:2');
      assert.equal(h2.length, 2);
      assert.equal((h2[1]!.value as { items: { tag: string }[] }).items[5]!.tag, 'v1');
      assert.equal(main.at(c2.version).json.get('a:2', '$.items[5].tag'), 'v1');
      assert.deepEqual(main.at(c2.version).json.get('a:1'), { n: 2 });
      assert.deepEqual([...main.at(c1.version).json.keys()], ['a:1']);
      const view = main.at(c2.version).json;
      await assert.rejects(view.set('a:1', '$', 1), isCode('read_only'));
      await assert.rejects(view.patch('a:1', {}), isCode('read_only'));
      await assert.rejects(view.delete('a:1'), isCode('read_only'));
      await db.close();
    });

    it('rejects bad input on every method with a typed error and changes nothing', async () => {
      const db = await openDb(durable);
      const j = db.branch('main').json;
      await j.set('d', '$', { a: 1, items: bigItems(60) });
      const v = db.version;
      const doc = j.get('d');
      const badKeys: unknown[] = [1, null, undefined, {}, 'x'.repeat(5000), '\ud800'];
      const badPaths: unknown[] = [1, null, 'a', '$.', '$[x]', "$['a", '$..a'];
      const badValues: unknown[] = [
        undefined,
        () => 1,
        new Date(),
        { a: undefined },
        Symbol('s'),
        10n,
        new Map(),
      ];
      for (const k of badKeys) {
        await assert.rejects(j.set(k as string, '$', 1), isCode('invalid_argument'));
        await assert.rejects(j.patch(k as string, {}), isCode('invalid_argument'));
        await assert.rejects(j.delete(k as string), isCode('invalid_argument'));
        assert.throws(() => j.get(k as string), isCode('invalid_argument'));
        assert.throws(() => j.getVersioned(k as string), isCode('invalid_argument'));
        assert.throws(() => j.history(k as string), isCode('invalid_argument'));
      }
      for (const p of badPaths) {
        await assert.rejects(j.set('d', p as string, 1), isCode('invalid_argument'));
        await assert.rejects(j.patch('d', {}, p as string), isCode('invalid_argument'));
        await assert.rejects(j.delete('d', p as string), isCode('invalid_argument'));
        assert.throws(() => j.get('d', p as string), isCode('invalid_argument'));
        assert.throws(() => j.getVersioned('d', p as string), isCode('invalid_argument'));
      }
      for (const value of badValues) {
        await assert.rejects(j.set('d', '$.a', value as Value), isCode('invalid_argument'));
        await assert.rejects(j.patch('d', { a: value } as Value), isCode('invalid_argument'));
      }
      for (const o of [
        1,
        null,
        { limit: -1 },
        { limit: 1.5 },
        { reverse: 'yes' },
        { prefix: 5 },
        { start: null },
      ]) {
        assert.throws(() => j.list(o as never), isCode('invalid_argument'));
        assert.throws(() => j.keys(o as never), isCode('invalid_argument'));
      }
      // Too deep: as a value, and at a path.
      await assert.rejects(j.set('deep', '$', nested(VALUE_DEPTH_MAX + 1)), isCode('invalid_argument'));
      await assert.rejects(j.set('d', '$.a', nested(VALUE_DEPTH_MAX)), isCode('invalid_argument'));
      await assert.rejects(j.patch('d', { a: nested(VALUE_DEPTH_MAX) }), isCode('invalid_argument'));
      await j.set('d', '$.a', nested(VALUE_DEPTH_MAX - 1));
      assert.deepEqual(j.get('d', '$.a'), nested(VALUE_DEPTH_MAX - 1));
      await j.set('d', '$.a', 1);
      const v2 = db.version;
      // Too large: one value, and a document that grows past the limit by small sets.
      const half = 'y'.repeat(JSON_DOCUMENT_BYTES_MAX / 2);
      await assert.rejects(
        j.set('huge', '$', 'z'.repeat(JSON_DOCUMENT_BYTES_MAX)),
        isCode('invalid_argument'),
      );
      await j.set('grow', '$', { a: half });
      await assert.rejects(j.set('grow', '$.b', half), isCode('invalid_argument'));
      assert.deepEqual(Object.keys(j.get('grow') as object), ['a']);
      await j.delete('grow');
      // Nothing changed by any refused call.
      assert.equal(db.version, v2 + 2);
      assert.ok(v2 === v + 2);
      assert.deepEqual(j.get('d'), doc);
      assert.equal(j.get('deep'), undefined);
      assert.equal(j.get('huge'), undefined);
      await db.close();
    });

    it('transactions mix JSON with KV atomically; an abort leaves nothing', async () => {
      const db = await openDb(durable);
      const main = db.branch('main');
      await main.json.set('d', '$', { n: 0, items: bigItems(80) });
      await db.transaction('main', (tx) => {
        const n = tx.json.get('d', '$.n') as number;
        tx.json.set('d', '$.n', n + 1);
        tx.json.patch('d', { added: true });
        tx.json.delete('d', '$.items[0]');
        tx.json.set('t', '$', { fresh: [1] });
        tx.kv.put('counter', n + 1);
        assert.equal(tx.json.get('d', '$.n'), 1, 'reads its own writes');
        assert.equal(tx.json.getVersioned('t')?.version, 0);
        assert.deepEqual([...tx.json.keys()], ['d', 't']);
        assert.equal(tx.json.delete('nope'), false);
      });
      assert.equal(main.json.get('d', '$.n'), 1);
      assert.equal(main.json.get('d', '$.added'), true);
      assert.equal((main.json.get('d', '$.items') as Value[]).length, 79);
      assert.equal(main.kv.get('counter'), 1);
      const v = db.version;
      await assert.rejects(
        db.transaction('main', (tx) => {
          tx.json.set('d', '$.n', 100);
          tx.json.set('other', '$', 1);
          tx.kv.put('counter', 100);
          throw new Error('abort');
        }),
        /abort/,
      );
      await assert.rejects(
        db.transaction('main', (tx) => {
          tx.json.set('d', '$.n', 100);
          tx.json.set('d', '$.missing.x', 1);
        }),
        isCode('not_found'),
      );
      assert.equal(db.version, v);
      assert.equal(main.json.get('d', '$.n'), 1);
      assert.equal(main.json.get('other'), undefined);
      assert.equal(main.kv.get('counter'), 1);
      // A transaction that read a document conflicts with a write to it made meanwhile, and is retried.
      let runs = 0;
      await db.transaction('main', async (tx) => {
        runs++;
        const n = tx.json.get('d', '$.n') as number;
        if (runs === 1) await main.json.set('d', '$.items[3].tag', 'meanwhile');
        tx.json.set('d', '$.n', n + 10);
      });
      assert.equal(runs, 2);
      assert.equal(main.json.get('d', '$.n'), 11);
      assert.equal(main.json.get('d', '$.items[3].tag'), 'meanwhile');
      await db.close();
    });

    it('un-awaited concurrent sets of different fields of one document all land', async () => {
      const db = await openDb(durable);
      const j = db.branch('main').json;
      for (const [key, items] of [
        ['small', [0, 1, 2, 3, 4, 5, 6, 7]],
        ['split', bigItems(200)],
      ] as const) {
        await j.set(key, '$', { items: items as Value[], m: {} });
        const writes: Promise<unknown>[] = [];
        for (let i = 0; i < 8; i++) {
          writes.push(j.set(key, `$.items[${i}]`, `w${i}`));
          writes.push(j.set(key, `$.m.k${i}`, i));
          writes.push(j.patch(key, { [`p${i}`]: i }));
        }
        await Promise.all(writes);
        const doc = j.get(key) as { items: Value[]; m: Record<string, number> } & Record<string, Value>;
        for (let i = 0; i < 8; i++) {
          assert.equal(doc.items[i], `w${i}`);
          assert.equal(doc.m[`k${i}`], i);
          assert.equal(doc[`p${i}`], i);
        }
      }
      await db.close();
    });

    it('diffs and merges by path', async () => {
      const db = await openDb(durable);
      const main = db.branch('main');
      await main.json.set('d', '$', { a: 1, b: 1, items: bigItems(100) });
      await main.json.set('gone', '$', 1);
      const exp = await main.fork('exp');
      await exp.json.set('d', '$.a', 2);
      await exp.json.set('d', '$.items[7].tag', 'exp');
      await exp.json.set('new', '$', { x: 1 });
      await exp.json.delete('gone');
      await main.json.set('d', '$.b', 2);
      const diff = main.diff('exp').json;
      assert.deepEqual(diff.added, [{ key: 'new', value: { x: 1 } }]);
      assert.deepEqual(diff.removed, [{ key: 'gone', value: 1 }]);
      assert.deepEqual(
        diff.changed.map((c) => [c.key, c.paths]),
        [['d', ['$.a', '$.b', '$.items[7].tag']]],
      );
      const r = await main.merge('exp');
      assert.deepEqual(r.conflicts, []);
      assert.equal(r.applied, 3);
      assert.equal(main.json.get('d', '$.a'), 2);
      assert.equal(main.json.get('d', '$.b'), 2);
      assert.equal(main.json.get('d', '$.items[7].tag'), 'exp');
      assert.deepEqual(main.json.get('new'), { x: 1 });
      assert.equal(main.json.get('gone'), undefined);
      await exp.json.set('d', '$.items[9].tag', 'exp');
      await main.json.set('d', '$.items[9].tag', 'main');
      const v = db.version;
      const strict = await main.merge('exp');
      assert.equal(db.version, v);
      assert.deepEqual(strict.conflicts, [
        {
          space: 'default',
          primitive: 'json',
          key: 'd',
          path: '$.items[9].tag',
          base: '',
          source: 'exp',
          target: 'main',
        },
      ]);
      await main.merge('exp', { strategy: 'target-wins' });
      assert.equal(main.json.get('d', '$.items[9].tag'), 'main');
      await exp.json.set('d', '$.items[9].tag', 'exp2');
      await main.merge('exp', { strategy: 'source-wins' });
      assert.equal(main.json.get('d', '$.items[9].tag'), 'exp2');
      await db.close();
    });
  });
}
