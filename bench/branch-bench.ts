/**
 * The branch benchmark: the same code at several database sizes (default 1k, 100k and 1M keys of
 * 100 B on main, loaded, then flushed and compacted into tables), measuring
 * - fork latency (median of 50 forks, each one awaited commit of a branch record);
 * - read latency on a branch 1, 4 and 16 levels deep (random gets of keys main wrote, which the
 *   branch inherits through every level), beside the same gets on main;
 * - as-of read latency (random gets on main as of a version halfway through the load);
 * - diff latency for 100 changed keys (a fresh fork with 100 puts of random keys, then one
 *   main.diff(fork); median of 7 rounds after an untimed one).
 * The targets: fork under 1 ms and at most 2× from the smallest to the largest size; diff flat in
 * database size. Ratios are largest size / smallest size.
 *
 * Run: `npm run bench:branch` (full) or `npm run bench:branch -- --quick` (1k and 50k keys).
 * Options: `--sizes 1000,100000,1000000`, `--dir PATH`, `--write` / `--no-write`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Branch, Strata } from '../src/index.js';
import { describeLoad, describeMachine, fmtLatency, median, probeLoad, rng, writeSection } from './report.js';

interface Config {
  quick: boolean;
  sizes: number[];
  dir: string;
  write: boolean;
}

function parseArgs(argv: readonly string[]): Config {
  const quick = argv.includes('--quick');
  const i = argv.indexOf('--sizes');
  const sizes = (i >= 0 ? argv[i + 1]! : quick ? '1000,50000' : '1000,100000,1000000').split(',').map(Number);
  for (const n of sizes)
    if (!Number.isSafeInteger(n) || n < 100) throw new RangeError('--sizes takes integers ≥ 100');
  const d = argv.indexOf('--dir');
  return {
    quick,
    sizes,
    dir: resolve(d >= 0 ? argv[d + 1]! : tmpdir()),
    write: argv.includes('--write') || (!quick && !argv.includes('--no-write')),
  };
}

const keyOf = (i: number): string => `key${String(Math.imul(i, 0x9e3779b1) >>> 0).padStart(10, '0')}`;
const VALUE = 'v'.repeat(100);
const DEPTHS = [1, 4, 16] as const;

interface SizeResult {
  keys: number;
  loadMs: number;
  forkMs: number;
  forkP99Ms: number;
  readMs: Map<number | 'main', number>;
  asOfMs: number;
  diffMs: number;
  diffFound: number;
}

/** Median time of one call, over `rounds` rounds of `batch` calls each. */
function perCall(batch: number, rounds: number, f: () => void): number {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) f();
    times.push((performance.now() - t0) / batch);
  }
  return median(times);
}

