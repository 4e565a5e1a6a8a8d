/**
 * A measurement (not a timed test) of the events primitive: append rate and read latency on one
 * long stream of a buffered database on the local file system.
 *
 * Run: `npx tsx bench/events.ts` (1,000,000 events) or `npx tsx bench/events.ts --n 100000`.
 * Options: `--n N` (events), `--dir PATH` (temp root; default the OS temp folder), `--samples N`.
 *
 * - Append: awaited appends one at a time (every 1,000th one timed in a window of 1,000, for a
 *   rate per window), and bursts of 1,000 appends issued together and awaited with Promise.all.
 *   The medians of the window rates are printed, so the first windows (a short stream) and the
 *   last ones (a long stream) show whether appends stay O(1).
 * - Reads (after db.compact(), so they come from tables, and again from the memtable's successor
 *   state): 50 events of one type (1 in 4 events) from a random seq, 50 events of a time window
 *   found by binary search, one event by seq; each timed per call, median and p99.
 * - Verify of the whole stream, timed once (it reads every event).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Strata } from '../src/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

const N = Number(arg('n', '1000000'));
const SAMPLES = Number(arg('samples', '2000'));
const TYPES = ['tool_call', 'result', 'thought', 'error'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
}

function fmtUs(ms: number): string {
  return `${(ms * 1000).toFixed(1)} µs`;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(arg('dir', tmpdir()), 'strata-events-bench-'));
  try {
    const db = await Strata.open(join(dir, 'db'), { durability: 'buffered' });
    const ev = db.branch('main').events;
    const data = (i: number) => ({ i, tool: 'search', query: 'some query text of a typical size' });
    const half = Math.floor(N / 2);
    // Phase 1: awaited appends, one at a time.
    const windowRates: number[] = [];
    let t = performance.now();
    for (let i = 0; i < half; i++) {
      await ev.append('run', TYPES[i % 4]!, data(i));
      if ((i + 1) % 1000 === 0) {
        const now = performance.now();
        windowRates.push(1000 / ((now - t) / 1000));
        t = now;
      }
    }
    // Phase 2: bursts of 1,000 appends issued together.
    const burstRates: number[] = [];
    for (let i = half; i < N; i += 1000) {
      const n = Math.min(1000, N - i);
      const t0 = performance.now();
      const ps: Promise<unknown>[] = [];
      for (let j = 0; j < n; j++) ps.push(ev.append('run', TYPES[(i + j) % 4]!, data(i + j)));
      await Promise.all(ps);
      burstRates.push(n / ((performance.now() - t0) / 1000));
    }
    const tenth = Math.max(1, Math.floor(windowRates.length / 10));
    console.log(`events: ${N.toLocaleString()} events in one stream (buffered, ${process.platform})`);
    console.log(
      `append, awaited one at a time: median ${Math.round(median(windowRates)).toLocaleString()} /s ` +
        `(first tenth ${Math.round(median(windowRates.slice(0, tenth))).toLocaleString()} /s, ` +
        `last tenth ${Math.round(median(windowRates.slice(-tenth))).toLocaleString()} /s)`,
    );
    console.log(
      `append, bursts of 1,000 un-awaited: median ${Math.round(median(burstRates)).toLocaleString()} /s`,
    );
    const length = ev.head('run')!.length;
    if (length !== N) throw new Error(`expected ${N} events, found ${length}`);

    const measure = (label: string): void => {
      const byType: number[] = [];
      const byTime: number[] = [];
      const bySeq: number[] = [];
      const t0 = ev.get('run', 0)!.timestamp;
      const t1 = ev.head('run')!.lastTimestamp;
      let seed = 12345;
      const rand = (n: number): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed % n;
      };
      for (let s = 0; s < SAMPLES; s++) {
        const from = rand(N);
        let a = performance.now();
        const got = ev.read('run', { type: TYPES[s % 4]!, from, limit: 50 });
        byType.push(performance.now() - a);
        if (got.length === 0 && from < N - 200) throw new Error('read by type found nothing');
        const since = t0 + rand(Math.max(1, t1 - t0));
        a = performance.now();
        ev.read('run', { since, limit: 50 });
        byTime.push(performance.now() - a);
        a = performance.now();
        ev.get('run', rand(N));
        bySeq.push(performance.now() - a);
      }
      console.log(
        `${label}: read 50 of one type from a random seq: median ${fmtUs(median(byType))}, p99 ${fmtUs(p99(byType))}; ` +
          `read 50 from a random time: median ${fmtUs(median(byTime))}, p99 ${fmtUs(p99(byTime))}; ` +
          `get one by seq: median ${fmtUs(median(bySeq))}, p99 ${fmtUs(p99(bySeq))}`,
      );
    };
    measure('reads after the appends');
    await db.compact();
    measure('reads after db.compact()');
    const v0 = performance.now();
    const r = ev.verify('run');
    const verifyMs = performance.now() - v0;
    if (!r.ok) throw new Error(`verify failed: ${r.reason}`);
    console.log(
      `verify of the whole stream: ${(verifyMs / 1000).toFixed(2)} s (${Math.round(N / (verifyMs / 1000)).toLocaleString()} events/s)`,
    );
    await db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
