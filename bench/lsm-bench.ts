/**
 * The LSM benchmark: a data set several times the memory budget, written, read and scanned on
 * disk, beside the same workload held entirely in memory (an ephemeral database, no tables) in
 * the same run; put latency while a compaction runs against while none does; event-loop delay;
 * write and space amplification; RSS against the budget.
 *
 * Run: `npm run bench:lsm` (full, a few minutes) or `npm run bench:lsm -- --quick` (about a
 * minute). Options: `--quick`, `--reps N`, `--budget MiB` (memoryBudgetBytes; default 32, quick 8),
 * `--factor F` (user bytes written / budget; default 4.5), `--value BYTES` (default 1024),
 * `--dir PATH` (temp root), `--write` / `--no-write` (full mode writes docs/benchmarks.md).
 *
 * How it measures:
 * - Load: `records` awaited puts of distinct keys `user0123456789` in hashed order (a bijection of
 *   0..records-1, so the keys arrive in random key order, as YCSB loads them), values of `--value`
 *   bytes. Put throughput is puts over the load's wall time; "with catch-up" adds the time
 *   `db.settle()` then takes for flushes and compactions to finish.
 * - Put latency beside a large compaction, with the compaction on a worker thread and on the main
 *   thread in slices (`compactionWorker: false`): the same data is loaded with compaction held off
 *   (L0 trigger 40), so it all sits in L0; the database is reopened with the L0 trigger at 4 (and
 *   no slowdown), which starts one compaction of everything into L1. While it runs, and then
 *   again once it is done, a paced writer does rounds of 50 awaited puts of 100 B (fresh keys) with
 *   a 1 ms timer between rounds; every put is timed, and each timer's lateness is the event-loop
 *   delay.
 * - Get: as many random gets (uniform over the loaded keys) as there are records, capped at
 *   200,000; each must find its value. Scan: `kv.list({ start, limit: 100 })` from a random key.
 * - Event-loop delay: perf_hooks.monitorEventLoopDelay (1 ms resolution) over the load.
 * - Write amplification: table bytes written by flushes and compactions over user bytes (key +
 *   value), and all bytes the process passed to write(2) (`wchar` of /proc/self/io: log, tables,
 *   manifest) over user bytes. Space amplification: bytes of every file in the database folder
 *   after the catch-up, over the user bytes of the live keys.
 * - RSS: sampled every 1,024 operations; reported as the peak over the run minus the RSS just
 *   before the database opened (after a forced GC), beside the budget.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Strata } from '../src/index.js';
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
  valuePool,
  writeSection,
} from './report.js';

interface Config {
  quick: boolean;
  reps: number;
  budgetBytes: number;
  factor: number;
  valueBytes: number;
  dir: string;
  write: boolean;
}

function parseArgs(argv: readonly string[]): Config {
  const quick = argv.includes('--quick');
  const flagValue = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (flag: string, fallback: number, integer = true): number => {
    const raw = flagValue(flag);
    const n = raw === undefined ? fallback : Number(raw);
    if (!(Number.isFinite(n) && n > 0 && (!integer || Number.isSafeInteger(n))))
      throw new RangeError(`${flag} takes a positive ${integer ? 'integer' : 'number'}, got ${raw}`);
    return n;
  };
  return {
    quick,
    reps: num('--reps', quick ? 1 : 3),
    budgetBytes: num('--budget', quick ? 8 : 32) * 1024 * 1024,
    factor: num('--factor', 4.5, false),
    valueBytes: num('--value', 1024),
    dir: resolve(flagValue('--dir') ?? tmpdir()),
    write: argv.includes('--write') || (!quick && !argv.includes('--no-write')),
  };
}

/** Distinct keys in hashed order: i ↦ i × an odd constant mod 2^32 is a bijection. */
const keyOf = (i: number): string => `user${String(Math.imul(i, 0x9e3779b1) >>> 0).padStart(10, '0')}`;

const ns = (): bigint => process.hrtime.bigint();
const msSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const gc = (globalThis as { gc?: () => void }).gc;

