/**
 * The k-way merge of sorted sources (forward and reverse) against a sort of everything, its
 * order assertion, closing sources early, and newestPerKey against a brute-force read model.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssertionError, SeededRandom } from '../../src/base/index.js';
import type { TableEntry } from '../../src/format/index.js';
import { mergeEntries, mergeEntriesReverse, newestPerKey } from '../../src/lsm/index.js';
import {
  byKey,
  compareInternal,
  compareReverse,
  randomHistory,
  seedFor,
  show,
  splitAtRandom,
  splitByAge,
} from '../support/lsm-history.js';

const v = (key: string, version: number, timestamp = version * 10): TableEntry => ({
  key,
  version,
  timestamp,
  value: Uint8Array.of(version & 0xff),
});
const t = (key: string, version: number, timestamp = version * 10): TableEntry => ({
  key,
  version,
  timestamp,
  value: null,
});
const iters = (sources: readonly (readonly TableEntry[])[]): Iterator<TableEntry>[] =>
  sources.map((s) => s[Symbol.iterator]());
const isAssertion = (e: unknown): boolean => e instanceof AssertionError;

/** A source over `entries` that records whether it was closed early. */
class TrackedSource implements Iterator<TableEntry> {
  private i = 0;
  closed = false;
  constructor(private readonly entries: readonly TableEntry[]) {}
  next(): IteratorResult<TableEntry> {
    assert.equal(this.closed, false, 'next() after return()');
    const e = this.entries[this.i++];
    return e === undefined ? { done: true, value: undefined } : { done: false, value: e };
  }
  return(): IteratorResult<TableEntry> {
    this.closed = true;
    return { done: true, value: undefined };
  }
}

/** A source that reuses one mutable entry object for every step, as a table reader might. */
function* reusingSource(entries: readonly TableEntry[]): Generator<TableEntry> {
  const slot = { key: '', version: 0, timestamp: 0, value: null as Uint8Array | null };
  for (const e of entries) {
    slot.key = e.key;
    slot.version = e.version;
    slot.timestamp = e.timestamp;
    slot.value = e.value;
    yield slot;
  }
}

/** The brute-force read: per key, the newest entry with version <= V and timestamp <= T. */
function modelNewest(
  entries: readonly TableEntry[],
  atVersion: number,
  atTimestamp: number,
  includeTombstones: boolean,
  reverse: boolean,
): TableEntry[] {
  const out: TableEntry[] = [];
  for (const versions of byKey([...entries].sort(reverse ? compareReverse : compareInternal)).values()) {
    let best: TableEntry | undefined;
    for (const e of versions) {
      if (
        e.version <= atVersion &&
        e.timestamp <= atTimestamp &&
        (best === undefined || e.version > best.version)
      )
        best = e;
    }
    if (best !== undefined && (includeTombstones || best.value !== null)) out.push(best);
  }
  return out;
}

