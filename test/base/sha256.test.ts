/**
 * SHA-256 against the published test vectors (FIPS 180-4 examples and the NIST CAVS "short and
 * long message" style vectors): the empty string, "abc", the 448-bit message, the 896-bit
 * message and one million 'a's; incremental updates split at every offset agree with one-shot
 * hashing; random inputs agree with node:crypto (an independent implementation).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { SeededRandom, Sha256, sha256, toHex, utf8Encode } from '../../src/base/index.js';

const VECTORS: [string, string][] = [
  ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  [
    'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  ],
  [
    'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  ],
];

describe('sha256', () => {
  for (const [message, digest] of VECTORS) {
    it(`the published vector for ${message.length === 0 ? 'the empty string' : `"${message.slice(0, 12)}…" (${message.length * 8} bits)`}`, () => {
      assert.equal(toHex(sha256(utf8Encode(message))), digest);
    });
  }

  it("one million 'a's, one shot and in uneven pieces", () => {
    const want = 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0';
    const a = new Uint8Array(1_000_000).fill(0x61);
    assert.equal(toHex(sha256(a)), want, 'one shot');
    const h = new Sha256();
    for (let at = 0, n = 1; at < a.length; at += n, n = (n * 7 + 3) % 1000) h.update(a.subarray(at, at + n));
    assert.equal(toHex(h.digest()), want, 'incremental');
  });

  it('every split of a message agrees with the one-shot digest (padding at each block boundary)', () => {
    const rnd = new SeededRandom(1);
    for (let n = 0; n <= 130; n++) {
      const m = rnd.bytes(n);
      const one = toHex(sha256(m));
      assert.equal(one, createHash('sha256').update(m).digest('hex'), `${n} bytes against node:crypto`);
      for (let cut = 0; cut <= n; cut += 7) {
        const h = new Sha256().update(m.subarray(0, cut)).update(m.subarray(cut));
        assert.equal(toHex(h.digest()), one, `${n} bytes split at ${cut}`);
      }
    }
  });

  it('random messages agree with node:crypto', () => {
    const rnd = new SeededRandom(Number(process.env.STRATA_SEED ?? 7));
    for (let i = 0; i < 200; i++) {
      const m = rnd.bytes(rnd.int(5000));
      assert.equal(toHex(sha256(m)), createHash('sha256').update(m).digest('hex'), `message ${i}`);
    }
  });

  it('a hasher refuses use after its digest (an assertion, not a silent wrong digest)', () => {
    const h = new Sha256();
    h.digest();
    assert.throws(() => h.update(new Uint8Array(1)));
    assert.throws(() => h.digest());
  });
});
