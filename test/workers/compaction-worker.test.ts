/**
 * Compaction on a worker thread: the worker runs the same output generator as the main thread,
 * so for one job it must produce the same tables, in the same order, byte for byte (it gathers a
 * table's bytes into fewer, larger messages); damage in an input
 * reaches the caller as a typed error naming the object; a close stops a running job; and a
 * database with the worker on compacts through it and reads back everything it wrote.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { installPlatform } from '../../src/api/index.js';
import { NodeBackend, openFileReader } from '../../src/backend/node/node-backend.js';
import { isStrataError } from '../../src/base/index.js';
import { Strata } from '../../src/index.js';
import { tableName } from '../../src/layout/index.js';
import {
  type CompactionJob,
  compactionOutputs,
  ManifestLog,
  type TableOutput,
  treeSizing,
} from '../../src/lsm/index.js';
import { nodePlatform } from '../../src/node.js';
import { WorkerCompactionOffload } from '../../src/workers/compaction-offload.js';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function freshRoot(): Promise<string> {
  const r = await mkdtemp(join(tmpdir(), 'strata-worker-'));
  roots.push(r);
  return r;
}

const LSM = {
  memtableBytes: 32 * 1024,
  tableTargetBytes: 16 * 1024,
  blockBytes: 1024,
  levelBaseBytes: 64 * 1024,
};

/** A closed database holding several levels of tables (compacted on the main thread). */
async function populated(): Promise<string> {
  const root = await freshRoot();
  const db = await Strata.open(root, { memoryBudgetBytes: 1 << 20, lsm: LSM, compactionWorker: false });
  const kv = db.branch().kv;
  for (let i = 0; i < 3000; i++) {
    const k = `key${String((i * 7919) % 1500).padStart(5, '0')}`;
    if (i % 17 === 0) await kv.delete(k);
    else await kv.put(k, `${i}:${'v'.repeat(100 + (i % 50))}`);
  }
  await db.compact();
  assert.ok(db.stats().tree.compactions > 0, 'the main thread compacted');
  assert.equal(db.stats().tree.offloadedCompactions, 0);
  await db.close();
  return root;
}

/** A job merging every table of the database into one bottom level. */
async function jobOf(root: string): Promise<CompactionJob> {
  const backend = await NodeBackend.open(root);
  try {
    const { log } = await ManifestLog.open(backend);
    const inputs = log.state.levels.flat().map((meta) => ({ name: tableName(meta.fileNumber), meta }));
    assert.ok(inputs.length >= 4, `enough tables to merge (${inputs.length})`);
    return {
      inputs,
      grandparents: [],
      levels: treeSizing(1 << 20, LSM).levels,
      retention: { keepNewest: 2 },
      bottommost: true,
      blockBytes: 1024,
      sliceEntries: 64,
      garbage: [],
    };
  } finally {
    await backend.close();
  }
}

function counter(start: number): () => number {
  let n = start;
  return () => n++;
}

/** The steps of a run with each table's bytes joined, pauses left out (the worker skips them). */
function digest(steps: readonly TableOutput[]): string[] {
  const out: string[] = [];
  let bytes: number[] = [];
  for (const s of steps) {
    if (s.kind === 'pause') continue;
    if (s.kind === 'begin') {
      out.push(`begin ${s.fileNumber}`);
      bytes = [];
      continue;
    }
    for (const c of s.chunks) bytes.push(...c);
    if (s.kind === 'end') out.push(`end ${JSON.stringify(s.meta)} ${Buffer.from(bytes).toString('base64')}`);
  }
  return out;
}

