/**
 * Random key histories for the log-structured tree's tests: internal-order streams of
 * TableEntry with globally unique versions, split into sources the way the tree holds them
 * (newer versions of a key in higher sources).
 */
import type { SeededRandom } from '../../src/base/index.js';
import type { TableEntry } from '../../src/format/index.js';

/** Byte-string keys from a small alphabet (including 0x00 and 0xff), so prefixes collide. */
export function randomKey(rnd: SeededRandom, lengthMax = 4): string {
  const alphabet = [0x00, 0x01, 0x41, 0x61, 0x7f, 0x80, 0xff];
  const length = 1 + rnd.int(lengthMax);
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(rnd.pick(alphabet));
  return s;
}

/** Internal order: key ascending, then version descending. */
export function compareInternal(a: TableEntry, b: TableEntry): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return b.version - a.version;
}

/** Reverse scan order: key descending, versions of one key still newest first. */
export function compareReverse(a: TableEntry, b: TableEntry): number {
  if (a.key !== b.key) return a.key < b.key ? 1 : -1;
  return b.version - a.version;
}

export interface HistoryOptions {
  keys: number;
  /** Versions per key: 1 + int(versionsMax). */
  versionsMax: number;
  tombstoneChance: number;
  /** Timestamps non-decreasing with version (as the commit runtime assigns them) or arbitrary. */
  monotonicTimestamps: boolean;
}

/**
 * Every version of `keys` random keys, in internal order. Versions are unique across keys and
 * assigned in random commit order; timestamps either follow versions (non-decreasing, with ties)
 * or are arbitrary.
 */
export function randomHistory(rnd: SeededRandom, o: HistoryOptions): TableEntry[] {
  const keySet = new Set<string>();
  while (keySet.size < o.keys) keySet.add(randomKey(rnd));
  // One commit sequence over all keys, so versions interleave between keys.
  const writes: string[] = [];
  for (const key of keySet) {
    const n = 1 + rnd.int(o.versionsMax);
    for (let i = 0; i < n; i++) writes.push(key);
  }
  for (let i = writes.length - 1; i > 0; i--) {
    const j = rnd.int(i + 1);
    [writes[i], writes[j]] = [writes[j]!, writes[i]!];
  }
  const out: TableEntry[] = [];
  let version = rnd.int(5);
  let timestamp = 1000;
  for (const key of writes) {
    version += 1 + rnd.int(3);
    if (rnd.bool(0.6)) timestamp += rnd.int(4);
    const value = rnd.bool(o.tombstoneChance) ? null : Uint8Array.of(version & 0xff);
    out.push({ key, version, timestamp: o.monotonicTimestamps ? timestamp : 1000 + rnd.int(40), value });
  }
  return out.sort(compareInternal);
}

/** The entries grouped by key, each group newest first, keys in the stream's order. */
export function byKey(entries: readonly TableEntry[]): Map<string, TableEntry[]> {
  const out = new Map<string, TableEntry[]>();
  for (const e of entries) {
    const list = out.get(e.key);
    if (list === undefined) out.set(e.key, [e]);
    else list.push(e);
  }
  return out;
}

/**
 * Deals each key's versions (newest first) into `count` sources as the tree holds them: source i
 * gets a run of consecutive versions, every one newer than any of that key in source j > i.
 * Some runs are empty. Each source stays in internal order.
 */
export function splitByAge(rnd: SeededRandom, entries: readonly TableEntry[], count: number): TableEntry[][] {
  const sources: TableEntry[][] = Array.from({ length: count }, () => []);
  for (const versions of byKey(entries).values()) {
    // Cut points: sorted random positions in [0, versions.length].
    const cuts = Array.from({ length: count - 1 }, () => rnd.int(versions.length + 1)).sort((a, b) => a - b);
    let from = 0;
    for (let s = 0; s < count; s++) {
      const to = s < count - 1 ? cuts[s]! : versions.length;
      for (let i = from; i < to; i++) sources[s]!.push(versions[i]!);
      from = to;
    }
  }
  for (const s of sources) s.sort(compareInternal);
  return sources;
}

/** Deals every entry to a random source (order within each source kept). */
export function splitAtRandom(
  rnd: SeededRandom,
  entries: readonly TableEntry[],
  count: number,
): TableEntry[][] {
  const sources: TableEntry[][] = Array.from({ length: count }, () => []);
  for (const e of entries) sources[rnd.int(count)]!.push(e);
  return sources;
}

/** A short readable form of entries for assertion messages: key@version (or key@version✝). */
export function show(entries: readonly TableEntry[]): string[] {
  return entries.map((e) => `${JSON.stringify(e.key)}@${e.version}${e.value === null ? '✝' : ''}`);
}

/** The seed for a randomized test: STRATA_SEED when set, else the test's own. */
export function seedFor(own: number): number {
  const env = process.env.STRATA_SEED;
  return env === undefined ? own : Number(env) >>> 0;
}
