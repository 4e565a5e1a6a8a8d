/**
 * CRC-32C against the published vectors of RFC 3720 §B.4 (plus the common "123456789" check
 * value), chaining across every split point, and the mask used by stored checksums.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32c, crc32cUpdate, maskCrc, SeededRandom, unmaskCrc, utf8Encode } from '../../src/base/index.js';

function filled(length: number, byte: (i: number) => number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => byte(i));
}

describe('crc32c', () => {
  it('matches the RFC 3720 B.4 vectors', () => {
    const cases: [string, Uint8Array, number][] = [
      ['32 bytes of 0x00', filled(32, () => 0x00), 0x8a9136aa],
      ['32 bytes of 0xFF', filled(32, () => 0xff), 0x62a8ab43],
      ['0..31 ascending', filled(32, (i) => i), 0x46dd794e],
      ['31..0 descending', filled(32, (i) => 31 - i), 0x113fdb5c],
    ];
    for (const [name, bytes, expected] of cases) {
      assert.equal(crc32c(bytes), expected, `crc32c of ${name}`);
    }
  });

  it('matches the check value of "123456789"', () => {
    assert.equal(crc32c(utf8Encode('123456789')), 0xe3069283, 'CRC-32C check value');
  });

  it('is 0 for no bytes and honours start/end', () => {
    assert.equal(crc32c(new Uint8Array(0)), 0, 'empty input');
    const padded = utf8Encode('xx123456789yy');
    assert.equal(crc32c(padded, 2, 11), 0xe3069283, 'sub-range [2, 11)');
    assert.equal(crc32c(padded, 5, 5), 0, 'empty sub-range');
  });

  it('chains across every split point to the same value as one pass', () => {
    const rnd = new SeededRandom(7);
    for (const length of [0, 1, 7, 8, 9, 15, 16, 17, 63, 100]) {
      const bytes = rnd.bytes(length);
      const whole = crc32c(bytes);
      for (let split = 0; split <= length; split++) {
        const chained = crc32cUpdate(crc32cUpdate(0, bytes, 0, split), bytes, split, length);
        assert.equal(chained, whole, `length ${length}, split at ${split}`);
      }
      // Three pieces, byte by byte at the end.
      let c = crc32cUpdate(0, bytes, 0, length >>> 1);
      for (let i = length >>> 1; i < length; i++) c = crc32cUpdate(c, bytes, i, i + 1);
      assert.equal(c, whole, `length ${length}, byte-wise tail`);
    }
  });

  const reference = (bytes: Uint8Array): number => {
    let c = 0xffffffff;
    for (const b of bytes) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    }
    return ~c >>> 0;
  };

  it('agrees with a bit-at-a-time reference on random short inputs (byte-wise path)', () => {
    const rnd = new SeededRandom(11);
    for (let i = 0; i < 200; i++) {
      const bytes = rnd.bytes(rnd.int(80));
      assert.equal(crc32c(bytes), reference(bytes), `random input #${i} of ${bytes.length} bytes`);
    }
  });

  it('agrees with the reference at every alignment of long inputs (word path)', () => {
    const rnd = new SeededRandom(13);
    const backing = rnd.bytes(5000);
    for (let offset = 0; offset < 8; offset++) {
      for (const length of [64, 65, 79, 80, 81, 127, 1000, 4093]) {
        // A view at an unaligned byte offset of its buffer, and a sub-range of it.
        const view = new Uint8Array(backing.buffer, offset, length + 3);
        const bytes = view.slice(1, 1 + length);
        assert.equal(crc32c(view, 1, 1 + length), reference(bytes), `offset ${offset}, length ${length}`);
        assert.equal(crc32c(bytes), reference(bytes), `copy, length ${length}`);
      }
    }
  });

  it('mask and unmask round trip, and masking changes the value', () => {
    const rnd = new SeededRandom(3);
    const samples = [0, 1, 0xffffffff, 0x80000000, 0xa282ead8, 0xe3069283];
    for (let i = 0; i < 1000; i++) samples.push(rnd.u32());
    for (const crc of samples) {
      const masked = maskCrc(crc);
      assert.ok(Number.isInteger(masked) && masked >= 0 && masked <= 0xffffffff, `masked ${crc} is a u32`);
      assert.equal(unmaskCrc(masked), crc, `unmask(mask(${crc}))`);
    }
    assert.notEqual(maskCrc(0), 0, 'the mask of a zero CRC is not zero');
    assert.equal(maskCrc(0), 0xa282ead8, 'mask(0) is the mask delta');
  });
});
