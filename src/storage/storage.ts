/**
 * L9: the only boundary the engine uses. Keys and bytes in, keys and bytes out; versions,
 * timestamps, durability and recovery stay below it. Keys are storage keys (byte strings, see
 * format/internal-key.ts) built with `keyspace()`.
 */
import { equalBytes, invalidArgument, StrataError } from '../base/index.js';
import {
  type CommitOps,
  type CommitResult,
  CommitRuntime,
  type CommitRuntimeOptions,
  type Durability,
  type LifecycleState,
  type RecoveryReport,
} from '../commit/index.js';
import type { TableEntry } from '../format/index.js';
import {
  BRANCH_RECORD_END,
  BRANCH_RECORD_PREFIX,
  branchRecordKey,
  decodeBranchRecord,
  decodeMergeRecord,
  encodeBranchRecord,
  encodeMergeRecord,
  keyspacePrefix,
  MAIN_BRANCH_ID,
  mergeRecordKey,
  SYSTEM_BRANCH_ID,
  type WriteOp,
} from '../format/index.js';
import { dropsVersions, type Found, type RetentionPolicy, type TreeStats } from '../lsm/index.js';
import {
  type AncestorLink,
  type BranchInfo,
  BranchRegistry,
  branchIdOf,
  branchKeyPrefix,
  checkBranchName,
} from '../mvcc/index.js';

export {
  type CompactionOffload,
  type LsmTuning,
  MEMORY_BUDGET_BYTES_DEFAULT,
  type RetentionPolicy,
  type TreeStats,
  treeSizing,
  validateRetention,
} from '../lsm/index.js';

export type { BranchInfo } from '../mvcc/index.js';
export type { CommitOps, CommitResult, Durability, LifecycleState, RecoveryReport, WriteOp };
export { MAIN_BRANCH_ID };

/** A point in history: a version, or a wall-clock timestamp in milliseconds. */
export type ReadPoint = { version: number } | { timestamp: number };

/**
 * The read point "the newest state, pending commits included": what a batch built at the moment
 * its commit is ordered (Storage.commit with a function) reads. Only valid inside such a build.
 */
export const HEAD: ReadPoint = Object.freeze({ version: Number.MAX_SAFE_INTEGER });

/** One stored version of a key; `value === null` is a delete (tombstone). */
export interface StoredVersion {
  version: number;
  timestamp: number;
  value: Uint8Array | null;
}

/** A version in a key's history, with the branch that wrote it (an ancestor, for inherited rows). */
export interface HistoryVersion extends StoredVersion {
  branch: string;
}

/** A key that differs between two read points (see Storage.diff); `key` is the part after the range's base. */
export interface DiffEntry {
  key: string;
  /** Newest version on the first side, undefined when the key is absent (or deleted) there. */
  from: StoredVersion | undefined;
  to: StoredVersion | undefined;
}

export type MergeStrategy = 'strict' | 'source-wins' | 'target-wins';

/** A key whose live value on the merge source differs from the base's (values undefined when absent). */
export interface MergeCandidate {
  /** The storage key's part after the branch id: space length, space, tag, key. */
  suffix: string;
  base: Uint8Array | undefined;
  source: Uint8Array | undefined;
  target: Uint8Array | undefined;
}

/** One side of a merge (base, source or target), read by key suffix. */
export interface MergeSide {
  get(suffix: string): Uint8Array | undefined;
  /** Live keys of `[start, end)` (suffixes) in order, with their values. */
  scan(start: string, end: string): Generator<[string, Uint8Array]>;
}

/** What Storage.prepareMerge found: see there. */
export interface MergePlan {
  /** The target branch's key prefix: a written key is targetPrefix + suffix. */
  targetPrefix: string;
  /** In suffix order. */
  candidates: MergeCandidate[];
  base: MergeSide;
  source: MergeSide;
  target: MergeSide;
  /** Commits `ops` (target keys) with the merge record, as one commit. */
  commit(ops: readonly WriteOp[]): Promise<CommitResult>;
}

/** What a side of a diff or merge reads: a branch walk and a read point. */
interface Side {
  chain: readonly AncestorLink[];
  r: Resolved;
}

/**
 * Whether `policy` may have dropped versions older than `kept` (a key's kept versions, newest
 * first): it keeps the newest versions without gaps, so only when it kept as many as it keeps, or
 * the oldest kept is old enough to shadow older ones.
 */
function mayHaveDropped(policy: RetentionPolicy, kept: readonly Found[]): boolean {
  if (kept.length === 0) return false;
  const oldest = kept[kept.length - 1]!;
  return (
    (policy.keepNewest !== undefined && kept.length >= policy.keepNewest) ||
    (policy.dropShadowedBefore !== undefined && oldest.timestamp <= policy.dropShadowedBefore)
  );
}

function liveValue(e: Found | undefined): Uint8Array | undefined {
  return e === undefined || e.value === null ? undefined : e.value;
}

function sameValue(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : equalBytes(a, b);
}

/** Whether a storage key (or keyspace) belongs to main, whose reads walk no ancestry. */
function isMainKey(k: string): boolean {
  return (
    k.charCodeAt(3) === MAIN_BRANCH_ID &&
    k.charCodeAt(2) === 0 &&
    k.charCodeAt(1) === 0 &&
    k.charCodeAt(0) === 0
  );
}

