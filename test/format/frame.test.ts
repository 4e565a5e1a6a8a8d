/**
 * The frame (docs/formats/frame.md): golden bytes, round trips, and hostile input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  crc32cUpdate,
  FRAME_PAYLOAD_BYTES_MAX,
  fromHex,
  maskCrc,
  SeededRandom,
  toHex,
  utf8Encode,
  viewOf,
} from '../../src/base/index.js';
import {
  encodeFrame,
  FRAME_HEADER_BYTES,
  type FrameRead,
  readFrame,
  sealFrame,
} from '../../src/format/index.js';
import { checkHostile } from '../helpers/hostile.js';

/** encodeFrame(utf8 "strata"): length 6 | masked crc | payload. */
const GOLDEN_FRAME = '06000000' + '3834b0f0' + '737472617461';

function ok(f: FrameRead): { start: number; end: number } {
  assert.equal(f.kind, 'ok', `frame reads ok (got ${f.kind})`);
  return f as { kind: 'ok'; start: number; end: number };
}

describe('frame format', () => {
  it('pins the golden bytes', () => {
    assert.equal(toHex(encodeFrame(utf8Encode('strata'))), GOLDEN_FRAME, 'frame of "strata"');
    assert.equal(toHex(encodeFrame(fromHex('00'))), '01000000' + '9ee5b5d5' + '00', 'frame of one zero byte');
  });

  it('checksums the length bytes and then the payload, masked', () => {
    const frame = fromHex(GOLDEN_FRAME);
    let crc = crc32cUpdate(0, frame, 0, 4);
    crc = crc32cUpdate(crc, frame, 8, frame.length);
    assert.equal(
      viewOf(frame).getUint32(4, true),
      maskCrc(crc),
      'crc field = mask(crc32c(length ‖ payload))',
    );
  });

  it('sealFrame in place equals encodeFrame', () => {
    const payload = utf8Encode('strata');
    const out = new Uint8Array(3 + FRAME_HEADER_BYTES + payload.length + 2).fill(0xee);
    out.set(payload, 3 + FRAME_HEADER_BYTES);
    sealFrame(out, 3, payload.length);
    assert.equal(toHex(out.subarray(3, 3 + FRAME_HEADER_BYTES + payload.length)), GOLDEN_FRAME, 'same bytes');
    assert.equal(out[0], 0xee, 'bytes before untouched');
    assert.equal(out[out.length - 1], 0xee, 'bytes after untouched');
  });

  it('reads back-to-back frames and honours end', () => {
    const a = encodeFrame(utf8Encode('one'));
    const b = encodeFrame(new Uint8Array(1000).fill(7));
    const bytes = new Uint8Array(a.length + b.length);
    bytes.set(a);
    bytes.set(b, a.length);
    const fa = ok(readFrame(bytes, 0));
    assert.deepEqual(fa, { kind: 'ok', start: 8, end: 11 }, 'first frame');
    const fb = ok(readFrame(bytes, fa.end));
    assert.equal(fb.end - fb.start, 1000, 'second frame payload size');
    assert.equal(fb.end, bytes.length, 'second frame ends the buffer');
    assert.equal(readFrame(bytes, fa.end, bytes.length - 1).kind, 'truncated', 'end cuts the second frame');
    assert.equal(readFrame(bytes, bytes.length).kind, 'truncated', 'nothing left');
  });

  it('never accepts length 0, so an all-zero tail is not a frame', () => {
    assert.equal(readFrame(new Uint8Array(8), 0).kind, 'bad', 'eight zero bytes');
    assert.equal(readFrame(new Uint8Array(4096), 0).kind, 'bad', 'a zeroed page');
    const zeroPayload = fromHex('00000000');
    const forged = new Uint8Array(8);
    viewOf(forged).setUint32(4, maskCrc(crc32cUpdate(0, zeroPayload)), true);
    assert.equal(readFrame(forged, 0).kind, 'bad', 'length 0 with a matching checksum');
  });

  it('rejects a length above the payload limit as bad, not truncated', () => {
    const bytes = new Uint8Array(16);
    viewOf(bytes).setUint32(0, FRAME_PAYLOAD_BYTES_MAX + 1, true);
    assert.equal(readFrame(bytes, 0).kind, 'bad', 'length over the limit');
    viewOf(bytes).setUint32(0, 0xffffffff, true);
    assert.equal(readFrame(bytes, 0).kind, 'bad', 'length 2^32 - 1');
    viewOf(bytes).setUint32(0, 100, true);
    assert.equal(readFrame(bytes, 0).kind, 'truncated', 'a plausible length beyond the end');
  });

  it('survives hostile input: truncations, every bit flip, mutations, random bytes', {
    timeout: 10_000,
  }, () => {
    const decode = (bytes: Uint8Array) => {
      const f = readFrame(bytes, 0);
      if (f.kind !== 'ok') return 'bad' as const;
      assert.ok(
        f.start === 8 && f.end <= bytes.length && f.end > f.start,
        'an accepted frame lies within input',
      );
      return 'ok' as const;
    };
    const stats = checkHostile('readFrame', fromHex(GOLDEN_FRAME), decode, {
      seed: 101,
      flipsRejected: true,
      randomCount: 3000,
      // Random bytes behind a small, plausible length, so the checksum path runs too.
      randomInput: (rnd) => {
        const b = rnd.bytes(rnd.int(40));
        if (b.length >= 4 && rnd.bool()) viewOf(b).setUint32(0, rnd.int(40), true);
        return b;
      },
    });
    assert.equal(stats.flips, GOLDEN_FRAME.length * 4, 'every bit was flipped');
  });

  it('never throws at any offset of random buffers', () => {
    const rnd = new SeededRandom(102);
    for (let i = 0; i < 300; i++) {
      const bytes = rnd.bytes(rnd.int(64));
      for (let offset = 0; offset <= bytes.length; offset++) {
        const f = readFrame(bytes, offset);
        if (f.kind === 'ok') assert.ok(f.end <= bytes.length, 'accepted frame within the buffer');
      }
    }
  });
});
