/**
 * WAL records (docs/formats/wal.md): golden bytes of every record type, round trips, rejection
 * of malformed payloads, and hostile input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, SeededRandom, setU64, toHex, viewOf } from '../../src/base/index.js';
import {
  commitPayloadSize,
  decodeWalRecord,
  keyspacePrefix,
  MARKER_PAYLOAD_BYTES,
  RECORD_CLOSE,
  RECORD_COMMIT,
  RECORD_RESERVE,
  readFrame,
  sealFrame,
  type WalRecord,
  type WriteOp,
  writeCommitPayload,
  writeMarkerPayload,
} from '../../src/format/index.js';
import { checkHostile } from '../helpers/hostile.js';

const TIMESTAMP = 1_700_000_000_123.5;
/** Storage keys of KV keys "k1" and "k2" on branch 1, space "default". */
const KS = `${keyspacePrefix(1, 'default')}\x01`;
const OPS: WriteOp[] = [
  { key: `${KS}k1`, value: Uint8Array.from([0x05, 0x02, 0x68, 0x69]) },
  { key: `${KS}k2`, value: null },
];

/** commit: durable 3, version 7, timestamp 1700000000123.5, put k1 = 05026869, delete k2. */
const GOLDEN_COMMIT =
  '01' + // type commit
  '0300000000000000' + // durable watermark 3
  '0700000000000000' + // version 7
  '00b88756febc7842' + // timestamp f64
  '02' + // 2 ops
  '01' +
  '0f' +
  '000000010764656661756c74016b31' +
  '04' +
  '05026869' + // put k1 (15-byte key, 4-byte value)
  '02' +
  '0f' +
  '000000010764656661756c74016b32'; // delete k2
/** reserve: durable 3, reserved version 10007. */
const GOLDEN_RESERVE = '02' + '0300000000000000' + '1727000000000000';
/** close: durable 7, last version 7. */
const GOLDEN_CLOSE = '03' + '0700000000000000' + '0700000000000000';
/** The reserve record in its frame, as it sits in a segment. */
const GOLDEN_FRAMED_RESERVE = `1100000086ad4eeb${GOLDEN_RESERVE}`;

function encodeCommit(
  durable: number,
  version: number,
  timestamp: number,
  ops: readonly WriteOp[],
): Uint8Array {
  const out = new Uint8Array(commitPayloadSize(ops));
  const end = writeCommitPayload(out, 0, durable, version, timestamp, ops);
  assert.equal(end, out.length, 'commitPayloadSize is exact');
  return out;
}

function encodeMarker(
  type: typeof RECORD_RESERVE | typeof RECORD_CLOSE,
  durable: number,
  v: number,
): Uint8Array {
  const out = new Uint8Array(MARKER_PAYLOAD_BYTES);
  assert.equal(writeMarkerPayload(out, 0, type, durable, v), MARKER_PAYLOAD_BYTES, 'marker size');
  return out;
}

function decode(bytes: Uint8Array): WalRecord | undefined {
  return decodeWalRecord(bytes, 0, bytes.length);
}

