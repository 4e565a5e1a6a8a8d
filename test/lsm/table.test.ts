/**
 * Tables end to end: TableBuilder -> bytes -> TableReader, against a sorted-array model; damaged
 * and forged tables; the bloom filter's false-positive rate; huge values; the block cache in use.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BytesReader } from '../../src/backend/index.js';
import {
  AssertionError,
  concatBytes,
  crc32c,
  isStrataError,
  SeededRandom,
  toHex,
  VALUE_SIZE_BYTES_MAX,
} from '../../src/base/index.js';
import {
  DataBlockWriter,
  encodeFilterBlock,
  encodeIndexBlock,
  encodePropertiesBlock,
  encodeTableFooter,
  type TableEntry,
} from '../../src/format/index.js';
import { BlockCache, TableBuilder, type TableBuilderOptions, TableReader } from '../../src/lsm/index.js';
import { checkHostile } from '../helpers/hostile.js';

const NAME = 'tables/000000000009.sst';

function build(
  entries: readonly TableEntry[],
  options: TableBuilderOptions = {},
  fileNumber = 9,
  rnd?: SeededRandom,
): Uint8Array {
  const b = new TableBuilder(fileNumber, options);
  const chunks: Uint8Array[] = [];
  let produced = 0;
  for (const e of entries) {
    b.add(e);
    if (rnd?.bool(0.3)) {
      for (const c of b.takeChunks()) {
        chunks.push(c);
        produced += c.length;
      }
      assert.ok(b.estimatedBytes >= produced, 'estimatedBytes counts the chunks taken');
    }
  }
  assert.equal(b.entryCount, entries.length, 'entryCount');
  const done = b.finish();
  chunks.push(...done.chunks);
  const bytes = concatBytes(chunks);
  assert.equal(done.meta.size, bytes.length, 'meta.size counts every chunk');
  return bytes;
}

function open(bytes: Uint8Array, cache = new BlockCache(1 << 20), fileNumber = 9): TableReader {
  return TableReader.open(new BytesReader(bytes, NAME), NAME, { fileNumber, size: bytes.length }, cache);
}

/**
 * An entry as a comparable string: key in hex, version, timestamp, and the value's length and
 * CRC-32C (cheaper than its hex, and as good at telling values apart here) or "tombstone".
 */
function show(e: TableEntry | undefined): string {
  if (e === undefined) return 'none';
  const key = toHex(Uint8Array.from(e.key, (c) => c.charCodeAt(0)));
  const value = e.value === null ? 'tombstone' : `${e.value.length}:${crc32c(e.value).toString(16)}`;
  return `${key}@${e.version} t=${e.timestamp} ${value}`;
}

const shows = (entries: Iterable<TableEntry>): string[] => [...entries].map(show);

/** Random entries in internal order: keys that prefix each other, many versions, tombstones, empty values. */
function randomEntries(rnd: SeededRandom, keyCount: number, options: { big?: number } = {}): TableEntry[] {
  const alphabet = [0x00, 0x61, 0x62, 0xff];
  const keys = new Set<string>(['']);
  while (keys.size < keyCount) {
    const n = rnd.int(7);
    let k = '';
    for (let i = 0; i < n; i++) k += String.fromCharCode(rnd.pick(alphabet));
    keys.add(k);
  }
  const entries: TableEntry[] = [];
  for (const key of [...keys].sort()) {
    const count = rnd.bool(0.05) ? 40 + rnd.int(80) : 1 + rnd.int(4);
    let version = count * 5 + rnd.int(1000);
    let timestamp = 1_000_000 + version * 10;
    for (let i = 0; i < count && version >= 0; i++) {
      const r = rnd.float();
      const value =
        r < 0.2
          ? null
          : r < 0.3
            ? new Uint8Array(0)
            : options.big !== undefined && r > 0.98
              ? rnd.bytes(options.big)
              : rnd.bytes(rnd.int(40));
      // Timestamps usually fall with the version, but not always: reads must not assume they do.
      entries.push({ key, version, timestamp: rnd.bool(0.1) ? rnd.int(2_000_000) : timestamp, value });
      version -= 1 + rnd.int(5);
      timestamp -= rnd.int(30);
    }
  }
  return entries;
}

