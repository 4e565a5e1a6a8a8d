/**
 * The event rows' byte formats (docs/formats/events.md): golden bytes for the head row, event
 * rows with and without an origin, and the chain hash; the chain hash recomputed independently
 * (node:crypto over the record as the doc draws it); and hostile input to both row decoders.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, SeededRandom, toHex } from '../../src/base/index.js';
import {
  chainHash,
  decodeEventRow,
  decodeHeadRow,
  decodeValue,
  EVENT_HASH_ZERO,
  encodeEventRow,
  encodeHeadRow,
  encodeValue,
  ValueDecodeError,
} from '../../src/engine/index.js';
import { checkHostile } from '../helpers/hostile.js';
import { referenceChainHash } from '../support/chain-hash.js';

const HASH = new Uint8Array(32).map((_, i) => i);
const ORIGIN = new Uint8Array(32).fill(0xab);
const TS = 1_700_000_000_000;

describe('event rows: golden bytes', () => {
  it('head row', () => {
    const row = encodeHeadRow({ nextSeq: 258, lastTimestamp: TS, lastHash: HASH });
    assert.equal(
      toHex(row),
      '01 00000000000000 0201000000000000 00008056febc7842 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'.replaceAll(
        ' ',
        '',
      ),
    );
    const d = decodeHeadRow(row);
    assert.ok(d.ok);
    assert.deepEqual(d.value, { nextSeq: 258, lastTimestamp: TS, lastHash: HASH });
  });

  it('event row without an origin', () => {
    const data = encodeValue({ tool: 'search' });
    assert.equal(toHex(data), '080104746f6f6c0506736561726368');
    const row = encodeEventRow({ timestamp: TS, hash: HASH, origin: undefined, type: 'tool_call', data });
    assert.equal(
      toHex(row),
      (
        '01 00 0900 00008056febc7842' +
        ' 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f' +
        ' 746f6f6c5f63616c6c 080104746f6f6c0506736561726368'
      ).replaceAll(' ', ''),
    );
    const d = decodeEventRow(row);
    assert.ok(d.ok);
    assert.equal(d.value.type, 'tool_call');
    assert.equal(d.value.timestamp, TS);
    assert.equal(d.value.origin, undefined);
    assert.deepEqual(decodeValue(d.value.data), { tool: 'search' });
  });

  it('event row with an origin (a merge copy)', () => {
    const row = encodeEventRow({
      timestamp: 1.5,
      hash: HASH,
      origin: ORIGIN,
      type: 'x',
      data: encodeValue(1),
    });
    assert.equal(
      toHex(row),
      (
        '01 01 0100 000000000000f83f' +
        ' 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f' +
        ' abababababababababababababababababababababababababababababababab 78 0402'
      ).replaceAll(' ', ''),
    );
    const d = decodeEventRow(row);
    assert.ok(d.ok);
    assert.deepEqual(d.value.origin, ORIGIN);
    assert.equal(d.value.type, 'x');
  });

  it('chain hash: golden, and equal to the record of the doc hashed by node:crypto', () => {
    const data = encodeValue({ tool: 'search' });
    const first = chainHash(0, 'tool_call', TS, data, undefined, EVENT_HASH_ZERO);
    assert.equal(toHex(first), '2afb36bee084b88eaab90dda98945edea25e9f5a3d064da1533fedb5f16694ba');
    assert.equal(toHex(first), referenceChainHash(0, 'tool_call', TS, data, undefined, EVENT_HASH_ZERO));
    const copy = chainHash(1, 'tool_call', TS, data, ORIGIN, HASH);
    assert.equal(toHex(copy), '25bb8f8195720488737c86412a2e427344146f37ecfc13e9d2b7f0f47b555834');
    assert.equal(toHex(copy), referenceChainHash(1, 'tool_call', TS, data, ORIGIN, HASH));
    const rnd = new SeededRandom(3);
    for (let i = 0; i < 100; i++) {
      const seq = rnd.int(2 ** 31) * rnd.int(1000);
      const type = String.fromCharCode(0x61 + rnd.int(26)).repeat(1 + rnd.int(40));
      const d = rnd.bytes(1 + rnd.int(300));
      const o = rnd.bool() ? rnd.bytes(32) : undefined;
      const prev = rnd.bytes(32);
      const ts = rnd.float() * 2e12;
      assert.equal(
        toHex(chainHash(seq, type, ts, d, o, prev)),
        referenceChainHash(seq, type, ts, d, o, prev),
        `random #${i}`,
      );
    }
  });

  it('every field is in the hash: changing any one changes it', () => {
    const data = encodeValue('d');
    const h = toHex(chainHash(5, 't', TS, data, undefined, HASH));
    const variants = [
      chainHash(6, 't', TS, data, undefined, HASH),
      chainHash(5, 'u', TS, data, undefined, HASH),
      chainHash(5, 't', TS + 1, data, undefined, HASH),
      chainHash(5, 't', TS, encodeValue('e'), undefined, HASH),
      chainHash(5, 't', TS, data, ORIGIN, HASH),
      chainHash(5, 't', TS, data, undefined, ORIGIN),
      // Moving a byte from the type to the data keeps the concatenation but not the hash.
      chainHash(5, 'td', TS, new Uint8Array(0), undefined, HASH),
    ];
    for (const v of variants) assert.notEqual(toHex(v), h);
  });
});

describe('event rows: hostile input', () => {
  it('head rows: truncations, flips, mutations and random bytes are rejected or decode to sane values', () => {
    const golden = encodeHeadRow({ nextSeq: 7, lastTimestamp: TS, lastHash: HASH });
    const stats = checkHostile(
      'head row',
      golden,
      (b) => {
        const d = decodeHeadRow(b);
        if (!d.ok) return 'bad';
        assert.ok(Number.isSafeInteger(d.value.nextSeq) && d.value.nextSeq >= 1);
        assert.ok(Number.isFinite(d.value.lastTimestamp));
        assert.equal(d.value.lastHash.length, 32);
        return 'ok';
      },
      { seed: 1, flipsRejected: false },
    );
    assert.ok(stats.truncations > 0 && stats.randoms > 0);
    for (const hex of [
      '', // nothing
      `02${'00'.repeat(55)}`, // unknown format
      `0101${'00'.repeat(54)}`, // reserved byte set
      `01${'00'.repeat(55)}`, // zero length
      `01${'00'.repeat(7)}ffffffffffffffff${'00'.repeat(40)}`, // seq beyond 2^53
      `01${'00'.repeat(7)}0100000000000000000000000000f87f${'00'.repeat(32)}`, // NaN timestamp
      `${toHex(golden)}00`, // a byte too many
    ])
      assert.equal(decodeHeadRow(fromHex(hex)).ok, false, hex);
  });

  it('event rows: truncations, flips, mutations and random bytes never crash', () => {
    const golden = encodeEventRow({
      timestamp: TS,
      hash: HASH,
      origin: ORIGIN,
      type: 'tool_call',
      data: encodeValue({ tool: 'search', n: [1, 2] }),
    });
    checkHostile(
      'event row',
      golden,
      (b) => {
        const d = decodeEventRow(b);
        if (!d.ok) return 'bad';
        decodeValue(d.value.data); // throws ValueDecodeError for a damaged value
        assert.ok(d.value.type.length > 0 && Number.isFinite(d.value.timestamp));
        assert.equal(d.value.hash.length, 32);
        return 'ok';
      },
      { seed: 2, flipsRejected: false, allowedError: (e) => e instanceof ValueDecodeError },
    );
    for (const hex of [
      '',
      `02${'00'.repeat(50)}`, // unknown format
      `0102${'00'.repeat(50)}`, // unknown flag
      `01000000${'00'.repeat(40)}00`, // empty type
      `01000500${'00'.repeat(40)}6162`, // type longer than the row
      `01000100${'00'.repeat(40)}61`, // no data
      `01000100000000000000f07f${'00'.repeat(32)}6100`, // infinite timestamp
      `01010100${'00'.repeat(40)}6100`, // origin flagged, row too short for it
    ])
      assert.equal(decodeEventRow(fromHex(hex)).ok, false, hex);
  });
});
