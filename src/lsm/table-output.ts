/**
 * Turning a stream of entries into tables, as a synchronous generator of output steps that a
 * driver carries out: the tree on the main thread (appending through the backend, yielding to the
 * event loop at every `pause`), or a compaction worker (posting the steps to the main thread).
 * Both run this same code, so a table built off the main thread is byte for byte the table the
 * main thread would have built.
 *
 *   begin(fileNumber) ─▶ bytes(chunks)* ─▶ end(meta, chunks)      one per output table
 *   pause                                                          every slice of input
 *
 * A compaction job is plain data (structured-clonable): which tables to merge, the retention
 * policy, how to split outputs. `compactionOutputs` runs one over readers of the input tables.
 */

import type { ObjectReader } from '../backend/index.js';
import type { StrataError } from '../base/index.js';
import type { TableEntry, TableMeta } from '../format/index.js';
import { BlockCache } from './block-cache.js';
import { type LevelOptions, OutputSplitter } from './compaction-picker.js';
import { mergeEntries } from './merge.js';
import { applyRetention, type RetentionPlan, type RetentionPolicy } from './retention.js';
import { TableBuilder } from './table-builder.js';
import { TableReader } from './table-reader.js';

export type TableOutput =
  | { readonly kind: 'begin'; readonly fileNumber: number }
  | { readonly kind: 'bytes'; readonly chunks: Uint8Array[] }
  | { readonly kind: 'end'; readonly meta: TableMeta; readonly chunks: Uint8Array[] }
  | { readonly kind: 'pause' };

export interface TableOutputOptions {
  blockBytes: number;
  /** Cut an output once it reaches this size (when no splitter decides). */
  targetBytes: number;
  splitter: OutputSplitter | undefined;
  /** A slice ends after this many entries or SLICE_BYTES of keys and values, whichever first. */
  sliceEntries: number;
  /** The next table file number (the manifest's counter). */
  allocate: () => number;
}

export const SLICE_ENTRIES_DEFAULT = 4096;
/** A slice also ends once it has taken in this many bytes of keys and values. */
export const SLICE_BYTES = 128 * 1024;

/** Builds `entries` (internal order) into tables, never splitting one key's versions. */
export function* tableOutputs(entries: Iterator<TableEntry>, o: TableOutputOptions): Generator<TableOutput> {
  let builder: TableBuilder | undefined;
  let lastKey: string | undefined;
  let inSlice = 0;
  let sliceBytes = 0;
  for (let n = entries.next(); !n.done; n = entries.next()) {
    const e = n.value;
    if (builder !== undefined && lastKey !== undefined && e.key !== lastKey) {
      const size = builder.estimatedBytes;
      const cut =
        o.splitter === undefined ? size >= o.targetBytes : o.splitter.shouldCut(lastKey, e.key, size);
      if (cut) {
        const { chunks, meta } = builder.finish();
        builder = undefined;
        yield { kind: 'end', meta, chunks };
      }
    }
    if (builder === undefined) {
      const fileNumber = o.allocate();
      builder = new TableBuilder(fileNumber, { blockBytes: o.blockBytes });
      yield { kind: 'begin', fileNumber };
    }
    builder.add(e);
    lastKey = e.key;
    sliceBytes += e.key.length + (e.value === null ? 0 : e.value.length);
    if (++inSlice >= o.sliceEntries || sliceBytes >= SLICE_BYTES) {
      inSlice = 0;
      sliceBytes = 0;
      const chunks = builder.takeChunks();
      if (chunks.length > 0) yield { kind: 'bytes', chunks };
      yield { kind: 'pause' };
    }
  }
  if (builder !== undefined) {
    const { chunks, meta } = builder.finish();
    yield { kind: 'end', meta, chunks };
  }
}

/** One compaction, as plain data. */
export interface CompactionJob {
  /** The input tables (object name and metadata), in any order: the merge orders by key and version. */
  readonly inputs: readonly { readonly name: string; readonly meta: TableMeta }[];
  /** The tables of the output level + 1 (sorted, disjoint; empty at the bottom), for splitting. */
  readonly grandparents: readonly TableMeta[];
  readonly levels: LevelOptions;
  readonly retention: RetentionPolicy;
  readonly bottommost: boolean;
  readonly blockBytes: number;
  readonly sliceEntries: number;
  /** Branch-id key prefixes whose rows are garbage: every version of their keys is dropped. */
  readonly garbage: readonly string[];
  /** Per-branch policies and the points descendants read them at (see RetentionPlan). */
  readonly plan?: RetentionPlan;
}

/**
 * The outputs of `job`, reading its inputs through `open` (readers this function closes when the
 * generator finishes or is abandoned). Damaged inputs throw StrataError 'corruption'.
 */
export function* compactionOutputs(
  job: CompactionJob,
  open: (name: string) => ObjectReader,
  allocate: () => number,
): Generator<TableOutput> {
  // Compaction reads every block once: a cache would only churn, so it holds at most one block.
  const cache = new BlockCache(0);
  const readers: TableReader[] = [];
  try {
    for (const input of job.inputs) {
      const file = open(input.name);
      try {
        readers.push(
          TableReader.open(
            file,
            input.name,
            { fileNumber: input.meta.fileNumber, size: input.meta.size },
            cache,
          ),
        );
      } catch (error) {
        file.close();
        throw error;
      }
    }
    const merged = applyRetention(
      mergeEntries(readers.map((r) => r.entries())),
      job.retention,
      job.bottommost,
      new Set(job.garbage),
      job.plan,
      true,
    );
    yield* tableOutputs(merged, {
      blockBytes: job.blockBytes,
      targetBytes: job.levels.tableTargetBytes,
      splitter: new OutputSplitter(job.grandparents, job.levels),
      sliceEntries: job.sliceEntries,
      allocate,
    });
  } finally {
    for (const r of readers) r.close();
  }
}

/**
 * Runs compaction jobs somewhere other than the main thread (a worker thread in Node). The
 * outputs arrive through `sink` in the order `compactionOutputs` yields them, one at a time (the
 * next waits for the previous sink call to settle); `allocate` is called on the main thread.
 * Rejects with the job's StrataError ('corruption', 'io', 'closed' after `close`).
 */
export interface CompactionOffload {
  run(job: CompactionJob, allocate: () => number, sink: (o: TableOutput) => Promise<void>): Promise<void>;
  /**
   * True once the offload cannot run jobs (its worker failed to start or died): the caller then
   * compacts on its own thread. A job's own failure (a damaged input, a failing sink) leaves it false.
   */
  readonly unavailable: boolean;
  /** Stops any running job (it rejects with 'closed') and releases the worker. */
  close(): Promise<void>;
}

/** What a worker sends back for a failed job, and how the main thread rebuilds the error. */
export interface JobFailure {
  code: StrataError['code'];
  message: string;
  object?: string;
  offset?: number;
}
