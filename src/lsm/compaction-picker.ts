/**
 * Leveled compaction, the deciding half: which tables to compact next, and where to cut the
 * output into tables. Pure functions over TableMeta; the compactor does the I/O.
 *
 * The shape follows LevelDB. L0 holds flushed tables, newest first, whose key ranges may overlap;
 * each deeper level Ln holds tables sorted by key with disjoint ranges and a byte budget ten
 * times the one above (levelMaxBytes). A level is scored by how far past its budget it is (L0 by
 * table count); the highest score >= 1 is compacted into the level below. Within Ln a cursor
 * walks the key space round-robin so every part of the level gets its turn. An L0 compaction
 * takes every L0 table: then all of L0 is merged at once, and the rule that newer data lives in
 * higher sources never has to reason about a partial L0.
 *
 * The picker assumes one compaction at a time: it does not know which tables are busy.
 */
import { assert, invalidArgument } from '../base/index.js';
import type { TableMeta } from '../format/index.js';

export interface LevelOptions {
  /** L0 is compacted at this many tables (score 1). */
  l0CompactionTrigger: number;
  /** Writes should slow down at this many L0 tables (see writeStall). */
  l0SlowdownTrigger: number;
  /** Writes should stop at this many L0 tables until a compaction catches up. */
  l0StopTrigger: number;
  /** Target size of L1; each deeper level's target is levelMultiplier times the one above. */
  levelBaseBytes: number;
  levelMultiplier: number;
  /** Number of levels, L0 included (7: L0..L6). The last one is never a compaction source. */
  levels: number;
  /** Compaction output tables are cut at about this size. */
  tableTargetBytes: number;
}

/**
 * LevelDB's and RocksDB's trigger counts and multiplier. The byte sizes are a starting point for
 * an embedded database (RocksDB uses 256 MiB and 64 MiB; LevelDB 10 MiB and 2 MiB).
 */
export const DEFAULT_LEVEL_OPTIONS: Readonly<LevelOptions> = Object.freeze({
  l0CompactionTrigger: 4,
  l0SlowdownTrigger: 8,
  l0StopTrigger: 12,
  levelBaseBytes: 64 * 1024 * 1024,
  levelMultiplier: 10,
  levels: 7,
  tableTargetBytes: 4 * 1024 * 1024,
});

/** Most levels a tree may have; more would mean absurd budgets or a bad option. */
export const LEVELS_MAX = 64;

/**
 * A compaction output is also cut once it overlaps this many times tableTargetBytes of the
 * grandparent level (LevelDB's rule), so compacting it into that level later stays bounded.
 * The same bound refuses a trivial move whose table would overlap more than that below.
 */
export const GRANDPARENT_OVERLAP_FACTOR = 10;

/**
 * Checks level options from configuration. Throws StrataError `invalid_argument` unless: the
 * triggers are integers with 1 <= compaction <= slowdown <= stop, the byte sizes are positive safe
 * integers, the multiplier is a finite number > 1, and levels is an integer in [2, LEVELS_MAX].
 */
export function validateLevelOptions(o: LevelOptions): void {
  const positiveInt = (name: string, v: number): void => {
    if (!Number.isSafeInteger(v) || v < 1)
      throw invalidArgument(`level option ${name} must be an integer >= 1`);
  };
  positiveInt('l0CompactionTrigger', o.l0CompactionTrigger);
  positiveInt('l0SlowdownTrigger', o.l0SlowdownTrigger);
  positiveInt('l0StopTrigger', o.l0StopTrigger);
  positiveInt('levelBaseBytes', o.levelBaseBytes);
  positiveInt('tableTargetBytes', o.tableTargetBytes);
  if (!(o.l0CompactionTrigger <= o.l0SlowdownTrigger && o.l0SlowdownTrigger <= o.l0StopTrigger)) {
    throw invalidArgument('level options need l0CompactionTrigger <= l0SlowdownTrigger <= l0StopTrigger');
  }
  if (!(Number.isFinite(o.levelMultiplier) && o.levelMultiplier > 1)) {
    throw invalidArgument('level option levelMultiplier must be a finite number > 1');
  }
  if (!(Number.isInteger(o.levels) && o.levels >= 2 && o.levels <= LEVELS_MAX)) {
    throw invalidArgument(`level option levels must be an integer in [2, ${LEVELS_MAX}]`);
  }
}