describe('WAL record format', () => {
  it('pins the golden bytes of every record type', () => {
    assert.equal(toHex(encodeCommit(3, 7, TIMESTAMP, OPS)), GOLDEN_COMMIT, 'commit with a put and a delete');
    assert.equal(toHex(encodeMarker(RECORD_RESERVE, 3, 10007)), GOLDEN_RESERVE, 'reserve');
    assert.equal(toHex(encodeMarker(RECORD_CLOSE, 7, 7)), GOLDEN_CLOSE, 'close');
    const framed = new Uint8Array(8 + MARKER_PAYLOAD_BYTES);
    writeMarkerPayload(framed, 8, RECORD_RESERVE, 3, 10007);
    sealFrame(framed, 0, MARKER_PAYLOAD_BYTES);
    assert.equal(toHex(framed), GOLDEN_FRAMED_RESERVE, 'reserve in its frame');
    assert.equal(RECORD_COMMIT, 1, 'commit type');
    assert.equal(RECORD_RESERVE, 2, 'reserve type');
    assert.equal(RECORD_CLOSE, 3, 'close type');
  });

  it('decodes the golden bytes back', () => {
    assert.deepEqual(
      decode(fromHex(GOLDEN_COMMIT)),
      { type: 'commit', durable: 3, version: 7, timestamp: TIMESTAMP, ops: OPS },
      'commit',
    );
    assert.deepEqual(
      decode(fromHex(GOLDEN_RESERVE)),
      { type: 'reserve', durable: 3, reservedVersion: 10007 },
      'reserve',
    );
    assert.deepEqual(decode(fromHex(GOLDEN_CLOSE)), { type: 'close', durable: 7, lastVersion: 7 }, 'close');
    const framed = fromHex(GOLDEN_FRAMED_RESERVE);
    const f = readFrame(framed, 0);
    assert.ok(f.kind === 'ok', 'the framed reserve verifies');
    assert.equal(decodeWalRecord(framed, f.start, f.end)?.type, 'reserve', 'and decodes');
  });

  it('round trips random commits, decoding in place inside a larger buffer', () => {
    const rnd = new SeededRandom(201);
    for (let i = 0; i < 300; i++) {
      const ops: WriteOp[] = [];
      const n = 1 + rnd.int(5);
      for (let j = 0; j < n; j++) {
        const key = String.fromCharCode(...rnd.bytes(rnd.int(200)));
        ops.push({ key, value: rnd.bool(0.3) ? null : rnd.bytes(rnd.pick([0, 1, 127, 128, 300])) });
      }
      const durable = rnd.int(1000);
      const version = 1 + rnd.int(2 ** 40);
      const timestamp = rnd.pick([0, -5, TIMESTAMP, rnd.float() * 1e13]);
      const payload = encodeCommit(durable, version, timestamp, ops);
      const buf = new Uint8Array(payload.length + 20).fill(0xab);
      buf.set(payload, 7);
      const rec = decodeWalRecord(buf, 7, 7 + payload.length);
      assert.deepEqual(rec, { type: 'commit', durable, version, timestamp, ops }, `commit #${i}`);
    }
    for (const v of [0, 1, Number.MAX_SAFE_INTEGER]) {
      assert.deepEqual(
        decode(encodeMarker(RECORD_RESERVE, v, v)),
        { type: 'reserve', durable: v, reservedVersion: v },
        `reserve ${v}`,
      );
      assert.deepEqual(
        decode(encodeMarker(RECORD_CLOSE, v, v)),
        { type: 'close', durable: v, lastVersion: v },
        `close ${v}`,
      );
    }
  });

  it('copies values out of the segment buffer', () => {
    const bytes = fromHex(GOLDEN_COMMIT);
    const rec = decode(bytes);
    assert.ok(rec?.type === 'commit', 'a commit');
    bytes.fill(0);
    assert.equal(toHex(rec.ops[0]!.value!), '05026869', 'value unchanged after the buffer is reused');
  });

  it('rejects malformed payloads', () => {
    const golden = fromHex(GOLDEN_COMMIT);
    const edit = (f: (b: Uint8Array) => void, base = golden): Uint8Array => {
      const b = base.slice();
      f(b);
      return b;
    };
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['unknown type 0', edit((b) => (b[0] = 0))],
      ['unknown type 4', edit((b) => (b[0] = 4))],
      ['durable beyond 2^53 - 1', edit((b) => b.set(fromHex('ffffffffffffffff'), 1))],
      ['commit version 0', edit((b) => setU64(viewOf(b), 9, 0))],
      ['commit version beyond 2^53 - 1', edit((b) => b.set(fromHex('0000000000002000'), 9))],
      ['NaN timestamp', edit((b) => viewOf(b).setFloat64(17, Number.NaN, true))],
      ['infinite timestamp', edit((b) => viewOf(b).setFloat64(17, Number.POSITIVE_INFINITY, true))],
      ['zero ops', encodeCommit(1, 1, 0, []).subarray(0, 26)],
      ['op count above the batch limit', edit((b) => b.set(fromHex('a18d06'), 25))],
      ['unknown op kind', edit((b) => (b[26] = 3))],
      ['trailing byte', Uint8Array.from([...golden, 0])],
      ['op count says 3', edit((b) => (b[25] = 3))],
      ['op count says 1 (bytes left over)', edit((b) => (b[25] = 1))],
      [
        'non-minimal op count',
        Uint8Array.from([...golden.subarray(0, 25), 0x82, 0x00, ...golden.subarray(26)]),
      ],
      ['reserve with a trailing byte', Uint8Array.from([...fromHex(GOLDEN_RESERVE), 0])],
      ['close one byte short', fromHex(GOLDEN_CLOSE).subarray(0, 16)],
      [
        'reserve version beyond 2^53 - 1',
        edit((b) => b.set(fromHex('ffffffffffffff7f'), 9), fromHex(GOLDEN_RESERVE)),
      ],
    ];
    for (const [name, bytes] of cases) assert.equal(decode(bytes), undefined, `rejects: ${name}`);
  });

  it('decoding is hostile-safe: commit', { timeout: 10_000 }, () => {
    checkHostile('decodeWalRecord(commit)', fromHex(GOLDEN_COMMIT), (b) => checked(decode(b)), {
      seed: 202,
      flipsRejected: false,
      randomInput: walLikeBytes,
    });
  });

  it('decoding is hostile-safe: reserve and close', { timeout: 10_000 }, () => {
    for (const [name, hex] of [
      ['reserve', GOLDEN_RESERVE],
      ['close', GOLDEN_CLOSE],
    ] as const) {
      checkHostile(`decodeWalRecord(${name})`, fromHex(hex), (b) => checked(decode(b)), {
        seed: 203,
        flipsRejected: false,
        randomCount: 1000,
        randomInput: walLikeBytes,
      });
    }
  });
});

/** Random payloads that start like a record, so decoding gets past the type byte. */
function walLikeBytes(rnd: SeededRandom): Uint8Array {
  const b = rnd.bytes(rnd.int(80));
  if (b.length > 0) b[0] = rnd.pick([1, 1, 2, 3, rnd.u32() & 0xff]);
  if (b.length > 26 && rnd.bool()) {
    b.fill(0, 2, 9);
    b.fill(0, 10, 17);
    b[25] = 1 + rnd.int(3);
    b[26] = rnd.pick([1, 2]);
    b[27] = rnd.int(8);
  }
  return b;
}

/** Asserts that an accepted record is well formed. */
function checked(rec: WalRecord | undefined): 'ok' | 'bad' {
  if (rec === undefined) return 'bad';
  assert.ok(Number.isSafeInteger(rec.durable) && rec.durable >= 0, 'durable is a safe integer');
  if (rec.type === 'commit') {
    assert.ok(Number.isSafeInteger(rec.version) && rec.version > 0, 'version positive');
    assert.ok(Number.isFinite(rec.timestamp), 'timestamp finite');
    assert.ok(rec.ops.length > 0, 'at least one op');
    for (const op of rec.ops) assert.equal(typeof op.key, 'string', 'key is a byte string');
  }
  return 'ok';
}
