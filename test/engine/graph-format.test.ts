/**
 * The graph's rows (docs/formats/graph.md): golden bytes of every row key and value, and the
 * parsers and decoders against hostile input — truncations, bit flips, random mutations and
 * random bytes give `undefined` (keys) or a `corruption` StrataError (values), never a crash or
 * another exception.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binaryToBytes, bytesToBinary, isStrataError, SeededRandom, toHex } from '../../src/base/index.js';
import {
  checkInRow,
  decodeProps,
  EMPTY_ROW,
  inKey,
  nodeKey,
  outKey,
  readOther,
  readThree,
  readTypeAndOther,
} from '../../src/engine/graph-keys.js';
import { encodeValue } from '../../src/engine/index.js';
import { checkHostile } from '../helpers/hostile.js';

const hex = (binary: string): string => toHex(binaryToBytes(binary));

describe('graph row keys: golden bytes', () => {
  it('node, out- and in-row keys', () => {
    // Under an empty base, so only the graph's own bytes show.
    assert.equal(hex(nodeKey('', 'alice')), '6e616c6963650001');
    assert.equal(
      hex(outKey('', 'alice', 'works_at', 'acme')),
      '6f616c6963650001776f726b735f6174000161636d650001',
    );
    assert.equal(
      hex(inKey('', 'alice', 'works_at', 'acme')),
      '6961636d650001776f726b735f61740001616c6963650001',
    );
    // 0x00 inside a name is escaped as 00 ff; UTF-8 names are their bytes.
    assert.equal(hex(nodeKey('', 'a\x00b')), '6e6100ff620001');
    assert.equal(hex(nodeKey('', '\xc3\xbc')), '6ec3bc0001');
    // The base (keyspace + tag) is a plain prefix.
    assert.equal(hex(nodeKey('KS\x04', 'x')), '4b53046e780001');
  });

  it('row values: props value-encoded, in-rows empty', () => {
    // Pinned: object tag 08, 1 pair, key 'since' (length 5), int tag 04, zigzag(2024) = 4048 as a varint.
    assert.equal(toHex(encodeValue({ since: 2024 })), '08010573696e636504d01f');
    assert.equal(toHex(encodeValue({})), '0800');
    assert.equal(EMPTY_ROW.length, 0);
    assert.deepEqual(decodeProps(encodeValue({ since: 2024 }), 'x'), { since: 2024 });
  });

  it('keys parse back', () => {
    const k = outKey('', 'a\x00', 't', '\xc3\xbc');
    assert.deepEqual(readThree(k, 1), ['a\x00', 't', '\xc3\xbc']);
    const prefixLength = 1 + 'a\x00\xff\x00\x01'.length;
    assert.deepEqual(readTypeAndOther(k, prefixLength), ['t', '\xc3\xbc']);
    assert.equal(readOther(k, prefixLength), '\xc3\xbc');
    const escapedType = outKey('', 'a', 'x\x00y', 'b');
    assert.equal(readOther(escapedType, 4), 'b');
  });
});

describe('graph rows: hostile input', () => {
  it('decodeProps: only an encoded object decodes; everything else is corruption', () => {
    const golden = encodeValue({ since: 2024, tags: ['a', 'b'], nested: { x: null } });
    const stats = checkHostile(
      'graph props',
      golden,
      (bytes) => {
        const p = decodeProps(bytes, 'a row');
        assert.equal(typeof p, 'object');
        return 'ok';
      },
      {
        seed: 41,
        flipsRejected: false,
        allowedError: (e) => isStrataError(e, 'corruption'),
        randomCount: 3000,
      },
    );
    assert.ok(stats.truncations > 0 && stats.randoms > 0);
    for (const notObject of [
      encodeValue(1),
      encodeValue([1]),
      encodeValue(null),
      encodeValue(new Uint8Array(2)),
    ])
      assert.throws(
        () => decodeProps(notObject, 'a row'),
        (e: unknown) => isStrataError(e, 'corruption'),
      );
    assert.throws(
      () => checkInRow(new Uint8Array([0]), 'e'),
      (e: unknown) => isStrataError(e, 'corruption'),
    );
  });

  it('key parsers: truncations, mutations and random keys give undefined or a parse, never an exception', () => {
    const rnd = new SeededRandom(7);
    const golden = outKey('', 'a\x00b', 'type', 'target');
    const inputs: string[] = [];
    for (let n = 0; n <= golden.length; n++) inputs.push(golden.slice(0, n));
    for (let i = 0; i < 3000; i++) {
      const b = Array.from(binaryToBytes(golden));
      for (let e = 0; e < 1 + rnd.int(4); e++) {
        const at = rnd.int(b.length);
        const what = rnd.int(3);
        if (what === 0) b[at] = rnd.int(256);
        else if (what === 1) b.splice(at, 1);
        else b.splice(at, 0, [0, 1, 0xff][rnd.int(3)]!);
      }
      inputs.push(bytesToBinary(Uint8Array.from(b)));
      const random = new Uint8Array(rnd.int(40));
      for (let j = 0; j < random.length; j++) random[j] = [0, 1, 0xff, rnd.int(256)][rnd.int(4)]!;
      inputs.push(bytesToBinary(random));
    }
    let parsed = 0;
    for (const k of inputs) {
      const three = readThree(k, 1);
      if (three !== undefined) {
        parsed++;
        // Whatever parses is exactly three segments that rebuild the key.
        assert.equal(outKey('', ...three).slice(1), k.slice(1));
      }
      readTypeAndOther(k, Math.min(k.length, 1 + rnd.int(6)));
      readOther(k, Math.min(k.length, 1 + rnd.int(6)));
    }
    // Truncations never parse as a whole key: the last one is the golden itself.
    for (let n = 0; n < golden.length; n++)
      assert.equal(readThree(golden.slice(0, n), 1), undefined, `truncated at ${n}`);
    assert.ok(parsed > 0, 'some mutations still parse (they are other well-formed keys)');
  });
});