async function runSize(config: Config, keys: number): Promise<SizeResult> {
  const dir = await mkdtemp(join(config.dir, 'strata-branch-'));
  const db = await Strata.open(dir);
  try {
    const main = db.branch();
    const t0 = performance.now();
    let half = 0;
    for (let i = 0; i < keys; i++) {
      await main.kv.put(keyOf(i), VALUE);
      if (i === keys >> 1) half = db.version;
    }
    await db.compact();
    const loadMs = performance.now() - t0;

    const forks: number[] = [];
    for (let i = 0; i < 50; i++) {
      const f0 = performance.now();
      await main.fork(`f${i}`);
      forks.push(performance.now() - f0);
    }
    forks.sort((a, b) => a - b);

    // A chain 16 deep, each level with a few writes of its own (so every level is a real branch).
    const chain: Branch[] = [];
    let parent = main;
    for (let d = 1; d <= DEPTHS[DEPTHS.length - 1]!; d++) {
      const b = await parent.fork(`depth${d}`);
      for (let j = 0; j < 10; j++) await b.kv.put(`own-${d}-${j}`, VALUE);
      chain.push(b);
      parent = b;
    }
    await db.compact();
    const next = rng(keys);
    const readMs = new Map<number | 'main', number>();
    const randomGet = (b: Branch) => () => {
      if (b.kv.get(keyOf(next() % keys)) === undefined) throw new Error('an inherited key is missing');
    };
    readMs.set('main', perCall(20_000, 5, randomGet(main)));
    for (const d of DEPTHS) readMs.set(d, perCall(20_000, 5, randomGet(chain[d - 1]!)));
    const past = main.at(half);
    const asOfMs = perCall(20_000, 5, () => {
      past.kv.get(keyOf(next() % keys));
    });

    // Each round: a fresh fork with 100 puts of random keys, then one diff, timed. The keys differ
    // per round, so the other side's reads start uncached, as for a diff in real use; a first
    // untimed round warms the code up.
    const diffs: number[] = [];
    let diffFound = 0;
    for (let r = 0; r <= 7; r++) {
      const b = await main.fork(`diff${r}`);
      for (let j = 0; j < 100; j++) await b.kv.put(keyOf((next() % keys) | 0), `changed ${r} ${j}`);
      const d0 = performance.now();
      const d = main.diff(b);
      if (r > 0) diffs.push(performance.now() - d0);
      diffFound = d.kv.changed.length + d.kv.added.length;
    }
    return {
      keys,
      loadMs,
      forkMs: median(forks),
      forkP99Ms: forks[Math.ceil(0.99 * forks.length) - 1]!,
      readMs,
      asOfMs,
      diffMs: median(diffs),
      diffFound,
    };
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function render(
  config: Config,
  results: SizeResult[],
  tookMs: number,
  machine: string,
  load: string,
): string {
  const first = results[0]!;
  const last = results[results.length - 1]!;
  const sizeLabel = (n: number): string => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : `${n}`);
  const lines: string[] = ['## Branches', ''];
  lines.push(
    `- Date: ${new Date().toISOString()}`,
    `- Command: \`npm run bench:branch${config.quick ? ' -- --quick' : ''}\` (took ${Math.round(tookMs / 1000)} s)`,
    `- Machine: ${machine}`,
    `- Background load during the run: ${load}`,
    '- Data: keys of 100 B values on main (buffered durability, default 64 MiB budget), loaded in hashed key order, then flushed and compacted; every read is of a key main wrote.',
    '',
  );
  const header = [
    'Measure',
    ...results.map((r) => `${sizeLabel(r.keys)} keys`),
    `${sizeLabel(last.keys)} / ${sizeLabel(first.keys)}`,
  ];
  lines.push(
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
  );
  const row = (label: string, f: (r: SizeResult) => number): void => {
    lines.push(
      `| ${label} | ${results.map((r) => fmtLatency(f(r))).join(' | ')} | ${(f(last) / f(first)).toFixed(2)} |`,
    );
  };
  row('Fork (median of 50)', (r) => r.forkMs);
  row('Fork p99', (r) => r.forkP99Ms);
  row('Get on main', (r) => r.readMs.get('main')!);
  for (const d of DEPTHS)
    row(`Get on a branch ${d} level${d === 1 ? '' : 's'} deep`, (r) => r.readMs.get(d)!);
  row('Get as of a past version', (r) => r.asOfMs);
  row('Diff, 100 changed keys (median of 7 forks)', (r) => r.diffMs);
  lines.push(
    `| Diff / (100 gets on main) | ${results.map((r) => (r.diffMs / (100 * r.readMs.get('main')!)).toFixed(2)).join(' | ')} | |`,
  );
  lines.push('');
  const forkRatio = last.forkMs / first.forkMs;
  const diffRatio = last.diffMs / first.diffMs;
  lines.push(
    '| Check | Measured | Target | Met |',
    '| --- | ---: | ---: | :---: |',
    `| Fork latency at ${sizeLabel(last.keys)} keys | ${fmtLatency(last.forkMs)} | < 1 ms | ${last.forkMs < 1 ? 'yes' : '**no**'} |`,
    `| Fork latency, ${sizeLabel(last.keys)} / ${sizeLabel(first.keys)} | ${forkRatio.toFixed(2)} | ≤ 2.00 | ${forkRatio <= 2 ? 'yes' : '**no**'} |`,
    `| Diff of 100 changed keys, ${sizeLabel(last.keys)} / ${sizeLabel(first.keys)} (flat) | ${diffRatio.toFixed(2)} | ≤ 2.00 | ${diffRatio <= 2 ? 'yes' : '**no**'} |`,
    '',
    `Load times (not measured against a target): ${results.map((r) => `${sizeLabel(r.keys)} ${(r.loadMs / 1000).toFixed(1)} s`).join(', ')}. ` +
      'Gets are timed in batches of 20,000 (median of 5 batches) and reported per get; a fork is an awaited commit ' +
      'in buffered mode. A diff reads only what the two sides wrote since they diverged, then reads the ' +
      'other side of each changed key: "Diff / (100 gets on main)" near 1 says its cost is those reads, and it ' +
      'grows with database size only as a point read does (more of the data outside the caches). Each diff ' +
      'found the 100 changed keys it was given (fewer when two puts hit one key).',
    '',
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const began = performance.now();
  const config = parseArgs(process.argv.slice(2));
  const m = describeMachine(config.dir, config.dir);
  const machine = `${m.cpus}; ${m.memory}; Node ${m.node}; ${m.fileSystem}`;
  const loadStart = probeLoad();
  const results: SizeResult[] = [];
  for (const keys of config.sizes) {
    const r = await runSize(config, keys);
    results.push(r);
    console.error(
      `${keys} keys: load ${(r.loadMs / 1000).toFixed(1)} s, fork ${fmtLatency(r.forkMs)}, get main ${fmtLatency(r.readMs.get('main')!)}, ` +
        `depth 16 ${fmtLatency(r.readMs.get(16)!)}, as-of ${fmtLatency(r.asOfMs)}, diff ${fmtLatency(r.diffMs)} (${r.diffFound} keys)`,
    );
  }
  const text = render(
    config,
    results,
    performance.now() - began,
    machine,
    describeLoad(loadStart, probeLoad()),
  );
  console.log(text);
  if (config.write) console.error(`wrote ${writeSection('Branches', text, '# Benchmarks\n')}`);
}

await main();
