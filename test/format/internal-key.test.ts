/** Storage keys and internal keys (docs/formats/internal-key.md): golden bytes and ordering. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AssertionError,
  binaryToBytes,
  bytesToBinary,
  compareBytes,
  SeededRandom,
  toHex,
  utf8ToBinary,
} from '../../src/base/index.js';
import {
  BRANCH_ID_MAX,
  compareInternalKeys,
  decodeInternalKeyVersion,
  encodeInternalKey,
  INTERNAL_KEY_TRAILER_BYTES,
  keyspacePrefix,
  parseStorageKey,
} from '../../src/format/index.js';

/** The KV key "k" on branch 1, space "default", at version 5. */
const GOLDEN_INTERNAL_KEY =
  '00000001' + // branch id 1, big-endian
  '07' + // space length
  '64656661756c74' + // "default"
  '01' + // KV tag
  '6b' + // "k"
  'fffffffffffffffa'; // ~5, big-endian

const ik = (key: string, version: number): Uint8Array => encodeInternalKey(key, version);
const isAssertion = (e: unknown): boolean => e instanceof AssertionError;

describe('storage keys', () => {
  it('pin the keyspace prefix bytes', () => {
    assert.equal(
      toHex(binaryToBytes(keyspacePrefix(1, 'default'))),
      '000000010764656661756c74',
      'main/default',
    );
    assert.equal(toHex(binaryToBytes(keyspacePrefix(0x01020304, ''))), '0102030400', 'empty space');
    assert.equal(
      toHex(binaryToBytes(keyspacePrefix(BRANCH_ID_MAX, 'é'))),
      'ffffffff02c3a9',
      'UTF-8 space name',
    );
  });

  it('parse back into their parts', () => {
    const key = `${keyspacePrefix(7, 'notes')}\x01user key`;
    assert.deepEqual(parseStorageKey(key), { branchId: 7, space: 'notes', userKey: '\x01user key' }, 'parts');
    const big = `${keyspacePrefix(BRANCH_ID_MAX, 'x')}`;
    assert.deepEqual(
      parseStorageKey(big),
      { branchId: BRANCH_ID_MAX, space: 'x', userKey: '' },
      'largest branch id',
    );
    const spaceBinary = utf8ToBinary('é');
    assert.equal(parseStorageKey(keyspacePrefix(1, 'é'))?.space, spaceBinary, 'space stays a byte string');
  });

  it('reject malformed storage keys', () => {
    assert.equal(parseStorageKey(''), undefined, 'empty');
    assert.equal(parseStorageKey('\x00\x00\x00'), undefined, 'shorter than a prefix');
    assert.equal(parseStorageKey('\x00\x00\x00\x01\x05abc'), undefined, 'space length past the end');
  });

  it('refuse bad branch ids and long space names (a bug in the caller)', () => {
    assert.throws(() => keyspacePrefix(-1, 'x'), isAssertion, 'negative branch id');
    assert.throws(() => keyspacePrefix(BRANCH_ID_MAX + 1, 'x'), isAssertion, 'branch id over u32');
    assert.throws(() => keyspacePrefix(1.5, 'x'), isAssertion, 'fractional branch id');
    assert.throws(() => keyspacePrefix(1, 'x'.repeat(256)), isAssertion, 'space name of 256 bytes');
    assert.doesNotThrow(() => keyspacePrefix(1, 'x'.repeat(255)), 'space name of 255 bytes');
  });
});

describe('internal keys', () => {
  it('pin the golden bytes', () => {
    const key = `${keyspacePrefix(1, 'default')}\x01k`;
    assert.equal(toHex(ik(key, 5)), GOLDEN_INTERNAL_KEY, 'golden internal key');
    assert.equal(toHex(ik('a', 0)), '61ffffffffffffffff', 'version 0 inverts to all ones');
    assert.equal(toHex(ik('a', Number.MAX_SAFE_INTEGER)), '61ffe0000000000000', 'largest version');
    assert.equal(INTERNAL_KEY_TRAILER_BYTES, 8, 'trailer size');
  });

  it('round trip the version', () => {
    const rnd = new SeededRandom(601);
    const versions = [0, 1, 255, 256, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER];
    for (let i = 0; i < 500; i++) versions.push(Math.floor(rnd.float() * Number.MAX_SAFE_INTEGER));
    for (const v of versions) {
      const k = ik('some key', v);
      assert.equal(decodeInternalKeyVersion(k), v, `version ${v}`);
      assert.equal(bytesToBinary(k, 0, k.length - 8), 'some key', 'the storage key is a prefix');
    }
  });

  it('refuse bad versions and short keys (a bug in the caller)', () => {
    for (const v of [-1, 1.5, 2 ** 53, Number.NaN])
      assert.throws(() => ik('k', v), isAssertion, `version ${v}`);
    assert.throws(() => decodeInternalKeyVersion(new Uint8Array(7)), isAssertion, 'seven bytes');
  });

  it('order by storage key, then newest version first, including the prefix case', () => {
    // "a"@5 < "a"@3 < "ab"@9: a raw memcmp would put "ab"@9 between a's versions.
    const ordered = [ik('a', 5), ik('a', 3), ik('ab', 9)];
    assert.ok(compareInternalKeys(ordered[0]!, ordered[1]!) < 0, '"a"@5 < "a"@3');
    assert.ok(compareInternalKeys(ordered[1]!, ordered[2]!) < 0, '"a"@3 < "ab"@9');
    assert.ok(compareInternalKeys(ordered[0]!, ordered[2]!) < 0, '"a"@5 < "ab"@9');
    assert.ok(compareInternalKeys(ordered[2]!, ordered[0]!) > 0, '"ab"@9 > "a"@5');
    assert.equal(compareInternalKeys(ik('a', 3), ik('a', 3)), 0, 'equal');
    assert.ok(
      compareBytes(ik('a', 3), ik('ab', 9)) > 0,
      'raw memcmp gets the prefix case wrong (why the split)',
    );
    assert.ok(compareInternalKeys(ik('', 1), ik('\x00', 1)) < 0, 'empty key first');
    assert.ok(compareInternalKeys(ik('\xff', 2 ** 40), ik('\xff', 2 ** 40 - 1)) < 0, 'large versions');
  });

  it('agree with (storage key ascending, version descending) on random keys', () => {
    const rnd = new SeededRandom(602);
    const items: { key: string; version: number }[] = [];
    for (let i = 0; i < 2000; i++) {
      const key = String.fromCharCode(
        ...Array.from({ length: rnd.int(4) }, () => rnd.pick([0, 1, 0x61, 0x62, 0xff])),
      );
      items.push({ key, version: rnd.pick([0, 1, 2, 255, 256, 2 ** 32, rnd.int(1e6)]) });
    }
    const model = [...items].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : y.version - x.version));
    const encoded = items.map((x) => ik(x.key, x.version)).sort(compareInternalKeys);
    for (let i = 0; i < model.length; i++) {
      const m = model[i]!;
      const e = encoded[i]!;
      assert.equal(bytesToBinary(e, 0, e.length - 8), m.key, `key at ${i}`);
      assert.equal(decodeInternalKeyVersion(e), m.version, `version at ${i}`);
    }
  });
});
