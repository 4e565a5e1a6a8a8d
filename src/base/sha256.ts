/**
 * SHA-256 (FIPS 180-4) in plain TypeScript, on Uint8Array only, for the event streams' hash
 * chain (docs/formats/events.md). Table-free: the 64 round constants and the 8 initial hash
 * words are computed when the module loads from their definition in the standard (the first 32
 * bits of the fractional parts of the cube roots of the first 64 primes, and of the square roots
 * of the first 8), instead of being pasted in as a table that a typo could silently break; the
 * published test vectors (test/base/sha256.test.ts) check every one of them.
 */
import { assert } from './assert.js';

/** Bytes in one digest. */
export const SHA256_DIGEST_BYTES = 32;
const BLOCK_BYTES = 64;

function firstPrimes(n: number): number[] {
  const out: number[] = [];
  for (let c = 2; out.length < n; c++) {
    if (out.every((p) => c % p !== 0)) out.push(c);
  }
  return out;
}

/**
 * The first 32 bits of the fractional part of `x`'s root, exact: the float estimate is corrected
 * with integer arithmetic (BigInt) so that no rounding of Math.sqrt or Math.cbrt can change a bit.
 */
function fractionBits(p: number, root: 2 | 3): number {
  // We want floor(p^(1/root) * 2^32) mod 2^32, i.e. the largest y with y^root <= p * 2^(32 root).
  const target = BigInt(p) << BigInt(32 * root);
  const estimate = root === 2 ? Math.sqrt(p) : Math.cbrt(p);
  let y = BigInt(Math.floor(estimate * 2 ** 32));
  const pow = (v: bigint): bigint => (root === 2 ? v * v : v * v * v);
  while (pow(y) > target) y -= 1n;
  while (pow(y + 1n) <= target) y += 1n;
  return Number(y & 0xffffffffn);
}

const PRIMES = firstPrimes(64);
// Int32Array, not Uint32Array: words above 2^31 would leave V8's small-integer range and be
// handled as doubles, several times slower in the rounds.
const K = new Int32Array(PRIMES.map((p) => fractionBits(p, 3)));
const H0 = new Int32Array(PRIMES.slice(0, 8).map((p) => fractionBits(p, 2)));

/** The message schedule: shared, since compress never runs re-entrantly. */
const W = new Int32Array(64);

/** An incremental SHA-256: update with any number of byte arrays, then digest once. */
export class Sha256 {
  private readonly h = H0.slice();
  private readonly block = new Uint8Array(BLOCK_BYTES);
  private readonly w = W;
  private blockUsed = 0;
  private totalBytes = 0;
  private done = false;

  /** Adds `bytes` to the message. Returns this, so calls chain. */
  update(bytes: Uint8Array): this {
    assert(!this.done, 'Sha256.update after digest');
    let at = 0;
    this.totalBytes += bytes.length;
    if (this.blockUsed > 0) {
      const n = Math.min(BLOCK_BYTES - this.blockUsed, bytes.length);
      this.block.set(bytes.subarray(0, n), this.blockUsed);
      this.blockUsed += n;
      at = n;
      if (this.blockUsed < BLOCK_BYTES) return this;
      this.compress(this.block, 0);
      this.blockUsed = 0;
    }
    for (; at + BLOCK_BYTES <= bytes.length; at += BLOCK_BYTES) this.compress(bytes, at);
    if (at < bytes.length) {
      this.block.set(bytes.subarray(at), 0);
      this.blockUsed = bytes.length - at;
    }
    return this;
  }

  /** The 32-byte digest of everything added. The hasher cannot be used afterwards. */
  digest(): Uint8Array {
    assert(!this.done, 'Sha256.digest called twice');
    this.done = true;
    const bits = this.totalBytes * 8;
    // Padding: 0x80, zeros, then the message length in bits as a big-endian u64.
    const b = this.block;
    b[this.blockUsed++] = 0x80;
    if (this.blockUsed > BLOCK_BYTES - 8) {
      b.fill(0, this.blockUsed);
      this.compress(b, 0);
      this.blockUsed = 0;
    }
    b.fill(0, this.blockUsed);
    const hi = Math.floor(bits / 2 ** 32);
    const lo = bits >>> 0;
    b[56] = hi >>> 24;
    b[57] = (hi >>> 16) & 0xff;
    b[58] = (hi >>> 8) & 0xff;
    b[59] = hi & 0xff;
    b[60] = lo >>> 24;
    b[61] = (lo >>> 16) & 0xff;
    b[62] = (lo >>> 8) & 0xff;
    b[63] = lo & 0xff;
    this.compress(b, 0);
    const out = new Uint8Array(SHA256_DIGEST_BYTES);
    for (let i = 0; i < 8; i++) {
      const v = this.h[i]!;
      out[i * 4] = v >>> 24;
      out[i * 4 + 1] = (v >>> 16) & 0xff;
      out[i * 4 + 2] = (v >>> 8) & 0xff;
      out[i * 4 + 3] = v & 0xff;
    }
    return out;
  }

  /** One 64-byte block of `m` at `at` (FIPS 180-4 §6.2.2). */
  private compress(m: Uint8Array, at: number): void {
    const w = this.w;
    for (let t = 0; t < 16; t++) {
      const i = at + t * 4;
      w[t] = (m[i]! << 24) | (m[i + 1]! << 16) | (m[i + 2]! << 8) | m[i + 3]!;
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15]!;
      const y = w[t - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
    }
    const h = this.h;
    let a = h[0]!;
    let b = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    let e = h[4]!;
    let f = h[5]!;
    let g = h[6]!;
    let hh = h[7]!;
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[t]! + w[t]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + b) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
    h[5] = (h[5]! + f) | 0;
    h[6] = (h[6]! + g) | 0;
    h[7] = (h[7]! + hh) | 0;
  }
}

/** The SHA-256 digest (32 bytes) of `bytes`. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return new Sha256().update(bytes).digest();
}
