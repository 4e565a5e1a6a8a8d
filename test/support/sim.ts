/** What the model tests share for running on the simulated disk. */
import type { OpenOptions } from '../../src/api/index.js';
import { SimDisk } from '../../src/backend/index.js';

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
