/**
 * The Node.js platform: the file-system backend, wall-clock time and timers.
 */

import { installPlatform, type Platform } from './api/index.js';
import { NodeBackend } from './backend/node/node-backend.js';
import type { Scheduled, Scheduler } from './base/index.js';
import { WorkerCompactionOffload } from './workers/compaction-offload.js';

/** setTimeout-based scheduling; timers are unref'd so background work never keeps a process alive. */
export const nodeScheduler: Scheduler = {
  after(delayMs: number, fn: () => void): Scheduled {
    const t = setTimeout(fn, delayMs);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  soon(fn: () => void): void {
    setImmediate(fn);
  },
};

export const nodePlatform: Platform = {
  openBackend: (root) => NodeBackend.open(root),
  clock: { now: () => Date.now() },
  scheduler: nodeScheduler,
  compactionOffload: (backend) =>
    backend instanceof NodeBackend ? new WorkerCompactionOffload(backend.rootDir) : undefined,
};

installPlatform(nodePlatform);
