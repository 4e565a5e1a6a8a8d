/**
 * YCSB core workloads A–F against the embedded engines Node developers use — lmdb-js, LevelDB
 * (classic-level), RocksDB (@nxtedition/rocksdb), SQLite (better-sqlite3) — beside an in-memory
 * JS B+tree (the ceiling) and Strata, in one run, on one machine.
 *
 * Setup once: `npm ci --prefix bench/ycsb` (the peers live in bench/ycsb/node_modules only).
 * Run: `npm run bench:ycsb` (full: 1,000,000 records × 1 KB, 100,000 operations per workload,
 * 3 repetitions, about 20 minutes; writes the "YCSB" section of docs/benchmarks.md and
 * docs/ycsb.svg) or `npm run bench:ycsb:quick` (50,000 records, 10,000 operations, one
 * repetition, under a minute; writes nothing unless given `--write`). Options: `--records N`,
 * `--ops N` (operations per workload per repetition; workload E gets a tenth, as each scan reads
 * up to 100 records), `--strict-ops N` (per workload in the fsync table), `--reps N`,
 * `--engines strata,lmdb,...`, `--dir PATH`, `--write` / `--no-write`, `--quick`.
 *
 * How it measures: every engine runs in child processes of its own (so RSS is its own). The first
 * loads `records` records in keynum order (random key order) into the engine's folder; each
 * child then lets background work catch up where the engine can say when it has (Strata's
 * `settle()`; the others compact on their own threads) and runs A, B, C, F, D, E in that order
 * (YCSB's recommended sequence), each a fresh operation stream from its own seed (the same seeds
 * for every engine). Repetition r reopens the folder in a new process, and the engines take
 * their turns in an order rotated by r, so that none always runs while the shared machine is
 * busiest. Then, again once per repetition in rotated order, each engine reopens the same data
 * with per-commit fsync, lets background work settle, and runs A and F with `--strict-ops`
 * operations. Throughput is operations over wall time; latency is every 8th operation timed
 * with performance.now() (overhead ~40 ns). Figures are medians over repetitions.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  describeLoad,
  describeMachine,
  fmtLatency,
  fmtRate,
  Latencies,
  median,
  packageRoot,
  percentile,
  probeLoad,
  writeSection,
} from '../report.js';
import { ENGINE_NAMES, type Engine, type EngineName, makeEngine } from './engines.js';
import {
  INSERT,
  keyName,
  type OpStream,
  opStream,
  READ,
  RECORD_BYTES,
  RMW,
  recordPool,
  SCAN,
  UPDATE,
  WORKLOADS,
  type WorkloadName,
  type WorkloadSpec,
} from './workload.js';

interface Config {
  quick: boolean;
  records: number;
  ops: number;
  strictOps: number;
  reps: number;
  engines: EngineName[];
  dir: string;
  write: boolean;
}

function parseArgs(argv: readonly string[]): Config {
  const quick = argv.includes('--quick');
  const flagValue = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (flag: string, fallback: number): number => {
    const raw = flagValue(flag);
    const n = raw === undefined ? fallback : Number(raw);
    if (!(Number.isSafeInteger(n) && n > 0))
      throw new RangeError(`${flag} takes a positive integer, got ${raw}`);
    return n;
  };
  const engines = (flagValue('--engines') ?? ENGINE_NAMES.join(',')).split(',') as EngineName[];
  for (const e of engines)
    if (!ENGINE_NAMES.includes(e))
      throw new RangeError(`unknown engine ${e}; one of ${ENGINE_NAMES.join(', ')}`);
  return {
    quick,
    records: num('--records', quick ? 50_000 : 1_000_000),
    ops: num('--ops', quick ? 10_000 : 100_000),
    strictOps: num('--strict-ops', quick ? 300 : 2_000),
    reps: num('--reps', quick ? 1 : 3),
    engines,
    dir: resolve(flagValue('--dir') ?? tmpdir()),
    write: argv.includes('--write') || (!quick && !argv.includes('--no-write')),
  };
}

const ORDER: readonly WorkloadName[] = ['A', 'B', 'C', 'F', 'D', 'E'];
const STRICT_WORKLOADS: readonly WorkloadName[] = ['A', 'F'];
const VALUE_POOL = 4096;
const LATENCY_SAMPLE_MASK = 7;

interface RunResult {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  missing: number;
}

interface EngineResult {
  engine: EngineName;
  name: string;
  settings: { buffered: string; sync: string };
  loadOpsPerSec: number;
  settleMs: number;
  runs: Partial<Record<WorkloadName, RunResult[]>>;
  strict: Partial<Record<WorkloadName, RunResult[]>>;
  rssPeakBytes: number;
  diskBytes: number;
  nextInsert: number;
}

function addRun(to: Partial<Record<WorkloadName, RunResult[]>>, name: WorkloadName, r: RunResult): void {
  const list = to[name];
  if (list === undefined) to[name] = [r];
  else list.push(r);
}

const specOf = (name: WorkloadName): WorkloadSpec => WORKLOADS.find((w) => w.name === name)!;
const gc = (globalThis as { gc?: () => void }).gc;

async function runStream(engine: Engine, s: OpStream, pool: Uint8Array[]): Promise<RunResult> {
  const lat = new Latencies();
  let missing = 0;
  const { op, key, scanLength, value } = s;
  gc?.();
  const t0 = performance.now();
  for (let i = 0; i < s.count; i++) {
    const timed = (i & LATENCY_SAMPLE_MASK) === 0;
    const start = timed ? performance.now() : 0;
    const kind = op[i]!;
    const k = key[i]!;
    if (kind === READ) {
      if (engine.read(k) === undefined) missing++;
    } else if (kind === UPDATE || kind === INSERT) {
      const w = engine.write(k, pool[value[i]!]!);
      if (w !== undefined) await w;
    } else if (kind === SCAN) {
      const r = engine.scan(k, scanLength[i]!);
      const n = typeof r === 'number' ? r : await r;
      if (n === 0) missing++;
    } else if (kind === RMW) {
      const v = engine.read(k);
      if (v === undefined) missing++;
      const w = engine.write(k, pool[value[i]!]!);
      if (w !== undefined) await w;
    }
    if (timed) lat.push(performance.now() - start);
  }
  const ms = performance.now() - t0;
  const sorted = lat.values().slice().sort();
  return {
    opsPerSec: (s.count / ms) * 1000,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    missing,
  };
}

function folderBytes(dir: string): number {
  const out = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  return Number(out.stdout.split(/\s+/)[0] ?? Number.NaN);
}

type Phase = 'load' | 'run' | 'sync';

/** What one child process reports. */
interface ChildResult {
  settings: { buffered: string; sync: string };
  name: string;
  /** The next keynum to insert, after this child's inserts. */
  nextInsert: number;
  loadOpsPerSec?: number;
  settleMs?: number;
  runs: Partial<Record<WorkloadName, RunResult>>;
  rssPeakBytes: number;
  diskBytes?: number;
}