describe('compaction worker', () => {
  it('produces the same tables, byte for byte, as the main thread, asking for file numbers as it needs them', async () => {
    const root = await populated();
    const job = await jobOf(root);
    const local = [...compactionOutputs(job, (name) => openFileReader(join(root, name), name), counter(900))];
    assert.ok(local.filter((s) => s.kind === 'end').length >= 3, 'the job writes several tables');

    for (const firstGrant of [undefined, 1]) {
      const offload = new WorkerCompactionOffload(root, firstGrant === undefined ? {} : { firstGrant });
      const remote: TableOutput[] = [];
      let asked = 0;
      const next = counter(900);
      await offload.run(
        job,
        () => {
          asked++;
          return next();
        },
        async (s) => {
          remote.push(s);
          await new Promise((r) => setImmediate(r));
        },
      );
      await offload.close();
      assert.deepEqual(digest(remote), digest(local), `firstGrant ${firstGrant}: same tables`);
      const tables = local.filter((s) => s.kind === 'begin').length;
      // One number up front, then grants of 8 whenever the worker runs out.
      if (firstGrant === 1)
        assert.equal(asked, 1 + 8 * Math.ceil((tables - 1) / 8), 'numbers granted on demand');
      else assert.ok(asked >= tables, 'enough numbers granted up front');
    }
  });

  it('reports a damaged input as corruption naming the table, and a failing sink as its own error', async () => {
    const root = await populated();
    const job = await jobOf(root);
    const victim = job.inputs[1]!.name;
    const path = join(root, victim);
    const original = await readFile(path);
    const damaged = Buffer.from(original);
    damaged[damaged.length - 3]! ^= 0x40;
    await writeFile(path, damaged);
    const offload = new WorkerCompactionOffload(root);
    await assert.rejects(
      offload.run(job, counter(900), async () => undefined),
      (e: unknown) => isStrataError(e, 'corruption') && e.object === victim,
    );
    await writeFile(path, original);
    const boom = new Error('sink failed');
    let calls = 0;
    await assert.rejects(
      offload.run(job, counter(900), async () => {
        if (++calls === 3) throw boom;
      }),
      (e: unknown) => e === boom,
    );
    // The worker is still usable after both.
    let ends = 0;
    await offload.run(job, counter(900), async (s) => {
      if (s.kind === 'end') ends++;
    });
    assert.ok(ends >= 3);
    await offload.close();
  });

  it('stops a running job on close with closed, and refuses new ones', async () => {
    const root = await populated();
    const job = await jobOf(root);
    const offload = new WorkerCompactionOffload(root);
    let steps = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const running = offload.run(job, counter(900), async () => {
      if (++steps === 1) await gate;
    });
    const refused = assert.rejects(running, (e: unknown) => isStrataError(e, 'closed'));
    const closing = offload.close();
    release();
    await closing;
    await refused;
    await assert.rejects(
      offload.run(job, counter(900), async () => undefined),
      (e: unknown) => isStrataError(e, 'closed'),
    );
  });

  it('a database compacts through the worker and reads back everything, before and after reopening', async () => {
    const root = await freshRoot();
    const expected = new Map<string, string>();
    const db = await Strata.open(root, { memoryBudgetBytes: 1 << 20, lsm: LSM });
    const kv = db.branch().kv;
    for (let i = 0; i < 4000; i++) {
      const k = `key${String((i * 7919) % 2000).padStart(5, '0')}`;
      const v = `${i}:${'w'.repeat(120)}`;
      await kv.put(k, v);
      expected.set(k, v);
    }
    await db.compact();
    const t = db.stats().tree;
    assert.ok(
      t.offloadedCompactions > 0,
      `compactions ran on the worker (${t.offloadedCompactions} of ${t.compactions})`,
    );
    const check = (d: Strata): void => {
      const listed = new Map([...d.branch().kv.list()].map(([k, v]) => [k, v]));
      assert.deepEqual(listed, expected);
      for (const [k, v] of expected) assert.equal(d.branch().kv.get(k), v);
    };
    check(db);
    await db.close();
    const again = await Strata.open(root, { memoryBudgetBytes: 1 << 20, lsm: LSM });
    check(again);
    await again.close();
  });
});

describe('compaction worker unavailable', () => {
  it('a worker that cannot start leaves compaction to the main thread, and the database works on', async () => {
    const root = await freshRoot();
    let offload: WorkerCompactionOffload | undefined;
    installPlatform({
      ...nodePlatform,
      compactionOffload: (backend) => {
        assert.ok(backend instanceof NodeBackend);
        offload = new WorkerCompactionOffload(backend.rootDir, {
          workerUrl: new URL('./no-such-worker.js', import.meta.url),
        });
        return offload;
      },
    });
    let db: Strata;
    try {
      db = await Strata.open(root, { memoryBudgetBytes: 1 << 20, lsm: LSM });
    } finally {
      installPlatform(nodePlatform);
    }
    const kv = db.branch().kv;
    const expected = new Map<string, string>();
    for (let i = 0; i < 3000; i++) {
      const k = `key${String((i * 7919) % 1500).padStart(5, '0')}`;
      const v = `${i}:${'u'.repeat(120)}`;
      await kv.put(k, v);
      expected.set(k, v);
    }
    await db.compact();
    const t = db.stats().tree;
    assert.ok(offload?.unavailable, 'the offload reports itself unavailable');
    assert.ok(t.compactions > 0, 'compactions ran');
    assert.equal(t.offloadedCompactions, 0, 'none of them on the worker');
    assert.equal(db.stats().state, 'open', 'the database is not failed');
    assert.deepEqual(new Map([...kv.list()].map(([k, v]) => [k, v])), expected);
    await db.close();
  });
});
