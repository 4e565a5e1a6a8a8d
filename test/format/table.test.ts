/** Sorted tables (docs/formats/table.md): golden bytes of a small table, codec rules, hostile input. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { concatBytes, fromHex, SeededRandom, toHex, viewOf } from '../../src/base/index.js';
import {
  BLOCK_DATA,
  BLOCK_FILTER,
  BLOCK_INDEX,
  BLOCK_PROPERTIES,
  BLOCK_TRAILER_BYTES,
  bloomHash,
  bloomMayContain,
  bloomProbesFor,
  checkBlock,
  DataBlockWriter,
  decodeDataBlockLayout,
  decodeDataRun,
  decodeFilterBlock,
  decodeIndexBlock,
  decodePropertiesBlock,
  decodeTableFooter,
  encodeBlock,
  encodeFilterBlock,
  encodeIndexBlock,
  encodePropertiesBlock,
  encodeTableFooter,
  newBlockProbe,
  PROBE_ABSENT,
  PROBE_BAD,
  PROBE_FOUND,
  PROBE_NEXT_BLOCK,
  probeDataBlock,
  RESTART_INTERVAL_MAX,
  sealHeader,
  TABLE_FOOTER_BYTES,
  TABLE_MAGIC,
  type TableEntry,
  type TableFooter,
} from '../../src/format/index.js';
import { TableBuilder } from '../../src/lsm/index.js';
import { checkHostile } from '../helpers/hostile.js';

const TIMESTAMP = 1_700_000_000_123.5;
const TS = '00b88756febc7842'; // f64 1700000000123.5

/** The golden table: file 7, restart interval 2, default block size and 10 bloom bits per key. */
const ENTRIES: TableEntry[] = [
  { key: 'a', version: 3, timestamp: TIMESTAMP, value: Uint8Array.from([1, 2]) },
  { key: 'a', version: 1, timestamp: TIMESTAMP, value: null },
  { key: 'ab', version: 2, timestamp: TIMESTAMP, value: new Uint8Array(0) },
  { key: 'b', version: 4, timestamp: TIMESTAMP, value: Uint8Array.from([3]) },
];

const GOLDEN_DATA_PAYLOAD =
  // shared unshared key version kind timestamp valueLength value
  `00 01 61 03 00 ${TS} 02 0102` + // @0  a@3 = 0102 (restart 0: key whole)
  `01 00 01 01 ${TS}` + //             @16 a@1 tombstone (shares all of "a")
  `00 02 6162 02 00 ${TS} 00` + //     @28 ab@2 = (empty) (restart 1: key whole)
  `00 01 62 04 00 ${TS} 01 03` + //    @43 b@4 = 03 (shares nothing with "ab")
  '00000000 1c000000' + //             restart offsets 0 and 28
  '02000000'; //                       2 restarts
const GOLDEN_DATA_BLOCK =
  GOLDEN_DATA_PAYLOAD +
  '01' + //        type data
  '46000000' + //  payload length 70
  '6c937de4'; //   masked CRC-32C of payload, type and length

const GOLDEN_FILTER_BLOCK =
  '07' + //                probes: round(10 × ln 2)
  '181041ea024104d4' + //  64 bits (the minimum) for 3 distinct keys
  '02 09000000 0b08274e'; // trailer: filter, 9 bytes, crc

const GOLDEN_INDEX_BLOCK =
  '01' + //              1 data block
  '00 01 62 04 4f' + //  its last entry b@4; block size 79
  '03 06000000 4e05b8d9'; // trailer: index, 6 bytes, crc

const GOLDEN_PROPERTIES_BLOCK =
  '04 01 01 04 02' + //  entries 4, data blocks 1, min version 1, max version 4, restart interval 2
  '01 61 01 62' + //     smallest "a", largest "b"
  '04 09000000 97673293'; // trailer: properties, 9 bytes, crc

const GOLDEN_FOOTER =
  '5354524154535354' + //   "STRATSST"
  '0100' + //               format version 1
  '4000' + //               footer size 64
  '12000000' + //           filter size 18
  '0700000000000000' + //   file number 7
  '4f00000000000000' + //   filter offset 79
  '6100000000000000' + //   index offset 97
  '0f000000' + //           index size 15
  '12000000' + //           properties size 18
  '7000000000000000' + //   properties offset 112
  'f5646564' + //           masked CRC-32C of bytes [0, 56)
  '00000000'; //            zero