/**
 * One engine, one phase, in this (child) process: `load` creates the database in `dir`, loads it
 * and runs repetition 0; `run` reopens it and runs one more repetition; `sync` reopens it with
 * per-commit fsync, lets background work settle, and runs the fsync workloads. The in-memory
 * ceiling holds nothing across processes, so it loads again (untimed) in every phase.
 */
async function child(
  config: Config,
  engineName: EngineName,
  phase: Phase,
  dir: string,
  rep: number,
  nextInsert: number,
  outPath: string,
): Promise<void> {
  const engine = makeEngine(engineName);
  const pool = recordPool(VALUE_POOL, 7);
  const names: string[] = [];
  const nameOf = (k: number): string => {
    let n = names[k];
    if (n === undefined) {
      n = keyName(k);
      names[k] = n;
    }
    return n;
  };
  for (let i = 0; i < nextInsert; i++) nameOf(i);
  const log = (msg: string): void => {
    process.stderr.write(`  [${engine.name}] ${msg}\n`);
  };
  const load = async (): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < config.records; i++) {
      const w = engine.write(names[i]!, pool[i % VALUE_POOL]!);
      if (w !== undefined) await w;
    }
    return performance.now() - t0;
  };
  const result: ChildResult = {
    settings: { buffered: engine.settings('buffered'), sync: engine.settings('sync') },
    name: engine.name,
    nextInsert,
    runs: {},
    rssPeakBytes: 0,
  };
  await engine.open(dir, phase === 'sync' ? 'sync' : 'buffered');
  result.settings = { buffered: engine.settings('buffered'), sync: engine.settings('sync') };
  if (phase === 'load') {
    const loadMs = await load();
    result.loadOpsPerSec = (config.records / loadMs) * 1000;
    log(`load ${fmtRate(result.loadOpsPerSec)} ops/s`);
  } else if (engineName === 'ceiling') {
    await load();
  }
  const s0 = performance.now();
  await engine.settle();
  result.settleMs = performance.now() - s0;
  const workloads = phase === 'sync' ? STRICT_WORKLOADS : ORDER;
  for (const [w, name] of workloads.entries()) {
    const count =
      phase === 'sync'
        ? config.strictOps
        : name === 'E'
          ? Math.max(1, Math.floor(config.ops / 10))
          : config.ops;
    const seed = (phase === 'sync' ? 5000 : 1000) * (rep + 1) + w;
    const s = opStream(specOf(name), config.records, result.nextInsert, count, seed, VALUE_POOL, nameOf);
    const r = await runStream(engine, s, pool);
    result.nextInsert += s.inserts;
    result.runs[name] = r;
    log(
      `${name}${phase === 'sync' ? ' fsync' : ''} rep ${rep + 1}: ${fmtRate(r.opsPerSec)} ops/s, p50 ${fmtLatency(r.p50Ms)}, p99 ${fmtLatency(r.p99Ms)}${r.missing > 0 ? `, ${r.missing} missing` : ''}`,
    );
  }
  await engine.close();
  if (phase === 'load' && engineName !== 'ceiling') result.diskBytes = folderBytes(dir);
  result.rssPeakBytes = process.resourceUsage().maxRSS * 1024;
  writeFileSync(outPath, JSON.stringify(result));
}

