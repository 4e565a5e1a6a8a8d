/**
 * Compaction on a worker thread (Node): the merge and the table building run on another core,
 * so a compaction of hundreds of megabytes never blocks the application's event loop. The main
 * thread still owns every write: it receives each output step and carries it out through its
 * backend, in order, exactly as when the compaction runs on the main thread (see
 * lsm/table-output.ts), so crash behaviour and file layout are the same either way.
 *
 * One worker per database, started at the first compaction, unref'd (it never keeps a process
 * alive) and terminated on close. If the worker fails to start or dies, the running job fails
 * with `io` and the offload reports itself `unavailable`: the tree then compacts on the main
 * thread from there on (for example when a bundler left the worker's module behind).
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { StrataError } from '../base/index.js';
import type { CompactionJob, CompactionOffload, TableOutput } from '../lsm/index.js';
import {
  CANCEL,
  GRANT,
  type Grant,
  IN_FLIGHT,
  type RunMessage,
  SHARED_SLOTS,
  type WorkerMessage,
} from './protocol.js';

/**
 * The worker's module: compiled JavaScript beside this file, or, when this file runs from source
 * (tests, through the tsx loader), the TypeScript source, loaded through tsx as well.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(
  FROM_SOURCE ? './compaction-worker.ts' : './compaction-worker.js',
  import.meta.url,
);

/** File numbers granted at once, beyond the job's estimated output count. */
const GRANT_SLACK = 8;

export class WorkerCompactionOffload implements CompactionOffload {
  #worker: Worker | undefined;
  #running: { cancel: () => void; settled: Promise<void> } | undefined;
  #closed = false;
  #unavailable = false;

  /**
   * `root`: the database folder, where the job's input names are paths. `firstGrant` overrides
   * how many file numbers a job starts with (tests use 1 to exercise asking for more).
   */
  constructor(
    private readonly root: string,
    private readonly options: { firstGrant?: number; workerUrl?: URL } = {},
  ) {}

  get unavailable(): boolean {
    return this.#unavailable;
  }

  #start(): Worker {
    // Loaders given with --import do not reach worker threads, so from source the worker registers
    // tsx itself before importing its module.
    const url = this.options.workerUrl ?? WORKER_URL;
    const w = FROM_SOURCE
      ? new Worker(
          `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`,
          { eval: true },
        )
      : new Worker(url);
    w.unref();
    const forget = (): void => {
      if (this.#worker === w) this.#worker = undefined;
    };
    w.once('exit', forget);
    w.once('error', forget);
    return w;
  }

  run(job: CompactionJob, allocate: () => number, sink: (o: TableOutput) => Promise<void>): Promise<void> {
    if (this.#closed) return Promise.reject(new StrataError('closed', 'the database is closing'));
    if (this.#running !== undefined)
      return Promise.reject(new StrataError('busy', 'a compaction is already running'));
    if (this.#worker === undefined) this.#worker = this.#start();
    const worker = this.#worker;
    const shared = new Int32Array(new SharedArrayBuffer(SHARED_SLOTS * 4));
    const { port1: grants, port2: workerGrants } = new MessageChannel();
    const take = (count: number): Grant => {
      const next = allocate();
      let end = next + 1;
      for (let i = 1; i < count; i++) {
        const n = allocate();
        // Numbers taken in one synchronous run are consecutive: nothing else allocates meanwhile.
        if (n !== end) throw new StrataError('io', `file numbers out of order (${n} after ${end - 1})`);
        end++;
      }
      return { next, end };
    };
    let inputBytes = 0;
    for (const t of job.inputs) inputBytes += t.meta.size;
    const first = take(
      this.options.firstGrant ?? Math.ceil(inputBytes / job.levels.tableTargetBytes) + GRANT_SLACK,
    );

    let chain = Promise.resolve();
    let sinkError: unknown;
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const cancel = (): void => {
      Atomics.store(shared, CANCEL, 1);
      Atomics.notify(shared, IN_FLIGHT);
      grants.close();
      Atomics.add(shared, GRANT, 1);
      Atomics.notify(shared, GRANT);
    };
    const done = new Promise<void>((resolve, reject) => {
      const finish = (error: unknown): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        grants.close();
        this.#running = undefined;
        settle();
        if (error === undefined) resolve();
        else reject(error);
      };
      const onMessage = (m: WorkerMessage): void => {
        switch (m.type) {
          case 'output':
            chain = chain.then(async () => {
              if (sinkError === undefined) {
                try {
                  await sink(m.output);
                } catch (error) {
                  sinkError = error;
                  cancel();
                }
              }
              Atomics.sub(shared, IN_FLIGHT, m.bytes);
              Atomics.notify(shared, IN_FLIGHT);
            });
            return;
          case 'numbers':
            if (Atomics.load(shared, CANCEL) !== 0) return;
            grants.postMessage(take(GRANT_SLACK));
            Atomics.add(shared, GRANT, 1);
            Atomics.notify(shared, GRANT);
            return;
          case 'done':
            chain = chain.then(() => {
              if (sinkError !== undefined) return finish(sinkError);
              const f = m.failure;
              if (f === undefined) return finish(undefined);
              finish(
                new StrataError(f.code, f.message, {
                  ...(f.object === undefined ? {} : { object: f.object }),
                  ...(f.offset === undefined ? {} : { offset: f.offset }),
                }),
              );
            });
        }
      };
      const onError = (error: unknown): void => {
        this.#unavailable = true;
        chain = chain.then(() =>
          finish(new StrataError('io', `the compaction worker failed: ${String(error)}`, { cause: error })),
        );
      };
      const onExit = (code: number): void => {
        this.#unavailable = true;
        chain = chain.then(() =>
          finish(new StrataError('io', `the compaction worker exited (code ${code})`)),
        );
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
    });
    this.#running = { cancel, settled };
    const message: RunMessage = {
      type: 'run',
      root: this.root,
      job,
      shared: shared.buffer as SharedArrayBuffer,
      grant: first,
      grants: workerGrants,
    };
    worker.postMessage(message, [workerGrants]);
    return done;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const running = this.#running;
    if (running !== undefined) {
      running.cancel();
      await running.settled;
    }
    const w = this.#worker;
    this.#worker = undefined;
    if (w !== undefined) await w.terminate();
  }
}