describe('mergeEntries', () => {
  it('merges nothing, empty sources and one source', () => {
    assert.deepEqual([...mergeEntries([])], [], 'no sources');
    assert.deepEqual([...mergeEntries(iters([[], [], []]))], [], 'empty sources');
    const one = [v('a', 3), v('a', 1), t('b', 2)];
    assert.deepEqual(show([...mergeEntries(iters([one]))]), show(one), 'one source passes through');
    assert.deepEqual(
      show([...mergeEntries(iters([[], one, []]))]),
      show(one),
      'one non-empty source of three',
    );
  });

  it('interleaves a memtable, L0 tables and a level in internal order', () => {
    const memtable = [v('b', 9), t('d', 8)];
    const l0new = [v('a', 7), v('b', 6), v('c', 5)];
    const l0old = [v('b', 4), v('d', 3)];
    const l1 = [v('a', 2), v('c', 1), v('e', 0)];
    assert.deepEqual(
      show([...mergeEntries(iters([memtable, l0new, l0old, l1]))]),
      ['"a"@7', '"a"@2', '"b"@9', '"b"@6', '"b"@4', '"c"@5', '"c"@1', '"d"@8✝', '"d"@3', '"e"@0'],
      'forward',
    );
    const rev = (s: TableEntry[]): TableEntry[] => [...s].sort(compareReverse);
    assert.deepEqual(
      show([...mergeEntriesReverse(iters([rev(memtable), rev(l0new), rev(l0old), rev(l1)]))]),
      ['"e"@0', '"d"@8✝', '"d"@3', '"c"@5', '"c"@1', '"b"@9', '"b"@6', '"b"@4', '"a"@7', '"a"@2'],
      'reverse',
    );
  });

  it('orders byte-string keys bytewise (prefixes, 0x00 and 0xff)', () => {
    const a = [v('\x00', 1), v('a', 2), v('a\x00', 3), v('\xff', 4)];
    const b = [v('', 5), v('ab', 6), v('a\xff', 7), v('\xff\x00', 8)];
    assert.deepEqual(
      show([...mergeEntries(iters([a, b]))]),
      show([...a, ...b].sort(compareInternal)),
      'bytewise order',
    );
  });

  for (const reverse of [false, true]) {
    it(`equals a sort of all entries for random sources (${reverse ? 'reverse' : 'forward'})`, () => {
      const seed = seedFor(reverse ? 902 : 901);
      const rnd = new SeededRandom(seed);
      const compare = reverse ? compareReverse : compareInternal;
      const merge = reverse ? mergeEntriesReverse : mergeEntries;
      for (let round = 0; round < 150; round++) {
        const all = randomHistory(rnd, {
          keys: 1 + rnd.int(60),
          versionsMax: 1 + rnd.int(6),
          tombstoneChance: 0.2,
          monotonicTimestamps: true,
        }).sort(compare);
        const count = 1 + rnd.int(12);
        const sources = rnd.bool() ? splitAtRandom(rnd, all, count) : splitByAge(rnd, all, count);
        for (const s of sources) s.sort(compare);
        const got = [...merge(iters(sources))];
        assert.deepEqual(show(got), show(all), `seed ${seed} round ${round}: ${count} sources`);
        assert.ok(
          got.every((e, i) => e === all[i]),
          `seed ${seed} round ${round}: the entries themselves pass through`,
        );
      }
    });
  }

  it('works with sources that reuse one entry object between steps', () => {
    const rnd = new SeededRandom(seedFor(903));
    for (let round = 0; round < 30; round++) {
      const all = randomHistory(rnd, {
        keys: 40,
        versionsMax: 4,
        tombstoneChance: 0.2,
        monotonicTimestamps: true,
      });
      const sources = splitAtRandom(rnd, all, 1 + rnd.int(6));
      const got: string[] = [];
      for (const e of mergeEntries(sources.map((s) => reusingSource(s)))) got.push(...show([e]));
      assert.deepEqual(got, show(all), `round ${round}`);
    }
  });

  it('asserts when a source is out of order or a (key, version) repeats', () => {
    const cases: [string, TableEntry[][]][] = [
      ['keys out of order, one source', [[v('b', 2), v('a', 1)]]],
      ['versions ascending, one source', [[v('a', 1), v('a', 2)]]],
      ['keys out of order, three sources', [[v('b', 5), v('a', 4)], [v('c', 1)], [v('d', 2)]]],
      ['versions ascending, two sources', [[v('a', 1), v('a', 3)], [v('a', 2)]]],
      ['one (key, version) in two sources', [[v('a', 1)], [v('a', 1)]]],
      ['one (key, version) twice in one source', [[v('a', 1), v('a', 1)]]],
    ];
    for (const [name, sources] of cases) {
      assert.throws(() => [...mergeEntries(iters(sources))], isAssertion, name);
    }
    assert.throws(
      () => [...mergeEntriesReverse(iters([[v('a', 1)], [v('b', 2), v('c', 3)]]))],
      isAssertion,
      'ascending keys in a reverse merge',
    );
    assert.throws(
      () => [...mergeEntriesReverse(iters([[v('a', 1), v('a', 1)]]))],
      isAssertion,
      'a repeat in a reverse merge of one source',
    );
  });

  it('closes every unfinished source when stopped early, and none when drained', () => {
    for (const count of [1, 2, 5]) {
      const sources = Array.from(
        { length: count },
        (_, i) => new TrackedSource([v(`k${i}`, 10 + i), v(`k${i}x`, 20 + i), v(`k${i}y`, 30 + i)]),
      );
      const exhausted = new TrackedSource([]);
      const stream = mergeEntries([...sources, exhausted]);
      stream.next();
      stream.return(undefined);
      for (const s of sources) assert.equal(s.closed, true, `${count} sources: unfinished source closed`);

      const drained = Array.from({ length: count }, (_, i) => new TrackedSource([v(`k${i}`, 10 + i)]));
      assert.equal([...mergeEntries(drained)].length, count, 'drained');
      for (const s of drained) assert.equal(s.closed, false, `${count} sources: finished source not closed`);
    }
    // A merge that stops with one source left (the pass-through phase) closes that one.
    const a = new TrackedSource([v('a', 1)]);
    const b = new TrackedSource([v('b', 2), v('c', 3), v('d', 4)]);
    const stream = mergeEntries([a, b]);
    assert.deepEqual(show([stream.next().value!, stream.next().value!]), ['"a"@1', '"b"@2'], 'first two');
    stream.return(undefined);
    assert.equal(b.closed, true, 'last source closed');
  });

  it('passes on a source error and closes the other sources, opened or not', () => {
    const first = new TrackedSource([v('a', 1), v('b', 2)]);
    const after = new TrackedSource([v('c', 3)]);
    const failing: Iterator<TableEntry> = {
      next: () => {
        throw new Error('read failed');
      },
    };
    assert.throws(() => [...mergeEntries([first, failing, after])], /read failed/, 'error passed on');
    assert.equal(first.closed, true, 'source opened before the failure closed');
    assert.equal(after.closed, true, 'source after the failure closed');
  });
});

