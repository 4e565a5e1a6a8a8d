/** manifest/current (docs/formats/manifest-current.md): golden bytes, validation, hostile input. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, setU64, toHex, viewOf } from '../../src/base/index.js';
import {
  decodeManifestCurrent,
  encodeManifestCurrent,
  MANIFEST_CURRENT_BYTES,
  MANIFEST_MAGIC,
  type ManifestCurrent,
  sealHeader,
} from '../../src/format/index.js';
import { checkHostile } from '../helpers/hostile.js';

const MANIFEST: ManifestCurrent = {
  snapshotFile: 5,
  snapshotVersion: 7,
  walStartFile: 6,
  nextFileNumber: 8,
  reservedVersion: 10007,
};

const GOLDEN_MANIFEST =
  '53545241544d414e' + // "STRATMAN"
  '0100' + // format version 1
  '4000' + // size 64
  '00000000' + // flags
  '0500000000000000' + // snapshot file 5
  '0700000000000000' + // snapshot version 7
  '0600000000000000' + // WAL start file 6
  '0800000000000000' + // next file number 8
  '1727000000000000' + // reserved version 10007
  '6bd03b8e' + // masked CRC-32C of bytes [0, 56)
  '00000000'; // zero

describe('manifest/current', () => {
  it('pins the golden bytes', () => {
    const bytes = encodeManifestCurrent(MANIFEST);
    assert.equal(bytes.length, MANIFEST_CURRENT_BYTES, 'size');
    assert.equal(toHex(bytes), GOLDEN_MANIFEST, 'golden manifest');
    assert.equal(MANIFEST_MAGIC, 'STRATMAN', 'magic');
  });

  it('round trips', () => {
    const fresh: ManifestCurrent = {
      snapshotFile: 0,
      snapshotVersion: 0,
      walStartFile: 1,
      nextFileNumber: 1,
      reservedVersion: 0,
    };
    const big: ManifestCurrent = {
      snapshotFile: 2 ** 40,
      snapshotVersion: Number.MAX_SAFE_INTEGER,
      walStartFile: 2 ** 40 + 1,
      nextFileNumber: Number.MAX_SAFE_INTEGER,
      reservedVersion: Number.MAX_SAFE_INTEGER,
    };
    for (const m of [MANIFEST, fresh, big]) {
      assert.deepEqual(
        decodeManifestCurrent(encodeManifestCurrent(m)),
        { ok: true, manifest: m },
        'round trip',
      );
    }
  });

  it('rejects wrong sizes, flags and inconsistent fields even with a valid checksum', () => {
    const golden = fromHex(GOLDEN_MANIFEST);
    const resealed = (f: (b: Uint8Array) => void): Uint8Array => {
      const b = golden.slice();
      f(b);
      return sealHeader(b);
    };
    const cases: [string, Uint8Array][] = [
      ['63 bytes', golden.subarray(0, 63)],
      ['65 bytes', Uint8Array.from([...golden, 0])],
      ['non-zero tail', Uint8Array.from([...golden.subarray(0, 63), 1])],
      ['unknown flags', resealed((b) => viewOf(b).setUint32(12, 1, true))],
      ['WAL start file 0', resealed((b) => setU64(viewOf(b), 32, 0))],
      ['next file number below WAL start', resealed((b) => setU64(viewOf(b), 40, 5))],
      ['next file number not above the snapshot file', resealed((b) => setU64(viewOf(b), 16, 8))],
      ['snapshot file without a version', resealed((b) => setU64(viewOf(b), 24, 0))],
      ['snapshot version without a file', resealed((b) => setU64(viewOf(b), 16, 0))],
      ['reserved version beyond 2^53 - 1', resealed((b) => b.set(fromHex('ffffffffffffffff'), 48))],
      ['snapshot file beyond 2^53 - 1', resealed((b) => b.set(fromHex('0000000000002000'), 16))],
    ];
    for (const [name, bytes] of cases) {
      const r = decodeManifestCurrent(bytes);
      assert.equal(r.ok, false, `rejects: ${name}`);
    }
  });

  it('is hostile-safe: every truncation and bit flip is rejected', { timeout: 10_000 }, () => {
    checkHostile(
      'decodeManifestCurrent',
      fromHex(GOLDEN_MANIFEST),
      (b) => {
        const r = decodeManifestCurrent(b);
        if (!r.ok) return 'bad';
        for (const v of Object.values(r.manifest))
          assert.ok(Number.isSafeInteger(v) && v >= 0, 'fields in range');
        return 'ok';
      },
      {
        seed: 401,
        flipsRejected: true,
        randomInput: (rnd, g) => {
          const b = rnd.bytes(rnd.bool() ? 64 : rnd.int(80));
          if (b.length >= 12 && rnd.bool()) b.set(g.subarray(0, 12));
          return b;
        },
      },
    );
  });
});