/**
 * Where two walks meet: the index in each of their lowest common ancestor (main, at the latest,
 * is in every walk).
 */
function commonAncestor(a: readonly AncestorLink[], b: readonly AncestorLink[]): [number, number] {
  const inB = new Map(b.map((l, i) => [l.id, i]));
  let ia = a.findIndex((l) => inB.has(l.id));
  if (ia < 0) ia = a.length - 1;
  return [ia, inB.get(a[ia]!.id) ?? b.length - 1];
}

/** Appends `value` to the list under `key`, creating it. */
function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** The upper bound of every storage key of one branch (no UTF-8 byte, and so no space name, is 0xff). */
const BRANCH_END_SUFFIX = '\xff\xff';

export interface ScanOptions {
  /** First storage key, inclusive. */
  start?: string;
  /** Storage key to stop before, exclusive. */
  end?: string;
  reverse?: boolean;
  at?: ReadPoint;
}

export interface StorageOptions extends CommitRuntimeOptions {
  /** Retention per branch name, overriding `retention` (the database's default) for that branch. */
  branchRetention?: Readonly<Record<string, RetentionPolicy>>;
}

/** Resolved read point: a version cap and an optional timestamp cap. */
interface Resolved {
  version: number;
  timestamp: number;
}

function toStored(e: Found): StoredVersion {
  return { version: e.version, timestamp: e.timestamp, value: e.value };
}

/** Reads a branch record row, or fails the open: a damaged record is corruption. */
function branchInfoOf(e: TableEntry): BranchInfo | undefined {
  if (e.value === null) return undefined;
  const d = decodeBranchRecord(e.value);
  if (!d.ok) throw new StrataError('corruption', `a branch record is damaged (${d.reason} at byte ${d.at})`);
  return { record: d.value, createdVersion: e.version, createdAt: e.timestamp };
}

export class Storage {
  /** Per branch id: the retention policy, where it drops versions (see refreshRetention). */
  private dropping = new Map<number, RetentionPolicy>();
  /**
   * Per branch id: the read points (`version:timestamp`) live descendants read it at that were
   * kept from the moment they were first read (forks made at the newest version): reads there
   * need no check.
   */
  private protectedCaps = new Map<number, Set<string>>();
  private readonly observers = new Set<(ops: readonly WriteOp[], version: number) => void>();
  /** Caps of forks being committed: (branch id, version cap, timestamp cap) per ancestor. */
  private readonly pendingCaps: (readonly [number, number, number])[][] = [];

  private constructor(
    private readonly runtime: CommitRuntime,
    private readonly branches: BranchRegistry,
    private readonly defaultRetention: RetentionPolicy,
    private readonly branchRetention: Readonly<Record<string, RetentionPolicy>>,
  ) {}

  static async open(options: StorageOptions): Promise<Storage> {
    // Compactions wait until what they may drop (retention per branch, garbage) is known.
    const runtime = await CommitRuntime.open({ ...options, holdCompactions: true });
    try {
      const infos: BranchInfo[] = [];
      const visible = runtime.visibleVersion;
      for (const e of runtime.tree.scan(BRANCH_RECORD_PREFIX, BRANCH_RECORD_END, false, visible, Infinity)) {
        const info = branchInfoOf(e);
        if (info !== undefined) infos.push(info);
      }
      const branches = new BranchRegistry(infos);
      runtime.tree.setGarbage(branches.garbagePrefixes());
      const storage = new Storage(runtime, branches, options.retention ?? {}, options.branchRetention ?? {});
      storage.refreshRetention();
      runtime.tree.releaseCompactions();
      return storage;
    } catch (error) {
      await runtime.close().catch(() => undefined);
      throw error;
    }
  }

  // --- branches -------------------------------------------------------------------------------

  /** The live branch named `name`, or undefined. */
  branch(name: string): BranchInfo | undefined {
    return this.branches.get(name);
  }

  /** Every live branch, main first, then in creation order. */
  listBranches(): BranchInfo[] {
    this.runtime.checkReadable();
    return this.branches.list();
  }

  branchName(id: number): string {
    return this.branches.nameOf(id);
  }

