/**
 * The messages between the main thread and the compaction worker (Node worker_threads).
 *
 *   main ─ run(job, first grant) ─────────────────────────▶ worker
 *   main ◀─ output(step) … output(step) ─ numbers? ─ done ─ worker
 *
 * Flow control and cancellation go through a small shared Int32Array, so the worker can block
 * (Atomics.wait) without the main thread ever blocking:
 * - IN_FLIGHT: bytes of output posted and not yet written by the main thread; the worker waits
 *   while it is above IN_FLIGHT_BYTES_MAX, so a slow disk bounds the worker's memory.
 * - CANCEL: set by the main thread to stop the job (the worker fails it with 'closed').
 * - GRANT: bumped by the main thread each time it sends more table file numbers on the grant port
 *   (the manifest's counter lives on the main thread; the worker asks when its grant runs out).
 */
import type { MessagePort } from 'node:worker_threads';
import type { CompactionJob, JobFailure, TableOutput } from '../lsm/index.js';

export const IN_FLIGHT = 0;
export const CANCEL = 1;
export const GRANT = 2;
export const SHARED_SLOTS = 3;
export const IN_FLIGHT_BYTES_MAX = 4 * 1024 * 1024;

/** Table file numbers [next, end). */
export interface Grant {
  next: number;
  end: number;
}

export interface RunMessage {
  type: 'run';
  /** The database folder; input `name`s are paths under it. */
  root: string;
  job: CompactionJob;
  shared: SharedArrayBuffer;
  grant: Grant;
  grants: MessagePort;
}

export type WorkerMessage =
  | { type: 'output'; output: Exclude<TableOutput, { kind: 'pause' }>; bytes: number }
  | { type: 'numbers' }
  | { type: 'done'; failure?: JobFailure };
