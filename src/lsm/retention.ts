/**
 * Retention: which versions a compaction may drop. The layer above (branches, snapshots, history
 * settings) decides the policy; this file only applies it to one compaction's merged stream.
 *
 * A compaction sees a band of each key's history: newer versions may sit above it (memtable,
 * younger tables) and, unless the output is the bottom, older ones below. Every rule here is
 * decided within the band and is safe for that reason:
 *
 * - `keepNewest`: the band's newest N versions include every version among the key's newest N
 *   overall that the band holds, so every read at or above the key's Nth-newest version (in
 *   version and timestamp) still finds the same entry.
 * - `dropShadowedBefore` T: a version is dropped only when a newer version in the band has a
 *   timestamp <= T. For a read at timestamp >= T whose version is at or above the key's newest
 *   version with timestamp <= T, that newer version (or a newer one still) is the answer, never the
 *   dropped one.
 * - `dropBottomTombstones` (bottom output only): once nothing older exists below, a tombstone
 *   with nothing but tombstones older than it in the output answers every read the same way as
 *   no entry at all ("absent"), so trailing tombstones go.
 *
 * test/lsm/retention.test.ts checks exactly these promises: at every promised read point, a read
 * over the retained entries equals a read over all of them.
 */
import { assert, invalidArgument } from '../base/index.js';
import type { TableEntry } from '../format/index.js';

/**
 * Which versions compaction may drop, decided by the layer above (branches, snapshots). The empty
 * object keeps every version. A version is dropped when ANY rule drops it.
 */
export interface RetentionPolicy {
  /** Keep at most the newest N versions of each key (N >= 1); tombstones count as versions. */
  keepNewest?: number;
  /**
   * Drop a version when a newer version of the same key has timestamp <= this: nobody reading at
   * or after it can see the older one. The newest version at or before this timestamp is kept.
   */
  dropShadowedBefore?: number;
  /**
   * In a compaction whose output is the bottom (no older data below): drop a tombstone that is the
   * oldest version kept for its key (repeatedly), since nothing below it can reappear.
   */
  dropBottomTombstones?: boolean;
}

const POLICY_FIELDS: ReadonlySet<string> = new Set([
  'keepNewest',
  'dropShadowedBefore',
  'dropBottomTombstones',
]);

/**
 * Checks a policy from the layer above. Throws StrataError `invalid_argument` when it is not an
 * object, names an unknown rule (a misspelt rule would otherwise silently keep everything),
 * `keepNewest` is not a safe integer >= 1, `dropShadowedBefore` is not a finite number, or
 * `dropBottomTombstones` is not a boolean. A rule set to `undefined` counts as absent.
 */
export function validateRetention(policy: RetentionPolicy): void {
  if (typeof policy !== 'object' || policy === null)
    throw invalidArgument('retention policy must be an object');
  for (const field of Object.keys(policy)) {
    if (!POLICY_FIELDS.has(field)) throw invalidArgument(`unknown retention rule '${field}'`);
  }
  const { keepNewest, dropShadowedBefore, dropBottomTombstones } = policy;
  if (keepNewest !== undefined && !(Number.isSafeInteger(keepNewest) && keepNewest >= 1)) {
    throw invalidArgument(`retention keepNewest must be an integer >= 1, got ${String(keepNewest)}`);
  }
  if (dropShadowedBefore !== undefined && !Number.isFinite(dropShadowedBefore)) {
    throw invalidArgument(
      `retention dropShadowedBefore must be a finite timestamp, got ${String(dropShadowedBefore)}`,
    );
  }
  if (dropBottomTombstones !== undefined && typeof dropBottomTombstones !== 'boolean') {
    throw invalidArgument('retention dropBottomTombstones must be a boolean');
  }
}

/**
 * What one branch's keys keep: its policy, and the points (version cap, timestamp cap) at which
 * live descendants read it. For each such point, the version visible there — the newest at or
 * below the version cap and at or before the timestamp cap — and every newer version are kept,
 * whatever the policy says, so what a branch keeps is always its newest versions without gaps.
 */
export interface BranchRetention {
  readonly policy: RetentionPolicy;
  readonly caps: readonly (readonly [number, number])[];
}

/**
 * Per branch (keyed by the 4-char branch-id prefix of storage keys), what compaction keeps;
 * branches not listed keep by the default policy with no caps. Plain data (it travels to the
 * compaction worker).
 */
export interface RetentionPlan {
  readonly branches: readonly (readonly [string, BranchRetention])[];
}

/** Whether `policy` can drop anything but tombstones at the bottom (which never changes a read). */
export function dropsVersions(policy: RetentionPolicy): boolean {
  return policy.keepNewest !== undefined || policy.dropShadowedBefore !== undefined;
}

interface Rules {
  keepNewest: number;
  shadowBefore: number;
  dropTombstones: boolean;
  caps: readonly (readonly [number, number])[];
}