  /**
   * Forks live branch `parentId` as `name`, as of `at` (default: now). Commits one branch record
   * and copies nothing. Rejects with `invalid_argument` for a bad name or point, `conflict` when
   * the name is taken, and the commit's own errors.
   */
  async fork(parentId: number, name: string, at?: ReadPoint): Promise<BranchInfo> {
    checkBranchName(name);
    const parent = this.branches.byIdOrUndefined(parentId);
    if (parent === undefined || parent.record.state !== 'live')
      throw new StrataError('not_found', `branch #${parentId} does not exist`, { committed: 'no' });
    const r = this.resolve(at);
    const record = this.branches.propose(name, parentId, r.version, r.timestamp, at === undefined);
    // The points the new branch will read its ancestors at are kept from before its record is
    // even committed, and compactions planned without them are waited for: nothing the fork
    // will see can be dropped in between.
    const pending: [number, number, number][] = this.branches
      .walk(parentId)
      .map((l) => [l.id, Math.min(l.versionCap, r.version), Math.min(l.timestampCap, r.timestamp)]);
    if (this.dropping.size > 0) {
      this.pendingCaps.push(pending);
      this.refreshRetention();
      await this.runtime.tree.compactionDone();
    }
    let created: { version: number; timestamp: number } | undefined;
    try {
      const c = await this.runtime.commit(
        [{ key: branchRecordKey(record.id), value: encodeBranchRecord(record) }],
        () => this.branches.claim(name),
      );
      created = c;
    } finally {
      this.branches.settle(record, created);
      const i = this.pendingCaps.indexOf(pending);
      if (i >= 0) this.pendingCaps.splice(i, 1);
      this.refreshRetention();
    }
    const info = this.branches.byIdOrUndefined(record.id);
    if (info === undefined) throw new StrataError('closed', 'the fork was not registered');
    return info;
  }

  /**
   * Deletes branch `name`: commits its record as deleted. Its name is free again at once; its
   * children keep reading everything they inherited (its rows stay, see docs/ARCHITECTURE.md);
   * reads and writes through the deleted branch fail with `not_found`.
   */
  async deleteBranch(name: string): Promise<{ version: number; timestamp: number }> {
    checkBranchName(name);
    if (name === 'main') throw invalidArgument('main cannot be deleted');
    const info = this.branches.get(name);
    if (info === undefined)
      throw new StrataError('not_found', `no branch named '${name}'`, { committed: 'no' });
    const id = info.record.id;
    const record = { ...info.record, state: 'deleted' as const };
    let done = false;
    try {
      const c = await this.runtime.commit(
        [{ key: branchRecordKey(id), value: encodeBranchRecord(record) }],
        () => this.branches.claimDelete(id),
      );
      done = true;
      return c;
    } finally {
      this.branches.settleDelete(id, done);
      // Its rows become garbage only once the delete is durable: a crash that lost the delete
      // would bring the branch back, and it must come back whole.
      if (done) {
        this.refreshRetention();
        this.runtime.sync().then(
          () => this.runtime.tree.setGarbage(this.branches.garbagePrefixes()),
          () => undefined,
        );
      }
    }
  }

  // --- diff and merge -------------------------------------------------------------------------

  /**
   * Keys (as suffixes after the branch id) that may differ between two sides, found without
   * reading what neither side changed: each branch's own rows below the sides' lowest common
   * ancestor, and the rows of the ancestor (and each branch above it) between the two points at
   * which the sides read it. Those spans are read by version where both sides' caps are versions
   * (tables holding only older rows are skipped); a timestamp cap makes it a full read of that
   * branch.
   */
  private changedSuffixes(
    a: Side,
    b: Side,
    start: string,
    end: string,
    known?: { a: Map<string, TableEntry>; b: Map<string, TableEntry> },
  ): Set<string> {
    const out = new Set<string>();
    const [lcaA, lcaB] = commonAncestor(a.chain, b.chain);
    const ownRows = (side: Side, upTo: number, seen: Map<string, TableEntry> | undefined): void => {
      for (let i = 0; i < upTo; i++) {
        const l = side.chain[i]!;
        for (const e of this.runtime.tree.scan(
          l.rebase(start),
          l.rebase(end),
          false,
          Math.min(side.r.version, l.versionCap),
          Math.min(side.r.timestamp, l.timestampCap),
        )) {
          const suffix = e.key.slice(4);
          out.add(suffix);
          // The side's own newest row is what the side reads for that key: no need to read it again.
          if (i === 0) seen?.set(suffix, e);
        }
      }
    };
    ownRows(a, lcaA, known?.a);
    ownRows(b, lcaB, known?.b);
    // From the common ancestor up, both walks pass the same branches; each side's caps on them
    // differ where the sides read the ancestor at different points.
    for (let k = 0; lcaA + k < a.chain.length && lcaB + k < b.chain.length; k++) {
      const la = a.chain[lcaA + k]!;
      const lb = b.chain[lcaB + k]!;
      const va = Math.min(a.r.version, la.versionCap);
      const vb = Math.min(b.r.version, lb.versionCap);
      const ta = Math.min(a.r.timestamp, la.timestampCap);
      const tb = Math.min(b.r.timestamp, lb.timestampCap);
      if (va === vb && ta === tb) continue;
      const byVersion = ta === Number.POSITIVE_INFINITY && tb === Number.POSITIVE_INFINITY;
      for (const e of this.runtime.tree.scan(
        la.rebase(start),
        la.rebase(end),
        false,
        Math.max(va, vb),
        Math.max(ta, tb),
        byVersion ? Math.min(va, vb) : 0,
      )) {
        out.add(e.key.slice(4));
      }
    }
    return out;
  }

  private side(branchKey: string, at: ReadPoint | undefined): Side {
    return { chain: this.branches.walk(branchIdOf(branchKey)), r: this.resolve(at) };
  }

  private valueAlong(side: Side, suffix: string): Found | undefined {
    return this.getAlong(side.chain, side.chain[0]!.prefix + suffix, side.r);
  }

