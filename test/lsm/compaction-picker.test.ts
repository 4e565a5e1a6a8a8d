/**
 * The compaction picker and output splitter over hand-built level layouts: budgets and scores,
 * round robin, overlap search, bottommost, trivial moves, L0 taking every table, where output is
 * cut — and a small simulated tree that flushes and compacts until it settles.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssertionError, isStrataError, SeededRandom } from '../../src/base/index.js';
import type { TableMeta } from '../../src/format/index.js';
import {
  type CompactionPick,
  DEFAULT_LEVEL_OPTIONS,
  type LevelOptions,
  levelMaxBytes,
  levelScores,
  OutputSplitter,
  overlappingTables,
  overlappingTablesUnsorted,
  pickCompaction,
  pickGarbageCompaction,
  validateLevelOptions,
  writeStall,
} from '../../src/lsm/index.js';
import { seedFor } from '../support/lsm-history.js';

/** Small budgets: L1 100 bytes, L2 1,000, L3 (the last level) 10,000; tables cut at 10 bytes. */
const O: LevelOptions = {
  l0CompactionTrigger: 4,
  l0SlowdownTrigger: 8,
  l0StopTrigger: 12,
  levelBaseBytes: 100,
  levelMultiplier: 10,
  levels: 4,
  tableTargetBytes: 10,
};

let nextFile = 1;
function table(smallest: string, largest: string, size = 10): TableMeta {
  return { fileNumber: nextFile++, size, smallest, largest, minVersion: 1, maxVersion: 1, entries: 1 };
}
const files = (tables: readonly TableMeta[]): number[] => tables.map((t) => t.fileNumber);
const isAssertion = (e: unknown): boolean => e instanceof AssertionError;

function mustPick(
  levels: readonly (readonly TableMeta[])[],
  cursors?: ReadonlyMap<number, string>,
): CompactionPick {
  const pick = pickCompaction(levels, O, cursors);
  assert.ok(pick !== undefined, 'a compaction is picked');
  return pick;
}

describe('level options', () => {
  it('gives each level below L0 ten times the budget of the one above', () => {
    assert.equal(levelMaxBytes(1, O), 100, 'L1');
    assert.equal(levelMaxBytes(2, O), 1000, 'L2');
    assert.equal(levelMaxBytes(3, O), 10_000, 'L3');
    assert.equal(levelMaxBytes(6, DEFAULT_LEVEL_OPTIONS), 64 * 1024 * 1024 * 10 ** 5, 'default L6');
    assert.throws(() => levelMaxBytes(0, O), isAssertion, 'L0 has no byte budget');
    assert.throws(() => levelMaxBytes(4, O), isAssertion, 'past the last level');
  });

  it('validates options with invalid_argument', () => {
    validateLevelOptions(DEFAULT_LEVEL_OPTIONS);
    validateLevelOptions(O);
    validateLevelOptions({ ...O, levelMultiplier: 1.5, levels: 2 });
    const bad: Partial<LevelOptions>[] = [
      { l0CompactionTrigger: 0 },
      { l0CompactionTrigger: 9 },
      { l0SlowdownTrigger: 13 },
      { l0StopTrigger: 2.5 },
      { levelBaseBytes: 0 },
      { tableTargetBytes: Number.NaN },
      { levelMultiplier: 1 },
      { levelMultiplier: Number.POSITIVE_INFINITY },
      { levels: 1 },
      { levels: 65 },
      { levels: 3.5 },
    ];
    for (const change of bad) {
      assert.throws(
        () => validateLevelOptions({ ...O, ...change }),
        (e: unknown) => isStrataError(e, 'invalid_argument'),
        JSON.stringify(change),
      );
    }
  });

  it('tells writes to slow down and stop by L0 table count', () => {
    assert.equal(writeStall(0, O), 'none', '0');
    assert.equal(writeStall(7, O), 'none', '7');
    assert.equal(writeStall(8, O), 'slowdown', '8');
    assert.equal(writeStall(11, O), 'slowdown', '11');
    assert.equal(writeStall(12, O), 'stop', '12');
    assert.equal(writeStall(100, O), 'stop', '100');
  });
});

