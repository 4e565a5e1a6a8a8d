/**
 * The value codec (docs/formats/value.md): round trips of every kind of Value, golden bytes,
 * rejection of what is not a Value, and hostile input to the decoder.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fromHex,
  isStrataError,
  SeededRandom,
  toHex,
  VALUE_DEPTH_MAX,
  VALUE_SIZE_BYTES_MAX,
} from '../../src/base/index.js';
import {
  decodeValue,
  encodeValue,
  hasLoneSurrogate,
  type Value,
  ValueDecodeError,
} from '../../src/engine/value-codec.js';
import { checkHostile } from '../helpers/hostile.js';

function roundTrip(v: Value): Value {
  return decodeValue(encodeValue(v));
}

/** deepStrictEqual treats -0 and 0 as different and NaN as equal to NaN: what we want. */
function assertRoundTrip(v: Value, what: string): void {
  assert.deepStrictEqual(roundTrip(v), v, `round trip of ${what}`);
}

/** `count` arrays, each holding the next, the innermost empty. */
function emptyArraysNested(count: number): Value {
  let v: Value = [];
  for (let i = 1; i < count; i++) v = [v];
  return v;
}

function nest(depth: number): Value {
  let v: Value = 1;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { x: v };
  return v;
}

const GOLDEN_COMPOSITE =
  '08' +
  '03' + // object, 3 keys
  '016b' +
  '05' +
  '02c3a9' + // "k": "é"
  '016e' +
  '07' +
  '04' +
  '02' +
  '01' +
  '00' +
  '03000000000000' +
  '04c0' + // "n": [true, false, null, -2.5]
  '0162' +
  '06' +
  '01ff'; // "b": bytes ff

