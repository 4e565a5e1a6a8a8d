/** Byte helpers: u64 fields, bytewise order, hex, and byte strings (one char per byte). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AssertionError,
  allocBytes,
  binaryToBytes,
  binaryToUtf8,
  bytesToBinary,
  compareBytes,
  concatBytes,
  equalBytes,
  fromHex,
  getU64,
  SeededRandom,
  setU64,
  toHex,
  utf8Decode,
  utf8Encode,
  utf8ToBinary,
  viewOf,
  writeBinary,
} from '../../src/base/index.js';

function isAssertion(error: unknown): boolean {
  return error instanceof Error && error.name === 'AssertionError' && error instanceof AssertionError;
}

describe('u64 fields', () => {
  it('round trip safe integers little-endian', () => {
    const buf = new Uint8Array(10);
    const view = viewOf(buf);
    for (const v of [0, 1, 0xffffffff, 2 ** 32, 2 ** 32 + 1, 2 ** 52, Number.MAX_SAFE_INTEGER]) {
      setU64(view, 1, v);
      assert.equal(getU64(view, 1), v, `u64 ${v}`);
    }
    setU64(view, 0, 0x0102030405);
    assert.equal(toHex(buf.subarray(0, 8)), '0504030201000000', 'little-endian layout');
  });

  it('setU64 refuses values that are not safe non-negative integers (a bug, not input)', () => {
    const view = viewOf(new Uint8Array(8));
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => setU64(view, 0, bad), isAssertion, `setU64(${bad})`);
    }
  });

  it('getU64 returns -1 above 2^53 - 1 (hostile input)', () => {
    const buf = fromHex('ffffffffffff1f00');
    assert.equal(getU64(viewOf(buf), 0), Number.MAX_SAFE_INTEGER, 'largest safe');
    assert.equal(getU64(viewOf(fromHex('0000000000002000')), 0), -1, '2^53');
    assert.equal(getU64(viewOf(fromHex('ffffffffffffffff')), 0), -1, '2^64 - 1');
  });

  it('viewOf covers exactly a subarray', () => {
    const whole = fromHex('aabbccddeeff');
    const view = viewOf(whole.subarray(2, 4));
    assert.equal(view.byteLength, 2, 'length of the slice');
    assert.equal(view.getUint16(0, true), 0xddcc, 'reads from the slice start');
  });
});

describe('compareBytes and equalBytes', () => {
  it('orders like memcmp then length', () => {
    const cases: [string, string, number][] = [
      ['', '', 0],
      ['', '00', -1],
      ['01', '02', -1],
      ['02', '0100', 1],
      ['0102', '01', 1],
      ['ff', '00ff', 1],
      ['7f', '80', -1],
      ['abcd', 'abcd', 0],
    ];
    for (const [a, b, sign] of cases) {
      assert.equal(Math.sign(compareBytes(fromHex(a), fromHex(b))), sign, `compare ${a} ${b}`);
      assert.equal(Math.sign(compareBytes(fromHex(b), fromHex(a))), 0 - sign, `compare ${b} ${a}`);
      assert.equal(equalBytes(fromHex(a), fromHex(b)), sign === 0, `equal ${a} ${b}`);
    }
  });

  it('agrees with the order of byte strings', () => {
    const rnd = new SeededRandom(21);
    for (let i = 0; i < 1000; i++) {
      const a = rnd.bytes(rnd.int(5));
      const b = rnd.bytes(rnd.int(5));
      const sa = bytesToBinary(a);
      const sb = bytesToBinary(b);
      const expected = sa < sb ? -1 : sa > sb ? 1 : 0;
      assert.equal(Math.sign(compareBytes(a, b)), expected, `${toHex(a)} vs ${toHex(b)}`);
    }
  });

  it('concatBytes joins in order', () => {
    assert.equal(toHex(concatBytes([fromHex('01'), new Uint8Array(0), fromHex('0203')])), '010203', 'joined');
    assert.equal(concatBytes([]).length, 0, 'nothing to join');
  });
});

describe('hex', () => {
  it('round trips and ignores whitespace', () => {
    assert.equal(toHex(fromHex('00 7f\n80 ff')), '007f80ff', 'round trip');
    assert.throws(() => fromHex('abc'), isAssertion, 'odd length');
  });
});

describe('byte strings', () => {
  it('ASCII text is its own byte string', () => {
    const s = 'hello\x00\x7f world';
    assert.equal(utf8ToBinary(s), s, 'utf8ToBinary of ASCII');
    assert.equal(binaryToUtf8(s), s, 'binaryToUtf8 of ASCII');
  });

  it('non-ASCII text becomes its UTF-8 bytes, one char per byte, and back', () => {
    const cases: [string, string][] = [
      ['é', 'c3a9'],
      ['€', 'e282ac'],
      ['😀', 'f09f9880'],
      ['a\u0000ÿ', '6100c3bf'],
      ['\uFFFD', 'efbfbd'],
    ];
    for (const [text, hex] of cases) {
      const binary = utf8ToBinary(text);
      assert.equal(toHex(binaryToBytes(binary)), hex, `UTF-8 of ${JSON.stringify(text)}`);
      for (let i = 0; i < binary.length; i++) assert.ok(binary.charCodeAt(i) <= 0xff, 'one byte per char');
      assert.equal(binaryToUtf8(binary), text, `back to ${JSON.stringify(text)}`);
    }
  });

  it('byte strings of UTF-8 compare in code point order (unlike UTF-16 strings)', () => {
    // U+FFFD sorts after U+1F600's high surrogate in UTF-16, before it in UTF-8 (and code points).
    assert.ok('\uFFFD' > '😀', 'UTF-16 order');
    assert.ok(utf8ToBinary('\uFFFD') < utf8ToBinary('😀'), 'UTF-8 byte order');
  });

  it('binaryToUtf8 throws TypeError on malformed UTF-8 (documented)', () => {
    for (const hex of ['80', 'c3', 'c328', 'eda080', 'f8888080']) {
      assert.throws(
        () => binaryToUtf8(bytesToBinary(fromHex(hex))),
        (e: unknown) => e instanceof TypeError,
        `malformed ${hex}`,
      );
    }
    assert.throws(
      () => utf8Decode(fromHex('ff')),
      (e: unknown) => e instanceof TypeError,
      'utf8Decode',
    );
  });

  it('round trips large inputs across the conversion chunk size', () => {
    const rnd = new SeededRandom(13);
    for (const length of [0, 1, 8191, 8192, 8193, 100_000]) {
      const bytes = rnd.bytes(length);
      const binary = bytesToBinary(bytes);
      assert.equal(binary.length, length, `length ${length}`);
      assert.ok(equalBytes(binaryToBytes(binary), bytes), `bytes round trip of ${length}`);
    }
    const text = 'é😀x'.repeat(50_000);
    assert.equal(binaryToUtf8(utf8ToBinary(text)), text, 'large non-ASCII text');
    assert.ok(equalBytes(binaryToBytes(utf8ToBinary(text)), utf8Encode(text)), 'same bytes as TextEncoder');
  });

  it('bytesToBinary honours start and end; writeBinary writes at an offset', () => {
    const bytes = Uint8Array.from({ length: 20_000 }, (_, i) => i & 0xff);
    const part = bytesToBinary(bytes, 5, 16_390);
    assert.equal(part.length, 16_385, 'length of the range');
    assert.equal(part.charCodeAt(0), 5, 'first char');
    assert.equal(part.charCodeAt(part.length - 1), 16_389 & 0xff, 'last char');
    const out = new Uint8Array(6);
    assert.equal(writeBinary(out, 2, '\x01\xff'), 4, 'offset after');
    assert.equal(toHex(out), '000001ff0000', 'written bytes');
    assert.equal(utf8Decode(utf8Encode('ok')), 'ok', 'utf8 round trip');
  });
});

describe('allocBytes', () => {
  it('gives zeroed, independent arrays of the size asked, small or slab-carved or large', () => {
    const sizes = [0, 1, 64, 65, 100, 2048, 2049, 70_000];
    const pieces = sizes.map((n) => allocBytes(n));
    for (const [i, p] of pieces.entries()) {
      assert.equal(p.length, sizes[i], `length ${sizes[i]}`);
      assert.ok(
        p.every((b) => b === 0),
        `zeroed ${sizes[i]}`,
      );
      p.fill(i + 1);
    }
    for (const [i, p] of pieces.entries()) {
      assert.ok(
        p.every((b) => b === i + 1),
        `piece of ${sizes[i]} bytes kept its own bytes`,
      );
    }
    // Many slab pieces in a row: 8-byte aligned, never overlapping.
    const run = Array.from({ length: 2000 }, (_, i) => allocBytes(65 + (i % 300)));
    run.forEach((p, i) => {
      assert.equal(p.byteOffset % 8, 0, 'aligned');
      p.fill(i & 0xff);
    });
    run.forEach((p, i) => {
      assert.ok(
        p.every((b) => b === (i & 0xff)),
        `slab piece ${i} intact`,
      );
    });
  });
});