describe('pickCompaction', () => {
  it('picks nothing while every score is below 1', () => {
    assert.equal(pickCompaction([], O), undefined, 'no levels');
    assert.equal(pickCompaction([[], [], [], []], O), undefined, 'empty levels');
    const levels = [
      [table('a', 'b'), table('a', 'c'), table('b', 'd')],
      [table('a', 'z', 99)],
      [table('a', 'z', 999)],
    ];
    assert.deepEqual(levelScores(levels, O), [0.75, 0.99, 0.999], 'scores of L0..L2 (L3 is never a source)');
    assert.equal(pickCompaction(levels, O), undefined, 'nothing to do');
  });

  it('compacts every L0 table, newest first, with the L1 tables that overlap their union', () => {
    const l0 = [table('f', 'h'), table('c', 'd'), table('e', 'f'), table('d', 'g')];
    const l1 = [table('a', 'b'), table('b1', 'c'), table('c1', 'c2'), table('g', 'k'), table('l', 'm')];
    const pick = mustPick([l0, l1]);
    assert.equal(pick.level, 0, 'level');
    assert.equal(pick.outputLevel, 1, 'output level');
    assert.equal(pick.score, 1, 'score 4 / 4');
    assert.deepEqual(files(pick.inputs), files(l0), 'every L0 table, in order');
    assert.deepEqual(files(pick.overlapping), files(l1.slice(1, 4)), 'L1 tables overlapping [c, h]');
    assert.equal(pick.bottommost, true, 'nothing below L1');
    assert.equal(pick.trivialMove, false, 'never a trivial move with several L0 tables');
  });

  it('moves a lone L0 table down when nothing overlaps, never several', () => {
    const oneTrigger: LevelOptions = { ...O, l0CompactionTrigger: 1 };
    const lone = pickCompaction([[table('c', 'd')], [table('a', 'b'), table('e', 'f')]], oneTrigger);
    assert.equal(lone?.trivialMove, true, 'one L0 table, no overlap: trivial move');
    const two = pickCompaction([[table('c', 'd'), table('x', 'y')], [table('a', 'b')]], oneTrigger);
    assert.equal(two?.trivialMove, false, 'two L0 tables: no trivial move even without overlap');
    assert.equal(two?.inputs.length, 2, 'both taken');
  });

  it('picks the highest score; ties go to the upper level; the last level is never a source', () => {
    const l0 = [table('a', 'b'), table('a', 'b'), table('a', 'b')];
    const l1 = [table('a', 'b', 75), table('c', 'd', 75)];
    const l2 = [table('a', 'b', 1250), table('c', 'd', 1250)];
    assert.equal(mustPick([l0, l1, l2]).level, 2, 'L2 at 2.5 beats L1 at 1.5 and L0 at 0.75');
    assert.equal(mustPick([l0, l1, l2]).score, 2.5, 'score');
    assert.equal(mustPick([l0, l1, [table('a', 'b', 1500)]]).level, 1, 'L1 at 1.5 beats L2 at 1.5: tie');
    assert.equal(
      mustPick([[...l0, table('a', 'b')], [table('a', 'b', 100)]]).level,
      0,
      'L0 at 1 ties L1 at 1',
    );
    assert.equal(pickCompaction([[], [], [], [table('a', 'z', 10 ** 9)]], O), undefined, 'a huge last level');
    assert.throws(
      () => pickCompaction([[], [], [], [], []], O),
      isAssertion,
      'more levels than the options allow',
    );
  });

  it('walks a level round-robin from the cursor, wrapping around', () => {
    const l1 = [table('a', 'b', 30), table('c', 'd', 30), table('e', 'f', 30), table('g', 'h', 30)];
    const inputAt = (cursor: string | undefined): number => {
      const cursors = cursor === undefined ? undefined : new Map([[1, cursor]]);
      const pick = mustPick([[], l1], cursors);
      assert.equal(pick.level, 1, 'level');
      assert.equal(pick.inputs.length, 1, 'one table from L1');
      return l1.indexOf(pick.inputs[0]!);
    };
    assert.equal(inputAt(undefined), 0, 'no cursor: the first table');
    assert.equal(inputAt('b'), 1, 'after the first');
    assert.equal(inputAt('c5'), 2, 'a cursor inside a table: the next one');
    assert.equal(inputAt('c'), 2, 'a cursor at a smallest key: the next one (smallest > cursor)');
    assert.equal(inputAt('d\xff'), 2, 'a cursor in a gap');
    assert.equal(inputAt('h'), 0, 'after the last: wraps');
    assert.equal(inputAt('\xff'), 0, 'past everything: wraps');
    assert.equal(inputAt(''), 0, 'before everything');
    // Recording each pick's largest key as the cursor visits every table in turn.
    const cursors = new Map<number, string>();
    const visited: number[] = [];
    for (let i = 0; i < 9; i++) {
      const pick = mustPick([[], l1], cursors);
      visited.push(l1.indexOf(pick.inputs[0]!));
      cursors.set(1, pick.inputs[0]!.largest);
    }
    assert.deepEqual(visited, [0, 1, 2, 3, 0, 1, 2, 3, 0], 'round robin');
    // Cursors of other levels do not matter.
    assert.equal(mustPick([[], l1], new Map([[2, 'b']])).inputs[0], l1[0], 'cursor of another level');
  });

  it('decides bottommost over the combined range of inputs and overlapping tables', () => {
    const l1 = [table('a', 'a1', 60), table('c', 'd', 60)];
    const l2 = [table('b', 'e')];
    // The cursor takes L1's second table, [c, d]; the L2 table widens the range to [b, e].
    const pickWith = (l3: TableMeta[]): CompactionPick => mustPick([[], l1, l2, l3], new Map([[1, 'a1']]));
    assert.equal(pickWith([]).bottommost, true, 'nothing in L3');
    assert.equal(pickWith([table('f', 'g')]).bottommost, true, 'L3 beside the range');
    assert.equal(pickWith([table('c1', 'c2')]).bottommost, false, 'L3 inside the input range');
    assert.equal(
      pickWith([table('b0', 'b1')]).bottommost,
      false,
      "L3 only within the L2 table's wider range",
    );
    assert.equal(pickWith([table('0', 'b')]).bottommost, false, 'touching at the first key (inclusive)');
    assert.equal(pickWith([table('e', 'z')]).bottommost, false, 'touching at the last key (inclusive)');
    const pick = pickWith([]);
    assert.deepEqual(files(pick.inputs), files([l1[1]!]), 'the second table of L1');
    assert.deepEqual(files(pick.overlapping), files(l2), 'the L2 table overlaps [c, d]');
    assert.equal(pick.trivialMove, false, 'overlap: no trivial move');
    const first = mustPick([[], l1, l2, [table('a', 'a1')]]);
    assert.deepEqual(files(first.inputs), files([l1[0]!]), 'no cursor: the first table of L1');
    assert.deepEqual(first.overlapping, [], 'nothing in L2 overlaps [a, a1]');
    assert.equal(first.bottommost, false, 'L3 holds [a, a1]');
    assert.equal(first.trivialMove, true, 'one table, nothing overlapping, 10 bytes below');
  });

  it('moves one table down only when nothing overlaps and grandparent overlap is bounded', () => {
    const l1 = [table('c', 'd', 120)];
    const small = mustPick([[], l1, [table('a', 'b'), table('e', 'f')], [table('c', 'd', 100)]]);
    assert.equal(small.trivialMove, true, '100 bytes of grandparents: 10 × target, still allowed');
    assert.equal(small.bottommost, false, 'the grandparent overlaps');
    const big = mustPick([[], l1, [], [table('c', 'c5', 60), table('c6', 'd', 41)]]);
    assert.equal(big.trivialMove, false, '101 bytes of grandparents: rewrite instead');
    const last = mustPick([[], [], [table('a', 'z', 1500)], []]);
    assert.equal(last.outputLevel, 3, 'into the last level');
    assert.equal(last.trivialMove, true, 'no grandparents below the last level');
    assert.equal(last.bottommost, true, 'the last level is the bottom');
  });

  it('asserts that levels below L0 are sorted and disjoint', () => {
    assert.throws(
      () => pickCompaction([[], [table('c', 'd'), table('a', 'b')]], O),
      isAssertion,
      'out of order',
    );
    assert.throws(
      () => pickCompaction([[], [table('a', 'c'), table('c', 'd')]], O),
      isAssertion,
      'shared key',
    );
    assert.throws(() => pickCompaction([[], [table('b', 'a')]], O), isAssertion, 'smallest > largest');
  });
});