  /**
   * The keys of range `[base, base + 0xff)` that differ between branch-of(`aBase`) at `aAt` and
   * branch-of(`bBase`) at `bAt` (`aBase` and `bBase` are the same keyspace of two branches, or of
   * one branch at two points), in key order, with both sides' newest versions. The cost follows
   * what the two sides changed since they diverged, not the size of the data.
   */
  diff(aBase: string, aAt: ReadPoint | undefined, bBase: string, bAt: ReadPoint | undefined): DiffEntry[] {
    const a = this.side(aBase, aAt);
    const b = this.side(bBase, bAt);
    const known = { a: new Map<string, TableEntry>(), b: new Map<string, TableEntry>() };
    const suffixes = [...this.changedSuffixes(a, b, aBase, `${aBase}\xff`, known)].sort();
    const skip = aBase.length - 4;
    const out: DiffEntry[] = [];
    for (const suffix of suffixes) {
      const fa = known.a.get(suffix) ?? this.valueAlong(a, suffix);
      const fb = known.b.get(suffix) ?? this.valueAlong(b, suffix);
      if (sameValue(liveValue(fa), liveValue(fb))) continue;
      out.push({
        key: suffix.slice(skip),
        from: fa === undefined || fa.value === null ? undefined : toStored(fa),
        to: fb === undefined || fb.value === null ? undefined : toStored(fb),
      });
    }
    return out;
  }

  /**
   * Prepares a three-way merge of branch `sourceId` into branch `targetId`, over every key of the
   * branches; the engine decides, per primitive, what to write (see engine/merge.ts). The base is
   * the source as of the last merge of this pair (a merge record, committed with each merge that
   * writes), or else their lowest common ancestor as of the earlier of the two points where they
   * left it. The candidates are the keys whose live value on the source differs from the base's,
   * with all three values; the sides read any other key. `commit` writes the chosen operations,
   * with the merge record, as one commit; a concurrent write to the target since the plan was
   * made fails it with `conflict` (merging again is safe).
   */
  prepareMerge(sourceId: number, targetId: number): MergePlan {
    if (sourceId === targetId) throw invalidArgument('a branch cannot be merged into itself');
    const target = this.branches.walk(targetId);
    const source = this.branches.walk(sourceId);
    const now: Resolved = this.resolve(undefined);
    const s: Side = { chain: source, r: now };
    const t: Side = { chain: target, r: now };
    const [lcaS, lcaT] = commonAncestor(source, target);
    const ls = source[lcaS]!;
    const lt = target[lcaT]!;
    const start = source[0]!.prefix;
    const end = start + BRANCH_END_SUFFIX;
    const recordKey = mergeRecordKey(targetId, sourceId);
    const last = this.runtime.tree.get(recordKey, now.version, Number.POSITIVE_INFINITY);
    let base: Side;
    let suffixes: Set<string>;
    if (last !== undefined && last.value !== null) {
      const d = decodeMergeRecord(last.value);
      if (!d.ok)
        throw new StrataError('corruption', `a merge record is damaged (${d.reason} at byte ${d.at})`);
      base = {
        chain: source,
        r: { version: Math.min(d.value.sourceVersion, now.version), timestamp: Infinity },
      };
      // Keys the source left alone since then need nothing, whatever the target did to them.
      suffixes = this.changedSuffixes(base, s, start, end);
    } else {
      base = {
        chain: this.branches.walk(ls.id, true),
        r: {
          version: Math.min(ls.versionCap, lt.versionCap, now.version),
          timestamp: Math.min(ls.timestampCap, lt.timestampCap),
        },
      };
      suffixes = new Set([
        ...this.changedSuffixes(base, s, start, end),
        ...this.changedSuffixes(base, t, start, end),
      ]);
    }
    const candidates: MergeCandidate[] = [];
    for (const suffix of [...suffixes].sort()) {
      const vb = liveValue(this.valueAlong(base, suffix));
      const vs = liveValue(this.valueAlong(s, suffix));
      if (sameValue(vs, vb)) continue;
      candidates.push({ suffix, base: vb, source: vs, target: liveValue(this.valueAlong(t, suffix)) });
    }
    const targetPrefix = target[0]!.prefix;
    const planned = now.version;
    return {
      targetPrefix,
      candidates,
      base: this.mergeSide(base),
      source: this.mergeSide(s),
      target: this.mergeSide(t),
      commit: (ops) =>
        this.commit(
          [...ops, { key: recordKey, value: encodeMergeRecord({ sourceVersion: planned }) }],
          () => {
            if (this.rangeChangedSince(targetPrefix, targetPrefix + BRANCH_END_SUFFIX, planned))
              throw new StrataError(
                'conflict',
                'the target changed while the merge was being prepared; merge again',
                { committed: 'no' },
              );
          },
        ),
    };
  }

  private mergeSide(side: Side): MergeSide {
    const prefix = side.chain[0]!.prefix;
    return {
      get: (suffix) => liveValue(this.valueAlong(side, suffix)),
      scan: function* (this: Storage, start: string, end: string) {
        for (const [k, v] of this.scanAlong(side.chain, side.r, prefix + start, prefix + end, false))
          yield [k.slice(4), v.value!] as [string, Uint8Array];
      }.bind(this),
    };
  }

