/** Object names under a database root: building, parsing, and refusing what is not ours. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isObjectName } from '../../src/backend/index.js';
import { AssertionError, SeededRandom } from '../../src/base/index.js';
import {
  DB_LOCK,
  FILE_NUMBER_MAX,
  fileNumberOfName,
  MANIFEST_CURRENT,
  MANIFEST_PREFIX,
  manifestLogName,
  parseFileNumber,
  parseManifestLogName,
  parseSnapshotName,
  parseTableName,
  parseWalSegmentName,
  QUARANTINE_PREFIX,
  quarantineName,
  SNAPSHOT_PREFIX,
  snapshotName,
  TABLE_PREFIX,
  tableName,
  WAL_PREFIX,
  walSegmentName,
} from '../../src/layout/index.js';

const isAssertion = (e: unknown): boolean => e instanceof AssertionError;

describe('layout names', () => {
  it('builds the documented names', () => {
    assert.equal(MANIFEST_CURRENT, 'manifest/current', 'manifest');
    assert.equal(DB_LOCK, 'locks/db.lock', 'lock');
    assert.equal(walSegmentName(1), 'wal/000000000001.log', 'first WAL segment');
    assert.equal(snapshotName(42), 'snapshots/000000000042.snap', 'snapshot');
    assert.equal(tableName(999_999_999_999), 'tables/999999999999.sst', 'largest table number');
    assert.equal(
      quarantineName('wal/000000000003.log', 0),
      'quarantine/wal.000000000003.log.0',
      'quarantine',
    );
    assert.equal(
      quarantineName('snapshots/000000000003.snap', 2),
      'quarantine/snapshots.000000000003.snap.2',
      'attempt 2',
    );
    assert.deepEqual(
      [WAL_PREFIX, SNAPSHOT_PREFIX, TABLE_PREFIX, QUARANTINE_PREFIX],
      ['wal/', 'snapshots/', 'tables/', 'quarantine/'],
      'prefixes',
    );
  });

  it('builds only valid backend object names', () => {
    const names = [
      MANIFEST_CURRENT,
      DB_LOCK,
      walSegmentName(7),
      snapshotName(7),
      tableName(7),
      quarantineName(walSegmentName(7), 1),
    ];
    for (const n of names) assert.ok(isObjectName(n), `${n} is a valid object name`);
  });

  it('parses what it builds, for random file numbers', () => {
    const rnd = new SeededRandom(701);
    const numbers = [1, 9, 10, 999_999_999_999];
    for (let i = 0; i < 500; i++) numbers.push(1 + rnd.int(999_999_999_999));
    for (const n of numbers) {
      assert.equal(parseWalSegmentName(walSegmentName(n)), n, `WAL ${n}`);
      assert.equal(parseSnapshotName(snapshotName(n)), n, `snapshot ${n}`);
      assert.equal(parseFileNumber(tableName(n), TABLE_PREFIX, '.sst'), n, `table ${n}`);
    }
  });

  it('names sort in file-number order', () => {
    const names = [10, 2, 1, 100, 99].map(walSegmentName).sort();
    assert.deepEqual(
      names.map((n) => parseWalSegmentName(n)),
      [1, 2, 10, 99, 100],
      'lexicographic = numeric',
    );
  });

  it('rejects malformed names', () => {
    const bad = [
      '',
      'wal/',
      'wal/.log',
      'wal/1.log',
      'wal/00000000001.log', // 11 digits
      'wal/0000000000001.log', // 13 digits
      'wal/000000000000.log', // file number 0
      'wal/00000000000a.log',
      'wal/-00000000001.log',
      'wal/+00000000001.log',
      'wal/ 00000000001.log',
      'wal/0000000000.1.log',
      'wal/000000000001.log.tmp',
      'wal/000000000001.LOG',
      'wal/000000000001.snap',
      'snapshots/000000000001.log',
      'WAL/000000000001.log',
      'xwal/000000000001.log',
      'wal/wal/000000000001.log',
      'quarantine/wal.000000000001.log.0',
      'wal/٠٠٠٠٠٠٠٠٠٠٠١.log', // Arabic-Indic digits are not ASCII digits
    ];
    for (const name of bad)
      assert.equal(parseWalSegmentName(name), undefined, `not a WAL segment: ${JSON.stringify(name)}`);
    assert.equal(parseSnapshotName('snapshots/000000000001.log'), undefined, 'wrong suffix');
    assert.equal(parseSnapshotName(walSegmentName(1)), undefined, 'a WAL name is not a snapshot');
  });

  it('refuses file numbers it cannot name (a bug in the caller)', () => {
    for (const n of [0, -1, 1.5, 10 ** 12, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
      assert.throws(() => walSegmentName(n), isAssertion, `walSegmentName(${n})`);
      assert.throws(() => snapshotName(n), isAssertion, `snapshotName(${n})`);
      assert.throws(() => tableName(n), isAssertion, `tableName(${n})`);
    }
    assert.throws(() => quarantineName('wal/x', -1), isAssertion, 'negative attempt');
  });

  it('names manifest logs, and manifest/current is not one', () => {
    assert.equal(MANIFEST_PREFIX, 'manifest/', 'prefix');
    assert.ok(MANIFEST_CURRENT.startsWith(MANIFEST_PREFIX), 'current lives under the prefix');
    assert.equal(manifestLogName(1), 'manifest/000000000001.log', 'first log');
    assert.ok(isObjectName(manifestLogName(FILE_NUMBER_MAX)), 'a valid object name');
    assert.equal(FILE_NUMBER_MAX, 999_999_999_999, '12 digits');
    const rnd = new SeededRandom(702);
    for (let i = 0; i < 200; i++) {
      const n: number = 1 + rnd.int(FILE_NUMBER_MAX);
      assert.equal(parseManifestLogName(manifestLogName(n)), n, `log ${n}`);
      assert.equal(parseTableName(tableName(n)), n, `table ${n}`);
    }
    for (const name of [
      MANIFEST_CURRENT,
      'manifest/current_publish.tmp',
      'manifest/000000000000.log',
      'manifest/00000000001.log',
      'manifest/000000000001.log.tmp',
      'manifest/000000000001.sst',
      walSegmentName(1),
      'quarantine/manifest.000000000001.log.0',
    ]) {
      assert.equal(parseManifestLogName(name), undefined, `not a manifest log: ${name}`);
    }
    assert.throws(() => manifestLogName(0), isAssertion, 'file number 0');
    assert.throws(() => manifestLogName(10 ** 12), isAssertion, 'beyond 12 digits');
  });

  it('finds the file number of every numbered object, quarantined ones included', () => {
    const cases: [string, number | undefined][] = [
      [walSegmentName(3), 3],
      [snapshotName(4), 4],
      [tableName(5), 5],
      [manifestLogName(6), 6],
      [quarantineName(walSegmentName(7), 0), 7],
      [quarantineName(snapshotName(8), 12), 8],
      [quarantineName(tableName(9), 1), 9],
      [quarantineName(manifestLogName(10), 0), 10],
      [MANIFEST_CURRENT, undefined],
      [DB_LOCK, undefined],
      ['manifest/current_publish.tmp', undefined],
      ['quarantine/wal.000000000007.log', undefined],
      ['quarantine/wal.000000000007.log.x', undefined],
      ['quarantine/locks.db.lock.0', undefined],
      ['tables/000000000005.sst.tmp', undefined],
    ];
    for (const [name, n] of cases) assert.equal(fileNumberOfName(name), n, name);
  });
});
