/**
 * The JSON row formats (docs/formats/json.md): golden bytes of every row kind and of the keys of
 * a split document, hostile decoders (every truncation, bit flips, random bytes: a typed
 * `corruption`, never a crash), and damaged stored documents (a garbled node row, a missing or
 * stray child row): reads fail with `corruption` and never hang.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStrataError, ManualClock, ManualScheduler, toHex } from '../../src/base/index.js';
import { Json } from '../../src/engine/json.js';
import {
  decodeHead,
  decodeNode,
  encodeHead,
  encodeNode,
  headKey,
  rootKey,
} from '../../src/engine/json-rows.js';
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

describe('JSON row formats', () => {
  it('pins the bytes of every row kind', () => {
    assert.equal(toHex(encodeHead({ kind: 'inline', value: { a: 1 }, sizeBytes: 6 })), '01080101610402');
    assert.equal(toHex(encodeHead({ kind: 'split', sizeBytes: 300, rows: 5 })), '02ac0205');
    assert.equal(toHex(encodeNode({ kind: 'inline', ordinal: 3, value: 'x', sizeBytes: 2 })), '0103050178');
    assert.equal(toHex(encodeNode({ kind: 'object', ordinal: 1, count: 2, next: 200 })), '020102c801');
    assert.equal(toHex(encodeNode({ kind: 'array', ordinal: 0, length: 130 })), '03008201');
    assert.deepEqual(decodeHead(encodeHead({ kind: 'split', sizeBytes: 300, rows: 5 }), 'd'), {
      kind: 'split',
      sizeBytes: 300,
      rows: 5,
    });
    assert.deepEqual(decodeNode(encodeNode({ kind: 'object', ordinal: 1, count: 2, next: 200 }), 'd'), {
      kind: 'object',
      ordinal: 1,
      count: 2,
      next: 200,
    });
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
      ([k, v]) => `${toHex(binary(k.slice(ks.length)))}=${toHex(v.value!).slice(0, 16)}`,
    );
    assert.deepEqual(rows, [
      // head 'h' 'd': split, document size 6012 bytes (varint fc 2e), 4 node rows
      '026864=02fc2e04',
      // root 'n' segment('d'): object, ordinal 0, 1 member, next ordinal 1
      '026e640001=02000101',
      // $.a (step 01 segment('a')): array, ordinal 0, length 2
      '026e64000101610001=030002',
      // $.a[0], $.a[1] (step 02 u32 BE): inline (kind 01, ordinal 0, then the encoded string 05 b8 17 ...)
      '026e640001016100010200000000=010005b817707070',
      '026e640001016100010200000001=010005b817717171',
    ]);
    assert.deepEqual(json.get('d'), { a: big });
    await storage.close();
  });

  it('decoders reject hostile input with corruption only', () => {
    const goldens = [
      encodeHead({ kind: 'inline', value: { a: [1, 'x', null] }, sizeBytes: 0 }),
      encodeHead({ kind: 'split', sizeBytes: 300, rows: 5 }),
    ];
    for (const [i, g] of goldens.entries())
      checkHostile(`head ${i}`, g, (b) => outcome(() => decodeHead(b, 'd')), {
        seed: 10 + i,
        flipsRejected: false,
        randomCount: 500,
      });
    const nodes = [
      encodeNode({ kind: 'inline', ordinal: 3, value: { x: [true] }, sizeBytes: 0 }),
      encodeNode({ kind: 'object', ordinal: 1, count: 2, next: 200 }),
      encodeNode({ kind: 'array', ordinal: 0, length: 130 }),
    ];
    for (const [i, g] of nodes.entries())
      checkHostile(`node ${i}`, g, (b) => outcome(() => decodeNode(b, 'd')), {
        seed: 20 + i,
        flipsRejected: false,
        randomCount: 500,
      });
  });
});

function binary(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

describe('damaged stored documents', () => {
  async function splitDoc(): Promise<{ storage: Storage; json: Json; ks: string; keys: string[] }> {
    const storage = await openStorage();
    const ks = storage.keyspace(1, 'default');
    const json = new Json(storage, ks);
    const items = Array.from({ length: 100 }, (_, i) => ({ i, pad: 'z'.repeat(80) }));
    await json.set('d', '$', { items, title: 't' });
    const keys = [...storage.scan({ start: `${ks}\x02n`, end: `${ks}\x02o` })].map(([k]) => k);
    assert.ok(keys.length > 100, 'the document is split');
    return { storage, json, ks, keys };
  }

  const reads = (json: Json): (() => unknown)[] => [
    () => json.get('d'),
    () => json.get('d', '$.items'),
    () => [...json.list()],
  ];

  it('a garbled node row is corruption', async () => {
    for (const garbage of [
      new Uint8Array([]),
      new Uint8Array([0x09, 0x00]),
      new Uint8Array([0x02, 0xff]),
      new Uint8Array([0x01, 0x00, 0x08, 0x05]),
    ]) {
      const { storage, json, keys } = await splitDoc();
      await storage.commit([{ key: keys[1]!, value: garbage }]);
      for (const read of reads(json)) assert.throws(read, (e: unknown) => isStrataError(e, 'corruption'));
      await assert.rejects(json.set('d', '$.items[0].i', 5), (e: unknown) => isStrataError(e, 'corruption'));
      await storage.close();
    }
  });

  it('a missing child row, a stray row and a missing root are corruption', async () => {
    {
      const { storage, json, keys } = await splitDoc();
      await storage.commit([{ key: keys[50]!, value: null }]);
      for (const read of reads(json)) assert.throws(read, (e: unknown) => isStrataError(e, 'corruption'));
      await storage.close();
    }
    {
      const { storage, json, keys } = await splitDoc();
      await storage.commit([{ key: `${keys[3]!}\x01zz\x00\x01`, value: new Uint8Array([1, 0, 0]) }]);
      assert.throws(
        () => json.get('d'),
        (e: unknown) => isStrataError(e, 'corruption'),
      );
      await storage.close();
    }
    {
      const { storage, json, keys } = await splitDoc();
      await storage.commit([{ key: keys[0]!, value: null }]);
      assert.throws(
        () => json.get('d'),
        (e: unknown) => isStrataError(e, 'corruption'),
      );
      assert.throws(
        () => json.get('d', '$.title'),
        (e: unknown) => isStrataError(e, 'corruption'),
      );
      await storage.close();
    }
  });

  it('a garbled head row is corruption', async () => {
    const { storage, json, ks } = await splitDoc();
    await storage.commit([{ key: `${ks}\x02hd`, value: new Uint8Array([7, 7]) }]);
    for (const read of reads(json)) assert.throws(read, (e: unknown) => isStrataError(e, 'corruption'));
    await storage.close();
  });
});
