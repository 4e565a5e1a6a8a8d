/** The memtable: version chains, reads at a version or timestamp, the head, and ordered keys. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssertionError, SeededRandom } from '../../src/base/index.js';
import { keyspacePrefix } from '../../src/format/index.js';
import { Memtable } from '../../src/lsm/index.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const bytesOf = (e: { value: Uint8Array | null } | undefined): number[] | null | undefined =>
  e === undefined ? undefined : e.value === null ? null : [...e.value];

describe('Memtable', () => {
  function sample(): Memtable {
    const m = new Memtable();
    m.apply(1, 100, [{ key: 'a', value: bytes(1) }]);
    m.apply(2, 200, [
      { key: 'b', value: bytes(2) },
      { key: 'a', value: bytes(3) },
    ]);
    m.apply(3, 200, [{ key: 'a', value: null }]);
    m.apply(5, 500, [{ key: 'c', value: bytes(5) }]);
    m.apply(6, 600, [{ key: 'a', value: bytes(6) }]);
    return m;
  }

  it('gets the newest entry at or below a version, tombstones included', () => {
    const m = sample();
    assert.equal(m.get('a', 0), undefined, 'before the first write');
    assert.deepEqual(bytesOf(m.get('a', 1)), [1], 'a@1');
    assert.deepEqual(bytesOf(m.get('a', 2)), [3], 'a@2');
    assert.equal(bytesOf(m.get('a', 3)), null, 'a@3 is a tombstone');
    assert.equal(bytesOf(m.get('a', 4)), null, 'a@4 still the tombstone');
    assert.deepEqual(bytesOf(m.get('a', 6)), [6], 'a@6');
    assert.deepEqual(bytesOf(m.get('a', Number.MAX_SAFE_INTEGER)), [6], 'a@max');
    assert.equal(m.get('b', 1), undefined, 'b did not exist at 1');
    assert.equal(m.get('zzz', 6), undefined, 'missing key');
    const e = m.get('a', 6)!;
    assert.equal(e.version, 6, 'version');
    assert.equal(e.timestamp, 600, 'timestamp');
    assert.equal(e.older?.version, 3, 'chain: 6 -> 3');
    assert.equal(e.older?.older?.version, 2, 'chain: 3 -> 2');
    assert.equal(e.older?.older?.older?.version, 1, 'chain: 2 -> 1');
    assert.equal(e.older?.older?.older?.older, undefined, 'chain ends');
  });

  it('gets at a timestamp, capped by a version', () => {
    const m = sample();
    assert.equal(m.getAtTimestamp('a', 99, 6), undefined, 'before any timestamp');
    assert.deepEqual(bytesOf(m.getAtTimestamp('a', 100, 6)), [1], 'a at t=100');
    assert.deepEqual(bytesOf(m.getAtTimestamp('a', 199.9, 6)), [1], 'a at t=199.9');
    // Versions 2 and 3 share timestamp 200: the newer one (the tombstone) wins.
    assert.equal(bytesOf(m.getAtTimestamp('a', 200, 6)), null, 'a at t=200');
    assert.deepEqual(bytesOf(m.getAtTimestamp('a', 200, 2)), [3], 'a at t=200 capped at version 2');
    assert.deepEqual(bytesOf(m.getAtTimestamp('a', 1e12, 6)), [6], 'a far in the future');
    assert.deepEqual(bytesOf(m.getAtTimestamp('c', 499, 6)), undefined, 'c before it was written');
  });

  it('head is the newest entry regardless of visibility', () => {
    const m = sample();
    assert.equal(m.head('a')?.version, 6, 'head of a');
    assert.equal(m.head('b')?.version, 2, 'head of b');
    assert.equal(m.head('nope'), undefined, 'no head');
  });

  it('lists keys in byte order within bounds, both ways', () => {
    const m = sample();
    m.apply(7, 700, [
      { key: '\xff', value: null },
      { key: '\x00', value: bytes(0) },
    ]);
    assert.deepEqual(
      [...m.keys(undefined, undefined)],
      ['\x00', 'a', 'b', 'c', '\xff'],
      'all keys, tombstoned ones too',
    );
    assert.deepEqual([...m.keys('a', 'c')], ['a', 'b'], '[a, c)');
    assert.deepEqual([...m.keys('a', 'c', true)], ['b', 'a'], '[a, c) reversed');
    assert.deepEqual([...m.keys('b', undefined, true)], ['\xff', 'c', 'b'], '[b, ∞) reversed');
  });

  it('counts keys, versions, bytes and the newest version', () => {
    const m = sample();
    assert.equal(m.keyCount, 3, 'keys');
    assert.equal(m.versionCount, 6, 'versions');
    assert.equal(m.newestVersion, 6, 'newest version');
    assert.ok(m.sizeBytes > 0, 'bytes grow');
    const before = m.sizeBytes;
    m.apply(7, 700, [{ key: 'a', value: new Uint8Array(1000) }]);
    assert.ok(m.sizeBytes >= before + 1000, 'value bytes are counted');
    const empty = new Memtable();
    assert.deepEqual(
      [empty.keyCount, empty.versionCount, empty.newestVersion, empty.sizeBytes],
      [0, 0, 0, 0],
      'empty',
    );
  });

  it('insert loads snapshot entries and tracks the newest version', () => {
    const m = new Memtable();
    m.insert('k', 1, 10, bytes(1));
    m.insert('k', 4, 40, null);
    m.insert('j', 2, 20, bytes(2));
    assert.equal(m.newestVersion, 4, 'newest version from inserts');
    assert.equal(bytesOf(m.get('k', 9)), null, 'k@9 is the tombstone');
    assert.deepEqual(bytesOf(m.get('k', 3)), [1], 'k@3');
    assert.deepEqual([...m.keys(undefined, undefined)], ['j', 'k'], 'keys');
    assert.throws(
      () => m.apply(4, 50, [{ key: 'x', value: null }]),
      (e: unknown) => e instanceof AssertionError,
      'apply must go above inserted versions',
    );
  });

  it('refuses versions that do not increase (a bug in the caller)', () => {
    const m = sample();
    const isAssertion = (e: unknown): boolean => e instanceof AssertionError;
    assert.throws(() => m.apply(6, 700, [{ key: 'z', value: null }]), isAssertion, 'same version');
    assert.throws(() => m.apply(4, 700, [{ key: 'z', value: null }]), isAssertion, 'older version');
    assert.throws(() => m.insert('a', 5, 600, null), isAssertion, 'older version of a key');
  });

  it('agrees with a model on random histories', () => {
    const rnd = new SeededRandom(901);
    const m = new Memtable();
    const log: { version: number; timestamp: number; key: string; value: number | null }[] = [];
    let t = 0;
    for (let v = 1; v <= 3000; v++) {
      t += rnd.int(3); // timestamps repeat sometimes
      const key = `k${rnd.int(200)}`;
      const value = rnd.bool(0.2) ? null : v;
      m.apply(v, t, [{ key, value: value === null ? null : bytes(value & 0xff) }]);
      log.push({ version: v, timestamp: t, key, value });
    }
    for (let i = 0; i < 2000; i++) {
      const key = `k${rnd.int(210)}`;
      const atVersion = rnd.int(3100);
      const atTime = rnd.bool() ? Number.POSITIVE_INFINITY : rnd.int(t + 10);
      let expected: (typeof log)[number] | undefined;
      for (const e of log) if (e.key === key && e.version <= atVersion && e.timestamp <= atTime) expected = e;
      const got =
        atTime === Number.POSITIVE_INFINITY
          ? m.get(key, atVersion)
          : m.getAtTimestamp(key, atTime, atVersion);
      assert.equal(got?.version, expected?.version, `read of ${key} at v${atVersion} t${atTime}`);
    }
  });
});

describe('Memtable batches', () => {
  it('applies the same key twice in one batch as last-write-wins, keeping older versions', () => {
    const m = new Memtable();
    m.apply(1, 10, [{ key: 'k', value: new Uint8Array([1]) }]);
    m.apply(2, 20, [
      { key: 'k', value: new Uint8Array([2]) },
      { key: 'k', value: new Uint8Array([3]) },
    ]);
    assert.deepEqual([...(m.get('k', 2)?.value ?? [])], [3], 'the later write of the batch wins');
    assert.deepEqual([...(m.get('k', 1)?.value ?? [])], [1], 'the older version is still in the chain');
    assert.equal(m.get('k', 2)?.older?.version, 1, 'no duplicate entry for version 2');
  });
});

describe('Memtable keyspace lookups', () => {
  it('getIn / headIn with (prefix + tag, rest) agree with get / head on the full key', () => {
    const m = new Memtable();
    const a = `${keyspacePrefix(1, 'default')}\x01`;
    const b = `${keyspacePrefix(2, 'default')}\x01`;
    const c = `${keyspacePrefix(1, 'other')}\x02`;
    m.apply(1, 10, [
      { key: `${a}k`, value: new Uint8Array([1]) },
      { key: `${b}k`, value: new Uint8Array([2]) },
      { key: `${c}k`, value: new Uint8Array([3]) },
      { key: `${a}`, value: new Uint8Array([4]) },
    ]);
    m.apply(2, 20, [{ key: `${a}k`, value: null }]);
    for (const [space, rest] of [
      [a, 'k'],
      [b, 'k'],
      [c, 'k'],
      [a, ''],
      [a, 'missing'],
    ] as const) {
      for (const v of [1, 2]) {
        assert.equal(m.getIn(space, rest, v), m.get(space + rest, v), `getIn ${JSON.stringify(rest)} @${v}`);
      }
      assert.equal(m.headIn(space, rest), m.head(space + rest), `headIn ${JSON.stringify(rest)}`);
      assert.equal(m.getAtTimestampIn(space, rest, 15, 2), m.getAtTimestamp(space + rest, 15, 2), 'by time');
    }
    assert.equal(m.getIn(a, 'k', 2)?.value, null, 'the tombstone');
    assert.deepEqual([...(m.getIn(b, 'k', 2)?.value ?? [])], [2], 'another branch is another keyspace');
    assert.equal(m.getIn(`${keyspacePrefix(9, 'default')}\x01`, 'k', 2), undefined, 'unknown keyspace');
    assert.equal(m.keyCount, 4, 'keys counted across keyspaces');
    assert.deepEqual(
      [...m.keys(undefined, undefined)],
      [`${c}k`, `${a}`, `${a}k`, `${b}k`],
      'one global byte order',
    );
  });
});
