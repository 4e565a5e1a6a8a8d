/**
 * The graph primitive against a naive model: every branch keeps a full copy of its graph after
 * each of its commits. Random node and edge puts and deletes (cascade and refuse, edges to
 * missing nodes), some inside transactions; forks now and at past versions; neighbors,
 * traverse and shortest paths (unweighted and weighted: path lengths and costs are compared,
 * and each returned path is checked edge by edge, since several may be shortest) now and at
 * random past versions; diffs; merges between branches under each strategy, checked against
 * the model's prediction (conflicts and result) and for dangling edges; with tiny memtables
 * and tables so flushes and compactions run constantly, clean reopens and crashes of a
 * simulated disk (strict mode: everything acknowledged survives). Each seed runs with the
 * adjacency cache in one mode ('always': every read at now that can use it does; 'off'; 'auto'),
 * so the model checks both read paths; test/engine/graph-cache.test.ts compares them directly.
 *
 * Replay a seed with STRATA_SEED=<n>; STRATA_DEEP=1 runs more seeds and longer sessions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Strata } from '../../src/api/index.js';
import { type CrashModel, SimDisk } from '../../src/backend/index.js';
import { isStrataError, ManualClock, SeededRandom } from '../../src/base/index.js';
import type { Direction, Graph, Props } from '../../src/engine/index.js';
import { pathOf } from '../support/model-branch.js';
import { DEEP, seeds } from '../support/seeds.js';
import { crashAndRecover, openSim } from '../support/sim.js';

const SEEDS = seeds([21, 22, 23], [1, 2, 3, 4, 5, 6]);
const STEPS = DEEP ? 1500 : 600;
const MODELS: readonly CrashModel[] = ['strict', 'ordered', 'weak', 'hostile'];
const STRATEGIES = ['strict', 'source-wins', 'target-wins'] as const;

/** An edge's identity in the model: from, type, to joined by '|' (ids never hold one). */
const ek = (from: string, type: string, to: string): string => `${from}|${type}|${to}`;
const parts = (k: string): [string, string, string] => k.split('|') as [string, string, string];

/** A graph state: nodes and edges with their props, as JSON text (compared exactly). */
class State {
  constructor(
    readonly nodes = new Map<string, string>(),
    readonly edges = new Map<string, string>(),
  ) {}
  copy(): State {
    return new State(new Map(this.nodes), new Map(this.edges));
  }
  edgesOf(id: string): string[] {
    return [...this.edges.keys()].filter((k) => {
      const [f, , t] = parts(k);
      return f === id || t === id;
    });
  }
}

class ModelBranch {
  /** States after each commit that changed this branch's graph, oldest first. */
  readonly states: { version: number; state: State }[];
  constructor(
    readonly name: string,
    readonly parent: ModelBranch | undefined,
    readonly forkVersion: number,
    initial: State,
  ) {
    this.states = [{ version: forkVersion, state: initial }];
  }
  at(version: number): State {
    for (let i = this.states.length - 1; i >= 0; i--)
      if (this.states[i]!.version <= version) return this.states[i]!.state;
    // Before its fork, a branch reads as its parent did.
    return this.parent?.at(version) ?? new State();
  }
  get now(): State {
    return this.states[this.states.length - 1]!.state;
  }
  commit(version: number, state: State): void {
    this.states.push({ version, state });
  }
  path(): [ModelBranch, number][] {
    return pathOf<ModelBranch>(this);
  }
}

function mergeBase(a: ModelBranch, b: ModelBranch, now: number): State {
  const pb = new Map(b.path());
  for (const [x, capA] of a.path()) {
    const capB = pb.get(x);
    if (capB !== undefined) return x.at(Math.min(capA, capB, now));
  }
  throw new Error('no common ancestor');
}

interface Predicted {
  result: State;
  conflicts: string[];
  applied: number;
}