/**
 * Filters one compaction's stream by `policy` (and, per branch, by `plan`). `bottommost` says the
 * output has no older data below it (CompactionPick.bottommost); only then may tombstones be
 * dropped. Every version of a key whose first GARBAGE_PREFIX_CHARS chars (its branch id) are in
 * `garbage` is dropped: the caller passes the branches nothing can read any more.
 *
 * Requires: the entries of one key contiguous, newest first (internal order, or its reverse).
 * Returns: a lazy stream of the entries kept, in the input's order. Throws: StrataError
 * `invalid_argument` at once for a bad policy; an AssertionError if a key's versions do not
 * strictly decrease. Closing it early closes `entries`. A tombstone is held back until a value
 * below it is kept (or its key ends), so entry objects must not be reused by the stream.
 */
export function applyRetention(
  entries: Iterator<TableEntry>,
  policy: RetentionPolicy,
  bottommost: boolean,
  garbage?: ReadonlySet<string>,
  plan?: RetentionPlan,
  gapless = false,
): Generator<TableEntry> {
  validateRetention(policy);
  // With `gapless`, versions are dropped only where nothing older lies below (bottommost):
  // dropping the oldest versions a compaction sees while older ones remain in a lower level
  // would leave a gap, and the tree's reads rely on a key keeping its newest versions without gaps.
  const drops = bottommost || !gapless;
  const rulesOf = (p: RetentionPolicy, caps: readonly (readonly [number, number])[]): Rules => ({
    keepNewest: drops ? (p.keepNewest ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY,
    shadowBefore: drops ? (p.dropShadowedBefore ?? Number.NEGATIVE_INFINITY) : Number.NEGATIVE_INFINITY,
    dropTombstones: bottommost && p.dropBottomTombstones === true,
    caps,
  });
  const fallback = rulesOf(policy, []);
  const byBranch = new Map<string, Rules>();
  for (const [prefix, r] of plan?.branches ?? []) {
    validateRetention(r.policy);
    byBranch.set(prefix, rulesOf(r.policy, r.caps));
  }
  return retain(
    entries,
    (key) => byBranch.get(key.slice(0, GARBAGE_PREFIX_CHARS)) ?? fallback,
    garbage !== undefined && garbage.size > 0 ? garbage : undefined,
  );
}

/** The length of the key prefix `garbage` sets and plans use: a storage key's branch id. */
export const GARBAGE_PREFIX_CHARS = 4;

function* retain(
  entries: Iterator<TableEntry>,
  rulesFor: (key: string) => Rules,
  garbage: ReadonlySet<string> | undefined,
): Generator<TableEntry> {
  // Per key: its rules, versions seen so far, whether one of them has timestamp <= shadowBefore,
  // how many caps are not yet met (entries are kept until all are), and (when dropping
  // tombstones) the kept tombstones not yet followed by a kept value.
  let key: string | undefined;
  let rules: Rules | undefined;
  let seen = 0;
  let shadowed = false;
  let prevVersion = 0;
  let garbageKey = false;
  let capsOpen = 0;
  const met: boolean[] = [];
  const heldTombstones: TableEntry[] = [];
  let done = false;
  try {
    for (;;) {
      const r = entries.next();
      if (r.done === true) break;
      const e = r.value;
      if (e.key !== key) {
        key = e.key;
        rules = rulesFor(key);
        seen = 0;
        shadowed = false;
        garbageKey = garbage?.has(key.slice(0, GARBAGE_PREFIX_CHARS)) ?? false;
        capsOpen = rules.caps.length;
        met.length = capsOpen;
        met.fill(false);
        // Trailing tombstones of the previous key: nothing older follows, so they go.
        heldTombstones.length = 0;
      } else {
        assert(
          e.version < prevVersion,
          `retention: versions of a key must decrease (${e.version} after ${prevVersion})`,
        );
      }
      prevVersion = e.version;
      // A key of a branch no one can read any more: every version goes.
      if (garbageKey) continue;
      const ru = rules!;
      // Kept for a descendant: every entry until the last cap is met, that one included.
      const protectedEntry = capsOpen > 0;
      for (let i = 0; i < ru.caps.length && capsOpen > 0; i++) {
        const cap = ru.caps[i]!;
        if (!met[i] && e.version <= cap[0] && e.timestamp <= cap[1]) {
          met[i] = true;
          capsOpen--;
        }
      }
      // Both rules only ever drop a suffix of the key's versions: once one drops, all older go.
      const drop = !protectedEntry && (seen >= ru.keepNewest || shadowed);
      seen++;
      if (e.timestamp <= ru.shadowBefore) shadowed = true;
      if (drop) continue;
      if (ru.dropTombstones && !protectedEntry) {
        if (e.value === null) {
          heldTombstones.push(e);
          continue;
        }
        // A value is kept below them, so the held tombstones hide it from older reads: keep them.
        for (let i = 0; i < heldTombstones.length; i++) yield heldTombstones[i]!;
        heldTombstones.length = 0;
      } else if (heldTombstones.length > 0) {
        for (let i = 0; i < heldTombstones.length; i++) yield heldTombstones[i]!;
        heldTombstones.length = 0;
      }
      yield e;
    }
    done = true;
  } finally {
    if (!done) entries.return?.();
  }
}
