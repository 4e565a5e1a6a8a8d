/**
 * The JSON-document benchmark: what a one-field update costs — bytes written and time — against
 * the size of the document (10 KB, 100 KB, 1 MB, 10 MB), and what reading one field and the whole
 * document costs. A document is `{ meta: {...}, items: [{ id, status, note }, ...] }` with items of
 * about 100 bytes; the update is `set('$.items[k].status', ...)` at a random k.
 *
 * Bytes written are the storage keys and row values of the update's commit, measured by building
 * the same update on a Batch (the rows a commit would carry) without committing it. Times are for
 * real commits on an ephemeral database (no disk), so they measure the engine, not the device.
 *
 * Run: `npx tsx bench/json.ts` (or `--quick`: fewer repetitions, no 10 MB document). Prints medians.
 */
import { performance } from 'node:perf_hooks';
import { SeededRandom } from '../src/base/index.js';
import { Batch } from '../src/engine/context.js';
import { Json, TxJson } from '../src/engine/json.js';
import { Strata } from '../src/index.js';
import { nodeScheduler } from '../src/node.js';
import { Storage } from '../src/storage/index.js';

const QUICK = process.argv.includes('--quick');
const SIZES = QUICK ? [10_000, 100_000, 1_000_000] : [10_000, 100_000, 1_000_000, 10_000_000];
const UPDATES = QUICK ? 200 : 1000;
const READS = QUICK ? 200 : 1000;

type Doc = { meta: { name: string; created: number }; items: { id: number; status: string; note: string }[] };

function makeDoc(sizeBytes: number): Doc {
  const n = Math.max(1, Math.round(sizeBytes / 100));
  return {
    meta: { name: 'bench', created: 1 },
    items: Array.from({ length: n }, (_, id) => ({ id, status: 'todo', note: 'n'.repeat(60) })),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function fmtUs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`;
}

async function main(): Promise<void> {
  // Warm up the JIT on a small document first, so the first size measured is not penalised.
  await Strata.cache().then(async (db) => {
    const b = db.branch('main');
    await b.json.set('w', '$', makeDoc(50_000));
    for (let i = 0; i < 300; i++) await b.json.set('w', `$.items[${i % 400}].status`, `s${i}`);
    await db.close();
  });
  console.log(`JSON one-field update vs document size (${UPDATES} updates, ${READS} reads; medians)`);
  console.log(
    '| document | rows | set: bytes written | set: time | get one field | get whole document | set whole document |',
  );
  console.log(
    '| -------- | ---- | ------------------ | --------- | ------------- | ------------------ | ------------------ |',
  );
  for (const size of SIZES) {
    const storage = await Storage.open({
      durability: 'ephemeral',
      clock: { now: () => Date.now() },
      scheduler: nodeScheduler,
    });
    const keyspace = storage.keyspace(1, 'default');
    const json = new Json(storage, keyspace);
    const doc = makeDoc(size);
    const t0 = performance.now();
    await json.set('doc', '$', doc);
    const setWholeMs = performance.now() - t0;
    const rnd = new SeededRandom(size);
    const n = doc.items.length;
    // Bytes: build the update on a batch and count the rows it would commit.
    const bytes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const batch = new Batch(storage, { version: storage.version }, false);
      new TxJson(batch, keyspace).set('doc', `$.items[${rnd.int(n)}].status`, `done-${i}`);
      bytes.push(batch.ops().reduce((s, op) => s + op.key.length + (op.value?.length ?? 0), 0));
    }
    let rows = 0;
    for (const _ of storage.scan({ start: `${keyspace}\x02`, end: `${keyspace}\x03` })) rows++;
    const setMs: number[] = [];
    // A document past JSON_DOCUMENT_ROWS_MAX is one row and each update rewrites it: fewer updates.
    const updates = rows <= 1 ? 20 : UPDATES;
    for (let i = 0; i < updates; i++) {
      const k = rnd.int(n);
      const s = performance.now();
      await json.set('doc', `$.items[${k}].status`, `done-${i}`);
      setMs.push(performance.now() - s);
    }
    const getMs: number[] = [];
    for (let i = 0; i < READS; i++) {
      const k = rnd.int(n);
      const s = performance.now();
      json.get('doc', `$.items[${k}].status`);
      getMs.push(performance.now() - s);
    }
    const wholeMs: number[] = [];
    for (let i = 0; i < (size >= 1_000_000 ? 5 : 30); i++) {
      const s = performance.now();
      json.get('doc');
      wholeMs.push(performance.now() - s);
    }
    const label = size >= 1_000_000 ? `${size / 1_000_000} MB` : `${size / 1000} KB`;
    console.log(
      `| ${label} | ${rows} | ${median(bytes)} B | ${fmtUs(median(setMs))} | ${fmtUs(median(getMs))} | ${fmtUs(median(wholeMs))} | ${fmtUs(setWholeMs)} |`,
    );
    await storage.close();
  }
}

await main();
