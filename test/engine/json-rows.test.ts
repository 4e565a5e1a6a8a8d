/**
 * The JSON row formats (docs/formats/json.md): golden bytes of every row kind and of the keys of
 * a split document, hostile decoders (every truncation, bit flips, random bytes: a typed
 * `corruption`, never a crash), and damaged stored documents (a garbled node row, a missing or
 * stray child row): reads fail with `corruption` and never hang.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isStrataError,
  JSON_CHUNK_BYTES_MAX,
  ManualClock,
  ManualScheduler,
  SeededRandom,
  toHex,
} from '../../src/base/index.js';
import { Batch } from '../../src/engine/context.js';
import { Json, TxJson } from '../../src/engine/json.js';
import {
  decodeHead,
  decodeNode,
  encodeHead,
  encodeNode,
  headKey,
  type JsonNode,
  rootKey,
} from '../../src/engine/json-rows.js';
import type { Value } from '../../src/engine/value-codec.js';
import { Storage } from '../../src/storage/index.js';
import { checkHostile, type Outcome } from '../helpers/hostile.js';

function outcome(fn: () => unknown): Outcome {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (isStrataError(error, 'corruption')) return 'bad';
    throw error;
  }
}

async function openStorage(): Promise<Storage> {
  const clock = new ManualClock(1_000);
  return Storage.open({ durability: 'ephemeral', clock, scheduler: new ManualScheduler(clock) });
}

const ARRAY_CHUNK: JsonNode = {
  kind: 'array-chunk',
  entries: [
    { kind: 'inline', bytes: new Uint8Array([0x05, 0x01, 0x78]) },
    { kind: 'split', id: 300 },
  ],
};
const OBJECT_CHUNK: JsonNode = {
  kind: 'object-chunk',
  members: [
    { name: 'a', ordinal: 2, entry: { kind: 'inline', bytes: new Uint8Array([0x04, 0x02]) } },
    { name: 'b\xc3\xa9', ordinal: 0, entry: { kind: 'split', id: 0 } },
  ],
};

describe('JSON row formats', () => {
  it('pins the bytes of every row kind', () => {
    assert.equal(toHex(encodeHead({ kind: 'inline', value: { a: 1 }, sizeBytes: 6 })), '01080101610402');
    assert.equal(toHex(encodeHead({ kind: 'split', sizeBytes: 6012 })), '02fc2e');
    assert.equal(toHex(encodeNode({ kind: 'object', count: 2, next: 200 })), '0202c801');
    assert.equal(
      toHex(encodeNode({ kind: 'array', length: 130, next: 7, ids: [3, 6], counts: [128, 2] })),
      '038201070203800106' + '02',
    );
    assert.equal(toHex(encodeNode(ARRAY_CHUNK)), '040203050178' + '00ac02');
    assert.equal(toHex(encodeNode(OBJECT_CHUNK)), '0502' + '016102020402' + '0362c3a90000');
    assert.deepEqual(decodeHead(encodeHead({ kind: 'split', sizeBytes: 6012 }), 'd'), {
      kind: 'split',
      sizeBytes: 6012,
    });
    for (const n of [
      { kind: 'object', count: 2, next: 200 } as JsonNode,
      { kind: 'array', length: 130, next: 7, ids: [3, 6], counts: [128, 2] } as JsonNode,
      ARRAY_CHUNK,
      OBJECT_CHUNK,
    ])
      assert.deepEqual(decodeNode(encodeNode(n), 'd'), n);
    assert.equal(headKey('B', 'd'), 'Bhd');
    assert.equal(rootKey('B', 'd\x00'), 'Bnd\x00\xff\x00\x01');
  });

  it('pins the keys and rows of a split document', async () => {
    const storage = await openStorage();
    const ks = storage.keyspace(1, 'default');
    const json = new Json(storage, ks);
    const big = ['p'.repeat(3000), 'q'.repeat(3000)];
    await json.set('d', '$', { a: big });
    const rows = [...storage.scan({ start: `${ks}\x02`, end: `${ks}\x03` })].map(
      ([k, v]) => `${toHex(binary(k.slice(ks.length)))}=${toHex(v.value!).slice(0, 24)}`,
    );
    assert.deepEqual(rows, [
      // head 'h' 'd': split, document size 6012 bytes (varint fc 2e)
      '026864=02fc2e',
      // root 'n' segment('d'): object marker, 1 member, next ordinal 1
      '026e640001=020101',
      // its first chunk (01 segment('')): 1 member 'a' (01 61), ordinal 0, split (00)
      '026e640001010001=050101610000',
      // $.a, the split child (02 segment('a')): array marker, length 2, next id 2, 2 chunks: id 0 × 1, id 1 × 1
      '026e64000102610001=0302020200010101',
      // its chunks (01 id u32 BE): 1 entry each, inline, 3003 bytes (bb 17): the encoded string 05 b8 17 ...
      '026e640001026100010100000000=0401bb1705b8177070707070',
      '026e640001026100010100000001=0401bb1705b8177171717171',
    ]);
    assert.deepEqual(json.get('d'), { a: big });
    // An object of many small members: chunks keyed by their lower-bound name, the first by ''.
    await json.set(
      'o',
      '$',
      Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`m${i}`, 'x'.repeat(10)])),
    );
    const chunks = [...storage.scan({ start: `${ks}\x02no`, end: `${ks}\x02np` })].map(([k]) =>
      k.slice(ks.length),
    );
    assert.deepEqual(chunks, [
      '\x02no\x00\x01',
      '\x02no\x00\x01\x01\x00\x01',
      '\x02no\x00\x01\x01m277\x00\x01',
    ]);
    await storage.close();
  });

  it('decoders reject hostile input with corruption only', () => {
    const goldens = [
      encodeHead({ kind: 'inline', value: { a: [1, 'x', null] }, sizeBytes: 0 }),
      encodeHead({ kind: 'split', sizeBytes: 6012 }),
    ];
    for (const [i, g] of goldens.entries())
      checkHostile(`head ${i}`, g, (b) => outcome(() => decodeHead(b, 'd')), {
        seed: 10 + i,
        flipsRejected: false,
        randomCount: 500,
      });
    const nodes = [
      encodeNode({ kind: 'object', count: 2, next: 200 }),
      encodeNode({ kind: 'array', length: 130, next: 7, ids: [3, 6], counts: [128, 2] }),
      encodeNode(ARRAY_CHUNK),
      encodeNode(OBJECT_CHUNK),
    ];
    for (const [i, g] of nodes.entries())
      checkHostile(`node ${i}`, g, (b) => outcome(() => decodeNode(b, 'd')), {
        seed: 20 + i,
        flipsRejected: false,
        randomCount: 500,
      });
    // Counts far past the bytes there are: refused before anything is allocated.
    for (const bad of [
      [0x03, 0xff, 0xff, 0xff, 0x0f, 0x01, 0xff, 0xff, 0xff, 0x0f],
      [0x04, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00],
      [0x05, 0xff, 0xff, 0xff, 0x7f, 0x00],
      [0x05, 0x01, 0xff, 0xff, 0xff, 0x7f],
    ])
      assert.equal(
        outcome(() => decodeNode(new Uint8Array(bad), 'd')),
        'bad',
      );
  });
});

function binary(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

describe('damaged stored documents', () => {
  /** A document of a chunked array (items) and a chunked object (tags): several chunk rows each. */
  async function splitDoc(): Promise<{ storage: Storage; json: Json; ks: string; keys: string[] }> {
    const storage = await openStorage();
    const ks = storage.keyspace(1, 'default');
    const json = new Json(storage, ks);
    const items = Array.from({ length: 300 }, (_, i) => ({ i, pad: 'z'.repeat(80) }));
    const tags = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`t${i}`, i]));
    await json.set('d', '$', { items, tags, title: 't' });
    const keys = [...storage.scan({ start: `${ks}\x02n`, end: `${ks}\x02o` })].map(([k]) => k);
    assert.ok(keys.length > 10, 'the document is split into chunks');
    return { storage, json, ks, keys };
  }

  const rowOf = (storage: Storage, key: string): Uint8Array => {
    for (const [, v] of storage.scan({ start: key, end: `${key}\x00` })) return v.value!;
    throw new Error(`no row ${key}`);
  };
  const itemsChunk = (ks: string, keys: string[], n: number): string =>
    keys.filter((k) => k.startsWith(`${ks}\x02nd\x00\x01\x02items\x00\x01\x01`))[n]!;
  const tagsChunk = (ks: string, keys: string[], n: number): string =>
    keys.filter((k) => k.startsWith(`${ks}\x02nd\x00\x01\x02tags\x00\x01\x01`))[n]!;

  const reads = (json: Json): (() => unknown)[] => [
    () => json.get('d'),
    () => json.get('d', '$.items'),
    () => json.get('d', '$.tags'),
    () => [...json.list()],
  ];
  const isCorruption = (e: unknown) => isStrataError(e, 'corruption');

  it('a garbled node row is corruption', async () => {
    for (const garbage of [
      new Uint8Array([]),
      new Uint8Array([0x09, 0x00]),
      new Uint8Array([0x02, 0xff]),
      new Uint8Array([0x04, 0x01, 0x03, 0x05]),
      new Uint8Array([0x04, 0x01, 0x01, 0x09]),
      new Uint8Array([0x05, 0x01, 0x01, 0x61, 0x00, 0x00]),
    ]) {
      for (const which of ['root', 'items', 'tags'] as const) {
        const { storage, json, ks, keys } = await splitDoc();
        const k =
          which === 'root' ? keys[0]! : which === 'items' ? itemsChunk(ks, keys, 1) : tagsChunk(ks, keys, 1);
        await storage.commit([{ key: k, value: garbage }]);
        const touched =
          which === 'tags' ? reads(json).filter((_, i) => i !== 1) : reads(json).filter((_, i) => i !== 2);
        for (const read of touched) assert.throws(read, isCorruption, `${which} ${toHex(garbage)}`);
        // Replacing the damaged container reads it (for its size) first.
        await assert.rejects(json.set('d', which === 'tags' ? '$.tags' : '$.items', 1), isCorruption);
        await storage.close();
      }
    }
  });

  it('a missing chunk row, a directory that does not match, a misplaced member, a stray row and a missing root are corruption', async () => {
    {
      // A chunk of the array is missing: whole reads and reads of its elements fail; others still read.
      const { storage, json, ks, keys } = await splitDoc();
      const k = itemsChunk(ks, keys, 2);
      const n = decodeNode(rowOf(storage, k), 'd');
      assert.equal(n.kind, 'array-chunk');
      const before = (n as { entries: unknown[] }).entries.length;
      await storage.commit([{ key: k, value: null }]);
      for (const read of reads(json).filter((_, i) => i !== 2)) assert.throws(read, isCorruption);
      // An element of chunk 2 lies somewhere after the elements of chunks 0 and 1.
      const c0 = (decodeNode(rowOf(storage, itemsChunk(ks, keys, 0)), 'd') as { entries: unknown[] }).entries
        .length;
      const c1 = (decodeNode(rowOf(storage, itemsChunk(ks, keys, 1)), 'd') as { entries: unknown[] }).entries
        .length;
      assert.throws(() => json.get('d', `$.items[${c0 + c1 + before - 1}].i`), isCorruption);
      await assert.rejects(json.set('d', `$.items[${c0 + c1}].i`, 1), isCorruption);
      assert.equal(json.get('d', '$.items[0].i'), 0);
      assert.equal(json.get('d', '$.tags.t5'), 5);
      await storage.close();
    }
    {
      // A chunk of the object is missing: whole reads fail (the member count does not match).
      const { storage, json, ks, keys } = await splitDoc();
      await storage.commit([{ key: tagsChunk(ks, keys, 1), value: null }]);
      assert.throws(() => json.get('d'), isCorruption);
      assert.throws(() => json.get('d', '$.tags'), isCorruption);
      await storage.close();
    }
    {
      // The first chunk of the object is missing: any member read is corruption.
      const { storage, json, ks, keys } = await splitDoc();
      await storage.commit([{ key: tagsChunk(ks, keys, 0), value: null }]);
      assert.throws(() => json.get('d', '$.tags.t0'), isCorruption);
      assert.throws(() => json.get('d', '$.tags'), isCorruption);
      await storage.close();
    }
    {
      // Two chunks of the array swapped: their lengths no longer match the directory.
      const { storage, json, ks, keys } = await splitDoc();
      const a = itemsChunk(ks, keys, 0);
      const b = itemsChunk(ks, keys, 1);
      const va = rowOf(storage, a);
      const vb = rowOf(storage, b);
      const ca = (decodeNode(va, 'd') as { entries: unknown[] }).entries.length;
      const cb = (decodeNode(vb, 'd') as { entries: unknown[] }).entries.length;
      if (ca !== cb) {
        await storage.commit([
          { key: a, value: vb },
          { key: b, value: va },
        ]);
        assert.throws(() => json.get('d', '$.items'), isCorruption);
        assert.throws(() => json.get('d', '$.items[0]'), isCorruption);
      }
      await storage.close();
    }
    {
      // An object chunk holding a member below its lower bound (the first chunk's rows moved).
      const { storage, json, ks, keys } = await splitDoc();
      const c0 = tagsChunk(ks, keys, 0);
      const c1 = tagsChunk(ks, keys, 1);
      await storage.commit([{ key: c1, value: rowOf(storage, c0) }]);
      assert.throws(() => json.get('d', '$.tags'), isCorruption);
      await storage.close();
    }
    {
      // A stray row inside the document's range.
      const { storage, json, keys } = await splitDoc();
      await storage.commit([{ key: `${keys[3]!}\x01zz\x00\x01`, value: new Uint8Array([2, 0, 0]) }]);
      assert.throws(() => json.get('d'), isCorruption);
      await storage.close();
    }
    {
      const { storage, json, keys } = await splitDoc();
      await storage.commit([{ key: keys[0]!, value: null }]);
      assert.throws(() => json.get('d'), isCorruption);
      assert.throws(() => json.get('d', '$.title'), isCorruption);
      await storage.close();
    }
  });

  it('a garbled head row is corruption', async () => {
    const { storage, json, ks } = await splitDoc();
    await storage.commit([{ key: `${ks}\x02hd`, value: new Uint8Array([7, 7]) }]);
    for (const read of reads(json)) assert.throws(read, isCorruption);
    await storage.close();
  });
});