const hex = (s: string): string => s.replace(/\s+/g, '');
const GOLDEN_TABLE = hex(
  GOLDEN_DATA_BLOCK + GOLDEN_FILTER_BLOCK + GOLDEN_INDEX_BLOCK + GOLDEN_PROPERTIES_BLOCK + GOLDEN_FOOTER,
);
const GOLDEN_FOOTER_FIELDS: TableFooter = {
  fileNumber: 7,
  filterOffset: 79,
  filterSize: 18,
  indexOffset: 97,
  indexSize: 15,
  propertiesOffset: 112,
  propertiesSize: 18,
};

function payloadOf(blockHex: string): Uint8Array {
  const b = fromHex(blockHex);
  return b.subarray(0, b.length - BLOCK_TRAILER_BYTES);
}

/** Decodes a whole data block payload: its layout, then every run. */
function decodeDataPayload(payload: Uint8Array): TableEntry[] | undefined {
  const layout = decodeDataBlockLayout(payload);
  if (!layout.ok) return undefined;
  const { restartOffsets, entriesEnd } = layout.value;
  const out: TableEntry[] = [];
  for (let r = 0; r < restartOffsets.length; r++) {
    const end = r + 1 < restartOffsets.length ? restartOffsets[r + 1]! : entriesEnd;
    const run = decodeDataRun(payload, restartOffsets[r]!, end, RESTART_INTERVAL_MAX);
    if (!run.ok) return undefined;
    const v = run.value;
    for (let i = 0; i < v.keys.length; i++) {
      const s = v.valueStarts[i]!;
      out.push({
        key: v.keys[i]!,
        version: v.versions[i]!,
        timestamp: v.timestamps[i]!,
        value: s < 0 ? null : payload.slice(s, v.valueEnds[i]!),
      });
    }
  }
  return out;
}