describe('newestPerKey', () => {
  const history = [v('a', 9, 90), v('a', 5, 50), t('b', 8, 80), v('b', 2, 20), v('c', 7, 70), t('d', 3, 30)];

  it('yields per key the newest entry at or below the read point', () => {
    const at = (version: number, timestamp: number, tombstones = false): string[] =>
      show([...newestPerKey(history[Symbol.iterator](), version, timestamp, tombstones)]);
    assert.deepEqual(at(100, 1000), ['"a"@9', '"c"@7'], 'latest: b and d are deleted');
    assert.deepEqual(at(100, 1000, true), ['"a"@9', '"b"@8✝', '"c"@7', '"d"@3✝'], 'latest with tombstones');
    assert.deepEqual(at(7, 1000), ['"a"@5', '"b"@2', '"c"@7'], 'at version 7: b before its delete');
    assert.deepEqual(at(100, 60), ['"a"@5', '"b"@2'], 'at timestamp 60');
    assert.deepEqual(at(8, 75), ['"a"@5', '"b"@2', '"c"@7'], 'version and timestamp both bound');
    assert.deepEqual(at(6, 75), ['"a"@5', '"b"@2'], 'version 6 hides c, timestamp 75 hides the delete of b');
    assert.deepEqual(at(1, 1000, true), [], 'before every version');
    assert.deepEqual(at(100, 19, true), [], 'before every timestamp');
  });

  it('never falls back below a tombstone', () => {
    const got = [...newestPerKey([t('a', 3), v('a', 2), v('a', 1)][Symbol.iterator](), 10, 1000, false)];
    assert.deepEqual(got, [], 'a is deleted');
  });

  it('matches the brute-force read over merged random sources, forward and reverse', () => {
    const seed = seedFor(911);
    const rnd = new SeededRandom(seed);
    for (let round = 0; round < 120; round++) {
      const monotonic = rnd.bool(0.7);
      const all = randomHistory(rnd, {
        keys: 1 + rnd.int(40),
        versionsMax: 1 + rnd.int(6),
        tombstoneChance: 0.25,
        monotonicTimestamps: monotonic,
      });
      const reverse = rnd.bool();
      const sources = splitByAge(rnd, all, 1 + rnd.int(5)).map((s) => (reverse ? s.sort(compareReverse) : s));
      const versionMax = all.reduce((m, e) => Math.max(m, e.version), 0);
      const timestampMax = all.reduce((m, e) => Math.max(m, e.timestamp), 0);
      for (let p = 0; p < 8; p++) {
        const atVersion = rnd.bool(0.2) ? Number.MAX_SAFE_INTEGER : rnd.int(versionMax + 2);
        const atTimestamp = rnd.bool(0.3) ? Number.MAX_SAFE_INTEGER : 999 + rnd.int(timestampMax - 997);
        const tombstones = rnd.bool();
        const merged = (reverse ? mergeEntriesReverse : mergeEntries)(iters(sources));
        const got = [...newestPerKey(merged, atVersion, atTimestamp, tombstones)];
        assert.deepEqual(
          show(got),
          show(modelNewest(all, atVersion, atTimestamp, tombstones, reverse)),
          `seed ${seed} round ${round} read ${p}: at (${atVersion}, ${atTimestamp}) reverse=${reverse} tombstones=${tombstones}`,
        );
      }
    }
  });

  it('closes its stream when stopped early', () => {
    const source = new TrackedSource(history);
    const stream = newestPerKey(source, 100, 1000, true);
    stream.next();
    stream.return(undefined);
    assert.equal(source.closed, true, 'closed');
  });
});