describe('overlappingTables', () => {
  it('finds the tables whose inclusive range overlaps, by binary search', () => {
    const level = [table('b', 'c'), table('e', 'f'), table('h', 'h'), table('j', 'm')];
    const found = (lo: string, hi: string): number[] =>
      files(overlappingTables(level, lo, hi)).map((f) => files(level).indexOf(f));
    assert.deepEqual(found('a', 'a'), [], 'before everything');
    assert.deepEqual(found('n', 'z'), [], 'after everything');
    assert.deepEqual(found('d', 'd\xff'), [], 'in a gap');
    assert.deepEqual(found('a', 'b'), [0], 'touching the first key');
    assert.deepEqual(found('c', 'e'), [0, 1], 'touching both ends');
    assert.deepEqual(found('h', 'h'), [2], 'a one-key table, one-key range');
    assert.deepEqual(found('b1', 'b2'), [0], 'inside one table');
    assert.deepEqual(found('', '\xff'), [0, 1, 2, 3], 'everything');
    assert.deepEqual(overlappingTables([], 'a', 'z'), [], 'empty level');
    assert.throws(() => overlappingTables(level, 'b', 'a'), isAssertion, 'smallest > largest');
  });

  it('matches a linear filter on random layouts', () => {
    const rnd = new SeededRandom(seedFor(941));
    const key = (): string => String.fromCharCode(0x61 + rnd.int(26), 0x61 + rnd.int(26));
    for (let round = 0; round < 200; round++) {
      const bounds = [...new Set(Array.from({ length: 2 * rnd.int(12) }, key))].sort();
      const level: TableMeta[] = [];
      for (let i = 0; i + 1 < bounds.length; i += 2)
        level.push(table(bounds[i]!, rnd.bool(0.2) ? bounds[i]! : bounds[i + 1]!));
      for (let q = 0; q < 20; q++) {
        const [lo, hi] = [key(), key()].sort() as [string, string];
        assert.deepEqual(
          files(overlappingTables(level, lo, hi)),
          files(level.filter((t) => t.largest >= lo && t.smallest <= hi)),
          `round ${round} [${lo}, ${hi}]`,
        );
      }
    }
  });

  it('has an L0 variant for overlapping, unsorted tables that keeps their order', () => {
    const l0 = [table('m', 'p'), table('a', 'z'), table('q', 'r'), table('b', 'c'), table('n', 'o')];
    assert.deepEqual(
      files(overlappingTablesUnsorted(l0, 'c', 'n')),
      files([l0[0]!, l0[1]!, l0[3]!, l0[4]!]),
      'filter',
    );
    assert.deepEqual(overlappingTablesUnsorted(l0, '\xff', '\xff'), [], 'none');
  });
});