describe('value codec: round trips', () => {
  it('null and booleans', () => {
    for (const v of [null, true, false]) assertRoundTrip(v, String(v));
  });

  it('integers, including the ±2^52 boundaries', () => {
    const ints = [
      0,
      1,
      -1,
      63,
      64,
      -64,
      -65,
      127,
      128,
      2 ** 31,
      -(2 ** 31),
      2 ** 32,
      2 ** 52 - 1,
      -(2 ** 52),
    ];
    ints.push(
      2 ** 52,
      -(2 ** 52) - 1,
      2 ** 52 + 2,
      2 ** 53,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
    );
    ints.push(Number.MAX_VALUE, -Number.MAX_VALUE);
    for (const v of ints) {
      assertRoundTrip(v, `${v}`);
      const tag = encodeValue(v)[0];
      const small = v >= -(2 ** 52) && v < 2 ** 52;
      assert.equal(tag, small ? 0x04 : 0x03, `${v} takes the ${small ? 'int' : 'f64'} path`);
    }
  });

  it('-0, NaN, infinities and fractions stay exact', () => {
    for (const v of [
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      0.1,
      -2.5,
      1e-300,
      5e-324,
    ]) {
      assertRoundTrip(v, `${Object.is(v, -0) ? '-0' : v}`);
    }
    assert.ok(Object.is(roundTrip(-0), -0), '-0 decodes as -0');
    assert.ok(Object.is(roundTrip(0), 0), '0 decodes as +0');
  });

  it('random numbers', () => {
    const rnd = new SeededRandom(1001);
    const view = new DataView(new ArrayBuffer(8));
    for (let i = 0; i < 2000; i++) {
      view.setUint32(0, rnd.u32());
      view.setUint32(4, rnd.u32());
      const f = view.getFloat64(0);
      assertRoundTrip(f, `f64 bits ${view.getUint32(0)}:${view.getUint32(4)}`);
      const n = Math.floor((rnd.float() - 0.5) * 2 ** rnd.int(54));
      assertRoundTrip(n, `int ${n}`);
    }
  });

  it('strings: empty, ASCII, non-ASCII, emoji, and either side of the 43-unit short path', () => {
    const strings = ['', 'a', 'hello', 'é', '€uro', '😀', 'a\u0000b', '\uFFFD', 'ｚ'];
    for (const n of [42, 43, 44, 127, 128, 1000, 70_000])
      strings.push('x'.repeat(n), 'é'.repeat(n), '😀'.repeat(n));
    strings.push('😀'.repeat(21), '\u0800'.repeat(42), '\u0800'.repeat(43)); // 42 units -> 126 bytes
    for (const s of strings) assertRoundTrip(s, `string of ${s.length} units (${s.slice(0, 4)}…)`);
  });

  it('bytes, nested arrays and objects, and __proto__ keys', () => {
    assertRoundTrip(new Uint8Array(0), 'empty bytes');
    assertRoundTrip(Uint8Array.from([0, 1, 255]), 'bytes');
    assertRoundTrip(new Uint8Array(100_000).fill(9), 'large bytes');
    assertRoundTrip([], 'empty array');
    assertRoundTrip({}, 'empty object');
    assertRoundTrip([1, 'two', [3, [4, { five: 5 }]], null, Uint8Array.from([6])], 'nested array');
    assertRoundTrip({ b: 1, a: 2, '': 3, 'é😀': 4, nested: { deeper: [true] } }, 'object');
    const proto = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Value;
    const back = roundTrip(proto) as Record<string, Value>;
    assert.deepStrictEqual(Object.keys(back), ['__proto__', 'x'], '__proto__ is an own key');
    assert.deepStrictEqual(
      Object.getOwnPropertyDescriptor(back, '__proto__')?.value,
      { polluted: true },
      '__proto__ value kept',
    );
    assert.equal(Object.getPrototypeOf(back), Object.prototype, 'prototype not replaced');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
    assertRoundTrip(nest(VALUE_DEPTH_MAX), `nesting ${VALUE_DEPTH_MAX} deep`);
  });

  it('keeps object key order as given (integer-like keys follow JavaScript order)', () => {
    const back = roundTrip({ z: 1, a: 2, m: 3 }) as Record<string, Value>;
    assert.deepStrictEqual(Object.keys(back), ['z', 'a', 'm'], 'insertion order');
    const nullProto = Object.assign(Object.create(null) as Record<string, Value>, { k: 1 });
    assert.deepStrictEqual(roundTrip(nullProto), { k: 1 }, 'a null-prototype object is a plain object');
  });

  it('decodes bytes as a copy', () => {
    const encoded = encodeValue(Uint8Array.from([1, 2]));
    const decoded = decodeValue(encoded) as Uint8Array;
    encoded.fill(0);
    assert.deepStrictEqual([...decoded], [1, 2], 'decoded bytes do not alias the input');
  });

  it('decodes bytes of every size as a copy of their own, slab pieces included', () => {
    for (const n of [64, 65, 1000, 2048, 2049, 5000]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => i & 0xff);
      const encoded = encodeValue(bytes);
      const a = decodeValue(encoded) as Uint8Array;
      const b = decodeValue(encoded) as Uint8Array;
      encoded.fill(0);
      a.fill(9);
      assert.deepStrictEqual(b, bytes, `${n} bytes: neither the input nor another decode is aliased`);
      assert.equal(a.length, n);
    }
  });
});

describe('value codec: the shared encoder', () => {
  it('a getter that encodes while its object is being encoded gets the right bytes, and so does the object', () => {
    const inner = { deep: ['x'.repeat(300), 1.5, null] };
    let innerBytes: Uint8Array | undefined;
    const outer = {
      before: 'y'.repeat(200),
      get during(): number {
        innerBytes = encodeValue(inner);
        return 7;
      },
      after: [true, 'z'.repeat(100)],
    };
    const bytes = encodeValue(outer);
    assert.deepEqual(decodeValue(bytes), {
      before: 'y'.repeat(200),
      during: 7,
      after: [true, 'z'.repeat(100)],
    });
    assert.ok(innerBytes !== undefined);
    assert.deepEqual(decodeValue(innerBytes), inner);
  });

  it('encodings are independent arrays: one changed or a huge one made, the others stay', () => {
    const values: Value[] = ['a'.repeat(90), { k: 'b'.repeat(500) }, [1, 2, 3], 'short'];
    const encoded = values.map((v) => encodeValue(v));
    const copies = encoded.map((b) => b.slice());
    encodeValue('h'.repeat(200_000)); // grows and then drops the shared buffer
    encoded[0]!.fill(0);
    for (let i = 1; i < values.length; i++) {
      assert.deepEqual(encoded[i], copies[i], `encoding ${i} unchanged`);
      assert.deepEqual(decodeValue(encoded[i]!), values[i]);
    }
  });
});

