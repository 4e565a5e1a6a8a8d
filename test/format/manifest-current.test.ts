/**
 * manifest/current (docs/formats/manifest-current.md): golden bytes, validation and hostile input
 * for both the original record (STRATMAN) and the pointer to the manifest log (STRATMPT).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssertionError, fromHex, setU64, toHex, viewOf } from '../../src/base/index.js';
import {
  decodeManifestCurrent,
  decodeManifestPointer,
  encodeManifestCurrent,
  encodeManifestPointer,
  MANIFEST_CURRENT_BYTES,
  MANIFEST_MAGIC,
  MANIFEST_POINTER_BYTES,
  MANIFEST_POINTER_MAGIC,
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

/** The pointer naming manifest/000000000042.log. */
const GOLDEN_POINTER =
  '53545241544d5054' + // "STRATMPT"
  '0100' + // format version 1
  '4000' + // size 64
  '00000000' + // flags
  '2a00000000000000' + // manifest file 42
  '00'.repeat(32) + // reserved
  'e6061281' + // masked CRC-32C of bytes [0, 56)
  '00000000'; // zero

describe('manifest/current as a pointer to the manifest log', () => {
  it('pins the golden bytes', () => {
    const bytes = encodeManifestPointer({ manifestFile: 42 });
    assert.equal(bytes.length, MANIFEST_POINTER_BYTES, 'size');
    assert.equal(MANIFEST_POINTER_MAGIC, 'STRATMPT', 'magic');
    assert.equal(toHex(bytes), GOLDEN_POINTER, 'golden pointer');
  });

  it('round trips, and refuses to encode file number 0 (a bug in the caller)', () => {
    for (const manifestFile of [1, 42, 999_999_999_999, Number.MAX_SAFE_INTEGER]) {
      assert.deepEqual(
        decodeManifestPointer(encodeManifestPointer({ manifestFile })),
        { ok: true, pointer: { manifestFile } },
        `file ${manifestFile}`,
      );
    }
    for (const manifestFile of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1]) {
      assert.throws(() => encodeManifestPointer({ manifestFile }), AssertionError, `file ${manifestFile}`);
    }
  });

  it('tells the pointer and the original record apart', () => {
    assert.equal(decodeManifestPointer(fromHex(GOLDEN_MANIFEST)).ok, false, 'a record is not a pointer');
    assert.equal(decodeManifestCurrent(fromHex(GOLDEN_POINTER)).ok, false, 'a pointer is not a record');
  });

  it('rejects wrong sizes, flags, reserved bytes and file numbers even with a valid checksum', () => {
    const golden = fromHex(GOLDEN_POINTER);
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
      ['file number 0', resealed((b) => setU64(viewOf(b), 16, 0))],
      ['file number beyond 2^53 - 1', resealed((b) => b.set(fromHex('0000000000002000'), 16))],
      ['reserved byte 24 set', resealed((b) => b.set([1], 24))],
      ['reserved byte 55 set', resealed((b) => b.set([0x80], 55))],
      ['format version 2', resealed((b) => viewOf(b).setUint16(8, 2, true))],
    ];
    for (const [name, bytes] of cases) {
      const r = decodeManifestPointer(bytes);
      assert.equal(r.ok, false, `rejects: ${name}`);
    }
  });

  it('is hostile-safe: every truncation and bit flip is rejected', { timeout: 10_000 }, () => {
    checkHostile(
      'decodeManifestPointer',
      fromHex(GOLDEN_POINTER),
      (b) => {
        const r = decodeManifestPointer(b);
        if (!r.ok) return 'bad';
        const n = r.pointer.manifestFile;
        assert.ok(Number.isSafeInteger(n) && n >= 1, 'file number in range');
        return 'ok';
      },
      {
        seed: 402,
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