describe('OutputSplitter', () => {
  it('never cuts between two versions of one key', () => {
    const splitter = new OutputSplitter([], O);
    assert.equal(splitter.shouldCut('a', 'a', 10 ** 9), false, 'same key, far past the target');
    assert.equal(splitter.shouldCut('a', 'a', 10 ** 9), false, 'still the same key');
    assert.equal(splitter.shouldCut('a', 'b', 10 ** 9), true, 'at the next key');
  });

  it('cuts at the first key boundary once the table reaches the target size', () => {
    const splitter = new OutputSplitter([], O);
    const cuts: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 40; i++) {
      bytes += 3;
      const cut = splitter.shouldCut(
        `k${String(i).padStart(2, '0')}`,
        `k${String(i + 1).padStart(2, '0')}`,
        bytes,
      );
      if (cut) {
        cuts.push(i);
        bytes = 0;
      }
    }
    assert.deepEqual(cuts, [3, 7, 11, 15, 19, 23, 27, 31, 35, 39], 'every 4th key: 12 bytes >= 10');
  });

  it('cuts once the output has passed more than 10 × target bytes of grandparents', () => {
    // Grandparents of 30 bytes each: [g00, g00z], [g01, g01z], ...; the output's keys walk past them.
    const grandparents = Array.from({ length: 12 }, (_, i) =>
      table(`g${i < 10 ? '0' : ''}${i}`, `g${i < 10 ? '0' : ''}${i}z`, 30),
    );
    const splitter = new OutputSplitter(grandparents, O);
    const keys = Array.from({ length: 12 }, (_, i) => `g${i < 10 ? '0' : ''}${i}m`);
    const cuts: string[] = [];
    for (let i = 0; i + 1 < keys.length; i++)
      if (splitter.shouldCut(keys[i]!, keys[i + 1]!, 1)) cuts.push(keys[i + 1]!);
    // Starting in g00, each step passes one grandparent: 30, 60, 90, 120 > 100 at the 4th step.
    assert.deepEqual(cuts, ['g04m', 'g08m'], 'cut after four grandparents passed, then counted afresh');
  });

  it('does not count grandparents before the first key, nor cut inside a key for them', () => {
    const grandparents = [table('a', 'a1', 500), table('b', 'b1', 500), table('c', 'c1', 5)];
    const splitter = new OutputSplitter(grandparents, O);
    assert.equal(splitter.shouldCut('b2', 'b3', 1), false, 'a and b end before the first key');
    const late = new OutputSplitter(grandparents, O);
    assert.equal(late.shouldCut('a0', 'a0', 1), false, 'the same key: no cut');
    assert.equal(late.shouldCut('a0', 'b5', 1), true, 'past 1000 bytes of grandparents at the next key');
    assert.equal(late.shouldCut('b5', 'c5', 1), false, 'counted afresh: 5 bytes');
  });

  it('asserts keys in order', () => {
    const splitter = new OutputSplitter([], O);
    assert.throws(() => splitter.shouldCut('b', 'a', 1), isAssertion, 'next before current');
    splitter.shouldCut('m', 'n', 1);
    assert.throws(() => splitter.shouldCut('c', 'd', 1), isAssertion, 'went back');
    assert.throws(
      () => new OutputSplitter([table('c', 'd'), table('a', 'b')], O),
      isAssertion,
      'unsorted grandparents',
    );
  });

  it('on random streams: never inside a key, always at the first boundary past the target', () => {
    const rnd = new SeededRandom(seedFor(951));
    for (let round = 0; round < 100; round++) {
      const keys: string[] = [];
      for (let k = 0; k < 200; k++) {
        const versions = 1 + rnd.int(rnd.bool(0.1) ? 30 : 3);
        for (let i = 0; i < versions; i++) keys.push(`k${String(k).padStart(4, '0')}`);
      }
      const grandparents: TableMeta[] = [];
      for (let g = 0; g < 300; g += 1 + rnd.int(20)) {
        grandparents.push(
          table(`k${String(g).padStart(4, '0')}`, `k${String(g).padStart(4, '0')}x`, rnd.int(40)),
        );
      }
      const splitter = new OutputSplitter(grandparents, O);
      let bytes = 0;
      for (let i = 0; i + 1 < keys.length; i++) {
        bytes += 1 + rnd.int(4);
        const [current, next] = [keys[i]!, keys[i + 1]!];
        const cut = splitter.shouldCut(current, next, bytes);
        if (current === next) assert.equal(cut, false, `round ${round}: cut inside ${current}`);
        else if (bytes >= O.tableTargetBytes)
          assert.equal(cut, true, `round ${round}: no cut at ${bytes} bytes`);
        if (cut) bytes = 0;
      }
    }
  });
});