describe('table format', () => {
  it('pins the golden bytes of a small table', () => {
    const builder = new TableBuilder(7, { restartInterval: 2 });
    for (const e of ENTRIES) builder.add(e);
    const { chunks, meta } = builder.finish();
    assert.deepEqual(
      chunks.map((c) => toHex(c)),
      [
        GOLDEN_DATA_BLOCK,
        GOLDEN_FILTER_BLOCK,
        GOLDEN_INDEX_BLOCK,
        GOLDEN_PROPERTIES_BLOCK,
        GOLDEN_FOOTER,
      ].map(hex),
      'each block',
    );
    assert.equal(toHex(concatBytes(chunks)), GOLDEN_TABLE, 'whole table');
    assert.deepEqual(
      meta,
      { fileNumber: 7, size: 194, smallest: 'a', largest: 'b', minVersion: 1, maxVersion: 4, entries: 4 },
      'meta',
    );
    assert.equal(TABLE_MAGIC, 'STRATSST', 'magic');
    assert.equal(TABLE_FOOTER_BYTES, 64, 'footer size');
    assert.deepEqual([BLOCK_DATA, BLOCK_FILTER, BLOCK_INDEX, BLOCK_PROPERTIES], [1, 2, 3, 4], 'block types');
  });

  it('each codec produces its golden block on its own', () => {
    const w = new DataBlockWriter(2);
    for (const e of ENTRIES) w.add(e);
    assert.equal(w.sizeBytes, 79, 'size before finishing');
    assert.equal(toHex(w.finish()), hex(GOLDEN_DATA_BLOCK), 'data block');
    assert.equal(w.entryCount, 0, 'writer reset');
    const hashes = ['a', 'ab', 'b'].map(bloomHash);
    assert.equal(toHex(encodeFilterBlock(hashes, 3, 10)), hex(GOLDEN_FILTER_BLOCK), 'filter block');
    assert.equal(toHex(encodeIndexBlock(['b'], [4], [79])), hex(GOLDEN_INDEX_BLOCK), 'index block');
    const properties = {
      entries: 4,
      dataBlocks: 1,
      minVersion: 1,
      maxVersion: 4,
      restartInterval: 2,
      smallest: 'a',
      largest: 'b',
    };
    assert.equal(toHex(encodePropertiesBlock(properties)), hex(GOLDEN_PROPERTIES_BLOCK), 'properties block');
    assert.equal(toHex(encodeTableFooter(GOLDEN_FOOTER_FIELDS)), hex(GOLDEN_FOOTER), 'footer');
    assert.equal(
      toHex(encodeBlock(payloadOf(GOLDEN_INDEX_BLOCK), BLOCK_INDEX)),
      hex(GOLDEN_INDEX_BLOCK),
      'encodeBlock seals the same trailer',
    );
  });

  it('decodes the golden blocks back', () => {
    for (const [name, blockHex, type] of [
      ['data', GOLDEN_DATA_BLOCK, BLOCK_DATA],
      ['filter', GOLDEN_FILTER_BLOCK, BLOCK_FILTER],
      ['index', GOLDEN_INDEX_BLOCK, BLOCK_INDEX],
      ['properties', GOLDEN_PROPERTIES_BLOCK, BLOCK_PROPERTIES],
    ] as const) {
      const check = checkBlock(fromHex(blockHex), type);
      assert.ok(check.ok, `${name} block verifies`);
      assert.equal(toHex(check.value), toHex(payloadOf(blockHex)), `${name} payload`);
      assert.equal(
        checkBlock(fromHex(blockHex), type === 1 ? 2 : 1).ok,
        false,
        `${name} block of the wrong type`,
      );
    }
    const layout = decodeDataBlockLayout(payloadOf(GOLDEN_DATA_BLOCK));
    assert.deepEqual(
      layout,
      {
        ok: true,
        value: { entriesEnd: 58, restartOffsets: [0, 28], restartKeys: ['a', 'ab'], restartVersions: [3, 2] },
      },
      'data block layout',
    );
    assert.deepEqual(decodeDataPayload(payloadOf(GOLDEN_DATA_BLOCK)), ENTRIES, 'data entries');
    assert.deepEqual(
      decodeIndexBlock(payloadOf(GOLDEN_INDEX_BLOCK)),
      {
        ok: true,
        value: { lastKeys: ['b'], lastVersions: [4], blockOffsets: [0], blockSizes: [79], dataEnd: 79 },
      },
      'index',
    );
    assert.deepEqual(
      decodePropertiesBlock(payloadOf(GOLDEN_PROPERTIES_BLOCK)),
      {
        ok: true,
        value: {
          entries: 4,
          dataBlocks: 1,
          minVersion: 1,
          maxVersion: 4,
          restartInterval: 2,
          smallest: 'a',
          largest: 'b',
        },
      },
      'properties',
    );
    const filter = decodeFilterBlock(payloadOf(GOLDEN_FILTER_BLOCK));
    assert.ok(filter.ok, 'filter decodes');
    assert.equal(filter.value.probes, 7, 'probes');
    for (const k of ['a', 'ab', 'b'])
      assert.ok(bloomMayContain(filter.value, bloomHash(k)), `filter holds ${k}`);
    assert.deepEqual(
      decodeTableFooter(fromHex(GOLDEN_FOOTER), 194),
      { ok: true, value: GOLDEN_FOOTER_FIELDS },
      'footer',
    );
    assert.equal(decodeTableFooter(fromHex(GOLDEN_FOOTER), 195).ok, false, 'footer of a longer table');
  });

  it('bloom hash is MurmurHash3 x86 32-bit, seed 0 (published vectors)', () => {
    const vectors: [string, number][] = [
      ['', 0],
      ['hello', 0x248bfa47],
      ['The quick brown fox jumps over the lazy dog', 0x2e4ff723],
      ['a', 0x3c2569b2],
      ['ab', 0x9bbfd75f],
      ['b', 0x95de7e03],
    ];
    for (const [s, h] of vectors) assert.equal(bloomHash(s), h, `murmur3(${JSON.stringify(s)})`);
    assert.deepEqual(
      [0, 0.5, 1, 10, 20, 100].map(bloomProbesFor),
      [0, 1, 1, 7, 14, 30],
      'probes per bits/key',
    );
    const none = decodeFilterBlock(Uint8Array.of(0));
    assert.ok(none.ok && bloomMayContain(none.value, 12345), 'a filter of 0 bits/key matches everything');
    assert.equal(toHex(encodeFilterBlock([1, 2], 2, 0).subarray(0, 1)), '00', 'no filter: probes 0, no bits');
  });

  it('round trips random data blocks, keys sharing prefixes', () => {
    const rnd = new SeededRandom(801);
    for (let n = 0; n < 200; n++) {
      const interval = 1 + rnd.int(5);
      const w = new DataBlockWriter(interval, 64);
      const keys = new Set<string>();
      for (let i = rnd.int(30) + 1; i > 0; i--)
        keys.add(String.fromCharCode(...rnd.bytes(rnd.int(6)).map((b) => b & 0x83)));
      const entries: TableEntry[] = [];
      for (const key of [...keys].sort()) {
        let version = 1 + rnd.int(1000);
        for (let v = rnd.int(3) + 1; v > 0; v--) {
          entries.push({
            key,
            version,
            timestamp: rnd.pick([0, -1.5, TIMESTAMP]),
            value: rnd.bool(0.2) ? null : rnd.bytes(rnd.int(100)),
          });
          version -= 1 + rnd.int(10);
          if (version < 0) break;
        }
      }
      for (const e of entries) w.add(e);
      const block = w.finish();
      const check = checkBlock(block, BLOCK_DATA);
      assert.ok(check.ok, `block #${n} verifies`);
      assert.deepEqual(decodeDataPayload(check.value), entries, `block #${n} (interval ${interval})`);
    }
  });

  it('probeDataBlock finds in place what decoding the block finds, from any restart at or before the key', () => {
    const rnd = new SeededRandom(805);
    const probe = newBlockProbe();
    let found = 0;
    let nextBlock = 0;
    for (let n = 0; n < 150; n++) {
      const w = new DataBlockWriter(1 + rnd.int(5), 64);
      const keys = new Set<string>();
      for (let i = rnd.int(25) + 1; i > 0; i--)
        keys.add(String.fromCharCode(...rnd.bytes(1 + rnd.int(6)).map((b) => b & 0x83)));
      const entries: TableEntry[] = [];
      for (const key of [...keys].sort()) {
        let version = 1 + rnd.int(1000);
        for (let v = rnd.int(4) + 1; v > 0 && version >= 1; v--) {
          entries.push({
            key,
            version,
            timestamp: version * 10,
            value: rnd.bool(0.2) ? null : rnd.bytes(rnd.int(20)),
          });
          version -= 1 + rnd.int(10);
        }
      }
      for (const e of entries) w.add(e);
      const payload = checkBlock(w.finish(), BLOCK_DATA);
      assert.ok(payload.ok);
      const bytes = payload.value;
      const layout = decodeDataBlockLayout(bytes);
      assert.ok(layout.ok);
      const { restartOffsets, restartKeys, restartVersions, entriesEnd } = layout.value;
      const last = entries[entries.length - 1]!;
      const targets = [...keys, ...[...keys].map((k) => `${k}\x00`), ...[...keys].map((k) => k.slice(0, -1))];
      for (const key of targets) {
        if (key === '') continue;
        for (const [atVersion, atTimestamp] of [
          [Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY],
          [rnd.int(1100), Number.POSITIVE_INFINITY],
          [Number.MAX_SAFE_INTEGER, rnd.int(11000)],
        ] as const) {
          // The reference: decode everything, filter.
          const hit = entries.find(
            (e) => e.key === key && e.version <= atVersion && e.timestamp <= atTimestamp,
          );
          // Past the block's last key is damage (the index sent us here); ending on the key
          // without an answer means its older versions may be in the next block.
          const beyond = key > last.key;
          const spills = !beyond && hit === undefined && key === last.key;
          const expected = beyond
            ? PROBE_BAD
            : hit !== undefined
              ? PROBE_FOUND
              : spills
                ? PROBE_NEXT_BLOCK
                : PROBE_ABSENT;
          // Every restart whose first entry is at or before (key, atVersion) is a valid start.
          for (let r = 0; r < restartOffsets.length; r++) {
            const rk = restartKeys[r]!;
            if (r > 0 && (rk > key || (rk === key && restartVersions[r]! <= atVersion))) break;
            const what = `block #${n}, ${JSON.stringify(key)}@${atVersion}/${atTimestamp} from restart ${r}`;
            const status = probeDataBlock(
              bytes,
              viewOf(bytes),
              restartOffsets[r]!,
              entriesEnd,
              key,
              atVersion,
              atTimestamp,
              0,
              1000,
              probe,
            );
            assert.equal(status, expected, what);
            assert.equal(probe.status, status, `${what}: status recorded`);
            if (status === PROBE_FOUND) {
              found++;
              assert.equal(probe.version, hit!.version, `${what}: version`);
              assert.equal(probe.timestamp, hit!.timestamp, `${what}: timestamp`);
              const value = probe.valueStart < 0 ? null : bytes.slice(probe.valueStart, probe.valueEnd);
              assert.deepEqual(value, hit!.value, `${what}: value`);
            }
            if (status === PROBE_NEXT_BLOCK) nextBlock++;
          }
        }
      }
      // Versions outside the table's range are damage, not an answer.
      const status = probeDataBlock(
        bytes,
        viewOf(bytes),
        0,
        entriesEnd,
        last.key,
        Number.MAX_SAFE_INTEGER,
        Number.POSITIVE_INFINITY,
        2000,
        3000,
        probe,
      );
      assert.equal(status, PROBE_BAD, `block #${n}: versions below the table's minimum`);
    }
    assert.ok(
      found > 500 && nextBlock > 20,
      `exercised every outcome (${found} found, ${nextBlock} next block)`,
    );
  });

  it('probeDataBlock is hostile-safe and rejects out-of-order entries', { timeout: 20_000 }, () => {
    const probe = newBlockProbe();
    const outcome = (b: Uint8Array): 'ok' | 'bad' => {
      const layout = decodeDataBlockLayout(b);
      if (!layout.ok) return 'bad';
      let bad = false;
      for (const key of ['a', 'ab', 'b', '\x00', 'aa']) {
        const status = probeDataBlock(
          b,
          viewOf(b),
          0,
          layout.value.entriesEnd,
          key,
          10,
          Number.POSITIVE_INFINITY,
          0,
          100,
          probe,
        );
        assert.ok(status >= PROBE_FOUND && status <= PROBE_BAD, 'a known status');
        if (status === PROBE_BAD)
          assert.ok(probe.at >= 0 && probe.at <= b.length && probe.reason !== '', 'where and why');
        if (status === PROBE_FOUND && probe.valueStart >= 0)
          assert.ok(
            probe.valueStart <= probe.valueEnd && probe.valueEnd <= layout.value.entriesEnd,
            'value in bounds',
          );
        bad ||= status === PROBE_BAD && key !== '\x00' && key !== 'aa';
      }
      return bad ? 'bad' : 'ok';
    };
    const golden = payloadOf(GOLDEN_DATA_BLOCK);
    assert.equal(outcome(golden), 'ok', 'the golden block');
    checkHostile('data block probe', golden, outcome, { seed: 806, flipsRejected: false, randomCount: 1000 });
    // Forged order (checksums would verify): b@4 rewritten as "a" after "ab", and a@1 as a@5.
    const edit = (f: (b: Uint8Array) => void): Uint8Array => {
      const b = golden.slice();
      f(b);
      return b;
    };
    const backwards = edit((b) => (b[45] = 0x61));
    assert.equal(
      probeDataBlock(backwards, viewOf(backwards), 0, 58, 'b', 10, Number.POSITIVE_INFINITY, 0, 100, probe),
      PROBE_BAD,
    );
    assert.match(probe.reason, /order/);
    const rising = edit((b) => (b[18] = 5));
    assert.equal(
      probeDataBlock(rising, viewOf(rising), 0, 58, 'a', 0, Number.POSITIVE_INFINITY, 0, 100, probe),
      PROBE_BAD,
    );
    assert.match(probe.reason, /order/);
    assert.equal(
      probeDataBlock(golden, viewOf(golden), 0, 58, 'a', 0, Number.POSITIVE_INFINITY, 0, 100, probe),
      PROBE_ABSENT,
    );
  });

  it('rejects malformed payloads and footers', () => {
    const data = payloadOf(GOLDEN_DATA_BLOCK);
    const edit = (base: Uint8Array, f: (b: Uint8Array) => void): Uint8Array => {
      const b = base.slice();
      f(b);
      return b;
    };
    const badLayouts: [string, Uint8Array][] = [
      ['no restarts', edit(data, (b) => viewOf(b).setUint32(66, 0, true))],
      ['too many restarts', edit(data, (b) => viewOf(b).setUint32(66, 100, true))],
      ['first restart not 0', edit(data, (b) => viewOf(b).setUint32(58, 1, true))],
      ['restarts not increasing', edit(data, (b) => viewOf(b).setUint32(62, 0, true))],
      ['restart past the entries', edit(data, (b) => viewOf(b).setUint32(62, 58, true))],
      ['restart at an entry that shares its key', edit(data, (b) => viewOf(b).setUint32(62, 16, true))],
      ['restart inside an entry', edit(data, (b) => viewOf(b).setUint32(62, 20, true))],
      ['restart keys out of order', edit(data, (b) => (b[30] = 0x00))], // "ab" -> "\x00b", below "a"
      ['too short', data.subarray(0, 19)],
      [
        // Restart 0 (key 00 01, version 5) overlaps restart 1 at byte 2 (key 05, version 3).
        'overlapping restart runs',
        fromHex('00 02 00 01 05 03 000000000000 00000000 02000000 02000000'),
      ],
    ];
    for (const [name, bytes] of badLayouts)
      assert.equal(decodeDataBlockLayout(bytes).ok, false, `layout: ${name}`);

    const badRuns: [string, Uint8Array, number, number][] = [
      ['empty run', data, 0, 0],
      ['run cut inside an entry', data, 0, 20],
      ['shared key at a run start', data, 16, 28],
      ['unknown kind', edit(data, (b) => (b[4] = 2)), 0, 28],
      ['NaN timestamp', edit(data, (b) => viewOf(b).setFloat64(5, Number.NaN, true)), 0, 28],
      ['versions not descending', edit(data, (b) => (b[18] = 3)), 0, 28],
      ['shared beyond the previous key', edit(data, (b) => (b[16] = 2)), 0, 28],
      ['value past the run', edit(data, (b) => (b[13] = 30)), 0, 28],
    ];
    for (const [name, bytes, start, end] of badRuns)
      assert.equal(decodeDataRun(bytes, start, end, 16).ok, false, `run: ${name}`);
    assert.ok(decodeDataRun(data, 0, 28, 2).ok, 'a run of 2 entries, 2 allowed');
    assert.equal(decodeDataRun(data, 0, 28, 1).ok, false, 'a run of 2 entries, 1 allowed');

    const badIndexes: [string, string][] = [
      ['no entries', '00'],
      ['trailing byte', '01 00 01 62 04 4f 00'],
      ['block too small', '01 00 01 62 04 1c'],
      ['keys out of order', '02 00 01 62 04 4f 00 01 61 04 4f'],
      ['same key, older version first', '02 00 01 62 04 4f 01 00 05 4f'],
      ['shared beyond the previous key', '02 00 01 62 04 4f 02 00 05 4f'],
      ['key longer than its block', `01 00 1e ${'62'.repeat(30)} 04 1d`],
    ];
    for (const [name, h] of badIndexes)
      assert.equal(decodeIndexBlock(fromHex(h)).ok, false, `index: ${name}`);

    const badProperties: [string, string][] = [
      ['no entries', '00 01 01 04 02 01 61 01 62'],
      ['more blocks than entries', '01 02 01 04 02 01 61 01 62'],
      ['min above max', '04 01 05 04 02 01 61 01 62'],
      ['restart interval 0', '04 01 01 04 00 01 61 01 62'],
      ['restart interval 1025', '04 01 01 04 8108 01 61 01 62'],
      ['smallest above largest', '04 01 01 04 02 01 63 01 62'],
      ['trailing byte', '04 01 01 04 02 01 61 01 62 00'],
      ['key past the end', '04 01 01 04 02 01 61 02 62'],
    ];
    for (const [name, h] of badProperties)
      assert.equal(decodePropertiesBlock(fromHex(h)).ok, false, `properties: ${name}`);

    assert.equal(decodeFilterBlock(fromHex('1f 00000000 00000000')).ok, false, 'filter: 31 probes');
    assert.equal(decodeFilterBlock(fromHex('07')).ok, false, 'filter: probes without bits');
    assert.equal(decodeFilterBlock(fromHex('00 ff')).ok, false, 'filter: bits without probes');
    assert.equal(decodeFilterBlock(new Uint8Array(0)).ok, false, 'filter: empty');

    const footer = fromHex(GOLDEN_FOOTER);
    const resealed = (f: (b: Uint8Array) => void): Uint8Array => sealHeader(edit(footer, f));
    const badFooters: [string, Uint8Array][] = [
      ['filter offset 0', resealed((b) => viewOf(b).setUint32(24, 0, true))],
      ['gap before the index', resealed((b) => viewOf(b).setUint32(32, 98, true))],
      ['index overlaps the properties', resealed((b) => viewOf(b).setUint32(40, 16, true))],
      ['properties end before the footer', resealed((b) => viewOf(b).setUint32(44, 17, true))],
      ['empty filter block', resealed((b) => viewOf(b).setUint32(12, 9, true))],
      ['file number beyond 2^53 - 1', resealed((b) => b.set(fromHex('ffffffffffffffff'), 16))],
      ['snapshot magic', resealed((b) => b.set(fromHex('5354524154534e50')))],
      ['non-zero tail', edit(footer, (b) => (b[63] = 1))],
    ];
    for (const [name, bytes] of badFooters)
      assert.equal(decodeTableFooter(bytes, 194).ok, false, `footer: ${name}`);
  });

  it('checksummed parts reject every truncation and bit flip', { timeout: 20_000 }, () => {
    checkHostile(
      'decodeTableFooter',
      fromHex(GOLDEN_FOOTER),
      (b) => (b.length === TABLE_FOOTER_BYTES && decodeTableFooter(b, 194).ok ? 'ok' : 'bad'),
      { seed: 802, flipsRejected: true, randomCount: 500 },
    );
    for (const [name, blockHex, type] of [
      ['data', GOLDEN_DATA_BLOCK, BLOCK_DATA],
      ['filter', GOLDEN_FILTER_BLOCK, BLOCK_FILTER],
      ['index', GOLDEN_INDEX_BLOCK, BLOCK_INDEX],
      ['properties', GOLDEN_PROPERTIES_BLOCK, BLOCK_PROPERTIES],
    ] as const) {
      checkHostile(`checkBlock(${name})`, fromHex(blockHex), (b) => (checkBlock(b, type).ok ? 'ok' : 'bad'), {
        seed: 803 + type,
        flipsRejected: true,
        randomCount: 500,
      });
    }
  });

  it('payload decoders are hostile-safe', { timeout: 20_000 }, () => {
    const asOutcome = (ok: boolean): 'ok' | 'bad' => (ok ? 'ok' : 'bad');
    checkHostile(
      'data block payload',
      payloadOf(GOLDEN_DATA_BLOCK),
      (b) => {
        const entries = decodeDataPayload(b);
        for (const e of entries ?? []) {
          assert.ok(Number.isSafeInteger(e.version) && e.version >= 0, 'version in range');
          assert.ok(Number.isFinite(e.timestamp), 'timestamp finite');
        }
        return asOutcome(entries !== undefined);
      },
      { seed: 810, flipsRejected: false, randomCount: 1000 },
    );
    checkHostile('index payload', payloadOf(GOLDEN_INDEX_BLOCK), (b) => asOutcome(decodeIndexBlock(b).ok), {
      seed: 811,
      flipsRejected: false,
      randomCount: 1000,
    });
    checkHostile(
      'properties payload',
      payloadOf(GOLDEN_PROPERTIES_BLOCK),
      (b) => asOutcome(decodePropertiesBlock(b).ok),
      { seed: 812, flipsRejected: false, randomCount: 1000 },
    );
    // Every truncation of a filter payload still decodes (any bit count is valid), so only random input.
    const rnd = new SeededRandom(813);
    for (let i = 0; i < 1000; i++) {
      const b = rnd.bytes(rnd.int(40));
      const f = decodeFilterBlock(b);
      if (f.ok) bloomMayContain(f.value, rnd.u32());
    }
  });
});
