/**
 * Retention: each rule against a brute-force model over random histories, and each rule's
 * promise — at every read point the policy still promises, a read over the retained entries (with
 * newer sources above and older ones below, as in the tree) equals a read over all entries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssertionError, isStrataError, SeededRandom } from '../../src/base/index.js';
import type { TableEntry } from '../../src/format/index.js';
import {
  applyRetention,
  mergeEntries,
  newestPerKey,
  type RetentionPolicy,
  validateRetention,
} from '../../src/lsm/index.js';
import { byKey, compareReverse, randomHistory, seedFor, show, splitByAge } from '../support/lsm-history.js';

const v = (key: string, version: number, timestamp = version * 10): TableEntry => ({
  key,
  version,
  timestamp,
  value: Uint8Array.of(version & 0xff),
});
const t = (key: string, version: number, timestamp = version * 10): TableEntry => ({
  key,
  version,
  timestamp,
  value: null,
});
const retained = (entries: readonly TableEntry[], policy: RetentionPolicy, bottommost: boolean): string[] =>
  show([...applyRetention(entries[Symbol.iterator](), policy, bottommost)]);

/**
 * The rules as the interface states them, per key (versions newest first): drop version i when
 * i >= keepNewest, or when a newer version has timestamp <= dropShadowedBefore; then, at the
 * bottom, drop kept tombstones from the oldest end while the oldest kept is a tombstone.
 */
function model(entries: readonly TableEntry[], policy: RetentionPolicy, bottommost: boolean): TableEntry[] {
  const out: TableEntry[] = [];
  for (const versions of byKey(entries).values()) {
    const kept = versions.filter((_e, i) => {
      if (policy.keepNewest !== undefined && i >= policy.keepNewest) return false;
      const shadowBefore = policy.dropShadowedBefore;
      if (shadowBefore !== undefined && versions.slice(0, i).some((newer) => newer.timestamp <= shadowBefore))
        return false;
      return true;
    });
    if (bottommost && policy.dropBottomTombstones === true) {
      while (kept.length > 0 && kept[kept.length - 1]!.value === null) kept.pop();
    }
    out.push(...kept);
  }
  return out;
}

function randomPolicy(rnd: SeededRandom, timestampMax: number): RetentionPolicy {
  const policy: RetentionPolicy = {};
  if (rnd.bool()) policy.keepNewest = 1 + rnd.int(4);
  if (rnd.bool()) policy.dropShadowedBefore = 995 + rnd.int(timestampMax - 990);
  if (rnd.bool()) policy.dropBottomTombstones = rnd.bool(0.8);
  return policy;
}

/** The visible version of each key at (atVersion, atTimestamp): tombstones read as absent. */
function read(
  sources: readonly Iterator<TableEntry>[],
  atVersion: number,
  atTimestamp: number,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of newestPerKey(mergeEntries(sources), atVersion, atTimestamp, false))
    out.set(e.key, e.version);
  return out;
}

/**
 * Whether `policy` still promises the read (atVersion, atTimestamp) of a key whose whole history
 * (every source, newest first) is `history`:
 * - keepNewest N: at or above the Nth-newest version in both version and timestamp (then the
 *   answer is among the newest N);
 * - dropShadowedBefore T: at timestamp >= T and at or above the version of the key's newest
 *   version with timestamp <= T (the one kept);
 * - dropBottomTombstones: every read (a tombstone and no entry both read as absent).
 */
function promised(
  history: readonly TableEntry[],
  policy: RetentionPolicy,
  atVersion: number,
  atTimestamp: number,
): boolean {
  const n = policy.keepNewest;
  if (n !== undefined && history.length > n) {
    const nth = history[n - 1]!;
    if (atVersion < nth.version || atTimestamp < nth.timestamp) return false;
  }
  const shadowBefore = policy.dropShadowedBefore;
  if (shadowBefore !== undefined) {
    const keptAtT = history.find((e) => e.timestamp <= shadowBefore);
    if (keptAtT !== undefined && (atTimestamp < shadowBefore || atVersion < keptAtT.version)) return false;
  }
  return true;
}

