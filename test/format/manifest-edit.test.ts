/**
 * Manifest logs (docs/formats/manifest.md): golden bytes of the log header, a full edit with two
 * tables and a delta edit; round trips; rejection of malformed payloads; hostile input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssertionError, fromHex, SeededRandom, setU64, toHex, viewOf } from '../../src/base/index.js';
import {
  decodeManifestEdit,
  decodeManifestLogHeader,
  encodeFrame,
  encodeManifestEdit,
  encodeManifestLogHeader,
  MANIFEST_KEY_BYTES_MAX,
  MANIFEST_LOG_HEADER_BYTES,
  MANIFEST_LOG_MAGIC,
  type ManifestEdit,
  readFrame,
  sealHeader,
} from '../../src/format/index.js';
import { checkHostile } from '../helpers/hostile.js';

const TIMESTAMP = 1_700_000_000_123.5;

/** The whole state: L0 table 7 ['a', 'm\xff'] and L1 table 5 ['b', 'k'], with every counter. */
const FULL: ManifestEdit = {
  full: true,
  walStartFile: 3,
  nextFileNumber: 9,
  reservedVersion: 10_000,
  flushedVersion: 120,
  flushedTimestamp: TIMESTAMP,
  added: [
    {
      level: 0,
      table: {
        fileNumber: 7,
        size: 4096,
        smallest: 'a',
        largest: 'm\xff',
        minVersion: 101,
        maxVersion: 120,
        entries: 25,
      },
    },
    {
      level: 1,
      table: {
        fileNumber: 5,
        size: 70_000,
        smallest: 'b',
        largest: 'k',
        minVersion: 1,
        maxVersion: 100,
        entries: 300,
      },
    },
  ],
};

const GOLDEN_FULL =
  '01' + // full
  '0203' + // walStartFile 3
  '0309' + // nextFileNumber 9
  '04904e' + // reservedVersion 10000
  '0578' + // flushedVersion 120
  '06' +
  '00b88756febc7842' + // flushedTimestamp f64 1700000000123.5
  '0802' + // added, 2 tables
  '00' +
  '07' +
  '8020' +
  '0161' +
  '026dff' +
  '65' +
  '78' +
  '19' + // L0: file 7, size 4096, 'a', 'm\xff', versions 101..120, 25 entries
  '01' +
  '05' +
  'f0a204' +
  '0162' +
  '016b' +
  '01' +
  '64' +
  'ac02' + // L1: file 5, size 70000, 'b', 'k', versions 1..100, 300 entries
  '00'; // end

/** A compaction: L0 table 7 and L1 table 5 merged into L1 table 8. */
const DELTA: ManifestEdit = {
  nextFileNumber: 10,
  removed: [
    { level: 0, fileNumber: 7 },
    { level: 1, fileNumber: 5 },
  ],
  added: [
    {
      level: 1,
      table: {
        fileNumber: 8,
        size: 5000,
        smallest: 'a',
        largest: 'm\xff',
        minVersion: 1,
        maxVersion: 120,
        entries: 310,
      },
    },
  ],
};

const GOLDEN_DELTA =
  '030a' + // nextFileNumber 10
  '0702' +
  '0007' +
  '0105' + // removed: L0 file 7, L1 file 5
  '0801' +
  '01' +
  '08' +
  '8827' +
  '0161' +
  '026dff' +
  '01' +
  '78' +
  'b602' + // added: L1 file 8, size 5000, 'a', 'm\xff', versions 1..120, 310 entries
  '00'; // end

/** The header of manifest/000000000042.log. */
const GOLDEN_LOG_HEADER =
  '53545241544d4c47' + // "STRATMLG"
  '0100' + // format version 1
  '2000' + // size 32
  '00000000' + // flags
  '2a00000000000000' + // file number 42
  'f1f2667d' + // masked CRC-32C of bytes [0, 24)
  '00000000'; // zero

function decodeAll(b: Uint8Array): ManifestEdit | undefined {
  return decodeManifestEdit(b, 0, b.length);
}

/** An accepted payload must be canonical: it re-encodes to exactly its bytes. */
function checkedEdit(b: Uint8Array): 'ok' | 'bad' {
  const e = decodeAll(b);
  if (e === undefined) return 'bad';
  assert.equal(toHex(encodeManifestEdit(e)), toHex(b), 'an accepted edit re-encodes to its bytes');
  return 'ok';
}

