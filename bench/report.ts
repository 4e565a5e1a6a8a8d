/** What the bench scripts share: the machine and its load, percentiles, writing docs/benchmarks.md. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/**
 * Writes `section` (starting with its `## title` line) into docs/benchmarks.md, replacing the
 * section with the same title, or appending it; `header` starts a missing file.
 */
export function writeSection(title: string, section: string, header: string): string {
  const path = join(packageRoot(), 'docs', 'benchmarks.md');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : header;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${title}`);
  let out: string;
  if (start < 0) {
    out = `${text.replace(/\n*$/, '\n\n')}${section}`;
  } else {
    let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
    if (end < 0) end = lines.length;
    const before = lines.slice(0, start).join('\n');
    const after = lines.slice(end).join('\n');
    out = `${before.replace(/\n*$/, '\n\n')}${section}${after.length > 0 ? `\n${after}` : ''}`;
  }
  writeFileSync(path, `${out.replace(/\n*$/, '')}\n`);
  return path;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

export function shell(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export interface Machine {
  cpus: string;
  memory: string;
  node: string;
  kernel: string;
  fileSystem: string;
}

export function describeMachine(root: string, shown: string): Machine {
  const nproc = shell('nproc', []) ?? String(cpus().length);
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const df = shell('df', ['-T', root])?.split('\n')[1]?.split(/\s+/);
  return {
    cpus: `${nproc} (nproc), ${model}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    kernel: `${process.platform} ${release()}`,
    fileSystem: df === undefined ? 'unknown' : `${df[1]} on ${df[0]} (\`df -T\` of ${shown})`,
  };
}

/** Cumulative stall time (µs, "some" line) from /proc/pressure/<kind>, when the kernel has PSI. */
export function pressureTotal(kind: 'cpu' | 'io'): number | undefined {
  try {
    const m = /^some .*total=(\d+)/m.exec(readFileSync(`/proc/pressure/${kind}`, 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

export interface LoadProbe {
  at: number;
  load: number;
  cpu: number | undefined;
  io: number | undefined;
}

export function probeLoad(): LoadProbe {
  return {
    at: performance.now(),
    load: loadavg()[0] ?? Number.NaN,
    cpu: pressureTotal('cpu'),
    io: pressureTotal('io'),
  };
}

/** How busy the machine was between two probes (other processes share it). */
export function describeLoad(start: LoadProbe, end: LoadProbe): string {
  const ms = end.at - start.at;
  const share = (a: number | undefined, b: number | undefined): string =>
    a === undefined || b === undefined ? 'n/a' : `${((100 * (b - a)) / 1000 / ms).toFixed(0)}%`;
  return (
    `load average (1 min) ${start.load.toFixed(2)} at start, ${end.load.toFixed(2)} at end; ` +
    `share of the run with some task stalled (/proc/pressure): CPU ${share(start.cpu, end.cpu)}, ` +
    `IO ${share(start.io, end.io)}`
  );
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? s[(n - 1) >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** A growable list of latencies in milliseconds. */
export class Latencies {
  private data = new Float64Array(1024);
  length = 0;
  push(ms: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = ms;
  }
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** xorshift32: a tiny deterministic generator for sampling and shuffling. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export function shuffled(n: number, seed: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  const next = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = next() % (i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

/** `count` distinct ASCII strings of exactly `bytes` bytes. */
export function valuePool(bytes: number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const head = `v${i}:`;
    let body = '';
    while (head.length + body.length < bytes) body += String.fromCharCode(97 + ((i + body.length) % 26));
    out.push(head + body.slice(0, bytes - head.length));
  }
  return out;
}

export function fmtRate(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (x >= 100_000) return `${(x / 1000).toFixed(0)}k`;
  if (x >= 10_000) return `${(x / 1000).toFixed(1)}k`;
  return x.toFixed(0);
}

export function fmtLatency(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 0.01) return `${(ms * 1000).toFixed(2)} µs`;
  if (ms < 1) return `${(ms * 1000).toFixed(1)} µs`;
  return `${ms.toFixed(2)} ms`;
}