/**
 * The promise of `policies` over random histories: each key's versions are dealt into newer
 * sources above the compaction, the compaction's band, and (unless bottommost) older sources
 * below; retention filters only the band. At random read points, every key whose read the
 * policy promises reads the same over retained and all entries.
 */
function checkPromise(
  seed: number,
  policyFor: (rnd: SeededRandom, timestampMax: number) => RetentionPolicy,
): { promisedReads: number; dropped: number; differing: number } {
  const rnd = new SeededRandom(seed);
  let promisedReads = 0;
  let dropped = 0;
  let differing = 0;
  for (let round = 0; round < 150; round++) {
    const all = randomHistory(rnd, {
      keys: 1 + rnd.int(30),
      versionsMax: 1 + rnd.int(8),
      tombstoneChance: 0.3,
      monotonicTimestamps: rnd.bool(0.8),
    });
    const bottommost = rnd.bool();
    // Sources: [memtable and younger tables above..., band, older below...].
    const above = rnd.int(3);
    const below = bottommost ? 0 : 1 + rnd.int(2);
    const sources = splitByAge(rnd, all, above + 1 + below);
    const band = sources[above]!;
    const timestampMax = all.reduce((m, e) => Math.max(m, e.timestamp), 0);
    const versionMax = all.reduce((m, e) => Math.max(m, e.version), 0);
    const policy = policyFor(rnd, timestampMax);
    const kept = [...applyRetention(band[Symbol.iterator](), policy, bottommost)];
    dropped += band.length - kept.length;
    const withRetained = sources.map((s, i) => (i === above ? kept : s));
    const histories = byKey(all);
    for (let p = 0; p < 12; p++) {
      const atVersion = rnd.bool(0.2) ? Number.MAX_SAFE_INTEGER : rnd.int(versionMax + 2);
      const atTimestamp = rnd.bool(0.2) ? Number.MAX_SAFE_INTEGER : 995 + rnd.int(timestampMax - 990);
      const before = read(
        sources.map((s) => s[Symbol.iterator]()),
        atVersion,
        atTimestamp,
      );
      const after = read(
        withRetained.map((s) => s[Symbol.iterator]()),
        atVersion,
        atTimestamp,
      );
      for (const [key, history] of histories) {
        if (before.get(key) !== after.get(key)) differing++;
        if (!promised(history, policy, atVersion, atTimestamp)) continue;
        promisedReads++;
        assert.equal(
          after.get(key),
          before.get(key),
          `seed ${seed} round ${round}: ${JSON.stringify(key)} at (${atVersion}, ${atTimestamp}) with ${JSON.stringify(policy)} bottommost=${bottommost}; history ${show(history).join(' ')}; band kept ${show(kept).join(' ')}`,
        );
      }
    }
  }
  // The check must have bite: many promised reads, and many entries dropped.
  assert.ok(promisedReads > 1000, `only ${promisedReads} promised reads checked`);
  assert.ok(dropped > 100, `only ${dropped} entries dropped`);
  return { promisedReads, dropped, differing };
}

describe('validateRetention', () => {
  it('accepts good policies, the empty one included', () => {
    for (const policy of [
      {},
      { keepNewest: 1 },
      { keepNewest: 2 ** 40 },
      { dropShadowedBefore: 0 },
      { dropShadowedBefore: -5.5 },
      { dropBottomTombstones: false },
      { keepNewest: 3, dropShadowedBefore: 1_700_000_000_000, dropBottomTombstones: true },
      { keepNewest: undefined } as unknown as RetentionPolicy,
    ]) {
      validateRetention(policy);
    }
  });

  it('refuses bad numbers, bad types and unknown rules with invalid_argument, at once', () => {
    const bad: unknown[] = [
      null,
      7,
      { keepNewest: 0 },
      { keepNewest: -1 },
      { keepNewest: 1.5 },
      { keepNewest: Number.NaN },
      { keepNewest: Number.POSITIVE_INFINITY },
      { keepNewest: '2' },
      { dropShadowedBefore: Number.NaN },
      { dropShadowedBefore: Number.POSITIVE_INFINITY },
      { dropShadowedBefore: '5' },
      { dropBottomTombstones: 1 },
      { keepNewset: 2 },
    ];
    for (const policy of bad) {
      const isInvalid = (e: unknown): boolean => isStrataError(e, 'invalid_argument');
      assert.throws(() => validateRetention(policy as RetentionPolicy), isInvalid, JSON.stringify(policy));
      // applyRetention refuses before the stream is read.
      assert.throws(
        () => applyRetention([][Symbol.iterator](), policy as RetentionPolicy, true),
        isInvalid,
        `applyRetention ${JSON.stringify(policy)}`,
      );
    }
  });
});