/** The merge rules of docs/graph.md, on whole states. */
function predictMerge(b: State, s: State, t: State, strategy: (typeof STRATEGIES)[number]): Predicted {
  const conflicts: string[] = [];
  const nodeM = new Map<string, string | undefined>();
  const edgeM = new Map<string, string | undefined>();
  const decide = (
    keys: Set<string>,
    get: (x: State, k: string) => string | undefined,
    out: Map<string, string | undefined>,
    name: (k: string) => string,
  ): void => {
    for (const k of keys) {
      const vb = get(b, k);
      const vs = get(s, k);
      const vt = get(t, k);
      if (vs === vb || vt === vs) continue;
      if (vt !== vb) {
        conflicts.push(name(k));
        if (strategy !== 'source-wins') continue;
      }
      out.set(k, vs);
    }
  };
  decide(
    new Set([...b.nodes.keys(), ...s.nodes.keys()]),
    (x, k) => x.nodes.get(k),
    nodeM,
    (k) => k,
  );
  const edgeName = (k: string): string => {
    const [f, ty, to] = parts(k);
    return `${f} -[${ty}]-> ${to}`;
  };
  decide(new Set([...b.edges.keys(), ...s.edges.keys()]), (x, k) => x.edges.get(k), edgeM, edgeName);
  const apply = (): State => {
    const m = t.copy();
    for (const [k, v] of nodeM) v === undefined ? m.nodes.delete(k) : m.nodes.set(k, v);
    for (const [k, v] of edgeM) v === undefined ? m.edges.delete(k) : m.edges.set(k, v);
    return m;
  };
  let m = apply();
  // (b) nodes the merge deletes that keep edges in the merged graph; each edge reported once.
  const reported = new Set<string>();
  for (const [id, v] of [...nodeM]) {
    if (v !== undefined || !t.nodes.has(id)) continue;
    const kept = m.edgesOf(id);
    for (const e of kept) {
      if (reported.has(e)) continue;
      reported.add(e);
      conflicts.push(edgeName(e));
      if (strategy === 'source-wins') edgeM.set(e, undefined);
    }
    if (kept.length > 0 && strategy !== 'source-wins') nodeM.delete(id);
  }
  m = apply();
  // (a) edges taken from the source whose nodes are missing.
  for (const [e, v] of [...edgeM]) {
    if (v === undefined || v === t.edges.get(e)) continue;
    const [f, , to] = parts(e);
    const missing = [...new Set([f, to])].filter((id) => !m.nodes.has(id));
    if (missing.length === 0) continue;
    conflicts.push(edgeName(e));
    if (strategy !== 'source-wins') edgeM.delete(e);
    else for (const id of missing) nodeM.set(id, s.nodes.get(id));
  }
  m = apply();
  let applied = 0;
  for (const [k, v] of nodeM) if (v !== t.nodes.get(k)) applied++;
  for (const [k, v] of edgeM) if (v !== t.edges.get(k)) applied++;
  if (strategy === 'strict' && conflicts.length > 0) return { result: t, conflicts, applied: 0 };
  return { result: m, conflicts, applied };
}

function checkNoDangling(g: Graph, where: string): void {
  for (const e of g.edges()) {
    assert.ok(
      g.hasNode(e.from) && g.hasNode(e.to),
      `${where}: edge ${e.from} -[${e.type}]-> ${e.to} dangles`,
    );
  }
}

// --- model reads ---------------------------------------------------------------------------------

function modelNeighbors(st: State, id: string, dir: Direction, types: string[] | undefined) {
  const out: { id: string; type: string; props: Props; direction: 'out' | 'in' }[] = [];
  const rows = [...st.edges.entries()].map(([k, v]) => [...parts(k), v] as const);
  const ok = (ty: string): boolean => types === undefined || types.includes(ty);
  const cmp = (a: { type: string; id: string }, b: { type: string; id: string }): number =>
    a.type < b.type ? -1 : a.type > b.type ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  if (dir !== 'in') {
    const o = rows
      .filter(([f, ty]) => f === id && ok(ty))
      .map(([, ty, to, v]) => ({
        id: to,
        type: ty,
        props: JSON.parse(v) as Props,
        direction: 'out' as const,
      }));
    out.push(...o.sort(cmp));
  }
  if (dir !== 'out') {
    const i = rows
      .filter(([, ty, to]) => to === id && ok(ty))
      .map(([f, ty, , v]) => ({ id: f, type: ty, props: JSON.parse(v) as Props, direction: 'in' as const }));
    out.push(...i.sort(cmp));
  }
  return out;
}