describe('value codec: golden bytes', () => {
  it('pins the encoding', () => {
    const cases: [Value, string][] = [
      [null, '00'],
      [false, '01'],
      [true, '02'],
      [0, '0400'],
      [-1, '0401'],
      [1, '0402'],
      [300, '04d804'],
      [2 ** 52 - 1, '04feffffffffffff0f'],
      [-(2 ** 52), '04ffffffffffffff0f'],
      [2 ** 52, '030000000000003043'],
      [1.5, '03000000000000f83f'],
      [-0, '030000000000000080'],
      [Number.NaN, '03000000000000f87f'],
      [Number.POSITIVE_INFINITY, '03000000000000f07f'],
      [Number.NEGATIVE_INFINITY, '03000000000000f0ff'],
      ['hi', '05026869'],
      ['é😀', '0506c3a9f09f9880'],
      ['a'.repeat(130), `058201${'61'.repeat(130)}`],
      [Uint8Array.from([1, 2, 3]), '0603010203'],
      [[1, 'a'], '07020402050161'],
      [{ a: 1, b: [null] }, '0802016104020162070100'],
      [{ k: 'é', n: [true, false, null, -2.5], b: Uint8Array.from([255]) }, GOLDEN_COMPOSITE],
    ];
    for (const [v, hex] of cases)
      assert.equal(toHex(encodeValue(v)), hex, `golden bytes of ${JSON.stringify(v)}`);
  });
});

describe('value codec: rejects what is not a Value', () => {
  const rejects = (v: unknown, what: string): void => {
    assert.throws(
      () => encodeValue(v),
      (e: unknown) => isStrataError(e, 'invalid_argument') && e.committed === 'no',
      `rejects ${what} with invalid_argument`,
    );
  };

  it('undefined, functions, symbols, bigint', () => {
    rejects(undefined, 'undefined');
    rejects(() => 1, 'a function');
    rejects(Symbol('s'), 'a symbol');
    rejects(10n, 'a bigint');
    rejects([1, undefined], 'undefined in an array');
    rejects({ a: undefined }, 'undefined in an object');
    // biome-ignore lint/suspicious/noSparseArray: a hole is what is being tested.
    rejects([1, , 3], 'a sparse array');
    rejects({ f() {} }, 'a method');
  });

  it('class instances, Date, Map, Set, other typed arrays', () => {
    class Point {
      x = 1;
    }
    rejects(new Point(), 'a class instance');
    rejects(new Date(0), 'a Date');
    rejects(new Map(), 'a Map');
    rejects(new Set(), 'a Set');
    rejects(new Int8Array(2), 'an Int8Array');
    rejects(new ArrayBuffer(2), 'an ArrayBuffer');
    rejects(/x/, 'a RegExp');
    rejects(new Error('x'), 'an Error');
    rejects({ inner: new Date(0) }, 'a Date inside an object');
  });

  it('lone surrogates in strings and keys', () => {
    for (const s of ['\uD800', '\uDC00', 'a\uD83D', '\uDE00b', '\uDE00\uD83D']) {
      assert.ok(hasLoneSurrogate(s), `lone surrogate detected in ${JSON.stringify(s)}`);
      rejects(s, `string ${JSON.stringify(s)}`);
      rejects({ [s]: 1 }, `key ${JSON.stringify(s)}`);
    }
    assert.equal(hasLoneSurrogate('😀'), false, 'a pair is fine');
  });

  it('nesting deeper than the limit, and values over the size limit', () => {
    rejects(nest(VALUE_DEPTH_MAX + 1), `nesting ${VALUE_DEPTH_MAX + 1} deep`);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    rejects(cyclic, 'a cycle');
    rejects(new Uint8Array(VALUE_SIZE_BYTES_MAX), 'bytes whose encoding exceeds the size limit');
    // Tag (1) + length varint (4) + bytes: exactly at the limit is fine.
    assert.equal(
      encodeValue(new Uint8Array(VALUE_SIZE_BYTES_MAX - 5)).length,
      VALUE_SIZE_BYTES_MAX,
      'at the limit',
    );
  });

  it('names where the bad part is', () => {
    assert.throws(() => encodeValue({ a: [1, { b: undefined }] }), /value\.a\[1\]\.b/, 'path in the message');
  });
});

