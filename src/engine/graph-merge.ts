/**
 * The graph's three-way merge, by node and by edge (docs/graph.md, "Merging branches").
 *
 * 1. Each node and each edge the source changed since the base is decided as KV decides a key:
 *    unchanged on the target → the source's version is taken; changed on the target to the same
 *    thing → nothing to do; changed differently → a conflict, resolved by the strategy
 *    ('source-wins' takes the source's, 'strict' and 'target-wins' keep the target's).
 * 2. The merged graph must have no edge whose node is missing. Two things can leave one:
 *    (a) an edge the merge takes from the source, to a node the merged graph lacks (the target
 *        deleted it), and
 *    (b) a node the merge deletes (the source deleted it) that still has edges in the merged
 *        graph (the target added them).
 *    Each such edge is a conflict with a `reason`. 'source-wins' resolves (a) by re-creating the
 *    node as the source has it and (b) by deleting the edge (the source's delete cascades);
 *    'target-wins' resolves (a) by not taking the edge and (b) by keeping the node; 'strict'
 *    writes nothing, as for any conflict.
 *
 * Neither resolution can make another dangling edge (re-creating a node or deleting an edge
 * never does; the nodes (a) re-creates are live on the source, so (b) never deletes them), so
 * one pass suffices, and every merge leaves a graph in which every edge's nodes exist.
 */
import type { WriteOp } from '../storage/index.js';
import {
  damagedRow,
  EMPTY_ROW,
  edgeName,
  GRAPH_TAG,
  IN_ROW,
  inKey,
  NODE_ROW,
  nameText,
  nodeKey,
  OUT_ROW,
  outKey,
  rangeOf,
  readThree,
  readTypeAndOther,
} from './graph-keys.js';
import { readSegment, segment } from './keys.js';
import { decodeStored } from './kv.js';
import {
  type MergeConflictReport,
  type PrimitiveMergeInput,
  type PrimitiveMergeOutput,
  sameBytes,
} from './merge.js';

type Bytes = Uint8Array | undefined;

/** One node or edge the source changed, with the three sides' rows and what the merge makes of it. */
interface Entity {
  base: Bytes;
  source: Bytes;
  target: Bytes;
  merged: Bytes;
}

interface EdgeEntity extends Entity {
  from: string;
  type: string;
  to: string;
}