  // --- retention -------------------------------------------------------------------------------

  /**
   * Recomputes what compactions keep: each branch's policy (its override by name, or the
   * database's) and the points its live descendants read it at, which are kept whatever the
   * policy. Runs at open and after every fork and delete.
   */
  private refreshRetention(): void {
    const caps = new Map<number, [number, number][]>();
    const exempt = new Map<number, string[]>();
    for (const fork of this.pendingCaps) {
      for (const [id, v, t] of fork) pushTo(caps, id, [v, t]);
    }
    for (const info of this.branches.list()) {
      const walk = this.branches.walk(info.record.id);
      // The fork whose point sets each link's cap, and whether that fork was made at the newest
      // version (then what it reads was kept from the start; a fork at a past point may read
      // versions dropped before it existed, so reads through it stay checked).
      let capFrom: BranchInfo | undefined;
      let timeCapped = false;
      let below: BranchInfo | undefined = info;
      for (let i = 1; i < walk.length; i++) {
        const l = walk[i]!;
        if (below !== undefined) {
          if (capFrom === undefined || below.record.forkVersion < capFrom.record.forkVersion) capFrom = below;
          if (below.record.forkTimestamp !== Number.POSITIVE_INFINITY) timeCapped = true;
          below = this.branches.byIdOrUndefined(below.record.parent);
        }
        pushTo(caps, l.id, [l.versionCap, l.timestampCap]);
        if (capFrom !== undefined && !timeCapped && capFrom.record.forkedAtNewest)
          pushTo(exempt, l.id, `${l.versionCap}:${l.timestampCap}`);
      }
    }
    const dropping = new Map<number, RetentionPolicy>();
    const planned: [string, { policy: RetentionPolicy; caps: [number, number][] }][] = [];
    for (const info of this.branches.all()) {
      const id = info.record.id;
      const policy =
        info.record.state === 'live'
          ? (this.branchRetention[info.record.name] ?? this.defaultRetention)
          : this.defaultRetention;
      if (dropsVersions(policy)) dropping.set(id, policy);
      const c = caps.get(id) ?? [];
      if (c.length > 0 || policy !== this.defaultRetention)
        planned.push([branchKeyPrefix(id), { policy, caps: c }]);
    }
    this.dropping = dropping;
    this.protectedCaps = new Map([...exempt].map(([id, list]) => [id, new Set(list)]));
    this.runtime.tree.setRetentionPlan(planned.length === 0 ? undefined : { branches: planned });
  }

  /**
   * A read of `linkKey` (on branch `id`) under the caps found nothing. If the branch's policy may
   * have dropped versions the caps would see, the answer "absent" may be wrong: throws
   * `history_unavailable`. A branch keeps its newest versions without gaps, the versions a live
   * descendant reads at its fork point, and everything at the newest visible version, so reads
   * at those points pass.
   */
  private checkKept(id: number, linkKey: string, versionCap: number, timestampCap: number): void {
    const policy = this.dropping.get(id);
    if (policy === undefined) return;
    const visible = this.runtime.visibleVersion;
    if (versionCap >= visible && timestampCap === Number.POSITIVE_INFINITY) return;
    if (this.protectedCaps.get(id)?.has(`${versionCap}:${timestampCap}`)) return;
    const kept = this.runtime.tree.history(linkKey, visible, Number.POSITIVE_INFINITY);
    if (mayHaveDropped(policy, kept)) {
      throw new StrataError(
        'history_unavailable',
        `that point is older than the history kept for this key (retention ${JSON.stringify(policy)}); read a newer point`,
      );
    }
  }

  /** A scan of one branch under caps, checked (see checkKept) against the keys it holds now. */
  private *checkedScan(
    id: number,
    start: string | undefined,
    end: string | undefined,
    reverse: boolean,
    versionCap: number,
    timestampCap: number,
  ): Generator<TableEntry> {
    const tree = this.runtime.tree;
    const capped = tree.scan(start, end, reverse, versionCap, timestampCap);
    const visible = this.runtime.visibleVersion;
    const exempt =
      !this.dropping.has(id) ||
      (versionCap >= visible && timestampCap === Number.POSITIVE_INFINITY) ||
      this.protectedCaps.get(id)?.has(`${versionCap}:${timestampCap}`) === true;
    if (exempt) {
      yield* capped;
      return;
    }
    const now = tree.scan(start, end, reverse, visible, Number.POSITIVE_INFINITY);
    let n = now.next();
    const before = (a: string, b: string): boolean => (reverse ? a > b : a < b);
    for (const e of capped) {
      while (!n.done && before(n.value.key, e.key)) {
        this.checkKept(id, n.value.key, versionCap, timestampCap);
        n = now.next();
      }
      if (!n.done && n.value.key === e.key) n = now.next();
      yield e;
    }
    for (; !n.done; n = now.next()) this.checkKept(id, n.value.key, versionCap, timestampCap);
  }

  /** The walk a read of `key` (any storage key or keyspace) takes, or undefined for main. */
  private chainOf(key: string): readonly AncestorLink[] | undefined {
    return isMainKey(key) ? undefined : this.branches.ancestry(branchIdOf(key));
  }

