/** Unsigned LEB128 varints: round trips, sizes, and hostile input (overlong, truncated, too long). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fromHex,
  readVarint,
  SeededRandom,
  toHex,
  VARINT_BYTES_MAX,
  varintSize,
  writeVarint,
} from '../../src/base/index.js';

function encode(value: number): Uint8Array {
  const out = new Uint8Array(VARINT_BYTES_MAX);
  const end = writeVarint(out, 0, value);
  assert.equal(end, varintSize(value), `varintSize(${value}) matches the bytes written`);
  return out.subarray(0, end);
}

describe('varint', () => {
  it('round trips boundary values', () => {
    const values = [0, 1, 127, 128, 255, 300, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 32, 2 ** 49 - 1];
    values.push(2 ** 49, 2 ** 52, 2 ** 53 - 2, Number.MAX_SAFE_INTEGER);
    for (const v of values) {
      const bytes = encode(v);
      const r = readVarint(bytes, 0);
      assert.deepEqual(r, { value: v, next: bytes.length }, `round trip of ${v}`);
    }
  });

  it('round trips random safe integers of every size', () => {
    const rnd = new SeededRandom(5);
    for (let i = 0; i < 2000; i++) {
      const bits = rnd.int(54);
      const v = Math.min(Number.MAX_SAFE_INTEGER, Math.floor(rnd.float() * 2 ** bits));
      const bytes = encode(v);
      assert.equal(readVarint(bytes, 0).value, v, `round trip of ${v}`);
    }
  });

  it('pins the encoding (golden bytes)', () => {
    assert.equal(toHex(encode(0)), '00', '0');
    assert.equal(toHex(encode(127)), '7f', '127');
    assert.equal(toHex(encode(128)), '8001', '128');
    assert.equal(toHex(encode(300)), 'ac02', '300');
    assert.equal(toHex(encode(Number.MAX_SAFE_INTEGER)), 'ffffffffffffff0f', '2^53 - 1 takes 8 bytes');
    assert.equal(varintSize(Number.MAX_SAFE_INTEGER), VARINT_BYTES_MAX, 'the largest needs the maximum');
  });

  it('reads at an offset and reports the offset after it', () => {
    const bytes = fromHex('ff ac02 7f');
    assert.deepEqual(readVarint(bytes, 1), { value: 300, next: 3 }, 'varint at offset 1');
    assert.deepEqual(readVarint(bytes, 3), { value: 127, next: 4 }, 'varint at offset 3');
  });

  it('rejects non-minimal (overlong) encodings', () => {
    for (const hex of ['8000', '8100', 'ff00', '808000', '8080808080808000']) {
      assert.equal(readVarint(fromHex(hex), 0).value, -1, `overlong ${hex}`);
    }
  });

  it('rejects truncated input and never reads past end', () => {
    assert.equal(readVarint(new Uint8Array(0), 0).value, -1, 'empty input');
    assert.equal(readVarint(fromHex('80'), 0).value, -1, 'a lone continuation byte');
    assert.equal(readVarint(fromHex('ffff'), 0).value, -1, 'continuations to the end');
    // The bytes after `end` would complete the varint: it must not look at them.
    const bytes = fromHex('8001');
    assert.equal(readVarint(bytes, 0, 1).value, -1, 'end cuts the varint');
    assert.equal(readVarint(bytes, 0, 0).value, -1, 'end at the start');
    assert.equal(readVarint(bytes, 2).value, -1, 'offset at the end');
    const long = encode(Number.MAX_SAFE_INTEGER);
    for (let end = 0; end < long.length; end++) {
      assert.equal(readVarint(long, 0, end).value, -1, `2^53 - 1 cut at ${end}`);
    }
  });

  it('rejects more than 8 bytes and values beyond 2^53 - 1', () => {
    assert.equal(readVarint(fromHex('ffffffffffffffff01'), 0).value, -1, 'nine bytes');
    assert.equal(readVarint(fromHex('808080808080808001'), 0).value, -1, 'nine bytes, value 2^56');
    assert.equal(readVarint(fromHex('8080808080808010'), 0).value, -1, '2^53');
    assert.equal(readVarint(fromHex('ffffffffffffff7f'), 0).value, -1, '2^56 - 1');
  });

  it('never throws on random input', () => {
    const rnd = new SeededRandom(9);
    for (let i = 0; i < 3000; i++) {
      const bytes = rnd.bytes(rnd.int(12));
      const end = rnd.int(bytes.length + 1);
      const r = readVarint(bytes, 0, end);
      assert.ok(r.value === -1 || Number.isSafeInteger(r.value), `value is -1 or safe (${r.value})`);
      assert.ok(r.next <= Math.max(end, 0), `next ${r.next} stays within end ${end}`);
      if (r.value >= 0) assert.equal(toHex(encode(r.value)), toHex(bytes.subarray(0, r.next)), 'canonical');
    }
  });
});