describe('bounded writes', () => {
  /** Bytes (keys and values) a write would commit, built on a batch at the newest version. */
  function cost(storage: Storage, ks: string, write: (tx: TxJson) => void): number {
    const batch = new Batch(storage, { version: storage.version }, false);
    write(new TxJson(batch, ks));
    return batch.ops().reduce((s, op) => s + op.key.length + (op.value?.length ?? 0), 0);
  }

  it('a one-field update, an append, a delete in the middle and a new member rewrite one chunk or two, whatever the size', async () => {
    const storage = await openStorage();
    const ks = storage.keyspace(1, 'default');
    const json = new Json(storage, ks);
    const rnd = new SeededRandom(7);
    // About 1 MB each: 10,000 items of 100 bytes; 170,000 numbers; 50,000 short members (more than the rows a commit may hold).
    const items = Array.from({ length: 10_000 }, (_, id) => ({ id, status: 'todo', note: 'n'.repeat(60) }));
    const nums = Array.from({ length: 170_000 }, () => rnd.int(1_000_000_000));
    const members: Record<string, Value> = {};
    for (let i = 0; i < 50_000; i++) members[`k${i}`] = `v${i}`;
    await json.set('items', '$', { items });
    await json.set('nums', '$', nums);
    await json.set('members', '$', members);
    // Bound: two chunks (a chunk that splits), the directory of a 1 MB array (about 1 KB), keys and the head.
    const bound = 2 * JSON_CHUNK_BYTES_MAX + 2000;
    const cases: [string, (tx: TxJson) => void][] = [
      ['item field', (tx) => tx.set('items', '$.items[5000].status', 'done')],
      ['item', (tx) => tx.set('items', '$.items[-3]', { id: 1 })],
      ['item append', (tx) => tx.set('items', '$.items[10000]', { id: 1 })],
      ['item delete', (tx) => tx.delete('items', '$.items[4000]')],
      ['number', (tx) => tx.set('nums', '$[123456]', 5)],
      ['number append', (tx) => tx.set('nums', '$[170000]', 5)],
      ['number delete', (tx) => tx.delete('nums', '$[1000]')],
      ['member', (tx) => tx.set('members', '$.k777', 'x')],
      ['new member', (tx) => tx.set('members', '$.zzz', 'x')],
      ['member delete', (tx) => tx.delete('members', '$.k4242')],
    ];
    for (const [name, write] of cases) {
      const bytes = cost(storage, ks, write);
      assert.ok(bytes > 0 && bytes <= bound, `${name}: ${bytes} bytes written`);
    }
    // A patch costs about one chunk per member it changes.
    const patched = cost(storage, ks, (tx) => tx.patch('members', { k1: 1, k2: null, new: 3 }));
    assert.ok(patched <= 3 * bound, `patch: ${patched} bytes written`);
    // Many deletes in the middle and appends: each stays bounded, and the documents stay right.
    for (let i = 0; i < 300; i++) {
      assert.ok(cost(storage, ks, (tx) => tx.delete('nums', '$[5000]')) <= bound);
      await json.delete('nums', '$[5000]');
      nums.splice(5000, 1);
      await json.set('items', `$.items[${items.length}]`, { id: i });
      items.push({ id: i } as never);
    }
    assert.deepEqual(json.get('nums'), nums);
    assert.deepEqual(json.get('items', '$.items'), items);
    assert.deepEqual(json.get('members'), members);
    // The whole documents are many rows, within what one commit may hold.
    const rows = [...storage.scan({ start: `${ks}\x02n`, end: `${ks}\x02o` })].length;
    assert.ok(rows > 500 && rows < 5000, `${rows} rows`);
    await storage.close();
  });
});
