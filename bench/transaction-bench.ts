/**
 * Transaction commit rate, with and without conflicts, beside plain (non-transactional) puts
 * measured in the same run. Each transaction reads two keys and writes two. "Disjoint": 8 in
 * flight at once on different keys (no conflicts). "Contended": 8 in flight, all incrementing
 * one counter (every commit makes the others run again). Buffered mode, on disk in a temp
 * folder. Run: `npm run bench:primitives` (all primitive figures) or
 * `node dist/bench/transaction-bench.js [--quick]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Strata } from '../src/index.js';
import { median } from './report.js';

export interface TransactionFigures {
  /** ops/s of plain awaited puts, one at a time (the baseline). */
  putsPerSecond: number;
  /** Transactions per second, one at a time, 2 reads + 2 writes each. */
  serialPerSecond: number;
  /** 8 in flight on disjoint keys. */
  disjointPerSecond: number;
  /** 8 in flight on one counter: commits per second and runs per commit. */
  contendedPerSecond: number;
  contendedRunsPerCommit: number;
  transactions: number;
  repetitions: number;
}

async function once(n: number): Promise<Omit<TransactionFigures, 'repetitions' | 'transactions'>> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-txbench-'));
  const db = await Strata.open(dir, { durability: 'buffered' });
  try {
    const main = db.branch('main');
    let t = performance.now();
    for (let i = 0; i < n; i++) await main.kv.put(`p:${i % 1000}`, i);
    const putsPerSecond = n / ((performance.now() - t) / 1000);

    t = performance.now();
    for (let i = 0; i < n; i++) {
      await db.transaction(main, (tx) => {
        const a = (tx.kv.get(`a:${i % 1000}`) as number | undefined) ?? 0;
        const b = (tx.kv.get(`b:${i % 1000}`) as number | undefined) ?? 0;
        tx.kv.put(`a:${i % 1000}`, a + 1);
        tx.kv.put(`b:${i % 1000}`, b + 1);
      });
    }
    const serialPerSecond = n / ((performance.now() - t) / 1000);

    const inFlight = 8;
    const worker = async (w: number, count: number, contended: boolean): Promise<number> => {
      let runs = 0;
      for (let i = 0; i < count; i++) {
        const key = contended ? 'counter' : `w${w}:${i % 100}`;
        const r = await db.transaction(
          main,
          async (tx) => {
            const v = (tx.kv.get(key) as number | undefined) ?? 0;
            const other = tx.kv.get(`${key}:seen`);
            await Promise.resolve();
            tx.kv.put(key, v + 1);
            tx.kv.put(`${key}:seen`, other === undefined ? 1 : v);
          },
          { retries: 1000 },
        );
        runs += r.retries + 1;
      }
      return runs;
    };
    const per = Math.max(1, Math.floor(n / inFlight));
    t = performance.now();
    await Promise.all(Array.from({ length: inFlight }, (_, w) => worker(w, per, false)));
    const disjointPerSecond = (per * inFlight) / ((performance.now() - t) / 1000);
    t = performance.now();
    const runs = await Promise.all(Array.from({ length: inFlight }, (_, w) => worker(w, per, true)));
    const contendedPerSecond = (per * inFlight) / ((performance.now() - t) / 1000);
    const contendedRunsPerCommit = runs.reduce((a, b) => a + b, 0) / (per * inFlight);
    if (main.kv.get('counter') !== per * inFlight) throw new Error('lost update in the contended run');
    return { putsPerSecond, serialPerSecond, disjointPerSecond, contendedPerSecond, contendedRunsPerCommit };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the measurement `repetitions` times and reports medians. */
export async function measureTransactions(n: number, repetitions: number): Promise<TransactionFigures> {
  const runs: Awaited<ReturnType<typeof once>>[] = [];
  for (let r = 0; r < repetitions; r++) runs.push(await once(n));
  const m = (f: (x: (typeof runs)[number]) => number): number => median(runs.map(f));
  return {
    putsPerSecond: m((x) => x.putsPerSecond),
    serialPerSecond: m((x) => x.serialPerSecond),
    disjointPerSecond: m((x) => x.disjointPerSecond),
    contendedPerSecond: m((x) => x.contendedPerSecond),
    contendedRunsPerCommit: m((x) => x.contendedRunsPerCommit),
    transactions: n,
    repetitions,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  measureTransactions(quick ? 5_000 : 50_000, quick ? 1 : 3).then(
    (f) => console.log(JSON.stringify(f, null, 2)),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
