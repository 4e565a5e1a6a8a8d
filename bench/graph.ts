/**
 * The graph benchmark: a random graph of N nodes and E typed edges (default 100,000 and
 * 1,000,000; out-degree E/N to uniformly random targets, three edge types, a numeric `cost` on
 * every edge), built with transactions of up to 40,000 edges (80,000 rows, under BATCH_OPS_MAX),
 * then timed: neighbors of a random node (with and without props), a 3-hop traverse, a
 * breadth-first traverse of the whole graph (maxNodes N), and shortest paths (unweighted and
 * weighted) between random pairs. Runs on an in-memory database (`Strata.cache()`) and on a
 * durable one in a temp folder (buffered, after db.compact(), so reads go to tables). Every
 * figure is a median.
 *
 * Each database is measured three ways: the storage path (adjacency cache off), cold (the first
 * full BFS under 'auto', which builds the cache) with the build alone and its memory, and warm
 * (every adjacency read from the cache).
 *
 * Run: `npx tsx bench/graph.ts` (full) or `npx tsx bench/graph.ts --quick` (10,000 nodes,
 * 100,000 edges); `node --expose-gc --import tsx bench/graph.ts` for exact memory deltas. Options: `--nodes N`, `--edges E`, `--only memory|disk`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Graph, Strata } from '../src/index.js';
import { median, rng } from './report.js';

/** Uniform in [0, 1) from report.ts's 32-bit generator. */
function uniform(seed: number): () => number {
  const next = rng(seed);
  return () => next() / 2 ** 32;
}

interface Config {
  nodes: number;
  edges: number;
  only: string | undefined;
}

function config(): Config {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const num = (flag: string, fallback: number): number => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const i = args.indexOf('--only');
  return {
    nodes: num('--nodes', quick ? 10_000 : 100_000),
    edges: num('--edges', quick ? 100_000 : 1_000_000),
    only: i >= 0 ? args[i + 1] : undefined,
  };
}

const TYPES = ['knows', 'likes', 'cites'];
const EDGES_PER_COMMIT = 40_000;

function nodeId(i: number): string {
  return `n${String(i).padStart(7, '0')}`;
}

async function build(db: Strata, c: Config): Promise<number> {
  const t0 = performance.now();
  const random = uniform(42);
  for (let i = 0; i < c.nodes; i += 90_000) {
    await db.transaction('main', (tx) => {
      for (let j = i; j < Math.min(c.nodes, i + 90_000); j++) tx.graph.putNode(nodeId(j), { n: j });
    });
  }
  const perNode = Math.ceil(c.edges / c.nodes);
  let made = 0;
  while (made < c.edges) {
    const upTo = Math.min(c.edges, made + EDGES_PER_COMMIT);
    await db.transaction('main', (tx) => {
      for (let e = made; e < upTo; e++) {
        const from = Math.floor(e / perNode) % c.nodes;
        const to = Math.floor(random() * c.nodes);
        tx.graph.putEdge(nodeId(from), nodeId(to), TYPES[e % TYPES.length]!, {
          cost: 1 + Math.floor(random() * 9),
        });
      }
    });
    made = upTo;
  }
  return performance.now() - t0;
}

