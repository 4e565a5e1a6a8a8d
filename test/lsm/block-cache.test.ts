/** The block cache: LRU eviction by charged bytes, hit and miss counts, evictTable. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssertionError, SeededRandom } from '../../src/base/index.js';
import { BlockCache } from '../../src/lsm/index.js';

const block = (name: string): { name: string } => ({ name });
const nameAt = (cache: BlockCache, file: number, offset: number): string | undefined =>
  (cache.get(file, offset) as { name: string } | undefined)?.name;

describe('BlockCache', () => {
  it('keeps blocks within the byte budget, least recently used out first', () => {
    const cache = new BlockCache(100);
    cache.put(1, 0, block('a'), 40);
    cache.put(1, 40, block('b'), 40);
    assert.equal(cache.usedBytes, 80, 'two blocks charged');
    assert.equal(nameAt(cache, 1, 0), 'a', 'a is now the most recently used');
    cache.put(2, 0, block('c'), 40);
    assert.equal(cache.entries, 2, 'one block evicted');
    assert.equal(cache.usedBytes, 80, 'used bytes after eviction');
    assert.equal(nameAt(cache, 1, 40), undefined, 'b, the least recently used, went');
    assert.equal(nameAt(cache, 1, 0), 'a', 'a stayed');
    assert.equal(nameAt(cache, 2, 0), 'c', 'c is there');
    cache.put(3, 0, block('d'), 100);
    assert.deepEqual(
      [cache.entries, cache.usedBytes],
      [1, 100],
      'a block of the whole capacity evicts all else',
    );
    cache.put(3, 8, block('e'), 101);
    assert.equal(nameAt(cache, 3, 8), undefined, 'a block above the capacity is not kept');
    assert.equal(nameAt(cache, 3, 0), 'd', 'and evicts nothing');
  });

  it("grow adds to a cached block's charge and evicts to fit; a block grown past the capacity goes", () => {
    const cache = new BlockCache(100);
    cache.put(1, 0, block('a'), 30);
    cache.put(1, 30, block('b'), 30);
    cache.put(1, 60, block('c'), 30);
    cache.grow(1, 60, 20);
    assert.deepEqual([cache.entries, cache.usedBytes], [2, 80], 'c grew to 50; a (oldest) went');
    assert.equal(nameAt(cache, 1, 0), undefined, 'a evicted');
    cache.grow(9, 0, 1000);
    assert.equal(cache.usedBytes, 80, 'growing a block not cached changes nothing');
    cache.grow(1, 30, 71);
    assert.equal(nameAt(cache, 1, 30), undefined, 'b grown to 101 > capacity is dropped');
    assert.deepEqual([cache.entries, cache.usedBytes], [1, 50], 'only c is left');
    assert.throws(() => cache.grow(1, 60, -1), AssertionError, 'a negative charge is a bug');
  });

  it('counts hits and misses', () => {
    const cache = new BlockCache(1000);
    assert.equal(cache.get(1, 0), undefined, 'miss');
    cache.put(1, 0, block('a'), 10);
    cache.get(1, 0);
    cache.get(1, 0);
    cache.get(1, 10);
    assert.deepEqual([cache.hits, cache.misses], [2, 2], 'hits and misses');
  });

  it('replaces a block at the same place, adjusting the charge', () => {
    const cache = new BlockCache(100);
    cache.put(1, 0, block('a'), 30);
    cache.put(1, 0, block('b'), 50);
    assert.deepEqual([cache.entries, cache.usedBytes, nameAt(cache, 1, 0)], [1, 50, 'b'], 'replaced');
    cache.put(1, 0, block('c'), 500);
    assert.deepEqual([cache.entries, cache.usedBytes], [0, 0], 'replaced by one too big: gone');
  });

  it('evictTable drops every block of one table and no other', () => {
    const cache = new BlockCache(1 << 20);
    for (let f = 1; f <= 3; f++) for (let o = 0; o < 5; o++) cache.put(f, o * 100, block(`${f}:${o}`), 10);
    cache.evictTable(2);
    assert.deepEqual([cache.entries, cache.usedBytes], [10, 100], 'five blocks gone');
    for (let o = 0; o < 5; o++) assert.equal(cache.get(2, o * 100), undefined, `2:${o} gone`);
    assert.equal(nameAt(cache, 1, 400), '1:4', 'table 1 kept');
    assert.equal(nameAt(cache, 3, 0), '3:0', 'table 3 kept');
    cache.evictTable(2);
    cache.evictTable(99);
    cache.put(2, 0, block('again'), 10);
    assert.equal(nameAt(cache, 2, 0), 'again', 'a table can be cached again');
    cache.clear();
    assert.deepEqual([cache.entries, cache.usedBytes], [0, 0], 'clear');
  });

  it('capacity 0 keeps nothing; bad arguments are assertion failures', () => {
    const cache = new BlockCache(0);
    cache.put(1, 0, block('a'), 0);
    assert.equal(nameAt(cache, 1, 0), 'a', 'a block charged 0 bytes fits');
    cache.put(1, 1, block('b'), 1);
    assert.equal(nameAt(cache, 1, 1), undefined, 'anything else does not');
    assert.throws(() => new BlockCache(-1), AssertionError, 'negative capacity');
    assert.throws(() => cache.put(1, 0, block('c'), Number.NaN), AssertionError, 'NaN charge');
  });

  it('matches a model LRU under random use', () => {
    const rnd = new SeededRandom(961);
    const capacity = 500;
    const cache = new BlockCache(capacity);
    // The model: keys in recency order (oldest first) with their charges.
    let lru: { key: string; charge: number }[] = [];
    for (let step = 0; step < 5000; step++) {
      const file = 1 + rnd.int(4);
      const offset = rnd.int(10) * 64;
      const key = `${file}:${offset}`;
      const op = rnd.int(10);
      if (op < 5) {
        const got = nameAt(cache, file, offset);
        const at = lru.findIndex((e) => e.key === key);
        assert.equal(got, at < 0 ? undefined : key, `step ${step}: get ${key}`);
        if (at >= 0) lru.push(...lru.splice(at, 1));
      } else if (op < 9) {
        const charge = rnd.int(150);
        cache.put(file, offset, block(key), charge);
        lru = lru.filter((e) => e.key !== key);
        if (charge <= capacity) {
          lru.push({ key, charge });
          let used = lru.reduce((n, e) => n + e.charge, 0);
          while (used > capacity) used -= lru.shift()!.charge;
        }
      } else if (rnd.bool(0.2)) {
        cache.evictTable(file);
        lru = lru.filter((e) => !e.key.startsWith(`${file}:`));
      }
      assert.equal(cache.entries, lru.length, `step ${step}: entries`);
      assert.equal(
        cache.usedBytes,
        lru.reduce((n, e) => n + e.charge, 0),
        `step ${step}: used bytes`,
      );
    }
  });

  it('setCapacity evicts least recently used blocks down to the new capacity, and grows again', () => {
    const cache = new BlockCache(1000);
    for (let i = 0; i < 10; i++) cache.put(1, i * 100, { i }, 100);
    assert.equal(cache.usedBytes, 1000);
    cache.get(1, 0); // block 0 becomes the most recently used
    cache.setCapacity(350);
    assert.equal(cache.capacityBytes, 350);
    assert.ok(cache.usedBytes <= 350);
    assert.equal(cache.entries, 3);
    assert.deepEqual(cache.get(1, 0), { i: 0 }, 'the most recently used block stays');
    assert.equal(cache.get(1, 100), undefined, 'the oldest went first');
    assert.deepEqual(cache.get(1, 900), { i: 9 });
    cache.setCapacity(0);
    assert.equal(cache.usedBytes, 0);
    cache.put(1, 0, { i: 0 }, 1);
    assert.equal(cache.entries, 0, 'nothing fits a zero capacity');
    cache.setCapacity(500);
    cache.put(1, 0, { i: 0 }, 100);
    assert.equal(cache.usedBytes, 100);
    assert.throws(() => cache.setCapacity(-1), AssertionError);
  });
});
