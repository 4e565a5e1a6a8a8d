/**
 * Branch records (docs/formats/branch-record.md): golden bytes, the record key, round trips,
 * validation of every field, and hostile input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, toHex } from '../../src/base/index.js';
import {
  BRANCH_RECORD_END,
  BRANCH_RECORD_PREFIX,
  type BranchRecord,
  branchRecordKey,
  decodeBranchRecord,
  decodeMergeRecord,
  encodeBranchRecord,
  encodeMergeRecord,
  keyspacePrefix,
  mergeRecordKey,
} from '../../src/format/index.js';
import { checkHostile } from '../helpers/hostile.js';

const RECORD: BranchRecord = {
  id: 7,
  parent: 1,
  name: 'try-é',
  forkVersion: 42,
  forkTimestamp: Number.POSITIVE_INFINITY,
  state: 'live',
  forkedAtNewest: false,
};

const GOLDEN =
  '01' + // format version 1
  '00' + // state: live
  '00' + // flags: forked at a past point
  '00' + // reserved
  '07000000' + // branch id 7
  '01000000' + // parent id 1 (main)
  '2a00000000000000' + // fork version 42
  '000000000000f07f' + // fork timestamp +Infinity (f64 LE)
  '06' + // name length 6
  '7472792dc3a9'; // "try-é" in UTF-8

describe('branch record', () => {
  it('encodes to the golden bytes and back', () => {
    const bytes = encodeBranchRecord(RECORD);
    assert.equal(toHex(bytes), GOLDEN);
    const d = decodeBranchRecord(fromHex(GOLDEN));
    assert.ok(d.ok);
    assert.deepEqual(d.value, RECORD);
  });

  it('stores the forked-at-newest flag in bit 0 of byte 2', () => {
    const bytes = encodeBranchRecord({ ...RECORD, forkedAtNewest: true });
    assert.equal(bytes[2], 1);
    const d = decodeBranchRecord(bytes);
    assert.ok(d.ok && d.value.forkedAtNewest);
  });

  it('round-trips a deleted record with a timestamp cap and a 255-byte name', () => {
    const r: BranchRecord = {
      id: 0xffff_ffff,
      parent: 0xffff_fffe,
      name: 'n'.repeat(255),
      forkVersion: 2 ** 53 - 1,
      forkTimestamp: 1_796_400_000_123.5,
      state: 'deleted',
      forkedAtNewest: true,
    };
    const d = decodeBranchRecord(encodeBranchRecord(r));
    assert.ok(d.ok);
    assert.deepEqual(d.value, r);
  });

  it('keys sort by id inside the system keyspace, bounded by the prefix and end', () => {
    assert.equal(BRANCH_RECORD_PREFIX, `${keyspacePrefix(0, '')}B`);
    assert.equal(
      toHex(Uint8Array.from(branchRecordKey(0x0102_0304), (c) => c.charCodeAt(0))),
      '000000000042' + '01020304',
    );
    const keys = [2, 255, 256, 70_000, 0xffff_ffff].map(branchRecordKey);
    assert.deepEqual([...keys].sort(), keys);
    for (const k of keys) assert.ok(k > BRANCH_RECORD_PREFIX && k < BRANCH_RECORD_END);
  });

  it('rejects each bad field, naming the byte', () => {
    const golden = fromHex(GOLDEN);
    const cases: [string, (b: Uint8Array) => void, number][] = [
      ['format', (b) => (b[0] = 2), 0],
      ['state', (b) => (b[1] = 2), 1],
      ['unknown flag', (b) => (b[2] = 2), 2],
      ['reserved', (b) => (b[3] = 1), 3],
      ['id of main', (b) => (b[4] = 1), 4],
      ['parent 0', (b) => (b[8] = 0), 8],
      ['parent = id', (b) => (b[8] = 7), 8],
      ['fork version beyond 2^53', (b) => (b[19] = 0x40), 12],
      ['NaN timestamp', (b) => b.set([0, 0, 0, 0, 0, 0, 0xf8, 0x7f], 20), 20],
      ['-Infinity timestamp', (b) => b.set([0, 0, 0, 0, 0, 0, 0xf0, 0xff], 20), 20],
      ['name length 0', (b) => (b[28] = 0), 28],
      ['name length past the end', (b) => (b[28] = 7), 28],
      ['bad UTF-8', (b) => (b[33] = 0xff), 29],
    ];
    for (const [what, damage, at] of cases) {
      const b = golden.slice();
      damage(b);
      const d = decodeBranchRecord(b);
      assert.ok(!d.ok, `${what} is rejected`);
      assert.equal(d.at, at, `${what}: at byte ${at} (${d.reason})`);
    }
    assert.ok(!decodeBranchRecord(golden.subarray(0, 29)).ok, 'no name at all');
    const longer = new Uint8Array(golden.length + 1);
    longer.set(golden);
    assert.ok(!decodeBranchRecord(longer).ok, 'trailing bytes');
  });

  it('treats its input as hostile', () => {
    checkHostile(
      'decodeBranchRecord',
      fromHex(GOLDEN),
      (b) => {
        const d = decodeBranchRecord(b);
        if (!d.ok) return 'bad';
        assert.ok(d.value.id >= 2 && d.value.parent >= 1 && d.value.parent !== d.value.id);
        assert.ok(Number.isSafeInteger(d.value.forkVersion) && d.value.forkVersion >= 0);
        assert.ok(d.value.name.length > 0);
        assert.deepEqual(
          decodeBranchRecord(encodeBranchRecord(d.value)),
          d,
          'what it accepts re-encodes to itself',
        );
        return 'ok';
      },
      { seed: 907, flipsRejected: false },
    );
  });
});

describe('merge record', () => {
  const GOLDEN_MERGE =
    '01' + // format version 1
    '000000' + // reserved
    '2a00000000000000'; // source version 42

  it('encodes to the golden bytes and back; its key names target then source', () => {
    assert.equal(toHex(encodeMergeRecord({ sourceVersion: 42 })), GOLDEN_MERGE);
    const d = decodeMergeRecord(fromHex(GOLDEN_MERGE));
    assert.ok(d.ok);
    assert.deepEqual(d.value, { sourceVersion: 42 });
    const key = mergeRecordKey(7, 2);
    assert.equal(toHex(Uint8Array.from(key, (c) => c.charCodeAt(0))), `${'00'.repeat(5)}4d0000000700000002`);
    assert.ok(key > BRANCH_RECORD_END, 'merge records sort after every branch record');
  });

  it('rejects bad bytes, and treats its input as hostile', () => {
    const golden = fromHex(GOLDEN_MERGE);
    for (const [what, damage, at] of [
      ['format', (b: Uint8Array) => (b[0] = 9), 0],
      ['reserved', (b: Uint8Array) => (b[2] = 1), 1],
      ['version beyond 2^53', (b: Uint8Array) => (b[11] = 0x40), 4],
    ] as const) {
      const b = golden.slice();
      damage(b);
      const d = decodeMergeRecord(b);
      assert.ok(!d.ok && d.at === at, what);
    }
    assert.ok(!decodeMergeRecord(golden.subarray(0, 11)).ok, 'short');
    checkHostile(
      'decodeMergeRecord',
      golden,
      (b) => {
        const d = decodeMergeRecord(b);
        if (!d.ok) return 'bad';
        assert.ok(Number.isSafeInteger(d.value.sourceVersion) && d.value.sourceVersion >= 0);
        return 'ok';
      },
      { seed: 911, flipsRejected: false },
    );
  });
});