/** The model: what a table of `all` (in internal order) must answer. */
const model = {
  get(
    all: readonly TableEntry[],
    key: string,
    atVersion: number,
    atTimestamp: number,
  ): TableEntry | undefined {
    return all.find((e) => e.key === key && e.version <= atVersion && e.timestamp <= atTimestamp);
  },
  versions(all: readonly TableEntry[], key: string, atVersion: number, atTimestamp: number): TableEntry[] {
    return all.filter((e) => e.key === key && e.version <= atVersion && e.timestamp <= atTimestamp);
  },
  range(all: readonly TableEntry[], start?: string, end?: string): TableEntry[] {
    return all.filter((e) => (start === undefined || e.key >= start) && (end === undefined || e.key < end));
  },
  reverse(all: readonly TableEntry[], start?: string, end?: string): TableEntry[] {
    const out: TableEntry[] = [];
    const inRange = model.range(all, start, end);
    let i = inRange.length;
    while (i > 0) {
      let j = i - 1;
      while (j > 0 && inRange[j - 1]!.key === inRange[i - 1]!.key) j--;
      out.push(...inRange.slice(j, i));
      i = j;
    }
    return out;
  },
};

function checkAgainstModel(
  label: string,
  reader: TableReader,
  all: readonly TableEntry[],
  rnd: SeededRandom,
  probes: number,
): void {
  const keys = [...new Set(all.map((e) => e.key))];
  const absent = [
    '\x00\x00\x00\x00\x00\x00\x00\x00',
    'ab\x01',
    '\xff\xff\xff\xff\xff\xff\xff\xff',
    'c',
    'a\x00b\xff',
  ];
  const someKey = (): string => (rnd.bool(0.85) ? rnd.pick(keys) : rnd.pick(absent));
  const maxVersion = Math.max(...all.map((e) => e.version));
  const someVersion = (): number =>
    rnd.pick([Number.MAX_SAFE_INTEGER, maxVersion, rnd.int(maxVersion + 2), 0, Number.POSITIVE_INFINITY]);
  const someTimestamp = (): number => rnd.pick([Number.POSITIVE_INFINITY, rnd.int(2_100_000), 0, -1]);
  assert.deepEqual(shows(reader.entries()), shows(all), `${label}: full scan`);
  assert.deepEqual(shows(reader.entriesReverse()), shows(model.reverse(all)), `${label}: full reverse scan`);
  for (let i = 0; i < probes; i++) {
    const key = someKey();
    const v = someVersion();
    const t = someTimestamp();
    const what = `${label}: key ${show({ key, version: v, timestamp: t, value: null })}`;
    assert.equal(show(reader.get(key, v, t)), show(model.get(all, key, v, t)), `${what}: get`);
    assert.deepEqual(
      shows(reader.versions(key, v, t)),
      shows(model.versions(all, key, v, t)),
      `${what}: versions`,
    );
    if (keys.includes(key)) assert.ok(reader.mayContain(key), `${what}: mayContain of a present key`);
    const bound = (): string | undefined => (rnd.bool(0.2) ? undefined : someKey());
    const start = bound();
    const end = bound();
    assert.deepEqual(
      shows(reader.entries(start, end)),
      shows(model.range(all, start, end)),
      `${what}: range`,
    );
    assert.deepEqual(
      shows(reader.entriesReverse(start, end)),
      shows(model.reverse(all, start, end)),
      `${what}: reverse range`,
    );
  }
}

