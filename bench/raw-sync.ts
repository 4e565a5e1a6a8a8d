/**
 * The disk's raw append + fdatasync rate: the ceiling for strict-mode commits without group
 * commit, and the baseline the durability benchmark compares Strata against.
 *
 * Run: `node --import tsx bench/raw-sync.ts [dir] [seconds] [blockBytes]` (defaults: the OS temp
 * folder, 3 s, 4096 bytes), or after `npm run build`, `node dist/bench/raw-sync.js ...`.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

/** One measurement: operations per second and latency percentiles of one append + fdatasync. */
export interface RawSyncRate {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Append + fdatasync pairs completed. */
  ops: number;
}

/** The async FileHandle figure (what the database does), with the synchronous-API figure beside it. */
export interface RawSyncReport extends RawSyncRate {
  /** The same loop with `fs.writeSync` + `fs.fdatasyncSync` (no thread-pool hop). */
  sync: RawSyncRate;
}

/**
 * Measures, in a new temporary file under `dir`, how many times per second one process can
 * append `blockBytes` and fdatasync, one after the other: first for `seconds` through the async
 * `fs.promises` FileHandle API (as NodeBackend does: the fdatasync runs on libuv's thread pool),
 * then for `seconds` more through the synchronous API. The file is always appended to, so each
 * sync also persists the new file size, as a WAL's does. Removes its files before returning.
 * Requires `seconds > 0` and `blockBytes >= 1`; throws the platform error if `dir` is unusable.
 */
export async function measureRawAppendSyncRate(
  dir: string,
  seconds: number,
  blockBytes = 4096,
): Promise<RawSyncReport> {
  if (!(seconds > 0)) throw new RangeError(`seconds must be positive, got ${seconds}`);
  if (!Number.isSafeInteger(blockBytes) || blockBytes < 1) {
    throw new RangeError(`blockBytes must be a positive integer, got ${blockBytes}`);
  }
  const work = await mkdtemp(join(dir, 'strata-raw-sync-'));
  try {
    const block = new Uint8Array(blockBytes).fill(0x5a);
    const asyncRate = await measureAsync(join(work, 'async.log'), block, seconds * 1000);
    const syncRate = measureSync(join(work, 'sync.log'), block, seconds * 1000);
    return { ...asyncRate, sync: syncRate };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function measureAsync(path: string, block: Uint8Array, durationMs: number): Promise<RawSyncRate> {
  const handle = await open(path, 'a');
  const latenciesMs: number[] = [];
  try {
    const start = performance.now();
    let now = start;
    while (now - start < durationMs) {
      const before = now;
      await handle.write(block, 0, block.length);
      await handle.datasync();
      now = performance.now();
      latenciesMs.push(now - before);
    }
    return summarize(latenciesMs, now - start);
  } finally {
    await handle.close();
  }
}

function measureSync(path: string, block: Uint8Array, durationMs: number): RawSyncRate {
  const fd = openSync(path, 'a');
  const latenciesMs: number[] = [];
  try {
    const start = performance.now();
    let now = start;
    while (now - start < durationMs) {
      const before = now;
      writeSync(fd, block, 0, block.length);
      fdatasyncSync(fd);
      now = performance.now();
      latenciesMs.push(now - before);
    }
    return summarize(latenciesMs, now - start);
  } finally {
    closeSync(fd);
  }
}

function summarize(latenciesMs: number[], elapsedMs: number): RawSyncRate {
  const sorted = Float64Array.from(latenciesMs).sort();
  // Nearest-rank percentile: the smallest sample with at least q of all samples at or below it.
  const percentile = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return {
    opsPerSec: (sorted.length * 1000) / elapsedMs,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
    ops: sorted.length,
  };
}

function format(rate: RawSyncRate): string {
  return `${rate.opsPerSec.toFixed(0)} ops/s  p50 ${rate.p50Ms.toFixed(3)} ms  p99 ${rate.p99Ms.toFixed(3)} ms  (${rate.ops} ops)`;
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  const [dir = tmpdir(), seconds = '3', blockBytes = '4096'] = process.argv.slice(2);
  const report = await measureRawAppendSyncRate(dir, Number(seconds), Number(blockBytes));
  console.log(`raw append ${blockBytes} B + fdatasync in ${dir}`);
  console.log(`  async FileHandle: ${format(report)}`);
  console.log(`  sync fs calls:    ${format(report.sync)}`);
}