  /** The newest version of `key` along `chain` under the caps of r. */
  private getAlong(chain: readonly AncestorLink[], key: string, r: Resolved): Found | undefined {
    for (let i = 0; i < chain.length; i++) {
      const l = chain[i]!;
      const k = i === 0 ? key : l.rebase(key);
      const v = Math.min(r.version, l.versionCap);
      const t = Math.min(r.timestamp, l.timestampCap);
      const e = this.runtime.tree.get(k, v, t);
      if (e !== undefined) return e;
      if (this.dropping.size > 0) this.checkKept(l.id, k, v, t);
    }
    return undefined;
  }

  private getInAlong(
    chain: readonly AncestorLink[],
    keyspace: string,
    key: string,
    r: Resolved,
  ): Found | undefined {
    for (let i = 0; i < chain.length; i++) {
      const l = chain[i]!;
      const ks = i === 0 ? keyspace : l.rebase(keyspace, true);
      const v = Math.min(r.version, l.versionCap);
      const t = Math.min(r.timestamp, l.timestampCap);
      const e = this.runtime.tree.getIn(ks, key, v, t);
      if (e !== undefined) return e;
      if (this.dropping.size > 0) this.checkKept(l.id, ks + key, v, t);
    }
    return undefined;
  }

  get version(): number {
    return this.runtime.visibleVersion;
  }

  get durableVersion(): number {
    return this.runtime.durableVersion;
  }

  get recovery(): RecoveryReport {
    return this.runtime.recovery;
  }

  get state(): LifecycleState {
    return this.runtime.state;
  }

  get durability(): Durability {
    return this.runtime.durability;
  }

  /** The storage-key prefix of one branch and space. */
  keyspace(branchId: number, space: string): string {
    return keyspacePrefix(branchId, space);
  }

  /**
   * Turns a read point into caps. A version above the newest visible one, or a negative or
   * non-integer version, is `invalid_argument`; no point means "now".
   */
  resolve(at: ReadPoint | undefined): Resolved {
    this.runtime.checkReadable();
    const visible = this.runtime.visibleVersion;
    if (at === undefined) return { version: visible, timestamp: Number.POSITIVE_INFINITY };
    if (at === HEAD) return { version: Number.MAX_SAFE_INTEGER, timestamp: Number.POSITIVE_INFINITY };
    if ('version' in at) {
      const v = at.version;
      if (!Number.isSafeInteger(v) || v < 0)
        throw invalidArgument(`version must be a non-negative integer, got ${v}`);
      if (v > visible)
        throw invalidArgument(`version ${v} is newer than the newest visible version ${visible}`);
      return { version: v, timestamp: Number.POSITIVE_INFINITY };
    }
    const t = at.timestamp;
    if (typeof t !== 'number' || !Number.isFinite(t))
      throw invalidArgument(`timestamp must be a finite number, got ${t}`);
    return { version: visible, timestamp: t };
  }

  /** The newest version of `key` at the read point, tombstones included. */
  getv(key: string, at?: ReadPoint): StoredVersion | undefined {
    const r = this.resolve(at);
    const chain = this.chainOf(key);
    const e =
      chain === undefined ? this.runtime.tree.get(key, r.version, r.timestamp) : this.getAlong(chain, key, r);
    if (e === undefined && chain === undefined && this.dropping.size > 0)
      this.checkKept(MAIN_BRANCH_ID, key, r.version, r.timestamp);
    return e === undefined ? undefined : toStored(e);
  }

  /**
   * getv of the storage key `keyspace + key`, where `keyspace` is a primitive's keyspace prefix
   * with its tag byte (Memtable.getIn): the caller's two strings are looked up as they are, with
   * no concatenation.
   */
  getvIn(keyspace: string, key: string, at?: ReadPoint): StoredVersion | undefined {
    const r = this.resolve(at);
    const chain = this.chainOf(keyspace);
    const e =
      chain === undefined
        ? this.runtime.tree.getIn(keyspace, key, r.version, r.timestamp)
        : this.getInAlong(chain, keyspace, key, r);
    if (e === undefined && chain === undefined && this.dropping.size > 0)
      this.checkKept(MAIN_BRANCH_ID, keyspace + key, r.version, r.timestamp);
    return e === undefined ? undefined : toStored(e);
  }

  /** Fast path for the newest visible value: bytes, or undefined when missing or deleted. */
  read(key: string): Uint8Array | undefined {
    this.runtime.checkReadable();
    const chain = this.chainOf(key);
    const e =
      chain === undefined
        ? this.runtime.tree.get(key, this.runtime.visibleVersion)
        : this.getAlong(chain, key, { version: this.runtime.visibleVersion, timestamp: Infinity });
    return e === undefined || e.value === null ? undefined : e.value;
  }

  /** read of the storage key `keyspace + key`, split as for getvIn. */
  readIn(keyspace: string, key: string): Uint8Array | undefined {
    this.runtime.checkReadable();
    const chain = this.chainOf(keyspace);
    const e =
      chain === undefined
        ? this.runtime.tree.getIn(keyspace, key, this.runtime.visibleVersion)
        : this.getInAlong(chain, keyspace, key, {
            version: this.runtime.visibleVersion,
            timestamp: Infinity,
          });
    return e === undefined || e.value === null ? undefined : e.value;
  }