describe('applyRetention', () => {
  const history = [v('a', 9, 90), t('a', 7, 70), v('a', 5, 50), v('a', 3, 30), t('b', 8, 80), t('b', 4, 40)];

  it('drops every version of keys whose branch prefix is garbage, and nothing else', () => {
    const g = (branch: number, key: string, version: number): TableEntry => ({
      key: `\0\0\0${String.fromCharCode(branch)}${key}`,
      version,
      timestamp: version,
      value: new Uint8Array([version]),
    });
    const entries = [g(1, 'a', 5), g(1, 'a', 3), g(2, 'a', 9), g(2, 'a', 4), g(2, 'b', 7), g(3, 'a', 8)];
    const kept = [
      ...applyRetention(entries[Symbol.iterator](), { keepNewest: 1 }, false, new Set(['\0\0\0\x02'])),
    ];
    assert.deepEqual(
      kept.map((e) => [e.key.charCodeAt(3), e.version]),
      [
        [1, 5],
        [3, 8],
      ],
    );
    const all = [...applyRetention(entries[Symbol.iterator](), {}, false, new Set())];
    assert.equal(all.length, entries.length, 'an empty garbage set drops nothing');
  });

  it('keeps everything with the empty policy, bottom or not', () => {
    assert.deepEqual(retained(history, {}, false), show(history), 'not bottom');
    assert.deepEqual(retained(history, {}, true), show(history), 'bottom: tombstones stay unless asked');
  });

  it('keepNewest keeps the newest N versions of each key, tombstones counted', () => {
    assert.deepEqual(retained(history, { keepNewest: 1 }, false), ['"a"@9', '"b"@8✝'], 'N = 1');
    assert.deepEqual(
      retained(history, { keepNewest: 2 }, false),
      ['"a"@9', '"a"@7✝', '"b"@8✝', '"b"@4✝'],
      'N = 2',
    );
    assert.deepEqual(retained(history, { keepNewest: 10 }, false), show(history), 'N above every count');
  });

  it('dropShadowedBefore keeps the newest version at or before T and everything after', () => {
    assert.deepEqual(
      retained(history, { dropShadowedBefore: 60 }, false),
      ['"a"@9', '"a"@7✝', '"a"@5', '"b"@8✝', '"b"@4✝'],
      'T = 60: a@5 is the newest at or before, a@3 goes',
    );
    assert.deepEqual(
      retained(history, { dropShadowedBefore: 50 }, false),
      ['"a"@9', '"a"@7✝', '"a"@5', '"b"@8✝', '"b"@4✝'],
      'T = 50 exactly at a@5',
    );
    assert.deepEqual(
      retained(history, { dropShadowedBefore: 29 }, false),
      show(history),
      'T before everything',
    );
    assert.deepEqual(
      retained(history, { dropShadowedBefore: 1000 }, false),
      ['"a"@9', '"b"@8✝'],
      'T after everything: only the newest of each key',
    );
  });

  it('dropBottomTombstones drops trailing tombstones, only at the bottom', () => {
    assert.deepEqual(retained(history, { dropBottomTombstones: true }, false), show(history), 'not bottom');
    assert.deepEqual(
      retained(history, { dropBottomTombstones: true }, true),
      ['"a"@9', '"a"@7✝', '"a"@5', '"a"@3'],
      'bottom: a tombstone above a value stays, b is gone',
    );
    assert.deepEqual(
      retained(history, { dropBottomTombstones: true, keepNewest: 2 }, true),
      ['"a"@9'],
      'the tombstone that becomes the oldest kept goes too',
    );
    assert.deepEqual(
      retained(
        [t('a', 5), t('a', 4), v('a', 3), t('a', 2), t('a', 1), t('c', 9)],
        { dropBottomTombstones: true },
        true,
      ),
      ['"a"@5✝', '"a"@4✝', '"a"@3'],
      'tombstones held back, then kept when a value follows',
    );
  });

  it('matches the brute-force model on random histories and policies', () => {
    const seed = seedFor(921);
    const rnd = new SeededRandom(seed);
    for (let round = 0; round < 400; round++) {
      const all = randomHistory(rnd, {
        keys: 1 + rnd.int(30),
        versionsMax: 1 + rnd.int(8),
        tombstoneChance: 0.3,
        monotonicTimestamps: rnd.bool(0.7),
      });
      const timestampMax = all.reduce((m, e) => Math.max(m, e.timestamp), 0);
      const policy = randomPolicy(rnd, timestampMax);
      const bottommost = rnd.bool();
      const reverse = rnd.bool(0.2);
      const input = reverse ? [...all].sort(compareReverse) : all;
      assert.deepEqual(
        retained(input, policy, bottommost),
        show(model(input, policy, bottommost)),
        `seed ${seed} round ${round}: ${JSON.stringify(policy)} bottommost=${bottommost} reverse=${reverse}`,
      );
    }
  });

  it('asserts when a key repeats a version or versions go up', () => {
    const isAssertion = (e: unknown): boolean => e instanceof AssertionError;
    assert.throws(() => retained([v('a', 1), v('a', 2)], {}, false), isAssertion, 'ascending');
    assert.throws(() => retained([v('a', 2), v('a', 2)], { keepNewest: 5 }, false), isAssertion, 'repeated');
  });
});