/**
 * The byte budget of level `level` (1 <= level < o.levels): levelBaseBytes for L1, times
 * levelMultiplier for each level below. L0 has no byte budget (it is scored by table count).
 */
export function levelMaxBytes(level: number, o: LevelOptions): number {
  assert(Number.isInteger(level) && level >= 1 && level < o.levels, `no byte budget for level ${level}`);
  return o.levelBaseBytes * o.levelMultiplier ** (level - 1);
}

/** What L0's table count means for writes: go on, slow down, or wait for a compaction. */
export function writeStall(l0TableCount: number, o: LevelOptions): 'none' | 'slowdown' | 'stop' {
  if (l0TableCount >= o.l0StopTrigger) return 'stop';
  if (l0TableCount >= o.l0SlowdownTrigger) return 'slowdown';
  return 'none';
}

export interface CompactionPick {
  /** The source level and the level the output goes to (level + 1). */
  level: number;
  outputLevel: number;
  /** Tables from `level`: for L0 every L0 table, newest first; for Ln one table. */
  inputs: TableMeta[];
  /** Tables of outputLevel whose key range overlaps the inputs' range, in key order. */
  overlapping: TableMeta[];
  /** No table in any level below outputLevel overlaps the combined range (see applyRetention). */
  bottommost: boolean;
  /**
   * Exactly one input, nothing overlapping, and it overlaps at most GRANDPARENT_OVERLAP_FACTOR ×
   * tableTargetBytes of the level below the output, so the table may simply move down (never for
   * L0 with more than one table). A trivial move rewrites nothing, so retention is not applied.
   */
  trivialMove: boolean;
  /** The source level's score (>= 1). */
  score: number;
}

/** Total size of `tables` in bytes. */
export function totalBytes(tables: readonly TableMeta[]): number {
  let sum = 0;
  for (const t of tables) sum += t.size;
  return sum;
}

/**
 * The score of each level that may be a compaction source (all but the last): L0 by table count
 * over l0CompactionTrigger, Ln by bytes over levelMaxBytes(n). Index i is level i.
 */
export function levelScores(levels: readonly (readonly TableMeta[])[], o: LevelOptions): number[] {
  assert(levels.length <= o.levels, `${levels.length} levels given, options allow ${o.levels}`);
  const scores: number[] = [];
  for (let level = 0; level < o.levels - 1; level++) {
    const tables = levels[level] ?? [];
    scores.push(
      level === 0 ? tables.length / o.l0CompactionTrigger : totalBytes(tables) / levelMaxBytes(level, o),
    );
  }
  return scores;
}

/**
 * Picks the next compaction, or undefined when no level scores >= 1.
 *
 * Requires: `levels[0]` is L0, newest first; `levels[i > 0]` sorted by smallest key with disjoint
 * ranges (asserted); levels beyond `levels.length` are empty; at most o.levels levels. `cursors`
 * maps a level to the largest key its previous compaction took (the caller records the largest
 * `largest` of the pick's inputs). Picks the level with the highest score (ties: the upper
 * level). Within Ln it takes the first table whose smallest key is past the cursor, wrapping
 * around to the first table.
 */
export function pickCompaction(
  levels: readonly (readonly TableMeta[])[],
  o: LevelOptions,
  cursors?: ReadonlyMap<number, string>,
): CompactionPick | undefined {
  for (let level = 1; level < levels.length; level++) assertSortedLevel(levels[level]!, `L${level}`);
  const scores = levelScores(levels, o);
  let level = -1;
  let score = 1;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i]! >= score && (level < 0 || scores[i]! > score)) {
      level = i;
      score = scores[i]!;
    }
  }
  if (level < 0) return undefined;

  const source = levels[level]!;
  assert(source.length > 0, 'a level that scores >= 1 has tables');
  let inputs: TableMeta[];
  if (level === 0) {
    inputs = [...source];
  } else {
    const cursor = cursors?.get(level);
    let at = 0;
    if (cursor !== undefined) {
      at = firstTableAfter(source, cursor);
      if (at === source.length) at = 0;
    }
    inputs = [source[at]!];
  }
  return pickOf(levels, o, level, inputs, score, true);
}

