/**
 * The durable-core benchmark: the disk's raw 4 KB append + fdatasync rate, strict-mode commits
 * (1 and 64 writers), and buffered / ephemeral put and get throughput and latency, all in one run
 * on one machine. Every figure is the median of several repetitions, with the repetitions of the
 * different workloads interleaved so slow phases of a shared, noisy machine spread over all of them.
 *
 * Run: `npm run bench` (full, a few minutes) or `npm run bench -- --quick` (under a minute).
 * Options: `--quick`, `--reps N`, `--dir PATH` (temp root; default the OS temp folder),
 * `--no-write` / `--write` (full mode writes docs/benchmarks.md, quick mode only prints unless
 * `--write` is given). To run a subset (for profiling): `--only raw,strict,kv`, `--writers 1,64`
 * (strict writer counts), `--modes buffered,ephemeral`, `--sizes 100,1024` (value bytes), `--ops N`.
 *
 * How it measures:
 * - Raw rate: bench/raw-sync.ts, in a temp folder under the same root as the databases (so on the
 *   same file system): the async FileHandle figure (what NodeBackend does) is the baseline, the
 *   synchronous-API figure is shown beside it.
 * - Strict: for a fixed time, 1 writer awaiting each put in turn, or 64 async loops each awaiting
 *   its own puts; every put is timed (latencies are fsync-scale, the timer is noise).
 * - Buffered / ephemeral: N awaited puts of fresh keys `key:000000`... in key order, then N gets
 *   of those keys in a random order (a permutation). Throughput is wall time over the whole pass;
 *   latency is timed with process.hrtime.bigint() on a random 1-in-8 sample of the operations of
 *   that same pass (timing every op would cost ~110 ns each, ~5% of a get).
 * - GC: with `--expose-gc` (as `npm run bench` runs it) a full collection is forced before each
 *   Strata workload, so none pays for the previous one's garbage; each row reports the share of its
 *   wall time spent in GC pauses (PerformanceObserver 'gc' entries).
 * - Background load: the load average and /proc/pressure stall shares over the run are recorded,
 *   since other processes share the machine.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { type Durability, Strata } from '../src/index.js';
import { measureRawAppendSyncRate } from './raw-sync.js';
import {
  describeLoad,
  describeMachine,
  fmtLatency,
  fmtRate,
  Latencies,
  type Machine,
  median,
  percentile,
  probeLoad,
  rng,
  shuffled,
  valuePool,
  writeSection,
} from './report.js';

// ---------------------------------------------------------------------------------------------
// Configuration

interface Config {
  quick: boolean;
  reps: number;
  rawSeconds: number;
  strictSeconds: number;
  strictWriters: number[];
  kvOps: number;
  modes: ('buffered' | 'ephemeral')[];
  valueSizes: number[];
  dir: string;
  write: boolean;
  only: Set<string>;
}

function parseArgs(argv: readonly string[]): Config {
  const quick = argv.includes('--quick');
  const flagValue = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const reps = Number(flagValue('--reps') ?? (quick ? 3 : 5));
  if (!Number.isSafeInteger(reps) || reps < 1) throw new RangeError('--reps must be a positive integer');
  const only = new Set((flagValue('--only') ?? 'raw,strict,kv').split(','));
  const numbers = (flag: string, fallback: string): number[] =>
    (flagValue(flag) ?? fallback).split(',').map((x) => {
      const n = Number(x);
      if (!Number.isSafeInteger(n) || n < 1)
        throw new RangeError(`${flag} takes positive integers, got ${x}`);
      return n;
    });
  const modes = (flagValue('--modes') ?? 'buffered,ephemeral').split(',').map((m) => {
    if (m !== 'buffered' && m !== 'ephemeral')
      throw new RangeError(`--modes takes buffered,ephemeral; got ${m}`);
    return m;
  });
  const ops = Number(flagValue('--ops') ?? (quick ? 50_000 : 200_000));
  if (!Number.isSafeInteger(ops) || ops < 1 || ops > 1_000_000)
    throw new RangeError('--ops must be 1..1000000');
  return {
    quick,
    reps,
    rawSeconds: quick ? 0.5 : 2,
    strictSeconds: quick ? 1 : 3,
    strictWriters: numbers('--writers', '1,64'),
    kvOps: ops,
    modes,
    valueSizes: numbers('--sizes', '100,1024'),
    dir: resolve(flagValue('--dir') ?? tmpdir()),
    write: argv.includes('--no-write') ? false : quick ? argv.includes('--write') : true,
    only,
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics

/** One repetition of one workload. */
interface Sample {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  ops: number;
  /** Share of the wall time spent in GC pauses (0..1); undefined when not measured. */
  gcShare?: number;
}