function time(reps: number, fn: (i: number) => unknown): number {
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn(i);
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

function fmt(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`;
}

interface Ops {
  neighbors: number;
  traverse: number;
  full: number;
  paths: number;
  weighted: number;
}

/** Times the adjacency reads; `reps` per kind of read. */
function measure(g: Graph, c: Config, reps: Ops, seed: number): [string, string][] {
  const random = uniform(seed);
  const pick = (): string => nodeId(Math.floor(random() * c.nodes));
  const rows: [string, string][] = [];
  rows.push(['neighbors (out, with props)', fmt(time(reps.neighbors, () => g.neighbors(pick())))]);
  rows.push([
    'neighbors (out, props: false)',
    fmt(time(reps.neighbors, () => g.neighbors(pick(), { props: false }))),
  ]);
  rows.push([
    'neighbors (out, one type)',
    fmt(time(reps.neighbors, () => g.neighbors(pick(), { type: 'likes' }))),
  ]);
  rows.push([
    'neighbors (both)',
    fmt(time(reps.neighbors, () => g.neighbors(pick(), { direction: 'both', props: false }))),
  ]);
  let reached = 0;
  rows.push([
    '3-hop traverse (out)',
    `${fmt(
      time(reps.traverse, () => {
        reached = g.traverse(pick(), { maxDepth: 3 }).length;
      }),
    )} (${reached} nodes)`,
  ]);
  let full = 0;
  rows.push([
    `full BFS (maxNodes ${c.nodes})`,
    `${fmt(
      time(reps.full, () => {
        full = g.traverse(pick(), { maxNodes: c.nodes }).length;
      }),
    )} (${full} nodes)`,
  ]);
  rows.push(['shortestPath (unweighted)', fmt(time(reps.paths, () => g.shortestPath(pick(), pick())))]);
  rows.push([
    'shortestPath (weight: cost, Dijkstra)',
    fmt(time(reps.weighted, () => g.shortestPath(pick(), pick(), { weight: 'cost', maxNodes: c.nodes }))),
  ]);
  return rows;
}

function memory(): { rss: number; heap: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  // Typed arrays live outside the JS heap: count them with it.
  return { rss: m.rss, heap: m.heapUsed + m.arrayBuffers };
}

const MiB = 1024 * 1024;

async function run(label: string, db: Strata, c: Config, prepare: () => Promise<void>): Promise<void> {
  const buildMs = await build(db, c);
  await prepare();
  const g = db.branch('main').graph;
  const random = uniform(7);
  const pick = (): string => nodeId(Math.floor(random() * c.nodes));
  console.log(`\n${label}: ${c.nodes} nodes, ${c.edges} edges (build ${(buildMs / 1000).toFixed(2)} s)`);
  const show = (title: string, rows: [string, string][]): void => {
    console.log(`  ${title}`);
    for (const [k, v] of rows) console.log(`    ${k.padEnd(40)} ${v}`);
  };
  // 1. The storage path: the cache off.
  g.configureCache({ mode: 'off' });
  for (let i = 0; i < 200; i++) g.neighbors(pick());
  g.traverse(pick(), { maxDepth: 3 });
  show(
    'storage path (cache off)',
    measure(g, c, { neighbors: 2000, traverse: 20, full: 3, paths: 20, weighted: 3 }, 11),
  );
  // 2. Cold: the first full BFS under 'auto' (it stops after GRAPH_CACHE_CALL_EXPANSIONS
  // expansions, builds the cache and answers from it).
  g.configureCache({ mode: 'auto' });
  let t0 = performance.now();
  const n = g.traverse(pick(), { maxNodes: c.nodes }).length;
  const coldMs = performance.now() - t0;
  const info = g.cacheInfo();
  console.log(
    `  cold full BFS under 'auto' (build included)   ${fmt(coldMs)} (${n} nodes, state ${info.state})`,
  );
  // 3. The build alone, and its memory.
  g.configureCache({ mode: 'off' });
  const before = memory();
  g.configureCache({ mode: 'always' });
  t0 = performance.now();
  g.neighbors(pick(), { props: false });
  const buildCacheMs = performance.now() - t0;
  const after = memory();
  const i2 = g.cacheInfo();
  console.log(
    `  cache build (one scan of ${i2.entries} rows)      ${fmt(buildCacheMs)}; estimate ${(i2.bytes / MiB).toFixed(1)} MiB, ` +
      `RSS +${((after.rss - before.rss) / MiB).toFixed(1)} MiB, heap + array buffers +${((after.heap - before.heap) / MiB).toFixed(1)} MiB` +
      `${(globalThis as { gc?: () => void }).gc === undefined ? ' (run with --expose-gc for exact deltas)' : ''}`,
  );
  // 4. Warm: every read from the cache.
  g.traverse(pick(), { maxDepth: 3 });
  g.shortestPath(pick(), pick(), { weight: 'cost', maxNodes: c.nodes });
  show('warm cache', measure(g, c, { neighbors: 2000, traverse: 50, full: 9, paths: 50, weighted: 20 }, 11));
  const i3 = g.cacheInfo();
  console.log(
    `  cache after the reads: ${i3.hits} hits, ${(i3.bytes / MiB).toFixed(1)} MiB with weight memos`,
  );
}

async function main(): Promise<void> {
  const c = config();
  if (c.only === undefined || c.only === 'memory') {
    const db = await Strata.cache();
    await run('in memory (Strata.cache())', db, c, async () => undefined);
    await db.close();
  }
  if (c.only === undefined || c.only === 'disk') {
    const dir = await mkdtemp(join(tmpdir(), 'strata-graph-bench-'));
    try {
      const db = await Strata.open(dir, { durability: 'buffered' });
      await run('on disk (buffered, compacted)', db, c, () => db.compact());
      await db.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

await main();