// ── the report ────────────────────────────────────────────────────────────

interface Summary {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

function summarize(rs: RunResult[] | undefined): Summary | undefined {
  if (rs === undefined || rs.length === 0) return undefined;
  return {
    opsPerSec: median(rs.map((r) => r.opsPerSec)),
    p50Ms: median(rs.map((r) => r.p50Ms)),
    p99Ms: median(rs.map((r) => r.p99Ms)),
  };
}

const COLORS: Record<EngineName, string> = {
  strata: '#d9480f',
  lmdb: '#1971c2',
  leveldb: '#2f9e44',
  rocksdb: '#7048e8',
  sqlite: '#868e96',
  ceiling: '#e8c547',
};

/** A grouped bar chart of ops/s per workload per engine, log scale. */
function svgChart(results: EngineResult[], title: string): string {
  const groups = ORDER;
  const n = results.length;
  const barW = 14;
  const gap = 26;
  const groupW = n * barW + gap;
  const left = 70;
  const top = 40;
  const plotH = 300;
  const width = left + groups.length * groupW + 20;
  const legendH = 22 * Math.ceil(n / 3);
  const height = top + plotH + 40 + legendH;
  const lo = 2; // 10^2 ops/s at the bottom
  let hiExp = 3;
  for (const r of results)
    for (const g of groups) {
      const v = summarize(r.runs[g])?.opsPerSec ?? 0;
      if (v > 0) hiExp = Math.max(hiExp, Math.ceil(Math.log10(v)));
    }
  const y = (v: number): number =>
    top + plotH - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hiExp - lo)) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<title>${title}</title>`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="${left}" y="22" font-size="14" font-weight="bold">${title}</text>`);
  for (let e = lo; e <= hiExp; e++) {
    const yy = y(10 ** e).toFixed(1);
    out.push(`<line x1="${left}" y1="${yy}" x2="${width - 10}" y2="${yy}" stroke="#ddd"/>`);
    out.push(
      `<text x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${fmtRate(10 ** e)}</text>`,
    );
  }
  out.push(
    `<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">ops/s (log scale)</text>`,
  );
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + gap / 2;
    results.forEach((r, ri) => {
      const v = summarize(r.runs[g])?.opsPerSec;
      if (v === undefined) return;
      const yy = y(v);
      out.push(
        `<rect x="${x0 + ri * barW}" y="${yy.toFixed(1)}" width="${barW - 2}" height="${(top + plotH - yy).toFixed(1)}" fill="${COLORS[r.engine]}"><title>${r.name} ${g}: ${fmtRate(v)} ops/s</title></rect>`,
      );
    });
    out.push(
      `<text x="${x0 + (n * barW) / 2}" y="${top + plotH + 18}" text-anchor="middle" font-weight="bold">${g}</text>`,
    );
  });
  results.forEach((r, ri) => {
    const lx = left + (ri % 3) * 220;
    const ly = top + plotH + 40 + Math.floor(ri / 3) * 22;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[r.engine]}"/>`);
    out.push(`<text x="${lx + 18}" y="${ly}">${r.name}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const fmtMiB = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
const fmtRatio = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(2);

interface Target {
  peer: EngineName;
  workload: WorkloadName;
  min: number;
}

function targets(): Target[] {
  const out: Target[] = [];
  for (const w of ['A', 'B', 'D', 'F'] as const) out.push({ peer: 'lmdb', workload: w, min: 2 });
  out.push({ peer: 'lmdb', workload: 'C', min: 1.5 });
  out.push({ peer: 'lmdb', workload: 'E', min: 5 });
  for (const w of ORDER) out.push({ peer: 'ceiling', workload: w, min: 0.5 });
  for (const peer of ['rocksdb', 'leveldb', 'sqlite'] as const)
    for (const w of ORDER) out.push({ peer, workload: w, min: 1 });
  return out;
}

function report(
  config: Config,
  results: EngineResult[],
  command: string,
  tookS: number,
  loadLine: string,
): string {
  const by = new Map(results.map((r) => [r.engine, r]));
  const strata = by.get('strata');
  const machine = describeMachine(packageRoot(), config.dir);
  const lines: string[] = [];
  lines.push('## YCSB');
  lines.push('');
  lines.push(
    `Mode: **${config.quick ? 'quick' : 'full'}**, ${config.reps} repetition${config.reps === 1 ? '' : 's'} per workload; medians over repetitions.`,
  );
  lines.push('');
  lines.push(`- Date: ${new Date().toISOString()}`);
  lines.push(
    `- Command: \`${command}\` (took ${tookS.toFixed(0)} s); the peers installed once with \`npm ci --prefix bench/ycsb\``,
  );
  lines.push(`- CPUs: ${machine.cpus}; memory: ${machine.memory}`);
  lines.push(`- Node ${machine.node}, ${machine.kernel}`);
  lines.push(`- File system: ${machine.fileSystem}`);
  lines.push(`- Background load during the run: ${loadLine}`);
  lines.push(
    `- Data: ${config.records.toLocaleString('en-US')} records × ${RECORD_BYTES} B (10 fields × 100 B) = ${fmtMiB(config.records * RECORD_BYTES)} of values, keys \`user<FNV-64 of keynum>\` loaded in keynum (so random key) order; ${config.ops.toLocaleString('en-US')} operations per workload per repetition (E: ${Math.max(1, Math.floor(config.ops / 10)).toLocaleString('en-US')}); fsync table: ${config.strictOps.toLocaleString('en-US')} per workload per repetition.`,
  );
  lines.push(
    '- Workloads (YCSB core, Zipfian constant 0.99, scrambled; D: latest): ' +
      WORKLOADS.map((w) => `**${w.name}** ${w.title}`).join('; ') +
      '. Single thread; every operation awaited where the engine returns a promise.',
  );
  lines.push('');
  lines.push('Throughput, ops/s (no fsync per operation):');
  lines.push('');
  lines.push(`| Engine | Load | ${ORDER.join(' | ')} | Peak RSS | On disk |`);
  lines.push(`| --- | ---: | ${ORDER.map(() => '---:').join(' | ')} | ---: | ---: |`);
  for (const r of results) {
    const cells = ORDER.map((w) => fmtRate(summarize(r.runs[w])?.opsPerSec ?? Number.NaN));
    const name = r.engine === 'strata' ? `**Strata (buffered)**` : r.name;
    lines.push(
      `| ${name} | ${fmtRate(r.loadOpsPerSec)} | ${cells.join(' | ')} | ${fmtMiB(r.rssPeakBytes)} | ${r.engine === 'ceiling' ? '–' : fmtMiB(r.diskBytes)} |`,
    );
  }
  lines.push('');
  lines.push('Latency per operation, p50 / p99 (every 8th operation timed):');
  lines.push('');
  lines.push(`| Engine | ${ORDER.join(' | ')} |`);
  lines.push(`| --- | ${ORDER.map(() => '---:').join(' | ')} |`);
  for (const r of results) {
    const cells = ORDER.map((w) => {
      const s = summarize(r.runs[w]);
      return s === undefined ? 'n/a' : `${fmtLatency(s.p50Ms)} / ${fmtLatency(s.p99Ms)}`;
    });
    lines.push(`| ${r.name} | ${cells.join(' | ')} |`);
  }
  if (strata !== undefined) {
    lines.push('');
    lines.push('Strata / peer, ratio of median ops/s (same run):');
    lines.push('');
    lines.push(`| Strata / | ${ORDER.join(' | ')} |`);
    lines.push(`| --- | ${ORDER.map(() => '---:').join(' | ')} |`);
    for (const r of results) {
      if (r.engine === 'strata') continue;
      const cells = ORDER.map((w) =>
        fmtRatio(
          (summarize(strata.runs[w])?.opsPerSec ?? Number.NaN) /
            (summarize(r.runs[w])?.opsPerSec ?? Number.NaN),
        ),
      );
      lines.push(`| ${r.name} | ${cells.join(' | ')} |`);
    }
    lines.push('');
    lines.push('![YCSB ops/s per workload per engine](ycsb.svg)');
  }
  lines.push('');
  lines.push('With per-commit fsync (every write durable before it returns), ops/s and p50 / p99:');
  lines.push('');
  lines.push(`| Engine | ${STRICT_WORKLOADS.map((w) => `${w} ops/s | ${w} p50 / p99`).join(' | ')} |`);
  lines.push(`| --- | ${STRICT_WORKLOADS.map(() => '---: | ---:').join(' | ')} |`);
  for (const r of results) {
    if (r.engine === 'ceiling') continue;
    const cells = STRICT_WORKLOADS.map((w) => {
      const s = summarize(r.strict[w]);
      return s === undefined
        ? 'n/a | n/a'
        : `${fmtRate(s.opsPerSec)} | ${fmtLatency(s.p50Ms)} / ${fmtLatency(s.p99Ms)}`;
    });
    lines.push(`| ${r.engine === 'strata' ? 'Strata (strict)' : r.name} | ${cells.join(' | ')} |`);
  }
  if (strata !== undefined) {
    lines.push('');
    lines.push('| Check (ratio of median ops/s, same run) | Measured | Target | Met |');
    lines.push('| --- | ---: | ---: | :---: |');
    for (const t of targets()) {
      const peer = by.get(t.peer);
      if (peer === undefined) continue;
      const ratio =
        (summarize(strata.runs[t.workload])?.opsPerSec ?? Number.NaN) /
        (summarize(peer.runs[t.workload])?.opsPerSec ?? Number.NaN);
      lines.push(
        `| ${t.workload}: Strata buffered / ${peer.name} | ${fmtRatio(ratio)} | ≥ ${t.min.toFixed(2)} | ${ratio >= t.min ? 'yes' : '**no**'} |`,
      );
    }
    for (const r of results) {
      if (r.engine === 'strata' || r.engine === 'ceiling') continue;
      for (const w of STRICT_WORKLOADS) {
        const ratio =
          (summarize(strata.strict[w])?.opsPerSec ?? Number.NaN) /
          (summarize(r.strict[w])?.opsPerSec ?? Number.NaN);
        lines.push(
          `| ${w} with fsync: Strata strict / ${r.name} | ${fmtRatio(ratio)} | ≥ 1.00 | ${ratio >= 1 ? 'yes' : '**no**'} |`,
        );
      }
    }
  }
  lines.push('');
  lines.push('Settings of each engine:');
  lines.push('');
  for (const r of results) {
    lines.push(
      `- **${r.name}** — no fsync per operation: ${r.settings.buffered}.${r.engine === 'ceiling' ? '' : ` Per-commit fsync: ${r.settings.sync}.`}${r.settleMs > 1 ? ` After the load, ${r.settleMs.toFixed(0)} ms waiting for background work to settle (not counted in the load rate).` : ''}`,
    );
  }
  lines.push('');
  lines.push(
    'Every engine runs in child processes of its own, one per repetition, reopening its folder, the engines in an order rotated each repetition; the fsync table reopens the same data with per-commit fsync after background work has settled. "Peak RSS" is the largest maximum resident set of the engine\'s processes (`process.resourceUsage().maxRSS`: the engine, its caches and memory map pages touched, plus the benchmark\'s own key table and value pool, about the same in every process). "On disk" is `du -sb` of the database folder after the buffered workloads. A read is one record by key; an update writes a whole new record; a scan reads up to its length of records from its start key in key order; a read-modify-write reads the record and then writes a new one. The operation stream of each repetition is generated from a seed before the timed loop, so every engine sees the same keys in the same order, and the driver\'s own cost is an array read per operation.',
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const childAt = argv.indexOf('--child');
  const config = parseArgs(argv);
  if (childAt >= 0) {
    const flag = (f: string): string => argv[argv.indexOf(f) + 1]!;
    await child(
      config,
      flag('--child') as EngineName,
      flag('--phase') as Phase,
      flag('--db'),
      Number(flag('--rep')),
      Number(flag('--next-insert')),
      flag('--out'),
    );
    return;
  }
  const started = performance.now();
  const probe0 = probeLoad();
  const tmp = mkdtempSync(join(tmpdir(), 'ycsb-results-'));
  const self = fileURLToPath(import.meta.url);
  const engines = config.engines;
  const dirs = new Map(engines.map((e) => [e, mkdtempSync(join(config.dir, `ycsb-${e}-`))]));
  const results = new Map<EngineName, EngineResult>();
  let step = 0;
  const spawnChild = (e: EngineName, phase: Phase, rep: number): ChildResult => {
    const out = join(tmp, `${e}-${step++}.json`);
    const next = results.get(e)?.nextInsert ?? config.records;
    const r = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        ...process.execArgv.filter((a) => a !== '--expose-gc'),
        self,
        ...argv,
        '--child',
        e,
        '--phase',
        phase,
        '--db',
        dirs.get(e)!,
        '--rep',
        String(rep),
        '--next-insert',
        String(next),
        '--out',
        out,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (r.status !== 0) throw new Error(`${e} ${phase} failed (exit ${r.status}, signal ${r.signal})`);
    return JSON.parse(readFileSync(out, 'utf8')) as ChildResult;
  };
  try {
    // Repetition r runs the engines in an order rotated by r, so that no engine always runs
    // when the (shared) machine is busiest; each engine's database persists between passes.
    const rotated = (r: number): EngineName[] => engines.map((_, i) => engines[(i + r) % engines.length]!);
    for (let rep = 0; rep < config.reps; rep++) {
      for (const e of rotated(rep)) {
        process.stderr.write(`${e}: repetition ${rep + 1}${rep === 0 ? ' (load first)' : ''}\n`);
        const c = spawnChild(e, rep === 0 ? 'load' : 'run', rep);
        let res = results.get(e);
        if (res === undefined) {
          res = {
            engine: e,
            name: c.name,
            settings: c.settings,
            loadOpsPerSec: c.loadOpsPerSec ?? Number.NaN,
            settleMs: c.settleMs ?? 0,
            runs: {},
            strict: {},
            rssPeakBytes: 0,
            diskBytes: c.diskBytes ?? Number.NaN,
            nextInsert: config.records,
          };
          results.set(e, res);
        }
        res.nextInsert = c.nextInsert;
        res.rssPeakBytes = Math.max(res.rssPeakBytes, c.rssPeakBytes);
        for (const [w, r] of Object.entries(c.runs)) addRun(res.runs, w as WorkloadName, r);
      }
    }
    for (let rep = 0; rep < config.reps; rep++) {
      for (const e of rotated(rep)) {
        if (e === 'ceiling') continue;
        process.stderr.write(`${e}: fsync repetition ${rep + 1}\n`);
        const c = spawnChild(e, 'sync', rep);
        const res = results.get(e)!;
        res.nextInsert = c.nextInsert;
        for (const [w, r] of Object.entries(c.runs)) addRun(res.strict, w as WorkloadName, r);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    for (const d of dirs.values()) rmSync(d, { recursive: true, force: true });
  }
  const ordered = engines.map((e) => results.get(e)!);
  const loadLine = describeLoad(probe0, probeLoad());
  const tookS = (performance.now() - started) / 1000;
  const shown = argv.filter((a) => a !== '--write' && a !== '--no-write');
  const command = config.quick
    ? `npm run bench:ycsb:quick${shown.length > 1 ? ` -- ${shown.filter((a) => a !== '--quick').join(' ')}` : ''}`
    : `npm run bench:ycsb${shown.length > 0 ? ` -- ${shown.join(' ')}` : ''}`;
  const section = report(config, ordered, command, tookS, loadLine);
  process.stdout.write(`\n${section}\n`);
  if (config.write) {
    const svg = svgChart(
      ordered,
      `YCSB A–F, ${config.records.toLocaleString('en-US')} records × 1 KB, ops/s (median of ${config.reps})`,
    );
    writeFileSync(join(packageRoot(), 'docs', 'ycsb.svg'), svg);
    const path = writeSection('YCSB', section, '# Benchmarks\n\n');
    process.stdout.write(`\nwrote ${path} and docs/ycsb.svg\n`);
  }
}

await main();