/**
 * A simulated tree: flushes of random key ranges into L0, then compactions as picked until none
 * is due. A table's keys are kept beside it; a compaction merges its tables' keys and cuts the
 * output with OutputSplitter (one byte per key). Checks: every key flushed is still in the tree,
 * levels below L0 stay sorted and disjoint (pickCompaction asserts it), output tables respect the
 * target size, every level ends within budget, and bottommost picks have nothing below.
 */
describe('a simulated tree', () => {
  it('flushes and compacts until it settles, keeping every key and every invariant', () => {
    const rnd = new SeededRandom(seedFor(961));
    const options: LevelOptions = { ...O, levelBaseBytes: 200 };
    const keysOf = new Map<number, string[]>();
    const makeTable = (keys: string[]): TableMeta => {
      const t: TableMeta = {
        fileNumber: nextFile++,
        size: keys.length,
        smallest: keys[0]!,
        largest: keys[keys.length - 1]!,
        minVersion: 1,
        maxVersion: 1,
        entries: keys.length,
      };
      keysOf.set(t.fileNumber, keys);
      return t;
    };
    const levels: TableMeta[][] = [[], [], [], []];
    const cursors = new Map<number, string>();
    const flushed = new Set<string>();
    let compactions = 0;
    let trivialMoves = 0;

    const compactOnce = (): boolean => {
      const pick = pickCompaction(levels, options, cursors);
      if (pick === undefined) return false;
      compactions++;
      const { level, outputLevel } = pick;
      if (pick.bottommost) {
        const all = [...pick.inputs, ...pick.overlapping];
        const lo = all.reduce((m, t) => (t.smallest < m ? t.smallest : m), all[0]!.smallest);
        const hi = all.reduce((m, t) => (t.largest > m ? t.largest : m), all[0]!.largest);
        for (let below = outputLevel + 1; below < levels.length; below++)
          assert.deepEqual(overlappingTables(levels[below]!, lo, hi), [], 'bottommost: nothing below');
      }
      if (level > 0) cursors.set(level, pick.inputs[0]!.largest);
      levels[level] = levels[level]!.filter((t) => !pick.inputs.includes(t));
      if (pick.trivialMove) {
        trivialMoves++;
        levels[outputLevel] = [...levels[outputLevel]!, ...pick.inputs].sort((a, b) =>
          a.smallest < b.smallest ? -1 : 1,
        );
        return true;
      }
      const merged = [
        ...new Set([...pick.inputs, ...pick.overlapping].flatMap((t) => keysOf.get(t.fileNumber)!)),
      ].sort();
      const splitter = new OutputSplitter(levels[outputLevel + 1] ?? [], options);
      const outputs: TableMeta[] = [];
      let current: string[] = [];
      for (let i = 0; i < merged.length; i++) {
        current.push(merged[i]!);
        const next = merged[i + 1];
        if (next === undefined || splitter.shouldCut(merged[i]!, next, current.length)) {
          assert.ok(current.length <= options.tableTargetBytes, 'output table within the target');
          outputs.push(makeTable(current));
          current = [];
        }
      }
      levels[outputLevel] = [
        ...levels[outputLevel]!.filter((t) => !pick.overlapping.includes(t)),
        ...outputs,
      ].sort((a, b) => (a.smallest < b.smallest ? -1 : 1));
      return true;
    };

    for (let flush = 0; flush < 120; flush++) {
      const start = rnd.int(900);
      const keys = [
        ...new Set(
          Array.from({ length: 5 + rnd.int(20) }, () => `k${String(start + rnd.int(100)).padStart(4, '0')}`),
        ),
      ].sort();
      for (const k of keys) flushed.add(k);
      levels[0]!.unshift(makeTable(keys));
      // Compact a little after each flush, as a background compactor would.
      for (let i = 0; i < 2 && compactOnce(); i++);
    }
    let settle = 0;
    while (compactOnce()) assert.ok(++settle < 1000, 'settles');

    const present = new Set(levels.flat().flatMap((t) => keysOf.get(t.fileNumber)!));
    assert.deepEqual([...present].sort(), [...flushed].sort(), 'every flushed key is still in the tree');
    const scores = levelScores(levels, options);
    assert.ok(
      scores.every((s) => s < 1),
      `settled: scores ${scores.join(', ')}`,
    );
    assert.ok(compactions > 50, `${compactions} compactions`);
    assert.ok(trivialMoves > 0, `${trivialMoves} trivial moves`);
  });
});