/** Adjacent (other, weight) pairs of `id` following `dir`. */
function adjacent(st: State, id: string, dir: Direction, types: string[] | undefined): [string, number][] {
  return modelNeighbors(st, id, dir, types).map((n) => [n.id, (n.props.w as number | undefined) ?? 1]);
}

function modelBfs(st: State, start: string, dir: Direction, types: string[] | undefined, maxDepth: number) {
  const depth = new Map<string, number>([[start, 0]]);
  let frontier = [start];
  for (let d = 1; d <= maxDepth && frontier.length > 0; d++) {
    const next: string[] = [];
    for (const n of frontier)
      for (const [o] of adjacent(st, n, dir, types))
        if (!depth.has(o)) {
          depth.set(o, d);
          next.push(o);
        }
    frontier = next;
  }
  return depth;
}

function modelDijkstra(st: State, from: string, to: string, dir: Direction, types: string[] | undefined) {
  const dist = new Map<string, number>([[from, 0]]);
  const done = new Set<string>();
  for (;;) {
    let best: string | undefined;
    for (const [n, d] of dist) if (!done.has(n) && (best === undefined || d < dist.get(best)!)) best = n;
    if (best === undefined) return undefined;
    if (best === to) return dist.get(best)!;
    done.add(best);
    for (const [o, w] of adjacent(st, best, dir, types)) {
      const nd = dist.get(best)! + w;
      if (!dist.has(o) || nd < dist.get(o)!) dist.set(o, nd);
    }
  }
}

/** The cost of `path` in `st` following `dir` and `types`, each step over its cheapest edge; undefined if a step has no edge. */
function pathCost(st: State, path: string[], dir: Direction, types: string[] | undefined, weighted: boolean) {
  let cost = 0;
  for (let i = 0; i + 1 < path.length; i++) {
    const ws = adjacent(st, path[i]!, dir, types)
      .filter(([o]) => o === path[i + 1])
      .map(([, w]) => (weighted ? w : 1));
    if (ws.length === 0) return undefined;
    cost += Math.min(...ws);
  }
  return cost;
}

function stateOf(g: Graph): State {
  const st = new State();
  for (const n of g.nodes()) st.nodes.set(n.id, JSON.stringify(n.props));
  for (const e of g.edges()) st.edges.set(ek(e.from, e.type, e.to), JSON.stringify(e.props));
  return st;
}

