/** The WAL segment header (docs/formats/wal.md): golden bytes, round trips, hostile input. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, type SeededRandom, setU64, toHex, viewOf } from '../../src/base/index.js';
import {
  decodeWalSegmentHeader,
  encodeFrame,
  encodeWalSegmentHeader,
  FORMAT_VERSION,
  sealHeader,
  WAL_HEADER_BYTES,
  WAL_MAGIC,
} from '../../src/format/index.js';
import { checkHostile } from '../helpers/hostile.js';

/** File number 2, previous version 7. */
const GOLDEN_WAL_HEADER =
  '535452415457414c' + // "STRATWAL"
  '0100' + // format version 1
  '2000' + // header size 32
  '02000000' + // file number 2
  '0700000000000000' + // previous version 7
  '92ef4e7c' + // masked CRC-32C of bytes [0, 24)
  '00000000'; // zero

describe('WAL segment header', () => {
  it('pins the golden bytes', () => {
    const bytes = encodeWalSegmentHeader({ fileNumber: 2, previousVersion: 7 });
    assert.equal(bytes.length, WAL_HEADER_BYTES, 'size');
    assert.equal(toHex(bytes), GOLDEN_WAL_HEADER, 'golden header');
    assert.equal(WAL_MAGIC, 'STRATWAL', 'magic');
    assert.equal(FORMAT_VERSION, 1, 'format version');
  });

  it('round trips, also when frames follow it', () => {
    for (const h of [
      { fileNumber: 1, previousVersion: 0 },
      { fileNumber: 0xffffffff, previousVersion: Number.MAX_SAFE_INTEGER },
      { fileNumber: 12345, previousVersion: 2 ** 40 + 3 },
    ]) {
      const header = encodeWalSegmentHeader(h);
      assert.deepEqual(decodeWalSegmentHeader(header), { ok: true, header: h }, `round trip ${h.fileNumber}`);
      const frame = encodeFrame(fromHex('01'));
      const segment = new Uint8Array(header.length + frame.length);
      segment.set(header);
      segment.set(frame, header.length);
      assert.deepEqual(decodeWalSegmentHeader(segment), { ok: true, header: h }, 'with a frame after it');
    }
  });

  it('rejects bad magic, version, size, checksum, tail, and out-of-range fields', () => {
    const golden = fromHex(GOLDEN_WAL_HEADER);
    const edited = (f: (b: Uint8Array) => void, reseal: boolean): Uint8Array => {
      const b = golden.slice();
      f(b);
      return reseal ? sealHeader(b) : b;
    };
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['all zero', new Uint8Array(32)],
      ['snapshot magic', edited((b) => b.set([0x53, 0x54, 0x52, 0x41, 0x54, 0x53, 0x4e, 0x50]), true)],
      ['version 2', edited((b) => viewOf(b).setUint16(8, 2, true), true)],
      ['size 40', edited((b) => viewOf(b).setUint16(10, 40, true), true)],
      ['checksum off by one', edited((b) => (b[24]! ^= 1), false)],
      ['non-zero tail', edited((b) => (b[31] = 1), false)],
      ['previous version beyond 2^53 - 1', edited((b) => b.set(fromHex('0000000000002000'), 16), true)],
    ];
    for (const [name, bytes] of cases) {
      const r = decodeWalSegmentHeader(bytes);
      assert.equal(r.ok, false, `rejects: ${name}`);
      if (!r.ok) assert.ok(r.reason.length > 0, `gives a reason: ${name}`);
    }
    const fine = edited((b) => setU64(viewOf(b), 16, 9), true);
    assert.equal(decodeWalSegmentHeader(fine).ok, true, 'a resealed valid edit still decodes');
  });

  it('is hostile-safe: every truncation and bit flip is rejected', { timeout: 10_000 }, () => {
    checkHostile(
      'decodeWalSegmentHeader',
      fromHex(GOLDEN_WAL_HEADER),
      (b) => (decodeWalSegmentHeader(b).ok ? 'ok' : 'bad'),
      {
        seed: 301,
        flipsRejected: true,
        randomInput: (rnd: SeededRandom, g) => {
          const b = rnd.bytes(rnd.int(48));
          if (b.length >= 12 && rnd.bool()) b.set(g.subarray(0, 12));
          return b;
        },
      },
    );
  });
});
