/**
 * The branch API (API.md): fork (now, as of a version, a timestamp or a view), isolation both
 * ways, inherited reads, compare-and-set and deletes of inherited keys, db.branches(), names and
 * errors (nothing changes on bad input), persistence across reopen, and that a fork copies
 * nothing (one commit whatever the data).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SimDisk } from '../../src/backend/index.js';
import { type ErrorCode, isStrataError, ManualClock } from '../../src/base/index.js';
import { Strata } from '../../src/index.js';
import { nodeScheduler } from '../../src/node.js';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function rejectsCode(work: () => Promise<unknown>, code: ErrorCode, what: string): Promise<void> {
  await assert.rejects(work, (e: unknown) => isStrataError(e, code), `${what}: expected ${code}`);
}

describe('branches', () => {
  it('a fork sees the parent as of the fork point; later writes on either side stay on that side', async () => {
    const db = await Strata.cache();
    const main = db.branch();
    await main.kv.put('a', 1);
    await main.kv.put('b', 2);
    const exp = await main.fork('exp');
    assert.equal(exp.name, 'exp');
    await exp.kv.put('a', 10);
    await exp.kv.delete('b');
    await exp.kv.put('c', 3);
    await main.kv.put('d', 4);
    await main.kv.put('a', 100);
    assert.deepEqual(
      [...main.kv.list()],
      [
        ['a', 100],
        ['b', 2],
        ['d', 4],
      ],
    );
    assert.deepEqual(
      [...exp.kv.list()],
      [
        ['a', 10],
        ['c', 3],
      ],
    );
    assert.equal(exp.kv.get('b'), undefined, 'a delete on the child hides the inherited row');
    assert.equal(exp.kv.get('d'), undefined, "the parent's later writes are invisible");
    assert.deepEqual(
      exp.kv.history('a').map((h) => [h.value, h.branch]),
      [
        [10, 'exp'],
        [1, 'main'],
      ],
      'history walks the ancestry and names the branch of each version',
    );
    const sibling = await main.fork('sibling', { at: 2 });
    assert.deepEqual(
      [...sibling.kv.list()],
      [
        ['a', 1],
        ['b', 2],
      ],
      'siblings do not see each other',
    );
    const grandchild = await exp.fork('grandchild');
    await grandchild.kv.put('e', 5);
    assert.deepEqual(
      [...grandchild.kv.list()],
      [
        ['a', 10],
        ['c', 3],
        ['e', 5],
      ],
    );
    assert.equal(exp.kv.get('e'), undefined);
    assert.deepEqual(
      db.branches().map((b) => [b.name, b.parent]),
      [
        ['main', null],
        ['exp', 'main'],
        ['sibling', 'main'],
        ['grandchild', 'exp'],
      ],
    );
    assert.equal(db.branch('grandchild').kv.get('a'), 10, 'db.branch finds a fork by name');
    await db.close();
  });

  it('forks as of a version, a timestamp, or a view; as-of reads on a branch', async () => {
    const clock = new ManualClock(1_000_000);
    const db = await Strata.open('t', { backend: new SimDisk().backend(), clock, scheduler: nodeScheduler });
    const main = db.branch();
    const c1 = await main.kv.put('k', 'one');
    clock.advance(10);
    const c2 = await main.kv.put('k', 'two');
    clock.advance(10);
    await main.kv.put('k', 'three');
    const byVersion = await main.fork('v1', { at: c1.version });
    const byTime = await main.fork('t2', { at: { timestamp: c2.timestamp } });
    const byView = await main.at(c2.version).fork('view2');
    assert.equal(byVersion.kv.get('k'), 'one');
    assert.equal(byTime.kv.get('k'), 'two');
    assert.equal(byView.kv.get('k'), 'two');
    const t2 = db.branches().find((b) => b.name === 't2');
    assert.equal(t2?.forkTimestamp, c2.timestamp, 'a fork by time reports its time cap');
    await byTime.kv.put('k', 'mine');
    const v = db.version;
    await byTime.kv.put('k', 'mine again');
    assert.equal(byTime.at(v).kv.get('k'), 'mine', 'as of a version on the branch');
    assert.equal(byTime.at(c1.version).kv.get('k'), 'one', 'as of a version before the fork');
    await db.close();
  });

  it('compare-and-set and deletes see inherited rows', async () => {
    const db = await Strata.cache();
    const main = db.branch();
    const c = await main.kv.put('lock', 'free');
    const child = await main.fork('child');
    await rejectsCode(
      () => child.kv.put('lock', 'x', { ifVersion: null }),
      'conflict',
      'must-not-exist on an inherited key',
    );
    await child.kv.put('lock', 'mine', { ifVersion: c.version });
    assert.equal(main.kv.get('lock'), 'free');
    const d = await child.kv.delete('lock');
    assert.equal(d.deleted, true);
    const again = await child.kv.delete('lock');
    assert.equal(again.deleted, false, 'deleting what the branch already deleted commits nothing');
    await child.kv.put('fresh', 1, { ifVersion: null });
    await db.close();
  });

  it('rejects bad names, taken names, unknown branches and bad points, changing nothing', async () => {
    const db = await Strata.cache();
    const main = db.branch();
    await main.kv.put('a', 1);
    await main.fork('taken');
    const before = db.version;
    for (const bad of ['', 'x'.repeat(256), 'a\ud800b', 42 as unknown as string]) {
      await rejectsCode(() => main.fork(bad), 'invalid_argument', `name ${JSON.stringify(bad)}`);
    }
    await rejectsCode(() => main.fork('taken'), 'conflict', 'a taken name');
    await rejectsCode(() => main.fork('main'), 'conflict', "main's name");
    await rejectsCode(() => main.fork('later', { at: before + 5 }), 'invalid_argument', 'a future version');
    await rejectsCode(() => main.fork('o', null as never), 'invalid_argument', 'options not an object');
    assert.equal(db.version, before, 'nothing was committed');
    assert.throws(
      () => db.branch('nope'),
      (e: unknown) => isStrataError(e, 'not_found'),
    );
    assert.deepEqual(
      db.branches().map((b) => b.name),
      ['main', 'taken'],
    );
    // Two forks racing for one name: exactly one wins.
    const results = await Promise.allSettled([main.fork('race'), main.fork('race')]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    await db.close();
  });

  it('a fork commits one small record, whatever the size of the data', async () => {
    const db = await Strata.open('big', {
      backend: new SimDisk().backend(),
      scheduler: nodeScheduler,
      clock: new ManualClock(1),
      memoryBudgetBytes: 1 << 20,
    });
    const main = db.branch();
    for (let i = 0; i < 5000; i++) await main.kv.put(`key${i}`, 'v'.repeat(200));
    await db.compact();
    const tablesBefore = db.stats().tree.tableBytes;
    const before = db.version;
    const fork = await main.fork('cheap');
    assert.equal(db.version, before + 1, 'one commit');
    assert.equal(db.stats().tree.tableBytes, tablesBefore, 'no table written');
    assert.equal(fork.kv.get('key4999'), 'v'.repeat(200));
    let n = 0;
    for (const _ of fork.kv.list()) n++;
    assert.equal(n, 5000);
    await db.close();
  });

  it('branches and their rows survive reopening, on the file system', async () => {
    const root = await mkdtemp(join(tmpdir(), 'strata-branches-'));
    roots.push(root);
    let db = await Strata.open(root, { durability: 'strict' });
    await db.branch().kv.put('shared', 'base');
    const a = await db.branch().fork('a');
    await a.kv.put('own', 'a');
    const b = await a.fork('b');
    await b.kv.put('shared', 'b');
    const listed = db.branches();
    await db.close();
    db = await Strata.open(root);
    assert.deepEqual(db.branches(), listed);
    assert.equal(db.branch('b').kv.get('shared'), 'b');
    assert.equal(db.branch('b').kv.get('own'), 'a');
    assert.equal(db.branch('a').kv.get('shared'), 'base');
    assert.equal(db.branch().kv.get('own'), undefined);
    // A new fork after reopening gets a fresh id: it sees nothing of the others' own rows.
    const c = await db.branch().fork('c');
    assert.deepEqual([...c.kv.list()], [['shared', 'base']]);
    await db.close();
  });

  it('diff reports added, removed and changed keys with both values, between branches or points', async () => {
    const db = await Strata.cache();
    const main = db.branch();
    await main.kv.put('same', 's');
    await main.kv.put('gone', 'g');
    const c = await main.kv.put('edit', 'old');
    const exp = await main.fork('exp');
    await exp.kv.put('edit', 'new');
    await exp.kv.delete('gone');
    await exp.kv.put('fresh', { n: 1 });
    assert.deepEqual(main.diff('exp').kv, {
      added: [{ key: 'fresh', value: { n: 1 } }],
      removed: [{ key: 'gone', value: 'g' }],
      changed: [{ key: 'edit', from: 'old', to: 'new' }],
    });
    assert.deepEqual(exp.diff(main).kv.added, [{ key: 'gone', value: 'g' }], 'the other way round');
    assert.deepEqual(
      exp.at(c.version).diff(exp).kv.changed,
      [{ key: 'edit', from: 'old', to: 'new' }],
      'a branch against its past',
    );
    assert.deepEqual(main.diff(main).kv, { added: [], removed: [], changed: [] });
    assert.throws(
      () => main.diff('nope'),
      (e: unknown) => isStrataError(e, 'not_found'),
    );
    assert.throws(
      () => main.diff(42 as never),
      (e: unknown) => isStrataError(e, 'invalid_argument'),
    );
    await db.close();
  });

  it('merge: source-only changes apply in one commit; conflicts follow the strategy; strict changes nothing', async () => {
    const db = await Strata.cache();
    const main = db.branch();
    await main.kv.put('k', 'base');
    await main.kv.put('x', 'base');
    const exp = await main.fork('exp');
    await exp.kv.put('a', 'from exp');
    await exp.kv.delete('x');
    await exp.kv.put('k', 'exp');
    await main.kv.put('k', 'main');
    const before = db.version;
    const strict = await main.merge('exp');
    assert.equal(strict.applied, 0);
    assert.equal(strict.version, before);
    assert.equal(db.version, before, 'strict with a conflict commits nothing');
    assert.deepEqual(strict.conflicts, [
      { space: 'default', primitive: 'kv', key: 'k', base: 'base', source: 'exp', target: 'main' },
    ]);
    const kept = await main.merge('exp', { strategy: 'target-wins' });
    assert.equal(kept.version, before + 1, 'one commit');
    assert.equal(kept.applied, 2);
    assert.deepEqual(
      [...main.kv.list()],
      [
        ['a', 'from exp'],
        ['k', 'main'],
      ],
      'a and the delete of x applied, k kept',
    );
    // A second merge starts where the first left off: what the source has not changed since
    // needs nothing, whatever the target did (no conflict for k, though main changed it again).
    await main.kv.put('k', 'main 2');
    await main.kv.put('a', 'main edit');
    const quiet = await main.merge(exp);
    assert.deepEqual([quiet.applied, quiet.conflicts], [0, []]);
    await exp.kv.put('k', 'exp 2');
    const strictAgain = await main.merge(exp);
    assert.deepEqual(
      strictAgain.conflicts.map((c) => [c.key, c.base, c.source, c.target]),
      [['k', 'exp', 'exp 2', 'main 2']],
      'the base of the second merge is the source as the first merge took it',
    );
    const taken = await main.merge(exp, { strategy: 'source-wins' });
    assert.equal(taken.applied, 1);
    assert.equal(main.kv.get('k'), 'exp 2');
    assert.equal(main.kv.get('a'), 'main edit', "the target's own later change stays");
    assert.equal(exp.kv.get('k'), 'exp 2', 'the source is unchanged');
    await rejectsCode(() => main.merge('main'), 'invalid_argument', 'into itself');
    await rejectsCode(
      () => main.merge('exp', { strategy: 'ours' as never }),
      'invalid_argument',
      'bad strategy',
    );
    await rejectsCode(() => main.at(1).merge('exp'), 'read_only', 'into a view');
    // A child merged back into its parent, and a parent into its child.
    const child = await exp.fork('child');
    await child.kv.put('c', 1);
    await exp.merge('child');
    assert.equal(exp.kv.get('c'), 1);
    await main.kv.put('m', 2);
    await exp.merge('main', { strategy: 'source-wins' });
    assert.equal(exp.kv.get('m'), 2);
    await db.close();
  });

  it('deleteBranch frees the name, keeps what children inherited, and fails reads and writes through it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'strata-branches-'));
    roots.push(root);
    let db = await Strata.open(root);
    const main = db.branch();
    await main.kv.put('k', 'main');
    const parent = await main.fork('parent');
    await parent.kv.put('p', 'parent');
    const child = await parent.fork('child');
    await db.deleteBranch('parent');
    assert.deepEqual(
      db.branches().map((b) => [b.name, b.parent]),
      [
        ['main', null],
        ['child', 'parent'],
      ],
    );
    assert.deepEqual(
      [...child.kv.list()],
      [
        ['k', 'main'],
        ['p', 'parent'],
      ],
      'the child still reads what it inherited',
    );
    assert.throws(
      () => parent.kv.get('p'),
      (e: unknown) => isStrataError(e, 'not_found'),
    );
    await rejectsCode(() => parent.kv.put('p', 'x'), 'not_found', 'a write to a deleted branch');
    await rejectsCode(() => db.deleteBranch('parent'), 'not_found', 'deleting twice');
    await rejectsCode(() => db.deleteBranch('main'), 'invalid_argument', 'deleting main');
    await rejectsCode(() => parent.fork('grandchild'), 'not_found', 'forking a deleted branch');
    const again = await main.fork('parent');
    assert.deepEqual([...again.kv.list()], [['k', 'main']], 'a new branch of the same name starts afresh');
    await db.close();
    db = await Strata.open(root);
    assert.deepEqual(
      db.branches().map((b) => b.name),
      ['main', 'child', 'parent'],
    );
    assert.equal(db.branch('child').kv.get('p'), 'parent');
    assert.equal(db.branch('parent').kv.get('p'), undefined);
    await db.close();
  });

  it('spaces partition a branch; forks carry them; merges cover every space', async () => {
    const db = await Strata.cache();
    const main = db.branch();
    const notes = main.space('notes');
    await main.kv.put('k', 'default');
    await notes.kv.put('k', 'notes');
    assert.equal(main.kv.get('k'), 'default');
    assert.equal(notes.kv.get('k'), 'notes');
    assert.equal(main.space('default').kv.get('k'), 'default');
    const exp = await notes.fork('exp');
    assert.equal(exp.spaceName, 'notes', 'a fork of a space view stays in that space');
    assert.equal(exp.kv.get('k'), 'notes');
    assert.equal(exp.space('default').kv.get('k'), 'default');
    await exp.kv.put('k', 'notes on exp');
    await exp.space('default').kv.put('k2', 'default on exp');
    assert.deepEqual(notes.diff('exp').kv.changed, [{ key: 'k', from: 'notes', to: 'notes on exp' }]);
    assert.deepEqual(
      main.diff('exp').kv.added,
      [{ key: 'k2', value: 'default on exp' }],
      'diff is per space',
    );
    const r = await main.merge('exp');
    assert.equal(r.applied, 2, 'the merge covers both spaces');
    assert.equal(notes.kv.get('k'), 'notes on exp');
    assert.equal(main.kv.get('k2'), 'default on exp');
    for (const bad of ['', 'x'.repeat(256), 'a\udc00']) {
      assert.throws(
        () => main.space(bad),
        (e: unknown) => isStrataError(e, 'invalid_argument'),
        JSON.stringify(bad),
      );
    }
    await db.close();
  });
});
