/**
 * How a memory budget is divided, and the table and level sizes that follow from it.
 *
 *   active memtable        budget / 4   frozen into a flush when full
 *   frozen memtables       budget / 4   one may wait for its flush; then writers stall
 *   block cache            budget / 4   decoded data blocks
 *   table cache            budget / 8   each open table's index and filter
 *   working room           budget / 8   table builders, merge buffers, one commit batch past the limit
 *
 * Ephemeral databases never flush: their memtable holds everything, outside the budget.
 */
import { invalidArgument } from '../base/index.js';
import type { LevelOptions } from './compaction-picker.js';

export const MEMORY_BUDGET_BYTES_DEFAULT = 64 * 1024 * 1024;
export const MEMORY_BUDGET_BYTES_MIN = 1024 * 1024;

/** Overrides of the sizes treeSizing derives (tests use tiny ones to flush and compact constantly). */
export interface LsmTuning {
  memtableBytes?: number;
  blockBytes?: number;
  tableTargetBytes?: number;
  levelBaseBytes?: number;
  levelMultiplier?: number;
  l0CompactionTrigger?: number;
  l0SlowdownTrigger?: number;
  l0StopTrigger?: number;
  blockCacheBytes?: number;
  tableCacheBytes?: number;
  /** Entries per slice of background work between yields to the event loop. */
  sliceEntries?: number;
  /** Roll the manifest log to a new object once it passes this size (default 4 MiB). */
  manifestRollBytes?: number;
}

export interface TreeSizing {
  memtableBytes: number;
  frozenMax: number;
  blockCacheBytes: number;
  tableCacheBytes: number;
  blockBytes: number;
  levels: LevelOptions;
  sliceEntries?: number;
  manifestRollBytes?: number;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function positive(name: string, v: number | undefined, min = 1): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < min))
    throw invalidArgument(`${name} must be an integer of at least ${min}, got ${String(v)}`);
}

export function treeSizing(memoryBudgetBytes = MEMORY_BUDGET_BYTES_DEFAULT, t: LsmTuning = {}): TreeSizing {
  positive('memoryBudgetBytes', memoryBudgetBytes, MEMORY_BUDGET_BYTES_MIN);
  for (const [k, v] of Object.entries(t)) positive(`lsm.${k}`, v as number | undefined);
  const budget = memoryBudgetBytes;
  const memtableBytes = t.memtableBytes ?? Math.floor(budget / 4);
  const tableTargetBytes = t.tableTargetBytes ?? clamp(Math.floor(budget / 16), 256 * 1024, 8 * 1024 * 1024);
  const l0CompactionTrigger = t.l0CompactionTrigger ?? 4;
  const l0SlowdownTrigger = t.l0SlowdownTrigger ?? Math.max(8, l0CompactionTrigger + 1);
  const l0StopTrigger = t.l0StopTrigger ?? Math.max(12, l0SlowdownTrigger + 1);
  if (!(l0CompactionTrigger < l0SlowdownTrigger && l0SlowdownTrigger < l0StopTrigger))
    throw invalidArgument('lsm: l0CompactionTrigger < l0SlowdownTrigger < l0StopTrigger must hold');
  return {
    memtableBytes,
    frozenMax: 1,
    blockCacheBytes: t.blockCacheBytes ?? Math.floor(budget / 4),
    tableCacheBytes: t.tableCacheBytes ?? Math.floor(budget / 8),
    blockBytes: t.blockBytes ?? 4096,
    levels: {
      l0CompactionTrigger,
      l0SlowdownTrigger,
      l0StopTrigger,
      // L1 holds about what L0 does at its trigger, so an L0 compaction rewrites little of L1.
      levelBaseBytes: t.levelBaseBytes ?? Math.max(memtableBytes * l0CompactionTrigger, 4 * tableTargetBytes),
      levelMultiplier: t.levelMultiplier ?? 10,
      levels: 7,
      tableTargetBytes,
    },
    ...(t.sliceEntries === undefined ? {} : { sliceEntries: t.sliceEntries }),
    ...(t.manifestRollBytes === undefined ? {} : { manifestRollBytes: t.manifestRollBytes }),
  };
}
