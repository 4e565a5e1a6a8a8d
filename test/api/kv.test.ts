/**
 * The KV API through `Strata` and `Branch`, run against an in-memory database and durable
 * databases on a MemoryBackend (buffered and strict): reads, writes, ranges, history, reads as
 * of the past, compare-and-set, and bad input — which must give a typed StrataError and change
 * nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Strata } from '../../src/api/index.js';
import {
  compareBytes,
  isStrataError,
  KEY_SIZE_BYTES_MAX,
  SeededRandom,
  utf8Encode,
  VALUE_SIZE_BYTES_MAX,
} from '../../src/base/index.js';
import type { Value } from '../../src/engine/index.js';
import { rejectsCode, throwsCode } from '../support/errors.js';
import { apiConfigs } from '../support/openers.js';

const CONFIGS = apiConfigs();

/** Keys ordered as the database orders them: by their UTF-8 bytes. */
function utf8Order(a: string, b: string): number {
  return compareBytes(utf8Encode(a), utf8Encode(b));
}

function listAll(
  db: Strata,
  options?: Parameters<Strata['branch']> extends never ? never : object,
): [string, Value][] {
  return [...db.branch().kv.list(options)];
}

for (const [label, open] of CONFIGS) {
  describe(`KV API: ${label}`, () => {
    it('put, get, getVersioned, overwrite, delete', async () => {
      const { db, clock } = await open();
      const kv = db.branch().kv;
      assert.equal(db.version, 0, 'a new database is at version 0');
      assert.equal(kv.get('a'), undefined, 'missing key');
      const c1 = await kv.put('a', { n: 1 });
      assert.deepEqual(c1, { version: 1, timestamp: 1_000 }, 'first commit');
      clock.advance(10);
      const c2 = await kv.put('b', 'two');
      assert.deepEqual(c2, { version: 2, timestamp: 1_010 }, 'second commit');
      assert.deepEqual(kv.get('a'), { n: 1 }, 'get a');
      assert.deepEqual(
        kv.getVersioned('b'),
        { value: 'two', version: 2, timestamp: 1_010 },
        'getVersioned b',
      );
      await kv.put('a', [1, 2]);
      assert.deepEqual(kv.get('a'), [1, 2], 'overwritten');
      const d = await kv.delete('a');
      assert.equal(d.deleted, true, 'deleted');
      assert.equal(d.version, 4, 'delete is a commit');
      assert.equal(kv.get('a'), undefined, 'gone');
      assert.equal(kv.getVersioned('a'), undefined, 'no versioned value');
      const again = await kv.delete('a');
      assert.equal(again.deleted, false, 'deleting a deleted key changes nothing');
      const never = await kv.delete('never');
      assert.deepEqual(
        never,
        { version: 4, timestamp: 0, deleted: false },
        'deleting a missing key changes nothing',
      );
      assert.equal(db.version, 4, 'no commit for the no-op deletes');
      await kv.put('', 'empty key');
      assert.equal(kv.get(''), 'empty key', 'the empty key is a key');
      const all: Value[] = [null, true, 0, -0, Number.NaN, 'é😀', Uint8Array.from([1]), { a: [{}] }];
      for (const [i, v] of all.entries()) {
        await kv.put(`v${i}`, v);
        assert.deepStrictEqual(kv.get(`v${i}`), v, `value #${i} round trips through the database`);
      }
      await db.close();
    });

    it('lists in UTF-8 byte order with prefix, start/end, limit and reverse', async () => {
      const { db } = await open();
      const kv = db.branch().kv;
      const keys = [
        'a',
        'b',
        'ab',
        'a\u0000',
        'A',
        'z',
        'é',
        'e',
        'ｚ',
        '\uFFFD',
        '😀',
        '😀x',
        'agent:1',
        'agent:2',
        'agent:10',
        'agentx',
      ];
      for (const k of keys) await kv.put(k, k.length);
      await kv.put('gone', 1);
      await kv.delete('gone');
      const sorted = [...keys].sort(utf8Order);
      assert.ok(
        sorted.indexOf('\uFFFD') < sorted.indexOf('😀'),
        'UTF-8 order differs from UTF-16 order here',
      );
      assert.deepEqual(
        listAll(db).map(([k]) => k),
        sorted,
        'all live keys in UTF-8 byte order',
      );
      assert.deepEqual(
        listAll(db, { reverse: true }).map(([k]) => k),
        [...sorted].reverse(),
        'reversed',
      );
      assert.deepEqual(
        listAll(db, { prefix: 'agent:' }),
        [
          ['agent:1', 7],
          ['agent:10', 8],
          ['agent:2', 7],
        ],
        'prefix',
      );
      assert.deepEqual(
        listAll(db, { prefix: '😀' }).map(([k]) => k),
        ['😀', '😀x'],
        'non-ASCII prefix',
      );
      assert.deepEqual(
        listAll(db, { start: 'agent:2', end: 'b' }).map(([k]) => k),
        ['agent:2', 'agentx'],
        'start inclusive, end exclusive',
      );
      assert.deepEqual(
        listAll(db, { start: 'a', end: 'b', limit: 2, reverse: true }).map(([k]) => k),
        ['agentx', 'agent:2'],
        'range, limit, reverse',
      );
      assert.deepEqual(listAll(db, { limit: 0 }), [], 'limit 0');
      assert.deepEqual(listAll(db, { start: 'z', end: 'a' }), [], 'empty range');

      // Random ranges against the model.
      const rnd = new SeededRandom(1101);
      const pool = [...keys, '', 'agent', 'c', '\u0000', '😀\uFFFF', 'zz'];
      for (let i = 0; i < 300; i++) {
        const options: { prefix?: string; start?: string; end?: string; limit?: number; reverse?: boolean } =
          {};
        if (rnd.bool(0.3))
          options.prefix = Array.from(rnd.pick(pool))
            .slice(0, 1 + rnd.int(2))
            .join(''); // whole code points
        if (rnd.bool(0.4)) options.start = rnd.pick(pool);
        if (rnd.bool(0.4)) options.end = rnd.pick(pool);
        if (rnd.bool(0.3)) options.limit = rnd.int(5);
        if (rnd.bool()) options.reverse = true;
        let expected = sorted.filter(
          (k) =>
            (options.prefix === undefined || k.startsWith(options.prefix)) &&
            (options.start === undefined || utf8Order(k, options.start) >= 0) &&
            (options.end === undefined || utf8Order(k, options.end) < 0),
        );
        if (options.reverse) expected.reverse();
        if (options.limit !== undefined) expected = expected.slice(0, options.limit);
        assert.deepEqual(
          listAll(db, options).map(([k]) => k),
          expected,
          `list ${JSON.stringify(options)}`,
        );
      }
      await db.close();
    });

    it('history is newest first, deletes included', async () => {
      const { db, clock } = await open();
      const kv = db.branch().kv;
      await kv.put('h', 1);
      clock.advance(5);
      await kv.put('other', 0);
      await kv.delete('h');
      clock.advance(5);
      await kv.put('h', 3);
      assert.deepEqual(
        kv.history('h'),
        [
          { version: 4, timestamp: 1_010, value: 3, deleted: false, branch: 'main' },
          { version: 3, timestamp: 1_005, deleted: true, branch: 'main' },
          { version: 1, timestamp: 1_000, value: 1, deleted: false, branch: 'main' },
        ],
        'history of h',
      );
      assert.deepEqual(kv.history('never'), [], 'no history');
      await db.close();
    });

    it('reads as of a version or a timestamp, read-only', async () => {
      const { db, clock } = await open();
      const main = db.branch();
      await main.kv.put('k', 'v1'); // v1 @ 1000
      clock.advance(100);
      await main.kv.put('k', 'v2'); // v2 @ 1100
      await main.kv.put('j', 'j2'); // v3 @ 1100
      clock.advance(100);
      await main.kv.delete('k'); // v4 @ 1200

      const at1 = main.at(1);
      assert.equal(at1.kv.get('k'), 'v1', 'k at 1');
      assert.equal(at1.kv.get('j'), undefined, 'j at 1');
      assert.deepEqual(
        at1.kv.getVersioned('k'),
        { value: 'v1', version: 1, timestamp: 1_000 },
        'getVersioned at 1',
      );
      assert.deepEqual([...at1.kv.list()], [['k', 'v1']], 'list at 1');
      assert.equal(at1.kv.history('k').length, 1, 'history at 1');
      assert.deepEqual(
        [...main.at({ version: 3 }).kv.list()],
        [
          ['j', 'j2'],
          ['k', 'v2'],
        ],
        'list at { version: 3 }',
      );
      assert.equal(main.at(0).kv.get('k'), undefined, 'nothing at version 0');
      assert.equal(main.at(4).kv.get('k'), undefined, 'deleted at 4');
      assert.equal(main.kv.get('k'), undefined, 'deleted now');

      assert.equal(main.at({ timestamp: 999 }).kv.get('k'), undefined, 'before the first commit');
      assert.equal(main.at({ timestamp: 1_000 }).kv.get('k'), 'v1', 'at the first timestamp');
      assert.equal(main.at({ timestamp: 1_099.5 }).kv.get('k'), 'v1', 'between commits');
      assert.equal(main.at({ timestamp: 1_100 }).kv.get('j'), 'j2', 'two commits share a timestamp');
      assert.equal(main.at({ timestamp: 1_150 }).kv.get('k'), 'v2', 'after the second commit');
      assert.equal(main.at({ timestamp: 1e15 }).kv.get('k'), undefined, 'far future is now');
      assert.deepEqual(
        main
          .at({ timestamp: 1_150 })
          .kv.history('k')
          .map((h) => h.version),
        [2, 1],
        'history as of a time',
      );

      const view = main.at(2);
      await main.kv.put('k', 'v5');
      assert.equal(view.kv.get('k'), 'v2', 'a view stays at its version');
      await rejectsCode(() => view.kv.put('k', 'x'), 'read_only', 'put on a view');
      await rejectsCode(() => view.kv.delete('k'), 'read_only', 'delete on a view');
      assert.equal(db.version, 5, 'views wrote nothing');
      await db.close();
    });

    it('compare-and-set with ifVersion (a number, or null for "must not exist")', async () => {
      const { db } = await open();
      const kv = db.branch().kv;
      const c1 = await kv.put('lock', 'me', { ifVersion: null });
      assert.equal(c1.version, 1, 'created when missing');
      await rejectsCode(() => kv.put('lock', 'you', { ifVersion: null }), 'conflict', 'null when it exists');
      await rejectsCode(() => kv.put('lock', 'you', { ifVersion: 2 }), 'conflict', 'wrong version');
      await rejectsCode(
        () => kv.put('fresh', 'x', { ifVersion: 1 }),
        'conflict',
        'a version for a missing key',
      );
      assert.equal(db.version, 1, 'conflicts commit nothing');
      assert.equal(kv.get('lock'), 'me', 'value unchanged after conflicts');
      const c2 = await kv.put('lock', 'you', { ifVersion: 1 });
      assert.equal(c2.version, 2, 'matching version wins');
      await rejectsCode(() => kv.delete('lock', { ifVersion: 1 }), 'conflict', 'delete with a stale version');
      await rejectsCode(
        () => kv.delete('lock', { ifVersion: null }),
        'conflict',
        'delete with null when it exists',
      );
      assert.equal(kv.get('lock'), 'you', 'still there');
      const d = await kv.delete('lock', { ifVersion: 2 });
      assert.equal(d.deleted, true, 'delete with the current version');
      const c4 = await kv.put('lock', 'again', { ifVersion: null });
      assert.equal(c4.version, 4, 'null matches a deleted key');
      await rejectsCode(
        () => kv.delete('missing', { ifVersion: 3 }),
        'conflict',
        'delete of a missing key with a version',
      );
      const noop = await kv.delete('missing', { ifVersion: null });
      assert.equal(noop.deleted, false, 'delete of a missing key with null: nothing to delete');
      assert.equal(db.version, 4, 'no commit for it');
      const e = await kv.put('lock', 'x', { ifVersion: 1 }).catch((error: unknown) => error);
      assert.ok(isStrataError(e, 'conflict') && e.retryable, 'a conflict is retryable');
      await db.close();
    });

    it('rejects bad input with a typed error and changes nothing', async () => {
      const { db } = await open();
      const main = db.branch();
      const kv = main.kv;
      await kv.put('k', 1);
      await kv.put('k2', 2);
      const before = { version: db.version, list: [...kv.list()], history: kv.history('k') };
      const bad = (x: unknown): string => x as string; // smuggles wrong types past the compiler

      const badKeys: [string, unknown][] = [
        ['a number', 1],
        ['null', null],
        ['undefined', undefined],
        ['an object', {}],
        ['a lone surrogate', '\uD800'],
        [`${KEY_SIZE_BYTES_MAX + 1} ASCII bytes`, 'a'.repeat(KEY_SIZE_BYTES_MAX + 1)],
        [
          `${KEY_SIZE_BYTES_MAX + 2} UTF-8 bytes in ${KEY_SIZE_BYTES_MAX / 2 + 1} chars`,
          'é'.repeat(KEY_SIZE_BYTES_MAX / 2 + 1),
        ],
      ];
      for (const [what, key] of badKeys) {
        await rejectsCode(() => kv.put(bad(key), 1), 'invalid_argument', `put with key ${what}`);
        await rejectsCode(() => kv.delete(bad(key)), 'invalid_argument', `delete with key ${what}`);
        throwsCode(() => kv.get(bad(key)), 'invalid_argument', `get with key ${what}`);
        throwsCode(() => kv.getVersioned(bad(key)), 'invalid_argument', `getVersioned with key ${what}`);
        throwsCode(() => kv.history(bad(key)), 'invalid_argument', `history with key ${what}`);
        // An undefined list bound is an absent one, not a bad key.
        for (const field of key === undefined ? [] : ['prefix', 'start', 'end']) {
          throwsCode(
            () => kv.list({ [field]: key } as object),
            'invalid_argument',
            `list with ${field} ${what}`,
          );
        }
      }
      // The largest key is fine.
      await kv.put('a'.repeat(KEY_SIZE_BYTES_MAX), 'max');
      assert.equal(kv.get('a'.repeat(KEY_SIZE_BYTES_MAX)), 'max', 'a key of exactly the limit');
      const afterMax = db.version;

      class Thing {}
      const badValues: [string, unknown][] = [
        ['undefined', undefined],
        ['a function', () => 1],
        ['a symbol', Symbol('s')],
        ['a bigint', 1n],
        ['a Date', new Date(0)],
        ['a Map', new Map()],
        ['a class instance', new Thing()],
        ['a lone surrogate', 'x\uDC00'],
        ['over the size limit', new Uint8Array(VALUE_SIZE_BYTES_MAX)],
      ];
      for (const [what, value] of badValues) {
        await rejectsCode(() => kv.put('k', value as Value), 'invalid_argument', `put of ${what}`);
      }

      const badOptions: [string, unknown][] = [
        ['a string', 'x'],
        ['a number', 5],
        ['ifVersion 0', { ifVersion: 0 }],
        ['ifVersion -1', { ifVersion: -1 }],
        ['ifVersion 1.5', { ifVersion: 1.5 }],
        ['ifVersion "1"', { ifVersion: '1' }],
        ['ifVersion NaN', { ifVersion: Number.NaN }],
        ['ifVersion Infinity', { ifVersion: Number.POSITIVE_INFINITY }],
        ['ifVersion 2^53', { ifVersion: 2 ** 53 }],
        ['ifVersion false', { ifVersion: false }],
      ];
      for (const [what, options] of badOptions) {
        await rejectsCode(
          () => kv.put('k', 9, options as object),
          'invalid_argument',
          `put with options ${what}`,
        );
        await rejectsCode(
          () => kv.delete('k', options as object),
          'invalid_argument',
          `delete with options ${what}`,
        );
      }

      const badLists: [string, unknown][] = [
        ['null options', null],
        ['string options', 'x'],
        ['limit -1', { limit: -1 }],
        ['limit NaN', { limit: Number.NaN }],
        ['limit "3"', { limit: '3' }],
        ['limit 1.5', { limit: 1.5 }],
        ['reverse "yes"', { reverse: 'yes' }],
      ];
      for (const [what, options] of badLists) {
        throwsCode(() => kv.list(options as object), 'invalid_argument', `list with ${what}`);
      }

      const badPoints: [string, unknown][] = [
        ['a string', 'x'],
        ['null', null],
        ['undefined', undefined],
        ['an empty object', {}],
        ['-1', -1],
        ['1.5', 1.5],
        ['NaN', Number.NaN],
        ['a future version', db.version + 1],
        ['{ version: -1 }', { version: -1 }],
        ['{ version: "1" }', { version: '1' }],
        ['{ timestamp: NaN }', { timestamp: Number.NaN }],
        ['{ timestamp: Infinity }', { timestamp: Number.POSITIVE_INFINITY }],
        ['{ timestamp: "now" }', { timestamp: 'now' }],
      ];
      for (const [what, point] of badPoints) {
        throwsCode(() => main.at(point as number), 'invalid_argument', `at(${what})`);
      }
      throwsCode(() => db.branch('nope'), 'not_found', 'an unknown branch');

      assert.equal(db.version, afterMax, 'no bad call committed anything');
      assert.deepEqual(
        [...kv.list()].filter(([k]) => k !== 'a'.repeat(KEY_SIZE_BYTES_MAX)),
        before.list,
        'data unchanged',
      );
      assert.deepEqual(kv.history('k'), before.history, 'history unchanged');
      assert.equal(before.version + 1, afterMax, 'only the max-key put committed');
      await db.close();
    });

    it('a closed database refuses everything with closed', async () => {
      const { db } = await open();
      const main = db.branch();
      await main.kv.put('k', 1);
      const view = main.at(1);
      await db.close();
      await db.close(); // idempotent
      const kv = main.kv;
      await rejectsCode(() => kv.put('k', 2), 'closed', 'put');
      await rejectsCode(() => kv.put('new', 2, { ifVersion: null }), 'closed', 'put with ifVersion');
      await rejectsCode(() => kv.delete('k'), 'closed', 'delete of a present key');
      await rejectsCode(() => kv.delete('missing'), 'closed', 'delete of a missing key');
      throwsCode(() => kv.get('k'), 'closed', 'get');
      throwsCode(() => kv.getVersioned('k'), 'closed', 'getVersioned');
      throwsCode(() => kv.history('k'), 'closed', 'history');
      throwsCode(() => kv.list(), 'closed', 'list');
      throwsCode(() => main.at(1), 'closed', 'at');
      throwsCode(() => view.kv.get('k'), 'closed', 'get on a view made before close');
      await rejectsCode(() => db.sync(), 'closed', 'sync');
      await rejectsCode(() => db.compact(), 'closed', 'compact');
      assert.equal(db.version, 1, 'version unchanged');
    });
  });
}
