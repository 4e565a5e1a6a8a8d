/**
 * The JSON-document benchmark: what a one-field update costs — bytes written and time — against
 * the size of the document (10 KB, 100 KB, 1 MB, 10 MB), for three shapes of document:
 *
 * - items:   `{ meta: {...}, items: [{ id, status, note }, ...] }`, items of about 100 bytes;
 *            the update is `set('$.items[k].status', ...)`;
 * - numbers: `{ nums: [n, n, ...] }`, integers below 10^9 (about 6 bytes each encoded); the
 *            update is `set('$.nums[k]', n)`;
 * - members: `{ k0: 'v…', k1: 'v…', ... }`, short string members (about 20 bytes each); the
 *            update is `set('$.k<i>', ...)`;
 *
 * at a random k, and what reading that one field, reading the whole document and setting the
 * whole document cost. Bytes written are the storage keys and row values of the update's commit,
 * measured by building the same update on a Batch (the rows a commit would carry) without
 * committing it. Times are for real commits on an ephemeral database (no disk), so they measure
 * the engine, not the device.
 *
 * Run: `npx tsx bench/json.ts` (or `--quick`: fewer repetitions, no 10 MB documents). Prints medians.
 */
import { performance } from 'node:perf_hooks';
import { SeededRandom } from '../src/base/index.js';
import { Batch } from '../src/engine/context.js';
import { Json, TxJson } from '../src/engine/json.js';
import type { Value } from '../src/engine/value-codec.js';
import { Strata } from '../src/index.js';
import { nodeScheduler } from '../src/node.js';
import { Storage } from '../src/storage/index.js';

const QUICK = process.argv.includes('--quick');
const SIZES = QUICK ? [10_000, 100_000, 1_000_000] : [10_000, 100_000, 1_000_000, 10_000_000];
const UPDATES = QUICK ? 100 : 500;
const READS = QUICK ? 200 : 1000;

interface Shape {
  name: string;
  make(sizeBytes: number, rnd: SeededRandom): { doc: Value; n: number };
  path(k: number): string;
  value(i: number, rnd: SeededRandom): Value;
}

const SHAPES: Shape[] = [
  {
    name: 'items',
    make: (size) => {
      const n = Math.max(1, Math.round(size / 100));
      return {
        doc: {
          meta: { name: 'bench', created: 1 },
          items: Array.from({ length: n }, (_, id) => ({ id, status: 'todo', note: 'n'.repeat(60) })),
        },
        n,
      };
    },
    path: (k) => `$.items[${k}].status`,
    value: (i) => `done-${i}`,
  },
  {
    name: 'numbers',
    make: (size, rnd) => {
      const n = Math.max(1, Math.round(size / 6));
      return { doc: { nums: Array.from({ length: n }, () => rnd.int(1_000_000_000)) }, n };
    },
    path: (k) => `$.nums[${k}]`,
    value: (_i, rnd) => rnd.int(1_000_000_000),
  },
  {
    name: 'members',
    make: (size) => {
      const n = Math.max(1, Math.round(size / 20));
      const doc: Record<string, Value> = {};
      for (let i = 0; i < n; i++) doc[`k${i}`] = `v${'x'.repeat(8)}${i}`;
      return { doc, n };
    },
    path: (k) => `$.k${k}`,
    value: (i) => `w${i}`,
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function fmtUs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`;
}

function fmtBytes(b: number): string {
  return b >= 10_000 ? `${(b / 1000).toFixed(1)} KB` : `${b} B`;
}

async function measure(shape: Shape, size: number): Promise<string> {
  const storage = await Storage.open({
    durability: 'ephemeral',
    clock: { now: () => Date.now() },
    scheduler: nodeScheduler,
  });
  const keyspace = storage.keyspace(1, 'default');
  const json = new Json(storage, keyspace);
  const rnd = new SeededRandom(size);
  const { doc, n } = shape.make(size, rnd);
  const wholeSetMs: number[] = [];
  for (let i = 0; i < (size >= 1_000_000 ? 3 : 10); i++) {
    const t0 = performance.now();
    await json.set('doc', '$', doc);
    wholeSetMs.push(performance.now() - t0);
  }
  // Bytes: build the update on a batch and count the rows it would commit.
  const bytes: number[] = [];
  for (let i = 0; i < 50; i++) {
    const batch = new Batch(storage, { version: storage.version }, false);
    new TxJson(batch, keyspace).set('doc', shape.path(rnd.int(n)), shape.value(i, rnd));
    bytes.push(batch.ops().reduce((s, op) => s + op.key.length + (op.value?.length ?? 0), 0));
  }
  let rows = 0;
  for (const _ of storage.scan({ start: `${keyspace}\x02`, end: `${keyspace}\x03` })) rows++;
  const setMs: number[] = [];
  for (let i = 0; i < UPDATES; i++) {
    const path = shape.path(rnd.int(n));
    const value = shape.value(i, rnd);
    const s = performance.now();
    await json.set('doc', path, value);
    setMs.push(performance.now() - s);
  }
  const getMs: number[] = [];
  for (let i = 0; i < READS; i++) {
    const path = shape.path(rnd.int(n));
    const s = performance.now();
    json.get('doc', path);
    getMs.push(performance.now() - s);
  }
  const wholeMs: number[] = [];
  for (let i = 0; i < (size >= 1_000_000 ? 5 : 30); i++) {
    const s = performance.now();
    json.get('doc');
    wholeMs.push(performance.now() - s);
  }
  await storage.close();
  const label = size >= 1_000_000 ? `${size / 1_000_000} MB` : `${size / 1000} KB`;
  return `| ${shape.name} | ${label} | ${rows} | ${fmtBytes(median(bytes))} | ${fmtBytes(Math.max(...bytes))} | ${fmtUs(median(setMs))} | ${fmtUs(median(getMs))} | ${fmtUs(median(wholeMs))} | ${fmtUs(median(wholeSetMs))} |`;
}

async function main(): Promise<void> {
  // Warm up the JIT on small documents first, so the first size measured is not penalised.
  await Strata.cache().then(async (db) => {
    const b = db.branch('main');
    const rnd = new SeededRandom(1);
    for (const shape of SHAPES) {
      const { doc, n } = shape.make(50_000, rnd);
      await b.json.set('w', '$', doc);
      for (let i = 0; i < 200; i++) await b.json.set('w', shape.path(rnd.int(n)), shape.value(i, rnd));
    }
    await db.close();
  });
  console.log(`JSON one-field update vs document size (${UPDATES} updates, ${READS} reads; medians)`);
  console.log(
    '| shape | document | rows | set: bytes written (median) | (max) | set: time | get one field | get whole document | set whole document |',
  );
  console.log('| ----- | -------- | ---- | ---- | ---- | ---- | ---- | ---- | ---- |');
  for (const shape of SHAPES) for (const size of SIZES) console.log(await measure(shape, size));
}

await main();