function sample(latenciesMs: Float64Array, ops: number, elapsedMs: number, gcMs: number): Sample {
  const sorted = latenciesMs.slice().sort();
  return {
    opsPerSec: (ops * 1000) / elapsedMs,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    ops,
    gcShare: gcMs / elapsedMs,
  };
}

/** GC pauses seen by a PerformanceObserver, on the performance.now() time line. */
const gcPauses: { start: number; duration: number }[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push({ start: e.startTime, duration: e.duration });
});

/** Total GC pause time that started within [from, to); forgets pauses before `to`. */
async function gcPauseMs(from: number, to: number): Promise<number> {
  // GC entries reach the observer asynchronously; give the last ones a moment to arrive.
  await new Promise((done) => setTimeout(done, 20));
  let ms = 0;
  for (const g of gcPauses) if (g.start >= from && g.start < to) ms += g.duration;
  const keep = gcPauses.filter((g) => g.start >= to);
  gcPauses.length = 0;
  gcPauses.push(...keep);
  return ms;
}

const keyOf = (i: number): string => `key:${String(i).padStart(6, '0')}`;

const ns = (): bigint => process.hrtime.bigint();
const msSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

const gc = (globalThis as { gc?: () => void }).gc;
const collect = (): void => gc?.();

// ---------------------------------------------------------------------------------------------
// Workloads

async function runStrict(root: string, writers: number, seconds: number, values: string[]): Promise<Sample> {
  const dir = await mkdtemp(join(root, `strict-${writers}-`));
  const db = await Strata.open(dir, { durability: 'strict' });
  try {
    const kv = db.branch().kv;
    const latencies = new Latencies();
    let next = 0;
    const start = performance.now();
    const deadline = start + seconds * 1000;
    const loop = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const i = next++;
        const t0 = ns();
        await kv.put(keyOf(i), values[i & 63]!);
        latencies.push(msSince(t0));
      }
    };
    await Promise.all(Array.from({ length: writers }, loop));
    const end = performance.now();
    return sample(latencies.values(), latencies.length, end - start, await gcPauseMs(start, end));
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const SAMPLE_MASK = 7; // Time about 1 op in 8.