describe('retention promises: retained and full reads agree wherever the policy promises', () => {
  // Reads the policy does not promise do change (so the promise is not vacuous), except for
  // dropBottomTombstones, which changes no read at all: a tombstone and no entry both read absent.
  it('keepNewest', () => {
    const { differing } = checkPromise(seedFor(931), (rnd) => ({ keepNewest: 1 + rnd.int(4) }));
    assert.ok(differing > 0, 'some unpromised reads changed');
  });
  it('dropShadowedBefore', () => {
    const { differing } = checkPromise(seedFor(932), (rnd, timestampMax) => ({
      dropShadowedBefore: 995 + rnd.int(timestampMax - 990),
    }));
    assert.ok(differing > 0, 'some unpromised reads changed');
  });
  it('dropBottomTombstones', () => {
    const { differing } = checkPromise(seedFor(933), () => ({ dropBottomTombstones: true }));
    assert.equal(differing, 0, 'no read changed');
  });
  it('all rules together', () => {
    checkPromise(seedFor(934), (rnd, timestampMax) => ({
      keepNewest: 1 + rnd.int(4),
      dropShadowedBefore: 995 + rnd.int(timestampMax - 990),
      dropBottomTombstones: true,
    }));
  });
  it('dropping tombstones above older data would resurrect it (why bottommost matters)', () => {
    const band = [t('a', 5)];
    const below = [v('a', 1)];
    const kept = [...applyRetention(band[Symbol.iterator](), { dropBottomTombstones: true }, true)];
    assert.deepEqual(kept, [], 'told it is the bottom, the tombstone goes');
    const at = (sources: TableEntry[][]): Map<string, number> =>
      read(
        sources.map((s) => s[Symbol.iterator]()),
        9,
        1e9,
      );
    assert.deepEqual([...at([band, below])], [], 'a is deleted');
    assert.deepEqual([...at([kept, below])], [['a', 1]], 'a@1 reappears');
  });
});
