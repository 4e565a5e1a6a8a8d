/**
 * Transactions: snapshot reads with their own writes, one commit with one version, aborts, and
 * serializability under interleaved async transactions (seeded): lost updates, write skew and
 * phantoms must not happen, in every durability mode. Replay with STRATA_SEED=<n>;
 * STRATA_DEEP=1 runs more seeds and more transactions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Strata } from '../../src/api/index.js';
import { MemoryBackend } from '../../src/backend/index.js';
import { BATCH_OPS_MAX, isStrataError, ManualClock, SeededRandom } from '../../src/base/index.js';
import { nodeScheduler } from '../../src/node.js';
import type { Durability } from '../../src/storage/index.js';
import { rejectsCode } from '../support/errors.js';
import { DEEP, seeds } from '../support/seeds.js';

const SEEDS = seeds([1, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
const WORKERS = DEEP ? 24 : 12;
const MODES: readonly Durability[] = ['ephemeral', 'buffered', 'strict'];

async function open(durability: Durability): Promise<Strata> {
  const clock = new ManualClock(1_000);
  if (durability === 'ephemeral') return Strata.cache({ clock, scheduler: nodeScheduler });
  return Strata.open('memory', { backend: new MemoryBackend(), durability, clock, scheduler: nodeScheduler });
}

/** Yields to the event loop a random number of times (0..3): interleaves the transactions. */
async function jitter(rnd: SeededRandom): Promise<void> {
  const n = rnd.int(4);
  for (let i = 0; i < n; i++) {
    if (rnd.int(2) === 0) await Promise.resolve();
    else await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

describe('transactions', () => {
  for (const mode of MODES) {
    describe(mode, () => {
      it('reads see the snapshot and their own writes; writes land in one commit with one version', async () => {
        const db = await open(mode);
        const main = db.branch('main');
        await main.kv.put('a', 1);
        await main.kv.put('gone', 'x');
        const before = db.version;
        let runs = 0;
        const r = await db.transaction('main', async (tx) => {
          assert.equal(tx.kv.get('a'), 1);
          tx.kv.put('a', 2);
          tx.kv.put('b', 'new');
          tx.kv.delete('gone');
          assert.equal(tx.kv.get('a'), 2, 'reads its own write');
          assert.equal(tx.kv.get('gone'), undefined, 'reads its own delete');
          assert.deepEqual(
            [...tx.kv.list()],
            [
              ['a', 2],
              ['b', 'new'],
            ],
            'lists merge its own writes',
          );
          // A commit made meanwhile is not seen: the snapshot is fixed.
          if (++runs === 1) {
            await main.kv.put('gone', 'changed outside');
            await main.space('other').kv.put('outside', true);
            assert.equal(tx.kv.get('gone'), undefined, 'still its own delete');
            assert.equal(
              tx.space('other').kv.get('outside'),
              undefined,
              'snapshot does not see later commits',
            );
          }
          assert.equal(main.kv.get('a'), 1, 'nothing is visible outside before commit');
          return 'done';
        });
        assert.equal(r.value, 'done');
        // The first run listed the keys, 'gone' among them, which a commit then changed: it ran again.
        assert.equal(r.retries, 1, 'the first run lost to the outside put of a key it had listed');
        assert.equal(r.version, before + 3, 'one version for the whole transaction (after the outside puts)');
        for (const key of ['a', 'b', 'gone'])
          assert.equal(
            main.kv.history(key)[0]?.version,
            r.version,
            `${key} written at the transaction's version`,
          );
        assert.equal(main.kv.get('a'), 2);
        assert.equal(main.kv.get('gone'), undefined);
        await db.close();
      });

      it('an error thrown by the callback aborts it: nothing written, the error rethrown, no retry', async () => {
        const db = await open(mode);
        const main = db.branch('main');
        await main.kv.put('a', 1);
        const before = db.version;
        let runs = 0;
        await assert.rejects(
          db.transaction('main', async (tx) => {
            runs++;
            tx.kv.put('a', 99);
            tx.kv.put('b', 99);
            throw new Error('changed my mind');
          }),
          /changed my mind/,
        );
        assert.equal(runs, 1);
        assert.equal(db.version, before);
        assert.equal(main.kv.get('a'), 1);
        assert.equal(main.kv.get('b'), undefined);
        await db.close();
      });

      it('a read-only transaction commits nothing and reports its snapshot', async () => {
        const db = await open(mode);
        await db.branch('main').kv.put('a', 1);
        const r = await db.transaction('main', (tx) => tx.kv.get('a'));
        assert.deepEqual(r, { value: 1, version: db.version, timestamp: 0, retries: 0 });
        await db.close();
      });

      it('objects of a finished transaction fail with closed', async () => {
        const db = await open(mode);
        let kept: { put(k: string, v: number): void } | undefined;
        await db.transaction('main', (tx) => {
          kept = tx.kv;
        });
        assert.throws(
          () => kept!.put('late', 1),
          (e: unknown) => isStrataError(e, 'closed'),
        );
        assert.equal(db.branch('main').kv.get('late'), undefined);
        await db.close();
      });

      it('retries a transaction that lost, then fails with conflict when retries run out', async () => {
        const db = await open(mode);
        const main = db.branch('main');
        await main.kv.put('n', 0);
        let runs = 0;
        // Every run reads n, and a concurrent put changes it before the run commits.
        const e = await rejectsCode(
          () =>
            db.transaction(
              'main',
              async (tx) => {
                runs++;
                const n = tx.kv.get('n') as number;
                await main.kv.put('n', n + 100);
                tx.kv.put('n', n + 1);
              },
              { retries: 2 },
            ),
          'conflict',
          'always losing',
        );
        assert.equal(runs, 3, 'one run and two retries');
        assert.equal((e as { committed?: string }).committed, 'no');
        assert.equal(main.kv.get('n'), 300, 'only the outside puts landed');
        await db.close();
      });

      it('compare-and-set inside a transaction checks the snapshot', async () => {
        const db = await open(mode);
        const main = db.branch('main');
        const c = await main.kv.put('lock', 'free');
        await db.transaction('main', (tx) => {
          assert.throws(
            () => tx.kv.put('lock', 'me', { ifVersion: null }),
            (e: unknown) => isStrataError(e, 'conflict'),
          );
          tx.kv.put('lock', 'me', { ifVersion: c.version });
        });
        assert.equal(main.kv.get('lock'), 'me');
        await db.close();
      });

      it('bad input is refused with a typed error and changes nothing', async () => {
        const db = await open(mode);
        const before = db.version;
        await rejectsCode(() => db.transaction('main', 42 as never), 'invalid_argument', 'not a function');
        await rejectsCode(() => db.transaction('nope', () => 1), 'not_found', 'unknown branch');
        await rejectsCode(() => db.transaction(7 as never, () => 1), 'invalid_argument', 'not a branch');
        await rejectsCode(
          () => db.transaction('main', () => 1, { retries: -1 }),
          'invalid_argument',
          'retries',
        );
        await rejectsCode(() => db.transaction('main', () => 1, 'x' as never), 'invalid_argument', 'options');
        await db.branch('main').kv.put('a', 1);
        await rejectsCode(
          () => db.transaction(db.branch('main').at(before), () => 1),
          'read_only',
          'a view cannot run a transaction',
        );
        const other = await Strata.cache();
        await rejectsCode(
          () => db.transaction(other.branch('main'), () => 1),
          'invalid_argument',
          'a branch of another database',
        );
        await other.close();
        await db.transaction('main', (tx) => {
          assert.throws(
            () => tx.kv.put(5 as never, 1),
            (e: unknown) => isStrataError(e, 'invalid_argument'),
          );
          assert.throws(
            () => tx.kv.put('k', (() => 1) as never),
            (e: unknown) => isStrataError(e, 'invalid_argument'),
          );
        });
        assert.equal(db.version, before + 1, 'only the one put landed');
        await db.close();
      });

      it('a transaction larger than one commit may hold is refused whole, before anything is written', async () => {
        const db = await open(mode);
        const before = db.version;
        const e = await rejectsCode(
          () =>
            db.transaction('main', (tx) => {
              for (let i = 0; i <= BATCH_OPS_MAX; i++) tx.kv.put(`k${i}`, i);
            }),
          'invalid_argument',
          'too many operations',
        );
        assert.match((e as Error).message, /at most 100000 operations/);
        const big = new Uint8Array(8 * 1024 * 1024);
        await rejectsCode(
          () =>
            db.transaction('main', (tx) => {
              for (let i = 0; i < 9; i++) tx.kv.put(`big${i}`, big);
            }),
          'invalid_argument',
          'too many bytes',
        );
        assert.equal(db.version, before);
        assert.equal(db.branch('main').kv.get('k0'), undefined);
        await db.close();
      });

      it('transactions on a branch and in a space write there only', async () => {
        const db = await open(mode);
        const main = db.branch('main');
        await main.kv.put('k', 'main');
        const exp = await main.fork('exp');
        await db.transaction(exp, (tx) => {
          assert.equal(tx.kv.get('k'), 'main', 'inherited');
          tx.kv.put('k', 'exp');
          tx.space('notes').kv.put('k', 'notes');
        });
        assert.equal(main.kv.get('k'), 'main');
        assert.equal(exp.kv.get('k'), 'exp');
        assert.equal(exp.space('notes').kv.get('k'), 'notes');
        assert.equal(main.space('notes').kv.get('k'), undefined);
        await db.deleteBranch('exp');
        await rejectsCode(
          () => db.transaction(exp, (tx) => tx.kv.put('k', 'late')),
          'not_found',
          'a deleted branch',
        );
        await db.close();
      });

      it('a read outside a transaction sees one version: a list keeps its point while commits land', async () => {
        const db = await open(mode);
        const main = db.branch('main');
        for (let i = 0; i < 10; i++) await main.kv.put(`k${i}`, i);
        const it = main.kv.list();
        assert.deepEqual(it.next().value, ['k0', 0]);
        await main.kv.put('k5', 'changed');
        await main.kv.delete('k9');
        await main.kv.put('k99', 'new');
        const rest = [...it];
        assert.equal(rest.length, 9, 'k1..k9, as of when list was called');
        assert.deepEqual(rest[4], ['k5', 5]);
        await db.close();
      });

      it('spaces() lists the spaces that hold anything, inherited ones included', async () => {
        const db = await open(mode);
        const main = db.branch('main');
        assert.deepEqual(main.spaces(), ['default']);
        await main.space('notes').kv.put('a', 1);
        await main.space('b').kv.put('a', 1);
        await main.space('zz').kv.put('a', 1);
        await main.space('zz').kv.delete('a');
        const exp = await main.fork('exp');
        await exp.space('mine').kv.put('x', 1);
        assert.deepEqual(main.spaces(), ['b', 'default', 'notes']);
        assert.deepEqual(exp.spaces(), ['b', 'default', 'mine', 'notes']);
        assert.deepEqual(main.at(1).spaces(), ['default', 'notes']);
        await db.close();
      });

      for (const seed of SEEDS) {
        it(`seed ${seed}: no lost updates among interleaved read-modify-write transactions`, async () => {
          const db = await open(mode);
          const rnd = new SeededRandom(seed);
          const main = db.branch('main');
          await main.kv.put('counter', 0);
          let committed = 0;
          let retried = 0;
          const runs = Array.from({ length: WORKERS }, (_, w) =>
            db
              .transaction(
                'main',
                async (tx) => {
                  const n = tx.kv.get('counter') as number;
                  await jitter(rnd);
                  tx.kv.put('counter', n + 1);
                  tx.kv.put(`by:${w}`, n + 1);
                  await jitter(rnd);
                },
                { retries: 1000 },
              )
              .then((r) => {
                committed++;
                retried += r.retries;
              }),
          );
          await Promise.all(runs);
          assert.equal(committed, WORKERS);
          assert.ok(
            retried > 0,
            'the interleaving made transactions conflict (the test exercises validation)',
          );
          assert.equal(main.kv.get('counter'), WORKERS, 'every increment counted once');
          const seen = [...main.kv.list({ prefix: 'by:' })].map(([, v]) => v as number).sort((a, b) => a - b);
          assert.deepEqual(
            seen,
            Array.from({ length: WORKERS }, (_, i) => i + 1),
            'each transaction saw a distinct counter value: a serial order exists',
          );
          await db.close();
        });

        it(`seed ${seed}: no write skew (two on-call doctors, each going off call only if the other is on)`, async () => {
          const db = await open(mode);
          const rnd = new SeededRandom(seed * 7);
          const main = db.branch('main');
          for (let round = 0; round < (DEEP ? 40 : 12); round++) {
            await main.kv.put('alice', true);
            await main.kv.put('bob', true);
            const leave = (me: string, other: string) =>
              db
                .transaction(
                  'main',
                  async (tx) => {
                    const otherOn = tx.kv.get(other) === true;
                    await jitter(rnd);
                    if (otherOn && tx.kv.get(me) === true) tx.kv.put(me, false);
                  },
                  { retries: 5 },
                )
                .catch((e: unknown) => {
                  if (!isStrataError(e, 'conflict')) throw e;
                });
            await Promise.all([leave('alice', 'bob'), leave('bob', 'alice')]);
            const onCall = [main.kv.get('alice'), main.kv.get('bob')].filter((v) => v === true).length;
            assert.ok(onCall >= 1, `round ${round}: someone is still on call`);
          }
          await db.close();
        });

        it(`seed ${seed}: no phantoms (at most 5 members, each joining after counting them by a scan)`, async () => {
          const db = await open(mode);
          const rnd = new SeededRandom(seed * 13);
          const main = db.branch('main');
          const tries = Array.from({ length: WORKERS }, (_, w) =>
            db
              .transaction(
                'main',
                async (tx) => {
                  const members = [...tx.kv.list({ prefix: 'member:' })].length;
                  await jitter(rnd);
                  if (members < 5) tx.kv.put(`member:${w}`, w);
                },
                { retries: 1000 },
              )
              .then((r) => r.retries),
          );
          const retried = (await Promise.all(tries)).reduce((a, b) => a + b, 0);
          assert.ok(retried > 0, 'the interleaving made transactions conflict');
          assert.equal([...main.kv.list({ prefix: 'member:' })].length, 5, 'exactly 5 joined');
          await db.close();
        });
      }
    });
  }
});