/**
 * A compaction that rewrites a table holding garbage (rows of deleted branches nobody can read;
 * `holdsGarbage` decides from a table's range and what is known of it), when no level needs one
 * by size. It moves the table down a level, merged with what it overlaps there, never as a
 * trivial move (the point is to rewrite it). L0 goes whole, as always. Tables in the last level
 * stay (nothing is below them to merge into).
 */
export function pickGarbageCompaction(
  levels: readonly (readonly TableMeta[])[],
  o: LevelOptions,
  holdsGarbage: (t: TableMeta, level: number) => boolean,
): CompactionPick | undefined {
  for (let level = 0; level + 1 < levels.length; level++) {
    const source = levels[level]!;
    if (level === 0) {
      if (source.some((t) => holdsGarbage(t, 0))) return pickOf(levels, o, 0, [...source], 0, false);
      continue;
    }
    const t = source.find((x) => holdsGarbage(x, level));
    if (t !== undefined) return pickOf(levels, o, level, [t], 0, false);
  }
  return undefined;
}

/** The pick that moves `inputs` from `level` into the next one. */
function pickOf(
  levels: readonly (readonly TableMeta[])[],
  o: LevelOptions,
  level: number,
  inputs: TableMeta[],
  score: number,
  mayMove: boolean,
): CompactionPick {
  const outputLevel = level + 1;
  const [smallest, largest] = rangeOf(inputs);
  const overlapping = overlappingTables(levels[outputLevel] ?? [], smallest, largest);
  const [allSmallest, allLargest] =
    overlapping.length === 0 ? [smallest, largest] : rangeOf([...inputs, ...overlapping]);
  let bottommost = true;
  for (let below = outputLevel + 1; below < levels.length && bottommost; below++) {
    if (overlappingTables(levels[below]!, allSmallest, allLargest).length > 0) bottommost = false;
  }
  let trivialMove = false;
  if (mayMove && inputs.length === 1 && overlapping.length === 0) {
    const grandparents = overlappingTables(levels[outputLevel + 1] ?? [], smallest, largest);
    trivialMove = totalBytes(grandparents) <= GRANDPARENT_OVERLAP_FACTOR * o.tableTargetBytes;
  }
  return { level, outputLevel, inputs, overlapping, bottommost, trivialMove, score };
}

/** The smallest and largest key over `tables` (not empty). */
function rangeOf(tables: readonly TableMeta[]): [string, string] {
  let smallest = tables[0]!.smallest;
  let largest = tables[0]!.largest;
  for (const t of tables) {
    if (t.smallest < smallest) smallest = t.smallest;
    if (t.largest > largest) largest = t.largest;
  }
  return [smallest, largest];
}

/** Asserts that a level below L0 is sorted by key with disjoint ranges, each range well formed. */
function assertSortedLevel(tables: readonly TableMeta[], name: string): void {
  for (let i = 0; i < tables.length; i++) {
    const t = tables[i]!;
    assert(t.smallest <= t.largest, `${name} table ${t.fileNumber}: smallest > largest`);
    if (i > 0) {
      const prev = tables[i - 1]!;
      assert(
        prev.largest < t.smallest,
        `${name} tables ${prev.fileNumber} and ${t.fileNumber} overlap or are out of order`,
      );
    }
  }
}

/** Index of the first table whose smallest key is > `key` (tables sorted, disjoint). */
function firstTableAfter(tables: readonly TableMeta[], key: string): number {
  let lo = 0;
  let hi = tables.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tables[mid]!.smallest <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The tables of a sorted level (by smallest key, disjoint ranges) whose inclusive range overlaps
 * the inclusive range [smallest, largest], in key order. Binary search, then a walk over the
 * overlapping run. Requires smallest <= largest.
 */
export function overlappingTables(
  tables: readonly TableMeta[],
  smallest: string,
  largest: string,
): TableMeta[] {
  assert(smallest <= largest, 'overlappingTables: smallest > largest');
  // First table whose largest key is >= smallest: every earlier one ends before the range.
  let lo = 0;
  let hi = tables.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tables[mid]!.largest < smallest) lo = mid + 1;
    else hi = mid;
  }
  const out: TableMeta[] = [];
  for (let i = lo; i < tables.length; i++) {
    const t = tables[i]!;
    if (t.smallest > largest) break;
    out.push(t);
  }
  return out;
}