describe('manifest edit payload', () => {
  it('pins the golden bytes of a full edit and a delta edit', () => {
    assert.equal(toHex(encodeManifestEdit(FULL)), GOLDEN_FULL, 'full edit');
    assert.equal(toHex(encodeManifestEdit(DELTA)), GOLDEN_DELTA, 'delta edit');
    assert.equal(toHex(encodeManifestEdit({})), '00', 'the empty edit is the end tag alone');
    assert.deepEqual(decodeAll(fromHex(GOLDEN_FULL)), FULL, 'full edit decodes');
    assert.deepEqual(decodeAll(fromHex(GOLDEN_DELTA)), DELTA, 'delta edit decodes');
  });

  it('round trips, dropping only what is not written (full: false, empty lists)', () => {
    const cases: [ManifestEdit, ManifestEdit][] = [
      [{}, {}],
      [{ full: false, added: [], removed: [] }, {}],
      [{ flushedTimestamp: -0 }, { flushedTimestamp: -0 }],
      [
        {
          walStartFile: Number.MAX_SAFE_INTEGER,
          nextFileNumber: Number.MAX_SAFE_INTEGER,
          reservedVersion: 0,
          flushedVersion: Number.MAX_SAFE_INTEGER,
          flushedTimestamp: -1.5e300,
        },
        {
          walStartFile: Number.MAX_SAFE_INTEGER,
          nextFileNumber: Number.MAX_SAFE_INTEGER,
          reservedVersion: 0,
          flushedVersion: Number.MAX_SAFE_INTEGER,
          flushedTimestamp: -1.5e300,
        },
      ],
      [
        {
          added: [
            {
              level: 6,
              table: {
                fileNumber: Number.MAX_SAFE_INTEGER,
                size: 0,
                smallest: '',
                largest: '\xff'.repeat(MANIFEST_KEY_BYTES_MAX),
                minVersion: 0,
                maxVersion: Number.MAX_SAFE_INTEGER,
                entries: 0,
              },
            },
          ],
        },
        {
          added: [
            {
              level: 6,
              table: {
                fileNumber: Number.MAX_SAFE_INTEGER,
                size: 0,
                smallest: '',
                largest: '\xff'.repeat(MANIFEST_KEY_BYTES_MAX),
                minVersion: 0,
                maxVersion: Number.MAX_SAFE_INTEGER,
                entries: 0,
              },
            },
          ],
        },
      ],
    ];
    for (const [edit, expected] of cases) {
      const bytes = encodeManifestEdit(edit);
      assert.deepEqual(decodeAll(bytes), expected, `round trip of ${JSON.stringify(edit).slice(0, 80)}`);
      // A payload inside a larger buffer decodes from its own range only.
      const framed = encodeFrame(bytes);
      const f = readFrame(framed, 0);
      assert.equal(f.kind, 'ok', 'framed');
      if (f.kind === 'ok')
        assert.deepEqual(decodeManifestEdit(framed, f.start, f.end), expected, 'from a frame');
    }
    assert.ok(
      Object.is(decodeAll(encodeManifestEdit({ flushedTimestamp: -0 }))?.flushedTimestamp, -0),
      '-0 kept',
    );
  });

  it('rejects malformed payloads', () => {
    const cases: [string, string][] = [
      ['empty', ''],
      ['no end tag', '0203'],
      ['bytes after the end tag', '020300' + '00'],
      ['unknown tag', '0900'],
      ['unknown tag 255', 'ff00'],
      ['repeated tag', '0203020400'],
      ['tags out of order', '03090203' + '00'],
      ['full tag twice', '010100'],
      ['non-minimal varint', '028000' + '00'],
      ['varint beyond 2^53 - 1', '02ffffffffffffff7f00'],
      ['truncated varint', '0280'],
      ['truncated f64', '06000000'],
      ['NaN timestamp', '06000000000000f87f00'],
      ['infinite timestamp', '06000000000000f07f00'],
      ['empty removed list', '070000'],
      ['empty added list', '080000'],
      ['removed level 7', '0701070100'],
      ['removed file number 0', '0701000000'],
      ['added level 7', `0801${'07'}0101010001010100`],
      ['added file number 0', `0801${'00'}0001010001010100`],
      ['added count beyond the bytes', '08050001010161016201010100'],
      ['key length beyond the bytes', '0801000101' + '20' + '6101620101' + '0100'],
      ['truncated table', '0801000101016101'],
    ];
    for (const [name, hex] of cases) assert.equal(decodeAll(fromHex(hex)), undefined, `rejects: ${name}`);
    const longKey = fromHex(`0801000101838004${'00'.repeat(6)}`);
    assert.equal(
      decodeAll(longKey),
      undefined,
      'a key length above MANIFEST_KEY_BYTES_MAX is refused unread',
    );
    // A valid table for contrast (size 1, keys 'a' and 'b', versions 1..1, 1 entry).
    assert.ok(decodeAll(fromHex('08010001010161016201010100')) !== undefined, 'the contrast case decodes');
    // Ranges that do not fit the buffer.
    const g = fromHex(GOLDEN_DELTA);
    for (const [start, end] of [
      [0, g.length + 1],
      [-1, g.length],
      [3, 2],
      [0, 0],
      [0.5, g.length],
    ] as const) {
      assert.equal(decodeManifestEdit(g, start, end), undefined, `range [${start}, ${end})`);
    }
  });

  it('refuses to encode what it could not decode (a bug in the caller)', () => {
    const table = DELTA.added![0]!.table;
    const bad: ManifestEdit[] = [
      { walStartFile: -1 },
      { nextFileNumber: 1.5 },
      { reservedVersion: Number.MAX_SAFE_INTEGER + 1 },
      { flushedTimestamp: Number.NaN },
      { removed: [{ level: 7, fileNumber: 1 }] },
      { removed: [{ level: 0, fileNumber: 0 }] },
      { added: [{ level: -1, table }] },
      { added: [{ level: 0, table: { ...table, fileNumber: 0 } }] },
      { added: [{ level: 0, table: { ...table, smallest: 'é€' } }] },
      { added: [{ level: 0, table: { ...table, largest: 'x'.repeat(MANIFEST_KEY_BYTES_MAX + 1) } }] },
      { added: [{ level: 0, table: { ...table, entries: -1 } }] },
    ];
    for (const edit of bad) {
      assert.throws(() => encodeManifestEdit(edit), AssertionError, JSON.stringify(edit).slice(0, 80));
    }
  });

  it('decoding is hostile-safe: the full edit', { timeout: 10_000 }, () => {
    const stats = checkHostile('decodeManifestEdit(full)', fromHex(GOLDEN_FULL), checkedEdit, {
      seed: 901,
      flipsRejected: false,
      randomInput: editLikeBytes,
    });
    assert.ok(stats.accepted > 0, 'some flips decode to other valid edits (and re-encode exactly)');
  });

  it('decoding is hostile-safe: the delta edit', { timeout: 10_000 }, () => {
    checkHostile('decodeManifestEdit(delta)', fromHex(GOLDEN_DELTA), checkedEdit, {
      seed: 902,
      flipsRejected: false,
      randomInput: editLikeBytes,
    });
  });

  it('decodes random well-formed edits exactly', () => {
    const rnd = new SeededRandom(903);
    for (let i = 0; i < 300; i++) {
      const edit = randomEdit(rnd);
      const bytes = encodeManifestEdit(edit);
      assert.deepEqual(decodeAll(bytes), edit, `random edit #${i}`);
      // Garbage around the payload is not read.
      const padded = new Uint8Array(bytes.length + 10).fill(0xee);
      padded.set(bytes, 5);
      assert.deepEqual(
        decodeManifestEdit(padded, 5, 5 + bytes.length),
        edit,
        `random edit #${i} in a buffer`,
      );
    }
  });
});