function sortedEntries(m: Map<string, string>): [string, string][] {
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

function checkGraph(g: Graph, st: State, rnd: SeededRandom, where: string): void {
  const got = stateOf(g);
  assert.deepEqual(sortedEntries(got.nodes), sortedEntries(st.nodes), `${where}: nodes`);
  assert.deepEqual(sortedEntries(got.edges), sortedEntries(st.edges), `${where}: edges`);
  const ids = [...st.nodes.keys()];
  if (ids.length === 0) return;
  for (let i = 0; i < 3; i++) {
    const id = ids[rnd.int(ids.length)]!;
    const dir = (['out', 'in', 'both'] as const)[rnd.int(3)]!;
    const types = rnd.int(3) === 0 ? [TYPES[rnd.int(TYPES.length)]!] : undefined;
    const filter = { direction: dir, ...(types === undefined ? {} : { type: types }) };
    assert.deepEqual(
      g.neighbors(id, filter),
      modelNeighbors(st, id, dir, types),
      `${where}: neighbors ${id} ${dir}`,
    );
    const maxDepth = 1 + rnd.int(4);
    const steps = g.traverse(id, { ...filter, maxDepth });
    const want = modelBfs(st, id, dir, types, maxDepth);
    assert.equal(steps[0]!.id, id, `${where}: traverse starts at the start`);
    assert.deepEqual(
      new Map(steps.map((s) => [s.id, s.depth])),
      want,
      `${where}: traverse ${id} ${dir} depth ${maxDepth}`,
    );
    assert.equal(steps.length, want.size, `${where}: traverse visits each node once`);
    for (let j = 1; j < steps.length; j++)
      assert.ok(steps[j]!.depth >= steps[j - 1]!.depth, 'breadth-first order');
    const to = ids[rnd.int(ids.length)]!;
    const path = g.shortestPath(id, to, filter);
    const hops = modelBfs(st, id, dir, types, 1000).get(to);
    assert.equal(
      path === undefined ? undefined : path.length - 1,
      hops,
      `${where}: shortestPath ${id}→${to} length`,
    );
    if (path !== undefined) {
      assert.equal(path[0], id);
      assert.equal(path[path.length - 1], to);
      assert.equal(pathCost(st, path, dir, types, false), hops, `${where}: shortestPath is a path`);
    }
    const weighted = g.shortestPathWithCost(id, to, { ...filter, weight: 'w', defaultWeight: 1 });
    const cost = modelDijkstra(st, id, to, dir, types);
    assert.equal(weighted?.cost, cost, `${where}: weighted ${id}→${to} cost`);
    if (weighted !== undefined)
      assert.equal(
        pathCost(st, weighted.path, dir, types, true),
        cost,
        `${where}: weighted path has that cost`,
      );
  }
}

const IDS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'];
const TYPES = ['knows', 'likes'];

interface Stats {
  merges: Record<string, number>;
  conflicts: number;
  dangling: number;
  refused: number;
  crashes: number;
  compactions: number;
  forks: number;
  mode?: string;
  hits?: number;
}

const CACHE_MODES = ['always', 'off', 'auto'] as const;

async function runSeed(seed: number): Promise<Stats> {
  const rnd = new SeededRandom(seed);
  let disk = new SimDisk();
  const clock = new ManualClock(1_000_000);
  const mode = CACHE_MODES[seed % CACHE_MODES.length]!;
  let hits = 0;
  const openOn = async (d: SimDisk): Promise<Strata> => {
    const db = await openSim(d, clock);
    db.branch().graph.configureCache({ mode });
    return db;
  };
  const open = (): Promise<Strata> => openOn(disk);
  const countHits = (): void => {
    for (const m of branches.values()) hits += db.branch(m.name).graph.cacheInfo().hits;
  };
  let db = await open();
  const branches = new Map<string, ModelBranch>([
    ['main', new ModelBranch('main', undefined, 0, new State())],
  ]);
  const merged = new Map<string, number>();
  const stats: Stats = {
    merges: { strict: 0, 'source-wins': 0, 'target-wins': 0 },
    conflicts: 0,
    dangling: 0,
    refused: 0,
    crashes: 0,
    compactions: 0,
    forks: 0,
  };
  const pick = (): ModelBranch => [...branches.values()][rnd.int(branches.size)]!;
  const id = (): string => IDS[rnd.int(IDS.length)]!;
  const checkAll = (where: string): void => {
    for (const m of branches.values()) {
      const g = db.branch(m.name).graph;
      checkGraph(g, m.now, rnd, `${where} ${m.name}`);
      checkNoDangling(g, `${where} ${m.name}`);
    }
  };

  for (let step = 0; step < STEPS; step++) {
    const where = `seed ${seed}, step ${step}`;
    clock.advance(1 + rnd.int(3));
    const m = pick();
    const g = db.branch(m.name).graph;
    const r = rnd.int(100);
    const before = db.version;
    if (r < 22) {
      const n = id();
      const props = { v: rnd.int(3) };
      const c = await g.putNode(n, props);
      const st = m.now.copy();
      st.nodes.set(n, JSON.stringify(props));
      m.commit(c.version, st);
    } else if (r < 50) {
      const [f, t, ty] = [id(), id(), TYPES[rnd.int(TYPES.length)]!];
      const props = { w: 1 + rnd.int(4) };
      const st = m.now.copy();
      if (!st.nodes.has(f) || !st.nodes.has(t)) {
        await assert.rejects(
          g.putEdge(f, t, ty, props),
          (e: unknown) => isStrataError(e, 'not_found'),
          where,
        );
        assert.equal(db.version, before, `${where}: a refused putEdge commits nothing`);
        stats.refused++;
      } else {
        const c = await g.putEdge(f, t, ty, props);
        st.edges.set(ek(f, ty, t), JSON.stringify(props));
        m.commit(c.version, st);
      }
    } else if (r < 58) {
      const st = m.now.copy();
      const keys = [...st.edges.keys()];
      const [f, ty, t] =
        keys.length > 0 && rnd.int(4) > 0 ? parts(keys[rnd.int(keys.length)]!) : [id(), 'knows', id()];
      const d = await g.deleteEdge(f, t, ty);
      assert.equal(d.deleted, st.edges.delete(ek(f, ty, t)), `${where}: deleteEdge deleted`);
      if (d.deleted) m.commit(d.version, st);
      else assert.equal(db.version, before);
    } else if (r < 66) {
      const n = id();
      const cascade = rnd.int(2) === 0;
      const st = m.now.copy();
      const edges = st.edgesOf(n);
      if (!cascade && st.nodes.has(n) && edges.length > 0) {
        await assert.rejects(g.deleteNode(n), (e: unknown) => isStrataError(e, 'conflict'), where);
        assert.equal(db.version, before, `${where}: a refused deleteNode commits nothing`);
        stats.refused++;
      } else {
        const d = await g.deleteNode(n, { cascade });
        assert.equal(d.deleted, st.nodes.delete(n), `${where}: deleteNode deleted`);
        assert.equal(d.edgesDeleted, d.deleted ? edges.length : 0, `${where}: edges deleted`);
        for (const e of edges) st.edges.delete(e);
        if (d.deleted) m.commit(d.version, st);
      }
    } else if (r < 70) {
      // A transaction of several graph writes; sometimes aborted.
      const st = m.now.copy();
      const abort = rnd.int(3) === 0;
      const n = id();
      const res = await db
        .transaction(m.name, (tx) => {
          // KV writes would show in merge counts; test/api/graph.test.ts mixes them.
          assert.equal(tx.kv.get(`k${step}`), undefined);
          tx.graph.putNode(n, { v: 9 });
          const others = [...st.nodes.keys()];
          if (others.length > 0) tx.graph.putEdge(n, others[rnd.int(others.length)]!, 'knows', { w: 2 });
          if (abort) throw new Error('abort');
          return others;
        })
        .then(
          (x) => x,
          (e: unknown) => {
            assert.equal((e as Error).message, 'abort');
            return undefined;
          },
        );
      if (res === undefined) {
        assert.equal(db.version, before, `${where}: an aborted transaction commits nothing`);
      } else {
        st.nodes.set(n, JSON.stringify({ v: 9 }));
        const e = res.value.length > 0 ? [...db.branch(m.name).graph.neighbors(n, { type: 'knows' })] : [];
        for (const x of e) st.edges.set(ek(n, 'knows', x.id), JSON.stringify(x.props));
        m.commit(res.version, st);
      }
    } else if (r < 76 && branches.size < 8) {
      const name = `b${stats.forks++}`;
      const past = rnd.int(3) === 0;
      const at = past ? rnd.int(db.version + 1) : db.version;
      await db.branch(m.name).fork(name, past ? { at } : {});
      branches.set(name, new ModelBranch(name, m, at, m.at(at).copy()));
    } else if (r < 86 && branches.size > 1) {
      const source = pick();
      if (source === m) continue;
      const strategy = STRATEGIES[rnd.int(3)]!;
      const now = db.version;
      const last = merged.get(`${m.name}<${source.name}`);
      const baseState = last !== undefined ? source.at(last) : mergeBase(source, m, now);
      const p = predictMerge(baseState, source.now, m.now, strategy);
      const report = await db.branch(m.name).merge(source.name, { strategy });
      if (process.env.GRAPH_DEBUG === String(step))
        console.log(
          JSON.stringify(
            {
              base: sortedEntries(baseState.nodes),
              be: sortedEntries(baseState.edges),
              s: sortedEntries(source.now.nodes),
              se: sortedEntries(source.now.edges),
              t: sortedEntries(m.now.nodes),
              te: sortedEntries(m.now.edges),
              last,
              report,
            },
            null,
            0,
          ),
        );
      const graphConflicts = report.conflicts.filter((c) => c.primitive === 'graph');
      assert.deepEqual(
        graphConflicts.map((c) => c.key).sort(),
        [...p.conflicts].sort(),
        `${where}: ${strategy} merge ${source.name} → ${m.name} conflicts`,
      );
      stats.dangling += graphConflicts.filter((c) => c.reason !== undefined).length;
      stats.conflicts += graphConflicts.length;
      assert.equal(report.applied, p.applied, `${where}: merge applied`);
      if (p.applied > 0) {
        m.commit(report.version, p.result);
        merged.set(`${m.name}<${source.name}`, now);
      } else if (strategy === 'strict' && p.conflicts.length > 0) {
        assert.equal(db.version, now, `${where}: a strict merge with conflicts changes nothing`);
      }
      checkNoDangling(db.branch(m.name).graph, `${where}: after the ${strategy} merge`);
      checkGraph(db.branch(m.name).graph, m.now, rnd, `${where}: after the ${strategy} merge`);
      stats.merges[strategy]!++;
    } else if (r < 88) {
      const other = pick();
      const d = g.diff(db.branch(other.name).graph);
      const a = m.now;
      const b = other.now;
      const keys = (x: Map<string, string>, y: Map<string, string>) =>
        [...new Set([...x.keys(), ...y.keys()])].sort();
      const added = keys(a.nodes, b.nodes).filter((k) => !a.nodes.has(k) && b.nodes.has(k));
      const changed = keys(a.nodes, b.nodes).filter(
        (k) => a.nodes.has(k) && b.nodes.has(k) && a.nodes.get(k) !== b.nodes.get(k),
      );
      assert.deepEqual(
        d.nodes.added.map((n) => n.id),
        added,
        `${where}: diff nodes added`,
      );
      assert.deepEqual(
        d.nodes.changed.map((n) => n.id),
        changed,
        `${where}: diff nodes changed`,
      );
      const removedE = keys(a.edges, b.edges).filter((k) => a.edges.has(k) && !b.edges.has(k));
      assert.deepEqual(
        d.edges.removed.map((e) => ek(e.from, e.type, e.to)).sort(),
        removedE,
        `${where}: diff edges removed`,
      );
      for (const c of d.edges.changed) {
        const k = ek(c.from, c.type, c.to);
        assert.equal(JSON.stringify(c.before), a.edges.get(k));
        assert.equal(JSON.stringify(c.after), b.edges.get(k));
      }
    } else if (r < 90) {
      await db.compact();
      stats.compactions = Math.max(stats.compactions, db.stats().tree.compactions);
    } else if (r < 91) {
      countHits();
      await db.close();
      db = await open();
      checkAll(`${where} (reopened)`);
    } else if (r < 92) {
      const model = MODELS[rnd.int(MODELS.length)]!;
      countHits();
      stats.crashes++;
      disk = await crashAndRecover(disk, db, model, new SeededRandom(seed * 1000 + step), openOn, (r) => {
        db = r;
        checkAll(`${where} (after a ${model} crash)`);
      });
      db = await open();
    } else {
      // Reads now and as of a random past version.
      checkGraph(g, m.now, rnd, where);
      const past = rnd.int(db.version + 1);
      checkGraph(db.branch(m.name).at(past).graph, m.at(past), rnd, `${where} as of ${past}`);
    }
  }
  checkAll(`seed ${seed}, end`);
  countHits();
  await db.close();
  if (mode === 'always') assert.ok(hits > 100, `reads were answered from the cache (${hits} hits)`);
  if (mode === 'off') assert.equal(hits, 0, 'no cache with the cache off');
  return { ...stats, mode, hits } as Stats;
}

describe('graph against a full-copy model', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: puts, deletes, reads, as-of, paths, diffs and merges match, through flushes, compactions, reopens and crashes`, async (t) => {
      const s = await runSeed(seed);
      t.diagnostic(JSON.stringify(s));
      assert.ok(s.forks >= 2, 'forks ran');
      assert.ok(
        Object.values(s.merges).every((n) => n > 0),
        'merges under every strategy ran',
      );
      assert.ok(s.conflicts > 0 && s.dangling > 0, 'some merges had conflicts, some of them dangling edges');
      assert.ok(s.refused > 0, 'some writes were refused');
      assert.ok(s.compactions > 0, 'compactions ran');
    });
  }
});
