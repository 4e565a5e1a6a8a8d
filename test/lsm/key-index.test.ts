/**
 * KeyIndex (the memtable's B+tree) against a sorted-array model: random inserts, bounded
 * range scans both ways, and inserts while a cursor is open.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssertionError, SeededRandom } from '../../src/base/index.js';
import { KeyIndex } from '../../src/lsm/index.js';

/** Random byte-string keys from a small alphabet (including 0x00 and 0xff), so prefixes collide. */
function randomKey(rnd: SeededRandom): string {
  const alphabet = [0x00, 0x01, 0x41, 0x61, 0x62, 0x7f, 0x80, 0xfe, 0xff];
  const length = 1 + rnd.int(6);
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(rnd.pick(alphabet));
  return s;
}

function model(keys: Iterable<string>): string[] {
  // Default sort compares UTF-16 code units; byte strings (chars 0..255) sort bytewise.
  return [...keys].sort();
}

function expectedRange(
  sorted: readonly string[],
  start: string | undefined,
  end: string | undefined,
  reverse: boolean,
): string[] {
  const out = sorted.filter((k) => (start === undefined || k >= start) && (end === undefined || k < end));
  return reverse ? out.reverse() : out;
}

function build(rnd: SeededRandom, count: number): { index: KeyIndex; keys: Set<string> } {
  const index = new KeyIndex();
  const keys = new Set<string>();
  while (keys.size < count) {
    const k = randomKey(rnd);
    if (keys.has(k)) continue;
    index.insert(k);
    keys.add(k);
  }
  return { index, keys };
}

describe('KeyIndex', () => {
  it('starts empty', () => {
    const index = new KeyIndex();
    assert.equal(index.size, 0, 'size 0');
    assert.deepEqual([...index.range(undefined, undefined)], [], 'forward scan');
    assert.deepEqual([...index.range(undefined, undefined, true)], [], 'reverse scan');
    assert.deepEqual([...index.range('a', 'b', true)], [], 'bounded reverse scan');
  });

  it('matches a sorted array after thousands of random inserts (several tree levels)', () => {
    const rnd = new SeededRandom(801);
    const { index, keys } = build(rnd, 20_000);
    assert.equal(index.size, keys.size, 'size');
    const sorted = model(keys);
    assert.deepEqual([...index.range(undefined, undefined)], sorted, 'full forward scan');
    assert.deepEqual(
      [...index.range(undefined, undefined, true)],
      [...sorted].reverse(),
      'full reverse scan',
    );
  });

  it('keeps each value with its key through leaf and branch splits', () => {
    const rnd = new SeededRandom(803);
    const index = new KeyIndex<string>();
    const keys = new Set<string>();
    while (keys.size < 3000) {
      const k = randomKey(rnd);
      if (keys.has(k)) continue;
      index.insert(k, `value of ${k}`);
      keys.add(k);
    }
    const sorted = model(keys);
    const expect = (ks: readonly string[]): string[] => ks.map((k) => `value of ${k}`);
    assert.deepEqual([...index.rangeValues(undefined, undefined)], expect(sorted), 'forward');
    assert.deepEqual(
      [...index.rangeValues(undefined, undefined, true)],
      expect([...sorted].reverse()),
      'reverse',
    );
    const [a, b] = [sorted[100]!, sorted[2000]!];
    assert.deepEqual(
      [...index.rangeValues(a, b, true)],
      expect(expectedRange(sorted, a, b, true)),
      'bounded reverse',
    );
  });

  it('matches the model on bounded scans forward and reverse', () => {
    const rnd = new SeededRandom(802);
    const { index, keys } = build(rnd, 5000);
    const sorted = model(keys);
    for (let i = 0; i < 300; i++) {
      // Bounds are present keys half the time, arbitrary keys otherwise; sometimes open.
      const bound = (): string | undefined =>
        rnd.bool(0.15) ? undefined : rnd.bool() ? sorted[rnd.int(sorted.length)]! : randomKey(rnd);
      const start = bound();
      const end = bound();
      const reverse = rnd.bool();
      const got = [...index.range(start, end, reverse)];
      assert.deepEqual(
        got,
        expectedRange(sorted, start, end, reverse),
        `scan #${i} [${start}, ${end}) reverse=${reverse}`,
      );
    }
    assert.deepEqual([...index.range('\xff\xff\xff\xff\xff\xff\xff', undefined)], [], 'start past every key');
    assert.deepEqual([...index.range(undefined, '\x00')], [], 'end before every key');
    assert.deepEqual([...index.range('b', 'a')], [], 'start after end');
  });

  it('refuses a duplicate insert (the memtable checks first)', () => {
    const index = new KeyIndex();
    index.insert('k');
    assert.throws(
      () => index.insert('k'),
      (e: unknown) => e instanceof AssertionError,
      'duplicate',
    );
  });

  for (const reverse of [false, true]) {
    it(`a ${reverse ? 'reverse' : 'forward'} cursor neither skips nor repeats keys while keys are inserted`, () => {
      const rnd = new SeededRandom(reverse ? 804 : 803);
      for (let round = 0; round < 20; round++) {
        const { index, keys } = build(rnd, 200 + rnd.int(3000));
        const before = model(keys);
        const start = rnd.bool(0.3) ? undefined : randomKey(rnd);
        const end = rnd.bool(0.3) ? undefined : randomKey(rnd);
        const seen: string[] = [];
        const insertedAhead: string[] = [];
        for (const key of index.range(start, end, reverse)) {
          seen.push(key);
          // Insert a burst of new keys, some behind the cursor and some ahead of it.
          const burst = rnd.int(6);
          for (let j = 0; j < burst; j++) {
            const k = randomKey(rnd);
            if (keys.has(k)) continue;
            index.insert(k);
            keys.add(k);
            const ahead = reverse ? k < key : k > key;
            const inRange = (start === undefined || k >= start) && (end === undefined || k < end);
            if (ahead && inRange) insertedAhead.push(k);
          }
        }
        for (let i = 1; i < seen.length; i++) {
          const ordered = reverse ? seen[i]! < seen[i - 1]! : seen[i]! > seen[i - 1]!;
          assert.ok(
            ordered,
            `round ${round}: strictly ${reverse ? 'descending' : 'ascending'} at ${i} (no repeats)`,
          );
        }
        const seenSet = new Set(seen);
        for (const k of expectedRange(before, start, end, reverse)) {
          assert.ok(
            seenSet.has(k),
            `round ${round}: key present before iteration was seen: ${JSON.stringify(k)}`,
          );
        }
        for (const k of insertedAhead) {
          assert.ok(
            seenSet.has(k),
            `round ${round}: key inserted ahead of the cursor was seen: ${JSON.stringify(k)}`,
          );
        }
        assert.equal(index.size, keys.size, 'size after the inserts');
        assert.deepEqual(
          [...index.range(undefined, undefined)],
          model(keys),
          'tree still sorted and complete',
        );
      }
    });
  }
});