describe('TableBuilder and TableReader', () => {
  it('round trip against a sorted-array model, many configurations', { timeout: 30_000 }, () => {
    const configs: [TableBuilderOptions, number][] = [
      [{}, 1 << 20],
      [{ blockBytes: 64, restartInterval: 1 }, 1 << 20],
      [{ blockBytes: 200, restartInterval: 3 }, 2048], // a cache smaller than the table: constant eviction
      [{ blockBytes: 512, restartInterval: 16, bloomBitsPerKey: 0 }, 1 << 20],
      [{ blockBytes: 1, restartInterval: 2, bloomBitsPerKey: 3 }, 0], // one entry per block, no cache
    ];
    let seed = 900;
    for (const [options, cacheBytes] of configs) {
      for (let round = 0; round < 3; round++) {
        const rnd = new SeededRandom(++seed);
        const all = randomEntries(rnd, 1 + rnd.int(60), { big: 3000 });
        const bytes = build(all, options, 9, rnd);
        const reader = open(bytes, new BlockCache(cacheBytes));
        const label = `seed ${seed} ${JSON.stringify(options)}`;
        assert.deepEqual(
          { ...reader.meta, size: 0 },
          {
            fileNumber: 9,
            size: 0,
            smallest: all[0]!.key,
            largest: all.at(-1)!.key,
            minVersion: Math.min(...all.map((e) => e.version)),
            maxVersion: Math.max(...all.map((e) => e.version)),
            entries: all.length,
          },
          `${label}: meta`,
        );
        checkAgainstModel(label, reader, all, rnd, 150);
        reader.close();
      }
    }
  });

  it('one key with many versions spanning block boundaries', () => {
    const all: TableEntry[] = [];
    for (let v = 500; v >= 1; v--)
      all.push({ key: 'k', version: v * 2, timestamp: v * 2, value: Uint8Array.of(v & 0xff) });
    all.unshift({ key: 'j', version: 3, timestamp: 3, value: null });
    all.push({ key: 'k\x00', version: 1, timestamp: 1, value: null });
    const reader = open(build(all, { blockBytes: 100, restartInterval: 4 }));
    assert.ok(reader.meta.size > 100 * 50, 'many blocks');
    for (let v = 0; v <= 1001; v += 7) {
      const expected = v < 2 ? undefined : Math.floor(v / 2) * 2;
      assert.equal(reader.get('k', v, Number.POSITIVE_INFINITY)?.version, expected, `k@${v}`);
      assert.equal(reader.get('k', Number.MAX_SAFE_INTEGER, v)?.version, expected, `k at timestamp ${v}`);
      const count = Math.min(500, Math.floor(v / 2));
      assert.equal(reader.versions('k', v, Number.POSITIVE_INFINITY).length, count, `versions k@${v}`);
    }
    assert.equal(reader.get('k', 600, 300)?.version, 300, 'version and timestamp caps together');
    assert.equal(shows(reader.entriesReverse('k', 'k\x00')).length, 500, 'reverse over one key');
    assert.deepEqual(
      [...reader.entriesReverse('k', 'k\x00')].map((e) => e.version).slice(0, 3),
      [1000, 998, 996],
      'reverse keeps versions newest first',
    );
  });

  it('huge values: an entry above the block size gets a block of its own', { timeout: 20_000 }, () => {
    const huge = new Uint8Array(VALUE_SIZE_BYTES_MAX);
    for (let i = 0; i < huge.length; i += 4099) huge[i] = i & 0xff;
    const all: TableEntry[] = [
      { key: 'a', version: 1, timestamp: 1, value: Uint8Array.of(1) },
      { key: 'b', version: 2, timestamp: 2, value: huge },
      { key: 'c', version: 3, timestamp: 3, value: Uint8Array.of(3) },
    ];
    const b = new TableBuilder(9);
    b.add(all[0]!);
    assert.equal(b.takeChunks().length, 0, 'the first small entry stays in its block');
    b.add(all[1]!);
    const chunks = b.takeChunks();
    assert.deepEqual(
      chunks.map((c) => c.length > VALUE_SIZE_BYTES_MAX),
      [false, true],
      'the small block is closed first, then the huge entry fills one block alone',
    );
    assert.ok(b.estimatedBytes > VALUE_SIZE_BYTES_MAX, 'estimatedBytes counts it');
    b.add(all[2]!);
    const done = b.finish();
    const bytes = concatBytes([...chunks, ...done.chunks]);
    const cache = new BlockCache(1 << 20); // smaller than the huge block: it is read but not kept
    const reader = open(bytes, cache);
    const value = reader.get('b', 5, 5)?.value;
    assert.ok(value instanceof Uint8Array && value.length === huge.length, 'huge value length');
    assert.ok(value[4099 * 7] === ((4099 * 7) & 0xff) && value[1] === 0, 'huge value bytes');
    assert.deepEqual(shows(reader.entries('c')), shows([all[2]!]), 'the entry after it');
    assert.ok(
      cache.usedBytes < 1 << 20 && cache.entries >= 1,
      'the small blocks are cached, the huge one is not',
    );
  });

  it('uses the cache: a second read of a block is a hit; blocks are charged', () => {
    const rnd = new SeededRandom(931);
    const all = randomEntries(rnd, 300);
    const cache = new BlockCache(1 << 20);
    const reader = open(build(all, { blockBytes: 256 }), cache);
    const key = all[150]!.key;
    reader.get(key, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY);
    const misses = cache.misses;
    const hits = cache.hits;
    for (let i = 0; i < 10; i++) reader.get(key, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY);
    assert.equal(cache.misses, misses, 'no more misses');
    assert.equal(cache.hits, hits + 10, 'ten hits');
    assert.equal(reader.get('\x00zz', 1, 1), undefined, 'absent');
    [...reader.entries()];
    assert.ok(cache.usedBytes > reader.meta.size * 0.8, `all blocks cached and charged: ${cache.usedBytes}`);
    assert.ok(
      reader.memoryBytes > 0 && reader.memoryBytes < reader.meta.size,
      `memoryBytes ${reader.memoryBytes}`,
    );
    // A second reader of the same table shares the cached blocks.
    const again = open(build(all, { blockBytes: 256 }), cache);
    const before = cache.misses;
    assert.equal(shows(again.entries()).length, all.length, 'second reader scans');
    assert.equal(cache.misses, before, 'without a single miss');
    cache.evictTable(9);
    assert.equal(cache.entries, 0, 'evictTable drops them');
  });

  it('mayContain: range check and bloom filter; false-positive rate below 2% at 10 bits/key', () => {
    const rnd = new SeededRandom(941);
    const present = new Set<string>();
    while (present.size < 10_000) present.add(`key-${rnd.u32().toString(36)}`);
    const keys = [...present].sort();
    const all = keys.map((key, i) => ({ key, version: i + 1, timestamp: i, value: Uint8Array.of(1) }));
    const reader = open(build(all));
    for (const k of keys) assert.ok(reader.mayContain(k), 'no false negative');
    assert.equal(reader.mayContain('a'), false, 'below the smallest key');
    assert.equal(reader.mayContain('z'), false, 'above the largest key');
    let falsePositives = 0;
    let probes = 0;
    while (probes < 100_000) {
      const k = `key-${rnd.u32().toString(36)}x`;
      if (k <= keys[0]! || k >= keys.at(-1)!) continue;
      probes++;
      if (reader.mayContain(k)) falsePositives++;
    }
    const rate = falsePositives / probes;
    console.log(`bloom filter, 10 bits/key, 10,000 keys: false-positive rate ${(rate * 100).toFixed(2)}%`);
    assert.ok(rate < 0.02, `false-positive rate ${rate}`);
    const noFilter = open(build(all, { bloomBitsPerKey: 0 }));
    assert.ok(noFilter.mayContain('key-x'), 'without a filter every key in range may be there');
  });

  it('damage anywhere: every bit flip and truncation is reported as corruption', { timeout: 30_000 }, () => {
    // Small on purpose (every bit of it is flipped): prefixes, versions, a tombstone, an empty value.
    const all: TableEntry[] = [
      { key: '', version: 7, timestamp: 1.5, value: Uint8Array.of(1) },
      { key: 'a', version: 9, timestamp: 2, value: Uint8Array.of(2, 3) },
      { key: 'a', version: 8, timestamp: 2, value: null },
      { key: 'a', version: 3, timestamp: 1, value: new Uint8Array(0) },
      { key: 'ab', version: 4, timestamp: 1, value: Uint8Array.of(4) },
      { key: 'abc', version: 6, timestamp: 1, value: Uint8Array.of(5, 6, 7) },
      { key: 'b\xff', version: 5, timestamp: 1, value: null },
      { key: 'c', version: 2, timestamp: 0, value: Uint8Array.of(8) },
    ];
    for (const options of [{ restartInterval: 2 }, { blockBytes: 64, restartInterval: 2 }]) {
      const golden = build(all, options);
      const keys = [...new Set(all.map((e) => e.key)), 'zz'];
      const expected = {
        scan: shows(all),
        reverse: shows(model.reverse(all)),
        gets: keys.map((k) => show(model.get(all, k, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY))),
      };
      const readAll = (bytes: Uint8Array): 'ok' => {
        // A fresh cache each time: blocks of an earlier, different input must not answer.
        const reader = TableReader.open(
          new BytesReader(bytes, NAME),
          NAME,
          { fileNumber: 9 },
          new BlockCache(1 << 16),
        );
        assert.deepEqual(shows(reader.entries()), expected.scan, 'a table that opens reads exactly right');
        assert.deepEqual(shows(reader.entriesReverse()), expected.reverse, 'reverse');
        const gets = keys.map((k) => show(reader.get(k, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY)));
        assert.deepEqual(gets, expected.gets, 'gets');
        return 'ok';
      };
      const stats = checkHostile(`table ${JSON.stringify(options)}`, golden, readAll, {
        seed: 952,
        flipsRejected: true,
        allowedError: (e) =>
          isStrataError(e, 'corruption') && e.object === NAME && Number.isSafeInteger(e.offset),
        randomCount: 500,
      });
      assert.equal(stats.flips, golden.length * 8, 'every bit flipped');
    }
  });

  it('rejects a table that is not the one expected', () => {
    const bytes = build([{ key: 'a', version: 1, timestamp: 1, value: null }]);
    const expectCorruption = (f: () => unknown, what: string, offset: number): void => {
      assert.throws(
        f,
        (e: unknown) => isStrataError(e, 'corruption') && e.object === NAME && e.offset === offset,
        what,
      );
    };
    const cache = new BlockCache(1024);
    expectCorruption(
      () => TableReader.open(new BytesReader(bytes, NAME), NAME, { fileNumber: 8 }, cache),
      'another file number',
      bytes.length - 64 + 16,
    );
    expectCorruption(
      () =>
        TableReader.open(
          new BytesReader(bytes, NAME),
          NAME,
          { fileNumber: 9, size: bytes.length + 1 },
          cache,
        ),
      'another size',
      bytes.length,
    );
    expectCorruption(
      () => TableReader.open(new BytesReader(new Uint8Array(10), NAME), NAME, { fileNumber: 9 }, cache),
      'too short',
      0,
    );
    expectCorruption(
      () => TableReader.open(new BytesReader(new Uint8Array(500), NAME), NAME, { fileNumber: 9 }, cache),
      'zeros',
      436,
    );
  });

  it('names the damaged block: a flip in a data block fails the read that needs it', () => {
    const all: TableEntry[] = [];
    for (let i = 0; i < 100; i++)
      all.push({ key: `k${String(i).padStart(3, '0')}`, version: 1, timestamp: 1, value: Uint8Array.of(i) });
    const bytes = build(all, { blockBytes: 128 });
    bytes[300]! ^= 0x10;
    const reader = open(bytes);
    assert.equal(reader.get('k000', 1, 1)?.value?.[0], 0, 'an undamaged block still reads');
    let offset = -1;
    for (const e of all) {
      try {
        reader.get(e.key, 1, 1);
      } catch (error) {
        assert.ok(isStrataError(error, 'corruption'), 'corruption');
        offset = error.offset!;
        assert.match(error.message, new RegExp(`${NAME}.*byte ${offset}`), 'message names object and offset');
        break;
      }
    }
    assert.ok(offset > 300 - 128 && offset <= 300, `offset ${offset} is where the damaged block starts`);
  });

  it('rejects forged tables whose checksums verify but whose order does not', () => {
    const entry = (key: string, version: number): TableEntry => ({ key, version, timestamp: 1, value: null });
    const forge = (
      blocks: TableEntry[][],
      indexKeys: [string, number][],
      smallest: string,
      largest: string,
      writerInterval = 2,
    ) => {
      const chunks: Uint8Array[] = [];
      for (const entries of blocks) {
        const w = new DataBlockWriter(writerInterval);
        for (const e of entries) w.add(e);
        chunks.push(w.finish());
      }
      const filterOffset = chunks.reduce((n, c) => n + c.length, 0);
      const filter = encodeFilterBlock([], 0, 0);
      const index = encodeIndexBlock(
        indexKeys.map((k) => k[0]),
        indexKeys.map((k) => k[1]),
        chunks.map((c) => c.length),
      );
      const entries = blocks.flat().length;
      const properties = encodePropertiesBlock({
        entries,
        dataBlocks: blocks.length,
        minVersion: 1,
        maxVersion: 9,
        restartInterval: 2,
        smallest,
        largest,
      });
      const footer = encodeTableFooter({
        fileNumber: 9,
        filterOffset,
        filterSize: filter.length,
        indexOffset: filterOffset + filter.length,
        indexSize: index.length,
        propertiesOffset: filterOffset + filter.length + index.length,
        propertiesSize: properties.length,
      });
      return concatBytes([...chunks, filter, index, properties, footer]);
    };
    const readAll = (bytes: Uint8Array): void => {
      const reader = open(bytes);
      [...reader.entries()];
    };
    const corrupt = (e: unknown): boolean => isStrataError(e, 'corruption');
    // A sane forged table reads, so the failures below are the order checks.
    readAll(
      forge(
        [[entry('a', 2), entry('b', 1)], [entry('c', 1)]],
        [
          ['b', 1],
          ['c', 1],
        ],
        'a',
        'c',
      ),
    );
    assert.throws(
      () => readAll(forge([[entry('b', 2), entry('a', 1)]], [['a', 1]], 'b', 'a')),
      corrupt,
      'smallest above largest',
    );
    assert.throws(
      () => readAll(forge([[entry('a', 2), entry('a', 3)]], [['a', 3]], 'a', 'a')),
      corrupt,
      'versions ascending in a run',
    );
    assert.throws(
      () => readAll(forge([[entry('a', 2), entry('b', 1)]], [['c', 1]], 'a', 'c')),
      corrupt,
      "the block's last entry is not the index's",
    );
    assert.throws(
      () =>
        readAll(
          forge(
            [[entry('a', 2), entry('c', 1)], [entry('b', 1)]],
            [
              ['c', 1],
              ['d', 1],
            ],
            'a',
            'd',
          ),
        ),
      corrupt,
      'a block that does not follow the previous one',
    );
    assert.throws(
      () => readAll(forge([[entry('a', 2), entry('b', 1), entry('a', 1)]], [['a', 1]], 'a', 'a')),
      corrupt,
      'runs out of order',
    );
    assert.throws(
      () => readAll(forge([[entry('b', 2)]], [['b', 2]], 'a', 'b')),
      corrupt,
      'first key is not the smallest',
    );
    assert.throws(
      () => readAll(forge([[entry('a', 2), entry('b', 10)]], [['b', 10]], 'a', 'b')),
      corrupt,
      'version outside the properties',
    );
    assert.throws(
      () => readAll(forge([[entry('a', 1), entry('b', 1), entry('c', 1)]], [['c', 1]], 'a', 'c', 3)),
      corrupt,
      'a run longer than the restart interval',
    );
  });

  it('builder asserts its contract; the reader refuses work after close', () => {
    const b = new TableBuilder(9);
    assert.throws(() => b.finish(), AssertionError, 'finish with no entries');
    b.add({ key: 'b', version: 5, timestamp: 1, value: null });
    const bad: [string, TableEntry][] = [
      ['same key and version', { key: 'b', version: 5, timestamp: 1, value: null }],
      ['same key, newer version', { key: 'b', version: 6, timestamp: 1, value: null }],
      ['smaller key', { key: 'a', version: 1, timestamp: 1, value: null }],
      ['unsafe version', { key: 'c', version: 2 ** 53, timestamp: 1, value: null }],
      ['NaN timestamp', { key: 'c', version: 1, timestamp: Number.NaN, value: null }],
      ['a key that is not a byte string', { key: 'c\u0100', version: 1, timestamp: 1, value: null }],
    ];
    for (const [what, e] of bad) assert.throws(() => b.add(e), AssertionError, what);
    assert.throws(() => new TableBuilder(0), AssertionError, 'file number 0');
    assert.throws(() => new TableBuilder(1, { restartInterval: 0 }), AssertionError, 'restart interval 0');
    const reader = open(build([{ key: 'a', version: 1, timestamp: 1, value: null }]));
    reader.close();
    reader.close();
    assert.throws(
      () => reader.get('a', 1, 1),
      (e: unknown) => isStrataError(e, 'closed'),
      'get after close',
    );
    assert.throws(
      () => [...reader.entries()],
      (e: unknown) => isStrataError(e, 'closed'),
      'scan after close',
    );
  });
});
