/** What the model tests share for running on the simulated disk. */
import { type OpenOptions, Strata } from '../../src/api/index.js';
import { type CrashModel, SimDisk } from '../../src/backend/index.js';
import type { Clock, SeededRandom } from '../../src/base/index.js';
import { nodeScheduler } from '../../src/node.js';

/** Tiny LSM sizes: flushes and multi-level compactions run every few hundred writes. */
export const TINY_LSM: NonNullable<OpenOptions['lsm']> = {
  memtableBytes: 2500,
  tableTargetBytes: 1200,
  blockBytes: 256,
  levelBaseBytes: 5000,
  levelMultiplier: 3,
  l0CompactionTrigger: 2,
  l0SlowdownTrigger: 4,
  l0StopTrigger: 6,
  blockCacheBytes: 8 * 1024,
  tableCacheBytes: 4 * 1024,
  sliceEntries: 7,
};

/** A new disk holding the durable contents of `disk` (its handles may be dead after a crash). */
export async function copyDisk(disk: SimDisk): Promise<SimDisk> {
  const from = disk.backend();
  const to = new SimDisk();
  const b = to.backend();
  for (const name of await from.list('')) {
    const bytes = await from.read(name);
    if (bytes === undefined) continue;
    await b.write(name, bytes);
    await b.sync(name);
  }
  await from.close();
  await b.close();
  return to;
}

/**
 * Opens the model suites' database on `disk`: strict mode (everything acknowledged survives any
 * crash model), tiny LSM sizes, Node's scheduler, the given clock; `extra` adds options.
 */
export function openSim(disk: SimDisk, clock: Clock, extra: OpenOptions = {}): Promise<Strata> {
  return Strata.open('sim', {
    backend: disk.backend(),
    durability: 'strict',
    clock,
    scheduler: nodeScheduler,
    lsm: TINY_LSM,
    ...extra,
  });
}

/**
 * Crashes `disk` under `model` (every handle of `db` dies), recovers by opening it again with
 * `open`, runs `check` on what was recovered and closes it; returns a fresh copy of the recovered
 * disk for the session to go on with, so that later crashes start from it.
 */
export async function crashAndRecover(
  disk: SimDisk,
  db: Strata,
  model: CrashModel,
  random: SeededRandom,
  open: (disk: SimDisk) => Promise<Strata>,
  check: (recovered: Strata) => void,
): Promise<SimDisk> {
  disk.crash(model, random);
  await db.close().catch(() => undefined);
  const recovered = await open(disk);
  check(recovered);
  await recovered.close();
  return copyDisk(disk);
}