/**
 * overlappingTables for L0, whose tables may overlap each other and are not sorted by key: a
 * linear filter that keeps the list's order (newest first).
 */
export function overlappingTablesUnsorted(
  tables: readonly TableMeta[],
  smallest: string,
  largest: string,
): TableMeta[] {
  assert(smallest <= largest, 'overlappingTablesUnsorted: smallest > largest');
  return tables.filter((t) => t.largest >= smallest && t.smallest <= largest);
}

/**
 * Where compaction output is cut into tables. The compactor calls shouldCut between every two
 * entries it writes to the current output table; when it returns true the compactor must finish
 * that table and start the next one with `nextKey`'s entry (the splitter assumes it does).
 *
 * A cut comes when the table has reached tableTargetBytes, or when it has passed over more than
 * GRANDPARENT_OVERLAP_FACTOR × tableTargetBytes of grandparent tables (the level below the output
 * level), so that compacting it into that level later stays small (LevelDB's rule). Never between
 * two versions of one key: a key lives in exactly one table of a level, which keeps the level's
 * ranges disjoint and a point read to one table per level.
 */
export class OutputSplitter {
  private readonly grandparents: readonly TableMeta[];
  private readonly tableTargetBytes: number;
  private readonly overlapBytesMax: number;
  /** The next grandparent not yet passed, and the bytes of those passed in the current output. */
  private grandparentIndex = 0;
  private overlapBytes = 0;
  private lastKey: string | undefined;

  /** `grandparents`: the tables of outputLevel + 1, sorted and disjoint (empty at the bottom). */
  constructor(grandparents: readonly TableMeta[], o: LevelOptions) {
    assertSortedLevel(grandparents, 'grandparent');
    assert(Number.isSafeInteger(o.tableTargetBytes) && o.tableTargetBytes >= 1, 'bad tableTargetBytes');
    this.grandparents = grandparents;
    this.tableTargetBytes = o.tableTargetBytes;
    this.overlapBytesMax = GRANDPARENT_OVERLAP_FACTOR * o.tableTargetBytes;
  }

  /**
   * Whether the output table holding `currentKey` (the entry just written, making it
   * `currentBytes` long) ends before `nextKey` (the next entry). Requires keys in order:
   * currentKey <= nextKey, and currentKey >= the previous call's nextKey. Returns false whenever
   * currentKey === nextKey.
   */
  shouldCut(currentKey: string, nextKey: string, currentBytes: number): boolean {
    assert(currentKey <= nextKey, 'OutputSplitter: keys out of order');
    const gps = this.grandparents;
    if (this.lastKey === undefined) {
      // The first output starts at currentKey: grandparents wholly before it are not overlapped.
      while (this.grandparentIndex < gps.length && gps[this.grandparentIndex]!.largest < currentKey) {
        this.grandparentIndex++;
      }
    } else {
      assert(currentKey >= this.lastKey, 'OutputSplitter: keys went back');
    }
    this.lastKey = nextKey;
    // Grandparents that end before nextKey are behind us: count them against the current output
    // (one lying wholly in the gap between currentKey and nextKey is counted too, as in LevelDB:
    // a slightly early cut, never a late one).
    while (this.grandparentIndex < gps.length && gps[this.grandparentIndex]!.largest < nextKey) {
      this.overlapBytes += gps[this.grandparentIndex]!.size;
      this.grandparentIndex++;
    }
    if (currentKey === nextKey) return false;
    if (currentBytes >= this.tableTargetBytes || this.overlapBytes > this.overlapBytesMax) {
      this.overlapBytes = 0;
      return true;
    }
    return false;
  }
}