/** Bytes the process has passed to write(2) so far (Linux), or undefined. */
function writtenChars(): number | undefined {
  try {
    const m = /^wchar:\s*(\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(p) : statSync(p).size;
  }
  return total;
}

interface Latency {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

function latencyOf(l: Latencies): Latency {
  const v = l.values().slice().sort();
  return {
    count: v.length,
    p50: percentile(v, 0.5),
    p99: percentile(v, 0.99),
    p999: percentile(v, 0.999),
    max: v.length === 0 ? Number.NaN : v[v.length - 1]!,
  };
}

interface Run {
  putPerSec: number;
  putWithCatchUpPerSec: number;
  getPerSec: number;
  scanPerSec: number;
  /** Present for the on-disk run only. */
  disk?: {
    loopP99Ms: number;
    loopMaxMs: number;
    flushes: number;
    compactions: number;
    largestCompactionBytes: number;
    tableWriteAmp: number;
    totalWriteAmp: number | undefined;
    spaceAmp: number;
    tableBytes: number;
    levels: string;
    stallMs: number;
    rssPeakBytes: number;
    rssOverBaseBytes: number;
    blockCacheHitRate: number;
  };
}

async function runOnce(config: Config, records: number, onDisk: boolean, seed: number): Promise<Run> {
  const values = valuePool(config.valueBytes, 64);
  const dir = onDisk ? await mkdtemp(join(config.dir, 'strata-lsm-')) : undefined;
  gc?.();
  const rssBase = process.memoryUsage.rss();
  let rssPeak = rssBase;
  const sampleRss = (): void => {
    const r = process.memoryUsage.rss();
    if (r > rssPeak) rssPeak = r;
  };
  const db =
    dir === undefined
      ? await Strata.cache()
      : await Strata.open(dir, { memoryBudgetBytes: config.budgetBytes });
  try {
    const kv = db.branch().kv;
    const next = rng(seed);
    const chars0 = writtenChars();
    let compactions = 0;
    let readBefore = 0;
    let writtenBefore = 0;
    let largest = 0;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    /** Reads the tree's state: whether a compaction runs, and the size of any that finished. */
    const observe = (): void => {
      const t = db.stats().tree;
      if (t.compactions !== compactions) {
        const bytes = t.compactionBytesRead - readBefore + (t.compactionBytesWritten - writtenBefore);
        if (bytes > largest) largest = bytes;
        compactions = t.compactions;
        readBefore = t.compactionBytesRead;
        writtenBefore = t.compactionBytesWritten;
      }
    };
    loop.enable();
    const loadStart = ns();
    for (let i = 0; i < records; i++) {
      if ((i & 63) === 0 && onDisk) observe();
      if ((i & 1023) === 0) sampleRss();
      await kv.put(keyOf(i), values[i & 63]!);
    }
    const loadMs = msSince(loadStart);
    loop.disable();
    await db.settle();
    const settledMs = msSince(loadStart);
    sampleRss();

    const gets = Math.min(records, 200_000);
    const getStart = ns();
    for (let n = 0; n < gets; n++) {
      const i = next() % records;
      if (kv.get(keyOf(i)) === undefined) throw new Error(`key ${i} (${keyOf(i)}) is missing`);
      if ((n & 1023) === 0) sampleRss();
    }
    const getMs = msSince(getStart);

    const scans = config.quick ? 1000 : 5000;
    let scanned = 0;
    const scanStart = ns();
    for (let n = 0; n < scans; n++) {
      for (const _ of kv.list({ start: keyOf(next() % records), limit: 100 })) scanned++;
      if ((n & 63) === 0) sampleRss();
    }
    const scanMs = msSince(scanStart);
    if (scanned < scans * 50) throw new Error(`scans returned only ${scanned} entries`);

    const run: Run = {
      putPerSec: records / (loadMs / 1000),
      putWithCatchUpPerSec: records / (settledMs / 1000),
      getPerSec: gets / (getMs / 1000),
      scanPerSec: scans / (scanMs / 1000),
    };
    if (dir !== undefined) {
      observe();
      const t = db.stats().tree;
      const userBytes = records * (keyOf(0).length + config.valueBytes);
      const chars1 = writtenChars();
      run.disk = {
        loopP99Ms: loop.percentile(99) / 1e6,
        loopMaxMs: loop.max / 1e6,
        flushes: t.flushes,
        compactions: t.compactions,
        largestCompactionBytes: largest,
        tableWriteAmp: (t.flushBytesWritten + t.compactionBytesWritten) / userBytes,
        totalWriteAmp:
          chars0 === undefined || chars1 === undefined ? undefined : (chars1 - chars0) / userBytes,
        spaceAmp: folderBytes(dir) / userBytes,
        tableBytes: t.tableBytes,
        levels: t.levels
          .filter((l) => l.tables > 0)
          .map((l) => `L${l.level}: ${l.tables} (${(l.bytes / 2 ** 20).toFixed(1)} MiB)`)
          .join(', '),
        stallMs: t.stallMs,
        rssPeakBytes: rssPeak,
        rssOverBaseBytes: rssPeak - rssBase,
        blockCacheHitRate: t.blockCache.hitRate,
      };
    }
    return run;
  } finally {
    await db.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

interface PacedResult {
  puts: Latency;
  /** Random gets per second of wall time (each round also reads for 1 ms). */
  getsPerSec: number;
  /** Lateness of the 1 ms timer between rounds: the event-loop delay the application sees. */
  loop: Latency;
  rounds: number;
}

/**
 * Rounds of 50 awaited puts of 100 B, then 1 ms of random gets of the loaded keys, then a 1 ms
 * timer, until `stop()` says so.
 */
async function pacedWriter(
  kv: ReturnType<Strata['branch']>['kv'],
  records: number,
  prefix: string,
  stop: (rounds: number) => boolean,
): Promise<PacedResult> {
  const puts = new Latencies();
  const loop = new Latencies();
  const value = 'p'.repeat(100);
  const next = rng(99);
  let rounds = 0;
  let n = 0;
  let gets = 0;
  const began = performance.now();
  while (!stop(rounds)) {
    for (let i = 0; i < 50; i++) {
      const t0 = ns();
      await kv.put(`${prefix}${String(n++).padStart(8, '0')}`, value);
      puts.push(msSince(t0));
    }
    const readUntil = performance.now() + 1;
    do {
      if (kv.get(keyOf(next() % records)) === undefined) throw new Error('a loaded key is missing');
      gets++;
    } while (performance.now() < readUntil);
    const armed = performance.now();
    await new Promise((r) => setTimeout(r, 1));
    loop.push(Math.max(0, performance.now() - armed - 1));
    rounds++;
  }
  return {
    puts: latencyOf(puts),
    getsPerSec: gets / ((performance.now() - began) / 1000),
    loop: latencyOf(loop),
    rounds,
  };
}

interface LatencyRun {
  worker: boolean;
  during: PacedResult;
  after: PacedResult;
  compactionMs: number;
  compactionBytes: number;
  offloaded: number;
}

/** Loads everything into L0, then measures the paced writer during and after one big compaction. */
async function runLatency(config: Config, records: number, worker: boolean): Promise<LatencyRun> {
  const values = valuePool(config.valueBytes, 64);
  const dir = await mkdtemp(join(config.dir, 'strata-lsm-latency-'));
  const base = { memoryBudgetBytes: config.budgetBytes, compactionWorker: worker };
  try {
    const held = await Strata.open(dir, {
      ...base,
      lsm: { l0CompactionTrigger: 40, l0SlowdownTrigger: 41, l0StopTrigger: 42 },
    });
    const kv0 = held.branch().kv;
    for (let i = 0; i < records; i++) await kv0.put(keyOf(i), values[i & 63]!);
    await held.compact();
    const l0 = held.stats().tree.levels[0]!;
    await held.close();
    if (l0.tables < 5) throw new Error(`expected the data in L0, found ${l0.tables} L0 tables`);
    gc?.();

    const db = await Strata.open(dir, {
      ...base,
      lsm: { l0CompactionTrigger: 4, l0SlowdownTrigger: 40, l0StopTrigger: 41 },
    });
    try {
      const kv = db.branch().kv;
      const started = performance.now();
      let compactionMs = Number.NaN;
      const compacting = (): boolean => {
        const t = db.stats().tree;
        if (t.compactions > 0 && !t.compacting && Number.isNaN(compactionMs)) {
          compactionMs = performance.now() - started;
        }
        return t.compacting || t.compactions === 0;
      };
      const during = await pacedWriter(kv, records, 'during', () => !compacting());
      await db.settle();
      const t = db.stats().tree;
      const after = await pacedWriter(
        kv,
        records,
        'after',
        (rounds) => rounds >= Math.max(200, during.rounds),
      );
      return {
        worker,
        during,
        after,
        compactionMs,
        compactionBytes: t.compactionBytesRead + t.compactionBytesWritten,
        offloaded: t.offloadedCompactions,
      };
    } finally {
      await db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
const x2 = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(2)}×`;
const medOf = (runs: readonly Run[], f: (r: Run) => number): number => median(runs.map(f));

function render(
  config: Config,
  records: number,
  machine: Machine,
  disk: readonly Run[],
  memory: readonly Run[],
  latency: readonly LatencyRun[],
  tookMs: number,
  load: string,
): string {
  const d = (f: (x: NonNullable<Run['disk']>) => number): number => medOf(disk, (r) => f(r.disk!));
  const userBytes = records * (keyOf(0).length + config.valueBytes);
  const lines: string[] = [];
  lines.push('## LSM tables', '');
  lines.push(
    `Mode: **${config.quick ? 'quick' : 'full'}**, ${config.reps} repetition${config.reps === 1 ? '' : 's'}; medians over repetitions.`,
    '',
  );
  lines.push(
    `- Date: ${new Date().toISOString()}`,
    `- Command: \`npm run bench:lsm${config.quick ? ' -- --quick' : ''}\` (took ${Math.round(tookMs / 1000)} s)`,
    `- CPUs: ${machine.cpus}; memory: ${machine.memory}`,
    `- Node ${machine.node}, ${machine.kernel}`,
    `- File system: ${machine.fileSystem}`,
    `- Background load during the run: ${load}`,
    `- Data: ${records.toLocaleString('en-US')} keys × ${config.valueBytes} B values = ${mib(userBytes)} of user data, ` +
      `${(userBytes / config.budgetBytes).toFixed(1)}× the memory budget of ${mib(config.budgetBytes)} ` +
      `(\`memoryBudgetBytes\`; memtable ${mib(config.budgetBytes / 4)}, block and table caches ${mib((config.budgetBytes * 3) / 8)} together, indexes and filters first); buffered durability, default retention (keep every version); compactions on a worker thread (the Node default) except where a row says otherwise.`,
    `- Tables after the run: ${disk[0]?.disk?.levels ?? 'n/a'}`,
    '',
  );
  lines.push(
    '| Workload | On disk, data 4×+ the budget | In memory (ephemeral, baseline) | On disk / in memory |',
    '| --- | ---: | ---: | ---: |',
  );
  const row = (label: string, f: (r: Run) => number, unit: string): void => {
    const a = medOf(disk, f);
    const b = medOf(memory, f);
    lines.push(`| ${label} | ${fmtRate(a)} ${unit} | ${fmtRate(b)} ${unit} | ${(a / b).toFixed(2)} |`);
  };
  row(`Put ${config.valueBytes} B (load, random key order)`, (r) => r.putPerSec, 'ops/s');
  row(
    'Put, including the catch-up of flushes and compactions after the load',
    (r) => r.putWithCatchUpPerSec,
    'ops/s',
  );
  row('Get (uniform random, every key found)', (r) => r.getPerSec, 'ops/s');
  row('Scan of 100 keys from a random start', (r) => r.scanPerSec, 'scans/s');
  lines.push('');

  lines.push(
    `Put latency beside one compaction of all ${mib(userBytes)} from L0 into L1 (paced writer: rounds of 50 puts of 100 B, then 1 ms of random gets, then a 1 ms timer; "gets/s beside" is gets per second of wall time):`,
    '',
    '| Compaction runs | Phase | puts | put p50 | put p99 | put max | event-loop delay p99 | max | gets/s beside | compaction took | MiB/s (read + written) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  const checks: string[] = [];
  for (const worker of [true, false]) {
    const runs = latency.filter((r) => r.worker === worker);
    if (runs.length === 0) continue;
    const m = (f: (r: LatencyRun) => number): number => median(runs.map(f));
    const where = worker ? 'on a worker thread' : 'on the main thread, in slices';
    const took = m((r) => r.compactionMs);
    const rate = m((r) => r.compactionBytes / 2 ** 20 / (r.compactionMs / 1000));
    for (const phase of ['during', 'after'] as const) {
      lines.push(
        `| ${where} | ${phase === 'during' ? 'while it runs' : 'after it finished'} | ${Math.round(m((r) => r[phase].puts.count)).toLocaleString('en-US')} | ` +
          `${fmtLatency(m((r) => r[phase].puts.p50))} | ${fmtLatency(m((r) => r[phase].puts.p99))} | ${fmtLatency(m((r) => r[phase].puts.max))} | ` +
          `${fmtLatency(m((r) => r[phase].loop.p99))} | ${fmtLatency(m((r) => r[phase].loop.max))} | ` +
          `${fmtRate(m((r) => r[phase].getsPerSec))} | ` +
          `${phase === 'during' ? `${(took / 1000).toFixed(1)} s` : ''} | ${phase === 'during' ? rate.toFixed(0) : ''} |`,
      );
    }
    const ratio = m((r) => r.during.puts.p99 / r.after.puts.p99);
    checks.push(
      `| p99 put latency during / after the compaction, compaction ${where} | ${ratio.toFixed(2)} | ≤ 3.00 | ${ratio <= 3 ? 'yes' : '**no**'} |`,
    );
  }
  lines.push('', '| Check | Measured | Target | Met |', '| --- | ---: | ---: | :---: |', ...checks, '');
  lines.push(
    '| Amplification and memory | Measured |',
    '| --- | ---: |',
    `| Write amplification, table bytes (flush + compaction) / user bytes | ${x2(d((x) => x.tableWriteAmp))} |`,
    `| Write amplification, all bytes written (log + tables + manifest, \`wchar\`) / user bytes | ${x2(d((x) => x.totalWriteAmp ?? Number.NaN))} |`,
    `| Space amplification, database folder / user bytes | ${x2(d((x) => x.spaceAmp))} |`,
    `| Flushes / compactions during the run | ${d((x) => x.flushes)} / ${d((x) => x.compactions)} |`,
    `| Largest compaction (bytes read + written) | ${mib(d((x) => x.largestCompactionBytes))} |`,
    `| Writer stall time (back-pressure) | ${d((x) => x.stallMs).toFixed(0)} ms |`,
    `| Event-loop delay over the load (a tight loop of awaited puts, which itself yields only when a put waits): p99 / max | ${d((x) => x.loopP99Ms).toFixed(1)} ms / ${d((x) => x.loopMaxMs).toFixed(1)} ms |`,
    `| Block cache hit rate (get and scan phases included) | ${(100 * d((x) => x.blockCacheHitRate)).toFixed(0)}% |`,
    `| RSS peak over the RSS before open, first repetition (a fresh process: nothing else has run in it) | ${mib(disk[0]!.disk!.rssOverBaseBytes)} (absolute ${mib(disk[0]!.disk!.rssPeakBytes)}) for a budget of ${mib(config.budgetBytes)} |`,
    '',
  );
  lines.push(
    'The in-memory baseline is the same workload in an ephemeral database (`Strata.cache()`), where ' +
      'every version stays in the memtable and nothing is flushed: the ceiling the on-disk figures are ' +
      'measured against. RSS includes garbage the V8 heap has not yet collected, so it is an upper bound on ' +
      'what Strata holds; the memory budget covers memtables, the block cache and table indexes and filters, ' +
      "and the fixed overhead above it is the runtime, the code and the benchmark's own arrays.",
    '',
  );
  return lines.join('\n');
}

const HEADER = '# Benchmarks\n';

async function main(): Promise<void> {
  const began = performance.now();
  const config = parseArgs(process.argv.slice(2));
  const records = Math.ceil((config.factor * config.budgetBytes) / (keyOf(0).length + config.valueBytes));
  const log = (msg: string): void => console.error(msg);
  const machine = describeMachine(config.dir, config.dir);
  const loadStart = probeLoad();
  log(
    `LSM benchmark (${config.quick ? 'quick' : 'full'}, ${config.reps} reps): ${records} keys × ${config.valueBytes} B, budget ${mib(config.budgetBytes)}`,
  );
  const disk: Run[] = [];
  const memory: Run[] = [];
  const latency: LatencyRun[] = [];
  for (let rep = 0; rep < config.reps; rep++) {
    const seed = 17 + rep * 7919;
    // Alternate the order so a drift in the machine's speed hits both alike.
    const order = rep % 2 === 0 ? [true, false] : [false, true];
    for (const onDisk of order) {
      const r = await runOnce(config, records, onDisk, seed);
      (onDisk ? disk : memory).push(r);
      log(
        `  rep ${rep + 1} ${onDisk ? 'disk' : 'memory'}: put ${fmtRate(r.putPerSec)}/s, get ${fmtRate(r.getPerSec)}/s, ` +
          `scan ${fmtRate(r.scanPerSec)}/s` +
          (r.disk === undefined ? '' : `; RSS +${mib(r.disk.rssOverBaseBytes)}`),
      );
    }
    for (const worker of rep % 2 === 0 ? [true, false] : [false, true]) {
      const l = await runLatency(config, records, worker);
      latency.push(l);
      log(
        `  rep ${rep + 1} compaction ${worker ? 'worker' : 'slices'}: ${(l.compactionMs / 1000).toFixed(1)} s; ` +
          `put p99 during ${fmtLatency(l.during.puts.p99)}, after ${fmtLatency(l.after.puts.p99)}; ` +
          `loop max during ${fmtLatency(l.during.loop.max)}, after ${fmtLatency(l.after.loop.max)}`,
      );
    }
  }
  const text = render(
    config,
    records,
    machine,
    disk,
    memory,
    latency,
    performance.now() - began,
    describeLoad(loadStart, probeLoad()),
  );
  console.log(text);
  if (config.write) log(`wrote ${writeSection('LSM tables', text, HEADER)}`);
}

await main();
