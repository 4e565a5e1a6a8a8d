/** Snapshot files (docs/formats/snapshot.md): header, block and end golden bytes; hostile input. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, SeededRandom, toHex, viewOf } from '../../src/base/index.js';
import {
  decodeSnapshotHeader,
  decodeSnapshotPayload,
  encodeSnapshotHeader,
  readFrame,
  SNAPSHOT_BLOCK,
  SNAPSHOT_END,
  SNAPSHOT_END_PAYLOAD_BYTES,
  SNAPSHOT_HEADER_BYTES,
  SNAPSHOT_MAGIC,
  type SnapshotEntry,
  type SnapshotPayload,
  sealFrame,
  sealHeader,
  snapshotEntrySize,
  writeSnapshotBlock,
  writeSnapshotEnd,
} from '../../src/format/index.js';
import { checkHostile } from '../helpers/hostile.js';

const TIMESTAMP = 1_700_000_000_123.5;

const GOLDEN_SNAPSHOT_HEADER =
  '5354524154534e50' + // "STRATSNP"
  '0100' + // format version 1
  '2800' + // header size 40
  '05000000' + // file number 5
  '0700000000000000' + // version 7
  '00b88756febc7842' + // timestamp f64 1700000000123.5
  '9b887820' + // masked CRC-32C of bytes [0, 32)
  '00000000'; // zero

const ENTRIES: SnapshotEntry[] = [
  { key: 'k1', version: 1, timestamp: TIMESTAMP, value: Uint8Array.from([1, 2, 3]) },
  { key: 'k1', version: 4, timestamp: TIMESTAMP, value: null },
  { key: 'k2', version: 2, timestamp: TIMESTAMP, value: new Uint8Array(0) },
];

const GOLDEN_BLOCK =
  '01' + // type block
  '03' + // 3 entries
  '02' +
  '6b31' +
  '01' +
  '00b88756febc7842' +
  '00' +
  '03' +
  '010203' + // k1 @1 = 010203
  '02' +
  '6b31' +
  '04' +
  '00b88756febc7842' +
  '01' + // k1 @4 tombstone
  '02' +
  '6b32' +
  '02' +
  '00b88756febc7842' +
  '00' +
  '00'; // k2 @2 = (empty)

const GOLDEN_END = '02' + '0300000000000000' + '0100000000000000'; // 3 entries, 1 block
const GOLDEN_FRAMED_END = `11000000ccd81070${GOLDEN_END}`;

function encodeBlock(entries: readonly SnapshotEntry[]): Uint8Array {
  let size = 1 + 8;
  for (const e of entries) size += snapshotEntrySize(e);
  const out = new Uint8Array(size);
  const end = writeSnapshotBlock(out, 0, entries);
  return out.slice(0, end);
}

function encodeEnd(entryCount: number, blockCount: number): Uint8Array {
  const out = new Uint8Array(SNAPSHOT_END_PAYLOAD_BYTES);
  assert.equal(writeSnapshotEnd(out, 0, entryCount, blockCount), SNAPSHOT_END_PAYLOAD_BYTES, 'end size');
  return out;
}

function decodePayload(bytes: Uint8Array): SnapshotPayload | undefined {
  return decodeSnapshotPayload(bytes, 0, bytes.length);
}

describe('snapshot format', () => {
  it('pins the golden bytes of header, block and end', () => {
    const header = encodeSnapshotHeader({ fileNumber: 5, version: 7, timestamp: TIMESTAMP });
    assert.equal(header.length, SNAPSHOT_HEADER_BYTES, 'header size');
    assert.equal(toHex(header), GOLDEN_SNAPSHOT_HEADER, 'golden header');
    assert.equal(SNAPSHOT_MAGIC, 'STRATSNP', 'magic');
    assert.equal(toHex(encodeBlock(ENTRIES)), GOLDEN_BLOCK, 'golden block');
    assert.equal(toHex(encodeEnd(3, 1)), GOLDEN_END, 'golden end');
    const framed = new Uint8Array(8 + SNAPSHOT_END_PAYLOAD_BYTES);
    writeSnapshotEnd(framed, 8, 3, 1);
    sealFrame(framed, 0, SNAPSHOT_END_PAYLOAD_BYTES);
    assert.equal(toHex(framed), GOLDEN_FRAMED_END, 'end record in its frame');
    assert.equal(SNAPSHOT_BLOCK, 1, 'block type');
    assert.equal(SNAPSHOT_END, 2, 'end type');
  });

  it('snapshotEntrySize is exact', () => {
    let total = 2; // type + one-byte count
    for (const e of ENTRIES) total += snapshotEntrySize(e);
    assert.equal(total, GOLDEN_BLOCK.length / 2, 'sizes add up to the block');
  });

  it('decodes the golden bytes back', () => {
    assert.deepEqual(
      decodeSnapshotHeader(fromHex(GOLDEN_SNAPSHOT_HEADER)),
      { ok: true, header: { fileNumber: 5, version: 7, timestamp: TIMESTAMP } },
      'header',
    );
    assert.deepEqual(decodePayload(fromHex(GOLDEN_BLOCK)), { type: 'block', entries: ENTRIES }, 'block');
    assert.deepEqual(
      decodePayload(fromHex(GOLDEN_END)),
      { type: 'end', entryCount: 3, blockCount: 1 },
      'end',
    );
    const framed = fromHex(GOLDEN_FRAMED_END);
    const f = readFrame(framed, 0);
    assert.ok(f.kind === 'ok', 'framed end verifies');
    assert.equal(decodeSnapshotPayload(framed, f.start, f.end)?.type, 'end', 'and decodes');
  });

  it('round trips random blocks, decoding in place', () => {
    const rnd = new SeededRandom(501);
    for (let i = 0; i < 200; i++) {
      const entries: SnapshotEntry[] = [];
      for (let j = rnd.int(20); j > 0; j--) {
        entries.push({
          key: String.fromCharCode(...rnd.bytes(rnd.int(150))),
          version: 1 + rnd.int(2 ** 45),
          timestamp: rnd.pick([0, -1.25, TIMESTAMP]),
          value: rnd.bool(0.2) ? null : rnd.bytes(rnd.int(300)),
        });
      }
      const block = encodeBlock(entries);
      const buf = new Uint8Array(block.length + 10).fill(0x5a);
      buf.set(block, 3);
      assert.deepEqual(
        decodeSnapshotPayload(buf, 3, 3 + block.length),
        { type: 'block', entries },
        `block #${i}`,
      );
    }
    const big = encodeEnd(Number.MAX_SAFE_INTEGER, 0);
    assert.deepEqual(
      decodePayload(big),
      { type: 'end', entryCount: Number.MAX_SAFE_INTEGER, blockCount: 0 },
      'end',
    );
  });

  it('rejects malformed headers and payloads', () => {
    const header = fromHex(GOLDEN_SNAPSHOT_HEADER);
    const resealed = (f: (b: Uint8Array) => void): Uint8Array => {
      const b = header.slice();
      f(b);
      return sealHeader(b);
    };
    const badHeaders: [string, Uint8Array][] = [
      ['39 bytes', header.subarray(0, 39)],
      ['NaN timestamp', resealed((b) => viewOf(b).setFloat64(24, Number.NaN, true))],
      ['infinite timestamp', resealed((b) => viewOf(b).setFloat64(24, Number.NEGATIVE_INFINITY, true))],
      ['version beyond 2^53 - 1', resealed((b) => b.set(fromHex('ffffffffffffffff'), 16))],
      ['WAL magic', resealed((b) => b.set([0x53, 0x54, 0x52, 0x41, 0x54, 0x57, 0x41, 0x4c]))],
      ['non-zero tail', Uint8Array.from([...header.subarray(0, 39), 0x80])],
    ];
    for (const [name, bytes] of badHeaders)
      assert.equal(decodeSnapshotHeader(bytes).ok, false, `rejects header: ${name}`);

    const block = fromHex(GOLDEN_BLOCK);
    const edit = (f: (b: Uint8Array) => void, base = block): Uint8Array => {
      const b = base.slice();
      f(b);
      return b;
    };
    const badPayloads: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['unknown type', edit((b) => (b[0] = 3))],
      ['count too large', edit((b) => (b[1] = 4))],
      ['count too small', edit((b) => (b[1] = 2))],
      ['version 0', edit((b) => (b[5] = 0))],
      ['NaN timestamp', edit((b) => viewOf(b).setFloat64(6, Number.NaN, true))],
      ['unknown flag bits', edit((b) => (b[14] = 2))],
      ['trailing byte', Uint8Array.from([...block, 0])],
      ['value length beyond the end', edit((b) => (b[15] = 4))],
      [
        'value length above the value limit',
        fromHex('0101' + '01' + '61' + '01' + '0000000000000000' + '00' + '8180808008'),
      ],
      ['end one byte short', fromHex(GOLDEN_END).subarray(0, 16)],
      ['end one byte long', Uint8Array.from([...fromHex(GOLDEN_END), 0])],
      ['end count beyond 2^53 - 1', edit((b) => b.set(fromHex('ffffffffffffffff'), 1), fromHex(GOLDEN_END))],
    ];
    for (const [name, bytes] of badPayloads)
      assert.equal(decodePayload(bytes), undefined, `rejects payload: ${name}`);
    assert.equal(decodeSnapshotPayload(block, 5, 5), undefined, 'an empty range');
  });

  it('header decoding is hostile-safe: every truncation and bit flip is rejected', {
    timeout: 10_000,
  }, () => {
    checkHostile(
      'decodeSnapshotHeader',
      fromHex(GOLDEN_SNAPSHOT_HEADER),
      (b) => (decodeSnapshotHeader(b).ok ? 'ok' : 'bad'),
      {
        seed: 502,
        flipsRejected: true,
        randomInput: (rnd, g) => {
          const b = rnd.bytes(rnd.int(60));
          if (b.length >= 12 && rnd.bool()) b.set(g.subarray(0, 12));
          return b;
        },
      },
    );
  });

  it('payload decoding is hostile-safe: block and end', { timeout: 10_000 }, () => {
    const decode = (b: Uint8Array): 'ok' | 'bad' => {
      const p = decodePayload(b);
      if (p === undefined) return 'bad';
      if (p.type === 'block') {
        for (const e of p.entries) {
          assert.ok(Number.isSafeInteger(e.version) && e.version >= 1, 'entry version in range');
          assert.ok(Number.isFinite(e.timestamp), 'entry timestamp finite');
        }
      } else {
        assert.ok(
          Number.isSafeInteger(p.entryCount) && Number.isSafeInteger(p.blockCount),
          'counts in range',
        );
      }
      return 'ok';
    };
    const randomInput = (rnd: SeededRandom): Uint8Array => {
      const b = rnd.bytes(rnd.int(64));
      if (b.length > 0) b[0] = rnd.pick([1, 1, 2, rnd.u32() & 0xff]);
      if (b.length > 1 && rnd.bool()) b[1] = rnd.int(4);
      return b;
    };
    checkHostile('decodeSnapshotPayload(block)', fromHex(GOLDEN_BLOCK), decode, {
      seed: 503,
      flipsRejected: false,
      randomInput,
    });
    checkHostile('decodeSnapshotPayload(end)', fromHex(GOLDEN_END), decode, {
      seed: 504,
      flipsRejected: false,
      randomInput,
      randomCount: 1000,
    });
  });
});