describe('pickGarbageCompaction', () => {
  it('rewrites the first table holding garbage into the next level, never as a trivial move', () => {
    const l1 = [table('a', 'c'), table('d', 'f')];
    const l2 = [table('a', 'b'), table('e', 'g')];
    const levels = [[], l1, l2, []];
    const holds = new Set([l1[1]!.fileNumber]);
    const pick = pickGarbageCompaction(levels, O, (t) => holds.has(t.fileNumber));
    assert.ok(pick !== undefined);
    assert.equal(pick.level, 1);
    assert.equal(pick.outputLevel, 2);
    assert.deepEqual(files(pick.inputs), [l1[1]!.fileNumber]);
    assert.deepEqual(files(pick.overlapping), [l2[1]!.fileNumber]);
    assert.equal(pick.trivialMove, false);
    assert.equal(
      pickGarbageCompaction(levels, O, () => false),
      undefined,
      'nothing to collect',
    );
    const l0 = [table('a', 'z'), table('b', 'c')];
    const fromL0 = pickGarbageCompaction([l0, [], [], []], O, (t) => t.fileNumber === l0[1]!.fileNumber);
    assert.deepEqual(files(fromL0!.inputs), files(l0), 'L0 goes whole');
    const last = [table('a', 'b')];
    assert.equal(
      pickGarbageCompaction([[], [], [], last], O, () => true),
      undefined,
      'the last level stays',
    );
  });
});