describe('manifest log header', () => {
  it('pins the golden bytes and round trips', () => {
    const bytes = encodeManifestLogHeader({ fileNumber: 42 });
    assert.equal(bytes.length, MANIFEST_LOG_HEADER_BYTES, 'size');
    assert.equal(MANIFEST_LOG_MAGIC, 'STRATMLG', 'magic');
    assert.equal(toHex(bytes), GOLDEN_LOG_HEADER, 'golden header');
    for (const fileNumber of [1, 42, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      assert.deepEqual(
        decodeManifestLogHeader(encodeManifestLogHeader({ fileNumber })),
        { ok: true, header: { fileNumber } },
        `file ${fileNumber}`,
      );
    }
    // Frames follow the header: the decoder reads only its 32 bytes.
    const withFrames = Uint8Array.from([...bytes, ...encodeFrame(fromHex('00'))]);
    assert.deepEqual(
      decodeManifestLogHeader(withFrames),
      { ok: true, header: { fileNumber: 42 } },
      'followed by frames',
    );
    assert.throws(() => encodeManifestLogHeader({ fileNumber: 0 }), AssertionError, 'file number 0');
  });

  it('rejects bad flags and file numbers even with a valid checksum', () => {
    const golden = fromHex(GOLDEN_LOG_HEADER);
    const resealed = (f: (b: Uint8Array) => void): Uint8Array => {
      const b = golden.slice();
      f(b);
      return sealHeader(b);
    };
    const cases: [string, Uint8Array][] = [
      ['unknown flags', resealed((b) => viewOf(b).setUint32(12, 1, true))],
      ['file number 0', resealed((b) => setU64(viewOf(b), 16, 0))],
      ['file number beyond 2^53 - 1', resealed((b) => b.set(fromHex('0000000000002000'), 16))],
      ['non-zero tail', Uint8Array.from([...golden.subarray(0, 31), 1])],
      ['another magic', resealed((b) => b.set(fromHex('53545241544d5054'), 0))],
    ];
    for (const [name, bytes] of cases)
      assert.equal(decodeManifestLogHeader(bytes).ok, false, `rejects: ${name}`);
  });

  it('is hostile-safe: every truncation and bit flip is rejected', { timeout: 10_000 }, () => {
    checkHostile(
      'decodeManifestLogHeader',
      fromHex(GOLDEN_LOG_HEADER),
      (b) => {
        const r = decodeManifestLogHeader(b);
        if (!r.ok) return 'bad';
        assert.ok(
          Number.isSafeInteger(r.header.fileNumber) && r.header.fileNumber >= 1,
          'file number in range',
        );
        return 'ok';
      },
      { seed: 904, flipsRejected: true, randomCount: 1000 },
    );
  });
});

/** Random payloads that look like edits: ascending tags with plausible values, sometimes mangled. */
function editLikeBytes(rnd: SeededRandom, golden: Uint8Array): Uint8Array {
  if (rnd.bool(0.3)) return rnd.bytes(rnd.int(golden.length * 2 + 2));
  const edit = randomEdit(rnd);
  const b = Array.from(encodeManifestEdit(edit));
  for (let i = rnd.int(3); i > 0; i--) {
    const at = rnd.int(b.length);
    b[at] = rnd.bool() ? rnd.u32() & 0xff : b[at]! ^ (1 << rnd.int(8));
  }
  return Uint8Array.from(b);
}

function randomKey(rnd: SeededRandom): string {
  let s = '';
  for (let i = rnd.int(6); i > 0; i--) s += String.fromCharCode(rnd.int(256));
  return s;
}

function randomNumber(rnd: SeededRandom): number {
  return rnd.pick([0, 1, 127, 128, 16_383, 16_384, rnd.int(1_000_000), Number.MAX_SAFE_INTEGER]);
}

function randomEdit(rnd: SeededRandom): ManifestEdit {
  const edit: ManifestEdit = {};
  if (rnd.bool(0.2)) edit.full = true;
  if (rnd.bool()) edit.walStartFile = randomNumber(rnd);
  if (rnd.bool()) edit.nextFileNumber = randomNumber(rnd);
  if (rnd.bool()) edit.reservedVersion = randomNumber(rnd);
  if (rnd.bool()) edit.flushedVersion = randomNumber(rnd);
  if (rnd.bool()) edit.flushedTimestamp = rnd.pick([0, TIMESTAMP, -1, 1e-300, rnd.float() * 1e13]);
  if (rnd.bool()) {
    edit.removed = [];
    for (let i = 1 + rnd.int(3); i > 0; i--) {
      edit.removed.push({ level: rnd.int(7), fileNumber: Math.max(1, randomNumber(rnd)) });
    }
  }
  if (rnd.bool()) {
    edit.added = [];
    for (let i = 1 + rnd.int(3); i > 0; i--) {
      edit.added.push({
        level: rnd.int(7),
        table: {
          fileNumber: 1 + rnd.int(1_000_000),
          size: randomNumber(rnd),
          smallest: randomKey(rnd),
          largest: randomKey(rnd),
          minVersion: randomNumber(rnd),
          maxVersion: randomNumber(rnd),
          entries: randomNumber(rnd),
        },
      });
    }
  }
  return edit;
}
