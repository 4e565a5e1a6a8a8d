/**
 * Row-key helpers (docs/formats/rows.md): golden bytes of segments and sequence keys, order
 * preservation, and hostile input to the segment reader.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom, utf8ToBinary } from '../../src/base/index.js';
import {
  checkKey,
  checkNonEmptyKey,
  prefixEnd,
  readSegment,
  readSeq,
  segment,
  seqKey,
} from '../../src/engine/index.js';

const hex = (s: string): string => [...s].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(' ');

describe('row keys', () => {
  it('golden bytes', () => {
    assert.equal(hex(segment('a\u0000b')), '61 00 ff 62 00 01');
    assert.equal(hex(segment('')), '00 01');
    assert.equal(hex(segment(utf8ToBinary('é'))), 'c3 a9 00 01');
    assert.equal(hex(seqKey(258)), '00 00 00 00 00 00 01 02');
    assert.equal(hex(seqKey(2 ** 53 - 1)), '00 1f ff ff ff ff ff ff');
  });

  it('segments and sequence keys sort as their names and numbers do, and read back', () => {
    const rnd = new SeededRandom(5);
    const alphabet = ['\u0000', '\u0001', 'a', 'b', '\u00ff', '\u0000\u0001'];
    const names = Array.from({ length: 300 }, () => {
      let s = '';
      for (let i = rnd.int(5); i > 0; i--) s += alphabet[rnd.int(alphabet.length)];
      return s;
    });
    for (const a of names) {
      const [back, end] = readSegment(`${segment(a)}tail`, 0)!;
      assert.equal(back, a);
      assert.equal(end, segment(a).length);
      for (const b of names) {
        const byName = a < b ? -1 : a > b ? 1 : 0;
        // Two-segment keys: order by the first name, then the second.
        const ka = segment(a) + segment('z');
        const kb = segment(b) + segment('');
        const byKey = ka < kb ? -1 : ka > kb ? 1 : 0;
        if (byName !== 0) assert.equal(byKey, byName, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      }
    }
    const nums = [0, 1, 255, 256, 65_535, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, 2 ** 53 - 1];
    for (let i = 0; i < nums.length; i++) {
      assert.equal(readSeq(seqKey(nums[i]!), 0), nums[i]);
      if (i > 0) assert.ok(seqKey(nums[i - 1]!) < seqKey(nums[i]!));
    }
  });

  it('the segment reader rejects damaged keys', () => {
    for (const bad of ['', 'abc', 'a\u0000', 'a\u0000\u0002', 'a\u0000\u00ffb', '\u0000\u0000\u0001']) {
      assert.equal(readSegment(bad, 0), undefined, JSON.stringify(bad));
    }
    assert.equal(readSeq('short', 0), undefined);
    assert.equal(readSeq('\u00ff'.repeat(8), 0), undefined, 'beyond 2^53 - 1');
  });

  it('prefixEnd bounds exactly the keys with the prefix', () => {
    assert.equal(prefixEnd('ab'), 'ac');
    assert.equal(prefixEnd('a\u00ff\u00ff'), 'b');
    assert.throws(() => prefixEnd('\u00ff'));
    const p = segment('x');
    assert.ok(`${p}\u00ff\u00ff` < prefixEnd(p));
    for (const other of [segment('xa'), segment('x\u0000'), segment('')]) {
      assert.ok(!(other >= p && other < prefixEnd(p)), `${JSON.stringify(other)} is outside the range of x`);
    }
  });

  it('checkKey refuses what is not a valid key', () => {
    for (const bad of [5, null, undefined, {}, '\ud800', 'x'.repeat(4097)]) {
      assert.throws(
        () => checkKey(bad),
        (e: unknown) => (e as { code?: string }).code === 'invalid_argument',
      );
    }
    assert.equal(checkKey('é'), '\u00c3\u00a9');
    assert.throws(() => checkNonEmptyKey('', 'node id'), /node id must not be empty/);
  });
});