/** Merges the graph rows of one space; see the file comment for the rules. */
export function mergeGraph(input: PrimitiveMergeInput): PrimitiveMergeOutput {
  const base = input.keyspace + GRAPH_TAG;
  const skip = base.length;
  const conflicts: MergeConflictReport[] = [];
  const nodes = new Map<string, Entity>();
  const edges = new Map<string, EdgeEntity>();

  const report = (key: string, e: Entity, reason?: string): void => {
    const what = `graph row '${key}'`;
    conflicts.push({
      space: input.space,
      primitive: 'graph',
      key,
      ...(e.base === undefined ? {} : { base: decodeStored(e.base, what) }),
      ...(e.source === undefined ? {} : { source: decodeStored(e.source, what) }),
      ...(e.target === undefined ? {} : { target: decodeStored(e.target, what) }),
      ...(reason === undefined ? {} : { reason }),
    });
  };

  const edgeOf = (from: string, type: string, to: string): EdgeEntity => {
    const k = outKey(base, from, type, to);
    let e = edges.get(k);
    if (e === undefined) {
      const t = input.target.get(k);
      e = { from, type, to, base: input.base.get(k), source: input.source.get(k), target: t, merged: t };
      edges.set(k, e);
    }
    return e;
  };

  // The changed entities. An edge is named by its out-row; an in-row names the same edge.
  for (const row of input.rows) {
    const kind = row.key.charAt(skip);
    if (kind === NODE_ROW) {
      const s = readSegment(row.key, skip + 1);
      if (s === undefined || s[1] !== row.key.length) throw damagedRow('a node key');
      nodes.set(s[0], { base: row.base, source: row.source, target: row.target, merged: row.target });
    } else if (kind === OUT_ROW || kind === IN_ROW) {
      const three = readThree(row.key, skip + 1);
      if (three === undefined) throw damagedRow('an edge key');
      if (kind === OUT_ROW) edgeOf(three[0], three[1], three[2]);
      else edgeOf(three[2], three[1], three[0]);
    } else {
      throw damagedRow('a graph key of unknown kind');
    }
  }

  // 1. Each entity on its own.
  const decide = (key: () => string, e: Entity): void => {
    if (sameBytes(e.target, e.source)) return;
    if (!sameBytes(e.target, e.base)) {
      report(key(), e);
      if (input.strategy !== 'source-wins') return;
    }
    e.merged = e.source;
  };
  for (const [id, e] of nodes) decide(() => nameText(id), e);
  for (const e of edges.values())
    decide(() => edgeName(nameText(e.from), nameText(e.type), nameText(e.to)), e);

  const nodeLive = (id: string): boolean => {
    const n = nodes.get(id);
    return n === undefined ? input.target.get(nodeKey(base, id)) !== undefined : n.merged !== undefined;
  };
  const nameOfEdge = (e: EdgeEntity): string => edgeName(nameText(e.from), nameText(e.type), nameText(e.to));

  const reported = new Set<EdgeEntity>();
  // 2(b). Nodes the merge deletes, with edges the merged graph still has. Their target edges are
  // read (by adjacency range, so this costs their degree); a changed edge counts as merged.
  for (const [id, n] of [...nodes]) {
    if (n.merged !== undefined || n.target === undefined) continue;
    const kept: EdgeEntity[] = [];
    for (const kind of [OUT_ROW, IN_ROW]) {
      const prefix = base + kind + segment(id);
      const r = rangeOf(prefix);
      for (const [k] of input.target.scan(r.start, r.end)) {
        const tail = readTypeAndOther(k, prefix.length);
        if (tail === undefined) throw damagedRow('an adjacency key');
        const [type, other] = tail;
        if (kind === IN_ROW && other === id) continue; // a self-loop, seen as an out-row
        const e = kind === OUT_ROW ? edgeOf(id, type, other) : edgeOf(other, type, id);
        if (e.merged !== undefined) kept.push(e);
      }
    }
    for (const e of kept) {
      // An edge between two deleted nodes is reported once.
      if (reported.has(e)) continue;
      reported.add(e);
      const resolution =
        input.strategy === 'source-wins'
          ? 'source-wins deletes the edge'
          : input.strategy === 'target-wins'
            ? 'target-wins keeps the node'
            : 'strict changes nothing';
      report(
        nameOfEdge(e),
        e,
        `node '${nameText(id)}' is deleted on the source, but the target has this edge to it; ${resolution}`,
      );
      if (input.strategy === 'source-wins') e.merged = undefined;
    }
    if (kept.length > 0 && input.strategy !== 'source-wins') n.merged = n.target;
  }

  // 2(a). Edges taken from the source whose node the merged graph lacks.
  const recreate = new Map<string, Uint8Array>();
  for (const e of [...edges.values()]) {
    if (e.merged === undefined || sameBytes(e.merged, e.target)) continue;
    const missing = [e.from, e.to].filter((id, i) => !(i === 1 && id === e.from) && !nodeLive(id));
    if (missing.length === 0) continue;
    const names = missing.map((id) => `'${nameText(id)}'`).join(' and ');
    const resolution =
      input.strategy === 'source-wins'
        ? 'source-wins re-creates it as the source has it'
        : input.strategy === 'target-wins'
          ? 'target-wins leaves the edge out'
          : 'strict changes nothing';
    report(nameOfEdge(e), e, `the edge needs node ${names}, which the target deleted; ${resolution}`);
    if (input.strategy !== 'source-wins') {
      e.merged = e.target;
      continue;
    }
    for (const id of missing) {
      const fromSource = input.source.get(nodeKey(base, id));
      // The source holds the edge, so it holds the node; without it the edge stays out.
      if (fromSource === undefined) e.merged = e.target;
      else recreate.set(id, fromSource);
    }
  }
  // Re-created after the pass, so that every edge that needed a node is reported.
  for (const [id, bytes] of recreate) {
    const n = nodes.get(id);
    if (n === undefined) {
      const k = nodeKey(base, id);
      nodes.set(id, { base: input.base.get(k), source: bytes, target: input.target.get(k), merged: bytes });
    } else n.merged = bytes;
  }

  const ops: WriteOp[] = [];
  let applied = 0;
  for (const [id, n] of nodes) {
    if (sameBytes(n.merged, n.target)) continue;
    ops.push({ key: nodeKey(base, id), value: n.merged ?? null });
    applied++;
  }
  for (const [k, e] of edges) {
    if (sameBytes(e.merged, e.target)) continue;
    ops.push({ key: k, value: e.merged ?? null });
    ops.push({ key: inKey(base, e.from, e.type, e.to), value: e.merged === undefined ? null : EMPTY_ROW });
    applied++;
  }
  return { ops, applied, conflicts };
}
