/**
 * Branch merges, per primitive. The storage finds what changed (Storage.prepareMerge: every row
 * whose value on the source differs from the merge base, with the base's, source's and target's
 * values, and readers of the three sides); each primitive decides what that means for its own
 * rows — KV by key, JSON by path, events appended, graph by node and edge — and the writes of
 * all of them land in one commit.
 */
import { binaryToUtf8, equalBytes } from '../base/index.js';
import type {
  MergePlan,
  MergeSide,
  MergeStrategy,
  Storage,
  StoredVersion,
  WriteOp,
} from '../storage/index.js';
import type { Reads } from './context.js';
import { KV_TAG, PRIMITIVE_OF_TAG } from './keys.js';
import { decodeStored } from './kv.js';
import type { Value } from './value-codec.js';

/** One thing changed differently on both sides since the merge base. */
export interface MergeConflictReport {
  space: string;
  /** 'kv', 'json', 'events' or 'graph'. */
  primitive: string;
  /** The KV key, document key, stream name, node id, or edge (`from -[type]-> to`). */
  key: string;
  /** For JSON: the path inside the document where the two sides disagree. */
  path?: string;
  /** Each side's value; absent where it is missing (or deleted). */
  base?: Value;
  source?: Value;
  target?: Value;
  /** Why it is a conflict, when it is not just "changed differently on both sides". */
  reason?: string;
}

export interface MergeReport {
  /** The merge commit's version; the current version when nothing needed writing or strict refused. */
  version: number;
  /** Rows written on the target. */
  applied: number;
  conflicts: MergeConflictReport[];
}

/** A row of one primitive in one space that the source changed since the base. */
export interface MergeRow {
  /** The row's key on the target (target keyspace + tag + the primitive's key). */
  key: string;
  base: Uint8Array | undefined;
  source: Uint8Array | undefined;
  target: Uint8Array | undefined;
}

/** What a primitive's merge gets: its changed rows in one space, and the three sides to read. */
export interface PrimitiveMergeInput {
  space: string;
  /** The target's keyspace (branch and space); every key below is a target key. */
  keyspace: string;
  /** In key order. */
  rows: MergeRow[];
  base: Reads;
  source: Reads;
  target: Reads;
  strategy: MergeStrategy;
}

export interface PrimitiveMergeOutput {
  ops: WriteOp[];
  /** Things merged (keys, documents, events, nodes and edges), as the report counts them. */
  applied: number;
  conflicts: MergeConflictReport[];
}

export type PrimitiveMerge = (input: PrimitiveMergeInput) => PrimitiveMergeOutput;

/** KV: by key. A key changed on both sides to different values is a conflict. */
export function mergeKv(input: PrimitiveMergeInput): PrimitiveMergeOutput {
  const out: PrimitiveMergeOutput = { ops: [], applied: 0, conflicts: [] };
  const base = input.keyspace.length + 1;
  const primitive = PRIMITIVE_OF_TAG[input.rows[0]?.key.charAt(input.keyspace.length) ?? KV_TAG] ?? 'kv';
  for (const row of input.rows) {
    if (sameBytes(row.target, row.source)) continue;
    if (!sameBytes(row.target, row.base)) {
      const key = binaryToUtf8(row.key.slice(base));
      const what = `key '${key}'`;
      out.conflicts.push({
        space: input.space,
        primitive,
        key,
        ...(row.base === undefined ? {} : { base: decodeStored(row.base, what) }),
        ...(row.source === undefined ? {} : { source: decodeStored(row.source, what) }),
        ...(row.target === undefined ? {} : { target: decodeStored(row.target, what) }),
      });
      if (input.strategy !== 'source-wins') continue;
    }
    out.ops.push({ key: row.key, value: row.source ?? null });
    out.applied++;
  }
  return out;
}

/** Whether two optional byte values are equal (both absent, or the same bytes). */
export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : equalBytes(a, b);
}

/** A merge side read as if its rows were the target's (keys are target keys). */
function sideReads(side: MergeSide, storage: Storage): Reads {
  const unversioned = (value: Uint8Array): StoredVersion => ({ version: 0, timestamp: 0, value });
  return {
    get: (key) => side.get(key.slice(4)),
    getVersioned: (key) => {
      const v = side.get(key.slice(4));
      return v === undefined ? undefined : unversioned(v);
    },
    scan: (start, end, reverse = false) => {
      const prefix = start.slice(0, 4);
      const rows: [string, StoredVersion][] = [];
      for (const [suffix, value] of side.scan(start.slice(4), end.slice(4)))
        rows.push([prefix + suffix, unversioned(value)]);
      return reverse ? rows.reverse() : rows;
    },
    // Merges read values, never histories: a side is one point, not a branch's past.
    history: () => {
      throw new Error('a merge side has no history');
    },
    now: () => storage.now(),
  };
}

/**
 * Three-way merge of branch `sourceId` into `targetId` (see Storage.prepareMerge): each
 * primitive's rows go to its merge in `merges` (by tag; KV's by key for anything unknown).
 * `strict` writes nothing when any primitive reports a conflict.
 */
export async function mergeBranches(
  storage: Storage,
  sourceId: number,
  targetId: number,
  strategy: MergeStrategy,
  merges: Readonly<Record<string, PrimitiveMerge>>,
): Promise<MergeReport> {
  const plan: MergePlan = storage.prepareMerge(sourceId, targetId);
  const sides = {
    base: sideReads(plan.base, storage),
    source: sideReads(plan.source, storage),
    target: sideReads(plan.target, storage),
  };
  const ops: WriteOp[] = [];
  const conflicts: MergeConflictReport[] = [];
  let applied = 0;
  // Candidates are in suffix order, so each (space, tag) group is one run.
  let i = 0;
  const candidates = plan.candidates;
  while (i < candidates.length) {
    const first = candidates[0 + i]!.suffix;
    const spaceLength = first.charCodeAt(0);
    const groupPrefix = first.slice(0, 2 + spaceLength);
    const rows: MergeRow[] = [];
    for (; i < candidates.length && candidates[i]!.suffix.startsWith(groupPrefix); i++) {
      const c = candidates[i]!;
      rows.push({ key: plan.targetPrefix + c.suffix, base: c.base, source: c.source, target: c.target });
    }
    const tag = groupPrefix.charAt(1 + spaceLength);
    const merge = merges[tag] ?? mergeKv;
    const r = merge({
      space: binaryToUtf8(groupPrefix.slice(1, 1 + spaceLength)),
      keyspace: plan.targetPrefix + groupPrefix.slice(0, 1 + spaceLength),
      rows,
      ...sides,
      strategy,
    });
    ops.push(...r.ops);
    conflicts.push(...r.conflicts);
    applied += r.applied;
  }
  if ((strategy === 'strict' && conflicts.length > 0) || ops.length === 0)
    return { version: storage.version, applied: 0, conflicts };
  const c = await plan.commit(ops);
  return { version: c.version, applied, conflicts };
}