describe('value codec: hostile input', () => {
  it('rejects malformed bytes with ValueDecodeError', () => {
    const bad = [
      '', // nothing
      '09', // unknown tag
      'ff',
      '03000000', // short f64
      '04', // int without varint
      '048000', // non-minimal varint
      '0502', // string shorter than its length
      '0502c328', // invalid UTF-8
      '0501ff',
      '0503eda080', // an encoded surrogate
      '0602ff', // bytes shorter than length
      '0702', // array missing items
      '0780808080808080800101', // count varint too long
      '08010161', // object missing its value
      '0001', // trailing byte
      '0801' + '02' + '00', // key shorter than its length
    ];
    for (const hex of bad) {
      assert.throws(
        () => decodeValue(fromHex(hex)),
        (e: unknown) => e instanceof ValueDecodeError && e.name === 'ValueDecodeError',
        `rejects ${hex || '(empty)'}`,
      );
    }
  });

  it('rejects nesting deeper than the limit, without exhausting the stack', () => {
    const deep = new Uint8Array(100_000).fill(0x07 /* array */);
    for (let i = 1; i < deep.length; i += 2) deep[i] = 1; // each array holds one item
    assert.throws(() => decodeValue(deep), ValueDecodeError, 'very deep arrays');
  });

  it('accepts exactly the nesting the encoder produces', () => {
    const encoded = encodeValue(nest(VALUE_DEPTH_MAX));
    assert.deepStrictEqual(decodeValue(encoded), nest(VALUE_DEPTH_MAX), 'the deepest encodable value');
    // One more level: an empty array where the encoder would refuse any container.
    const tooDeep = new Uint8Array(VALUE_DEPTH_MAX * 2 + 2);
    for (let i = 0; i <= VALUE_DEPTH_MAX; i++) tooDeep.set([0x07, i === VALUE_DEPTH_MAX ? 0 : 1], i * 2);
    assert.throws(() => decodeValue(tooDeep), ValueDecodeError, `${VALUE_DEPTH_MAX + 1} nested arrays`);
    assert.throws(
      () => encodeValue(emptyArraysNested(VALUE_DEPTH_MAX + 1)),
      /nests deeper/,
      'which the encoder refuses',
    );
  });

  it('rejects a huge declared count without allocating it', () => {
    assert.throws(() => decodeValue(fromHex('07ffffffffffffff0f')), ValueDecodeError, 'array count 2^53 - 1');
    assert.throws(
      () => decodeValue(fromHex('08ffffffffffffff0f')),
      ValueDecodeError,
      'object count 2^53 - 1',
    );
    assert.throws(
      () => decodeValue(fromHex('06ffffffffffffff0f')),
      ValueDecodeError,
      'bytes length 2^53 - 1',
    );
  });

  it('survives truncations, bit flips, mutations and random bytes', { timeout: 10_000 }, () => {
    const decode = (b: Uint8Array): 'ok' => {
      const v = decodeValue(b);
      // Whatever decodes is a Value, so it encodes again; that encoding decodes to it.
      assert.deepStrictEqual(decodeValue(encodeValue(v)), v, `accepted input re-encodes: ${toHex(b)}`);
      return 'ok';
    };
    const allowedError = (e: unknown): boolean => e instanceof ValueDecodeError;
    const randomInput = (rnd: SeededRandom): Uint8Array => {
      const b = rnd.bytes(rnd.int(40));
      for (let i = 0; i < b.length; i++) if (rnd.bool(0.6)) b[i] = rnd.int(10); // mostly tags and small lengths
      return b;
    };
    checkHostile('decodeValue', fromHex(GOLDEN_COMPOSITE), decode, {
      seed: 1002,
      flipsRejected: false,
      allowedError,
      randomCount: 3000,
      randomInput,
    });
    checkHostile('decodeValue(long string)', encodeValue('é'.repeat(50)), decode, {
      seed: 1003,
      flipsRejected: false,
      allowedError,
      randomCount: 500,
    });
  });
});