async function runKv(
  root: string,
  durability: Durability,
  ops: number,
  values: string[],
  keys: readonly string[],
  order: Uint32Array,
  seed: number,
): Promise<{ put: Sample; get: Sample }> {
  const dir = durability === 'ephemeral' ? undefined : await mkdtemp(join(root, `${durability}-`));
  const db = dir === undefined ? await Strata.cache() : await Strata.open(dir, { durability });
  try {
    const kv = db.branch().kv;
    const next = rng(seed);

    const putLat = new Latencies();
    collect();
    const putFrom = performance.now();
    const putStart = ns();
    for (let i = 0; i < ops; i++) {
      if ((next() & SAMPLE_MASK) === 0) {
        const t0 = ns();
        await kv.put(keys[i]!, values[i & 63]!);
        putLat.push(msSince(t0));
      } else {
        await kv.put(keys[i]!, values[i & 63]!);
      }
    }
    const putMs = msSince(putStart);
    const putTo = performance.now();

    const getLat = new Latencies();
    let found = 0;
    collect();
    const getFrom = performance.now();
    const getStart = ns();
    for (let i = 0; i < ops; i++) {
      const key = keys[order[i]!]!;
      if ((next() & SAMPLE_MASK) === 0) {
        const t0 = ns();
        const v = kv.get(key);
        getLat.push(msSince(t0));
        if (v !== undefined) found++;
      } else if (kv.get(key) !== undefined) found++;
    }
    const getMs = msSince(getStart);
    const getTo = performance.now();
    if (found !== ops) throw new Error(`${durability}: ${ops - found} of ${ops} gets missed`);
    return {
      put: sample(putLat.values(), ops, putMs, await gcPauseMs(putFrom, putTo)),
      get: sample(getLat.values(), ops, getMs, await gcPauseMs(getFrom, getTo)),
    };
  } finally {
    await db.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting

interface Row {
  id: string;
  workload: string;
  unit: 'ops/s' | 'commits/s';
  samples: Sample[];
}

interface Summary {
  opsPerSec: number;
  min: number;
  max: number;
  p50Ms: number;
  p99Ms: number;
  gcShare: number;
}

function summarize(row: Row): Summary {
  const rates = row.samples.map((s) => s.opsPerSec);
  return {
    opsPerSec: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    p50Ms: median(row.samples.map((s) => s.p50Ms)),
    p99Ms: median(row.samples.map((s) => s.p99Ms)),
    gcShare: median(row.samples.map((s) => s.gcShare ?? Number.NaN)),
  };
}

function commandLine(): string {
  const args = process.argv.slice(2);
  if (process.env.npm_lifecycle_event === 'bench') {
    return args.length === 0 ? 'npm run bench' : `npm run bench -- ${args.join(' ')}`;
  }
  return ['node', ...process.execArgv, 'dist/bench/core-bench.js', ...args].join(' ');
}

interface Target {
  label: string;
  value: number;
  target: number;
  format: (x: number) => string;
  /** Shown after the value, e.g. the median of per-repetition ratios. */
  detail?: string;
}

function renderSection(
  config: Config,
  machine: Machine,
  rows: Row[],
  targets: Target[],
  notes: string[],
  took: number,
  load: string,
): string {
  const lines: string[] = [];
  lines.push('## Durable core', '');
  lines.push(`Mode: **${config.quick ? 'quick' : 'full'}**, ${config.reps} repetitions per figure.`, '');
  lines.push(`- Date: ${new Date().toISOString()}`);
  lines.push(`- Command: \`${commandLine()}\` (took ${(took / 1000).toFixed(0)} s)`);
  lines.push(`- CPUs: ${machine.cpus}; memory: ${machine.memory}`);
  lines.push(`- Node ${machine.node}, ${machine.kernel}`);
  lines.push(`- File system (databases and raw-sync file): ${machine.fileSystem}`);
  lines.push(`- Background load during the run: ${load}`);
  lines.push(
    `- Workloads: raw-sync ${config.rawSeconds} s per API per repetition; strict ${config.strictSeconds} s per ` +
      `repetition, 100 B values; buffered and ephemeral: ${config.kvOps.toLocaleString('en-US')} awaited puts of ` +
      'new keys `key:000000`… in key order, then as many gets of those keys in random order.',
    '',
  );
  lines.push('| Workload | Throughput (median) | Range over reps | p50 | p99 | GC |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    if (row.samples.length === 0) continue;
    const s = summarize(row);
    lines.push(
      `| ${row.workload} | ${fmtRate(s.opsPerSec)} ${row.unit} | ${fmtRate(s.min)}–${fmtRate(s.max)} | ` +
        `${fmtLatency(s.p50Ms)} | ${fmtLatency(s.p99Ms)} | ` +
        `${Number.isNaN(s.gcShare) ? '–' : `${(100 * s.gcShare).toFixed(0)}%`} |`,
    );
  }
  lines.push('');
  if (targets.length > 0) {
    lines.push('| Check | Measured | Target | Met |');
    lines.push('| --- | ---: | ---: | :---: |');
    for (const t of targets) {
      const met = Number.isFinite(t.value) && t.value >= t.target;
      const detail = t.detail === undefined ? '' : ` (${t.detail})`;
      lines.push(
        `| ${t.label} | ${t.format(t.value)}${detail} | ≥ ${t.format(t.target)} | ${met ? 'yes' : '**no**'} |`,
      );
    }
    lines.push('');
  }
  for (const note of notes) lines.push(note, '');
  lines.push(
    [
      'Throughput and p50/p99 are each the median over repetitions; "range" is the slowest and fastest',
      'repetition. "GC" is the median share of the wall time spent in GC pauses (PerformanceObserver); before',
      'each Strata workload the bench forces a full collection (`--expose-gc`), so no phase pays for the',
      "previous one's garbage. Ratios are ratios of medians (in brackets: the median and range of the ratio",
      'within each repetition, where raw and strict ran back to back, in alternating order). Strict latencies',
      'time every commit; buffered and ephemeral latencies time a random 1-in-8 sample of the same pass with',
      '`process.hrtime.bigint()` (which adds roughly 50 ns to each timed operation). A put is',
      '`await kv.put(...)`: in buffered mode it resolves once the commit is visible while the log write and',
      'fdatasync run in the background; as each put resolves at once, the put loop yields to the event loop',
      'only when a put has to wait. The machine is shared, so single figures are noisy; the background load',
      'line above says how busy it was.',
    ].join(' '),
    '',
  );
  return lines.join('\n');
}

const HEADER = `# Benchmarks

Figures measured by the scripts in \`bench/\`, each section by one run on one machine. Every
section records its own setup: the machine (CPUs from \`nproc\`, total memory), the Node version,
the file system (\`df -T\`), the exact command and the date. The machines are shared and noisy,
so each figure is the median of several repetitions, and comparisons are made within one run
(ratios), never across runs.

`;

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const config = parseArgs(process.argv.slice(2));
  const began = performance.now();
  const root = await mkdtemp(join(config.dir, 'strata-bench-'));
  const cleanup = (): void => rmSync(root, { recursive: true, force: true });
  const onSignal = (): void => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const log = (msg: string): void => console.error(msg);
  const row = (id: string, workload: string, unit: Row['unit'] = 'ops/s'): Row => ({
    id,
    workload,
    unit,
    samples: [],
  });
  const rawAsync = row('raw', 'Raw 4 KB append + fdatasync, async FileHandle (baseline)');
  const rawSync = row('raw-sync', 'Raw 4 KB append + fdatasync, synchronous fs calls');
  const strictRows = new Map(
    config.strictWriters.map((n) => [
      n,
      row(`strict-${n}`, `Strict put 100 B, ${n} writer${n === 1 ? '' : 's'}`, 'commits/s'),
    ]),
  );
  const kvRows = new Map<string, Row>();
  for (const durability of config.modes) {
    for (const size of config.valueSizes) {
      const label = size >= 1024 ? `${size / 1024} KB` : `${size} B`;
      for (const op of ['put', 'get'] as const) {
        const name = `${durability === 'ephemeral' ? 'Ephemeral (cache)' : 'Buffered'} ${op} ${label}`;
        kvRows.set(`${durability}-${op}-${size}`, row(`${durability}-${op}-${size}`, name));
      }
    }
  }

  try {
    const machine = describeMachine(root, config.dir);
    const loadStart = probeLoad();
    gcObserver.observe({ entryTypes: ['gc'] });
    log(`Durable-core benchmark (${config.quick ? 'quick' : 'full'}, ${config.reps} reps) in ${root}`);
    log(`  ${machine.cpus}; ${machine.memory}; Node ${machine.node}; ${machine.fileSystem}`);

    const keys = Array.from({ length: config.kvOps }, (_, i) => keyOf(i));
    const pools = new Map(config.valueSizes.map((size) => [size, valuePool(size, 64)]));
    const strictValues = valuePool(100, 64);

    // Warm-up (not recorded): let the JIT see every path once.
    if (config.only.has('kv')) {
      const warm = Math.min(20_000, config.kvOps);
      for (const durability of config.modes) {
        await runKv(root, durability, warm, pools.get(config.valueSizes[0]!)!, keys, shuffled(warm, 99), 99);
      }
    }
    if (config.only.has('strict')) await runStrict(root, 8, 0.3, strictValues);

    for (let rep = 0; rep < config.reps; rep++) {
      log(`rep ${rep + 1}/${config.reps}`);
      // Raw and strict alternate order (ABBA) so a drift in the disk's speed hits both alike.
      const measureRaw = async (): Promise<void> => {
        if (!config.only.has('raw')) return;
        const raw = await measureRawAppendSyncRate(root, config.rawSeconds, 4096);
        rawAsync.samples.push(raw);
        rawSync.samples.push(raw.sync);
        log(`  raw async ${fmtRate(raw.opsPerSec)}/s, sync ${fmtRate(raw.sync.opsPerSec)}/s`);
      };
      if (rep % 2 === 0) await measureRaw();
      if (config.only.has('strict')) {
        const line: string[] = [];
        const order = [...strictRows];
        if (rep % 2 === 1) order.reverse();
        for (const [writers, r] of order) {
          collect();
          const x = await runStrict(root, writers, config.strictSeconds, strictValues);
          r.samples.push(x);
          line.push(`${writers} writer(s) ${fmtRate(x.opsPerSec)}/s`);
        }
        log(`  strict: ${line.join(', ')}`);
      }
      if (rep % 2 === 1) await measureRaw();
      if (config.only.has('kv')) {
        for (const size of config.valueSizes) {
          for (const durability of config.modes) {
            collect();
            const seed = 1 + rep * 7919 + size;
            const r = await runKv(
              root,
              durability,
              config.kvOps,
              pools.get(size)!,
              keys,
              shuffled(config.kvOps, seed),
              seed,
            );
            kvRows.get(`${durability}-put-${size}`)!.samples.push(r.put);
            kvRows.get(`${durability}-get-${size}`)!.samples.push(r.get);
            log(
              `  ${durability} ${size} B: put ${fmtRate(r.put.opsPerSec)}/s, get ${fmtRate(r.get.opsPerSec)}/s`,
            );
          }
        }
      }
    }

    const rows = [rawAsync, rawSync, ...strictRows.values(), ...kvRows.values()];
    const med = (r: Row | undefined): number =>
      r === undefined || r.samples.length === 0 ? Number.NaN : summarize(r).opsPerSec;
    const ratio = (x: number) => x.toFixed(2);
    const rate = (x: number) => `${(x / 1000).toFixed(1)}k ops/s`;
    const measured = (r: Row | undefined): Row | undefined =>
      r !== undefined && r.samples.length > 0 ? r : undefined;
    const strict1 = measured(strictRows.get(1));
    const strict64 = measured(strictRows.get(64));
    const targets: Target[] = [];
    const notes: string[] = [];
    // Median over repetitions of the ratio within each repetition (the two were measured back to back).
    const paired = (a: Row, b: Row): string => {
      const n = Math.min(a.samples.length, b.samples.length);
      const ratios = Array.from({ length: n }, (_, i) => a.samples[i]!.opsPerSec / b.samples[i]!.opsPerSec);
      return `per-rep median ${ratio(median(ratios))}, range ${ratio(Math.min(...ratios))}–${ratio(Math.max(...ratios))}`;
    };
    if (strict1 !== undefined && rawAsync.samples.length > 0) {
      targets.push({
        label: 'Strict 1 writer / raw fsync rate (async)',
        value: med(strict1) / med(rawAsync),
        target: 0.8,
        format: ratio,
        detail: paired(strict1, rawAsync),
      });
      notes.push(
        `For reference, strict 1 writer / raw fsync rate through the synchronous fs API: ` +
          `${ratio(med(strict1) / med(rawSync))} (NodeBackend uses the async FileHandle API, the baseline above).`,
      );
    }
    if (strict1 !== undefined && strict64 !== undefined) {
      targets.push({
        label: 'Strict 64 writers / strict 1 writer',
        value: med(strict64) / med(strict1),
        target: 10,
        format: ratio,
        detail: paired(strict64, strict1),
      });
    }
    const put100 = measured(kvRows.get('buffered-put-100'));
    const get100 = measured(kvRows.get('buffered-get-100'));
    if (put100 !== undefined && get100 !== undefined) {
      targets.push({ label: 'Buffered put 100 B', value: med(put100), target: 150_000, format: rate });
      targets.push({ label: 'Buffered get 100 B', value: med(get100), target: 500_000, format: rate });
    }
    const text = renderSection(
      config,
      machine,
      rows,
      targets,
      notes,
      performance.now() - began,
      describeLoad(loadStart, probeLoad()),
    );
    console.log(text);
    if (config.write) log(`wrote ${writeSection('Durable core', text, HEADER)}`);
  } finally {
    gcObserver.disconnect();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(root, { recursive: true, force: true });
  }
}

await main();