  /**
   * Live (not deleted) keys in order with their version at the read point. On a branch, the
   * branch's own rows and each ancestor's (under its caps) are merged by key, the nearest branch
   * winning, so a delete on the branch hides the parent's row. Bounds on a branch scan are
   * required (they name the keyspace).
   */
  *scan(options: ScanOptions = {}): Generator<[string, StoredVersion]> {
    const r = this.resolve(options.at);
    const reverse = options.reverse ?? false;
    const chain = options.start === undefined ? undefined : this.chainOf(options.start);
    if (chain === undefined) {
      const entries =
        this.dropping.size === 0 || options.start === undefined
          ? this.runtime.tree.scan(options.start, options.end, reverse, r.version, r.timestamp)
          : this.checkedScan(
              branchIdOf(options.start),
              options.start,
              options.end,
              reverse,
              r.version,
              r.timestamp,
            );
      for (const e of entries) {
        if (e.value !== null) yield [e.key, toStored(e)];
      }
      return;
    }
    const start = options.start!;
    const end = options.end;
    if (end === undefined || branchIdOf(end) !== branchIdOf(start))
      throw invalidArgument('a branch scan needs an end bound in the same branch');
    yield* this.scanAlong(chain, r, start, end, reverse);
  }

  /**
   * Live keys of `[start, end)` (keys of chain[0]'s branch) as that branch reads them along
   * `chain` under r: the branch's own rows and each ancestor's (under its caps) merged by key,
   * the nearest branch winning.
   */
  private *scanAlong(
    chain: readonly AncestorLink[],
    r: Resolved,
    start: string,
    end: string,
    reverse: boolean,
  ): Generator<[string, StoredVersion]> {
    // One cursor per branch of the walk; each step takes the smallest key (largest in reverse)
    // among the heads, from the nearest branch that has it, and moves every head at that key.
    const cursors = chain.map((l, i) =>
      this.checkedScan(
        l.id,
        i === 0 ? start : l.rebase(start),
        i === 0 ? end : l.rebase(end),
        reverse,
        Math.min(r.version, l.versionCap),
        Math.min(r.timestamp, l.timestampCap),
      ),
    );
    const heads: (TableEntry | undefined)[] = cursors.map((c) => {
      const n = c.next();
      return n.done ? undefined : n.value;
    });
    const own = chain[0]!.prefix;
    for (;;) {
      let best = -1;
      let bestRest = '';
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h === undefined) continue;
        const rest = h.key.slice(4);
        if (best < 0 || (reverse ? rest > bestRest : rest < bestRest)) {
          best = i;
          bestRest = rest;
        }
      }
      if (best < 0) return;
      const e = heads[best]!;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h !== undefined && h.key.slice(4) === bestRest) {
          const n = cursors[i]!.next();
          heads[i] = n.done ? undefined : n.value;
        }
      }
      if (e.value !== null) yield [best === 0 ? e.key : own + bestRest, toStored(e)];
    }
  }

  /** Every version of `key` at or before the read point, newest first, deletes included. */
  history(key: string, at?: ReadPoint): HistoryVersion[] {
    const r = this.resolve(at);
    const chain = this.chainOf(key);
    if (chain === undefined) {
      return this.runtime.tree
        .history(key, r.version, r.timestamp)
        .map((e) => ({ ...toStored(e), branch: 'main' }));
    }
    // A branch's own versions are all newer than its fork point, so walking up the ancestry
    // keeps newest first.
    const out: HistoryVersion[] = [];
    for (let i = 0; i < chain.length; i++) {
      const l = chain[i]!;
      const capV = Math.min(r.version, l.versionCap);
      const capT = Math.min(r.timestamp, l.timestampCap);
      const linkKey = i === 0 ? key : l.rebase(key);
      const policy = this.dropping.get(l.id);
      if (policy === undefined) {
        for (const e of this.runtime.tree.history(linkKey, capV, capT))
          out.push({ ...toStored(e), branch: l.name });
        continue;
      }
      // Everything the branch keeps, newest first; what the caps see is its tail.
      const visible = this.runtime.visibleVersion;
      const kept = this.runtime.tree.history(linkKey, visible, Number.POSITIVE_INFINITY);
      let seen = 0;
      for (const e of kept) {
        if (e.version > capV || e.timestamp > capT) continue;
        out.push({ ...toStored(e), branch: l.name });
        seen++;
      }
      // Past a branch whose older versions may have been dropped, an ancestor's versions would
      // follow a gap: history stops at what is known to be complete. With nothing under the caps,
      // the walk goes on when the caps are ones kept whole (now, or a live descendant's fork point).
      const wholeAtCaps =
        (capV >= visible && capT === Number.POSITIVE_INFINITY) ||
        this.protectedCaps.get(l.id)?.has(`${capV}:${capT}`) === true;
      if (mayHaveDropped(policy, kept) && (seen > 0 || !wholeAtCaps)) break;
    }
    return out;
  }

  /** history of the storage key `keyspace + key`, split as for getvIn. */
  historyIn(keyspace: string, key: string, at?: ReadPoint): HistoryVersion[] {
    return this.history(keyspace + key, at);
  }

  /**
   * The newest version of `key` including commits not yet visible (pending strict commits), or
   * undefined when it has none or the newest is a delete. Compare-and-set checks against this,
   * inside a `validate` callback, so that two pending writers cannot both win.
   */
  headVersion(key: string): number | undefined {
    let e = this.runtime.tree.head(key);
    if (e === undefined) {
      // Nothing of the branch's own: the inherited row, if any, is the head (an ancestor's rows
      // under the fork caps never change).
      const chain = this.chainOf(key);
      for (let i = 1; chain !== undefined && i < chain.length && e === undefined; i++) {
        const l = chain[i]!;
        e = this.runtime.tree.get(l.rebase(key), l.versionCap, l.timestampCap);
      }
    }
    return e === undefined || e.value === null ? undefined : e.version;
  }

  /**
   * Commits a batch atomically; see CommitRuntime.commit. Writes to a branch other than main are
   * checked, at the moment they commit, against the branch being live (`not_found` otherwise).
   */
  commit(ops: CommitOps, validate?: () => void): Promise<CommitResult> {
    if (typeof ops === 'function') {
      const build = ops;
      return this.runtime.commit(() => {
        const built = build();
        this.checkLive(this.branchIdsOf(built));
        return built;
      }, validate);
    }
    const ids = this.branchIdsOf(ops);
    if (ids === undefined) return this.runtime.commit(ops, validate);
    return this.runtime.commit(ops, () => {
      this.checkLive(ids);
      validate?.();
    });
  }

  /** The branches other than main (and the system keyspace) that `ops` write. */
  private branchIdsOf(ops: readonly WriteOp[]): number[] | undefined {
    let branchIds: number[] | undefined;
    for (const op of ops) {
      if (isMainKey(op.key)) continue;
      const id = branchIdOf(op.key);
      if (id === SYSTEM_BRANCH_ID) continue;
      if (branchIds === undefined) branchIds = [];
      branchIds.push(id);
    }
    return branchIds;
  }

  private checkLive(ids: readonly number[] | undefined): void {
    for (const id of ids ?? []) {
      if (!this.branches.isLive(id))
        throw new StrataError('not_found', `branch '${this.branches.nameOf(id)}' does not exist (deleted?)`, {
          committed: 'no',
        });
    }
  }

  /**
   * Whether `key`'s own branch has written it (or deleted it) after `version`, pending commits
   * included. Rows a branch inherits under its fork caps never change, so this is what a
   * transaction that read `key` at `version` must check before it commits.
   */
  changedSince(key: string, version: number): boolean {
    const e = this.runtime.tree.head(key);
    return e !== undefined && e.version > version;
  }

  /** Whether any key of `[start, end)` (one branch's keys) was written after `version`, pending commits included. */
  rangeChangedSince(start: string, end: string, version: number): boolean {
    const scan = this.runtime.tree.scan(start, end, false, Number.MAX_SAFE_INTEGER, Infinity, version);
    const first = scan.next();
    scan.return(undefined);
    return first.done !== true;
  }

  /**
   * Calls `listener` for every commit from now on, once it is ordered: its operations and the
   * version it gets, before it is applied or visible (so state derived from it can be brought up
   * to any version a reader may see). Returns the function that stops it. Listeners must not
   * throw; they cost nothing while there are none.
   */
  observeCommits(listener: (ops: readonly WriteOp[], version: number) => void): () => void {
    this.observers.add(listener);
    this.runtime.onOrdered = (ops, version) => {
      for (const l of this.observers) l(ops, version);
    };
    return () => {
      this.observers.delete(listener);
      if (this.observers.size === 0) this.runtime.onOrdered = undefined;
    };
  }

  /** Resolves once every commit ordered so far is visible (see CommitRuntime.whenCaughtUp). */
  whenCaughtUp(): Promise<void> {
    return this.runtime.whenCaughtUp();
  }

  /** The timestamp a commit made now would get (the injected clock, never behind the last commit). */
  now(): number {
    return this.runtime.now();
  }

  sync(): Promise<void> {
    return this.runtime.sync();
  }

  checkpoint(): Promise<void> {
    return this.runtime.checkpoint();
  }

  /** Waits until background flushes and compactions are done (tests and benchmarks). */
  settle(): Promise<void> {
    return this.runtime.settle();
  }

  close(): Promise<void> {
    return this.runtime.close();
  }

  stats(): StorageStats {
    const m = this.runtime.tree.active;
    return {
      state: this.runtime.state,
      durability: this.runtime.durability,
      version: this.version,
      durableVersion: this.durableVersion,
      memtable: { keys: m.keyCount, versions: m.versionCount, bytes: m.sizeBytes },
      tree: this.runtime.tree.stats(),
    };
  }
}

export interface StorageStats {
  state: LifecycleState;
  durability: Durability;
  version: number;
  durableVersion: number;
  /** The active memtable. */
  memtable: { keys: number; versions: number; bytes: number };
  /** Levels, tables, caches, background work and stalls. */
  tree: TreeStats;
}
