/**
 * What the public API needs from the platform it runs on. The Node entry (src/index.ts)
 * installs the Node implementation; a browser entry will install OPFS and its timers. Keeping
 * this a registry lets the API itself stay free of platform imports.
 */

import type { Backend } from '../backend/index.js';
import type { Clock, Scheduler } from '../base/index.js';
import type { CompactionOffload } from '../storage/index.js';

export interface Platform {
  /** Opens the backend for a database folder (or other root). */
  openBackend(root: string): Promise<Backend>;
  clock: Clock;
  scheduler: Scheduler;
  /** Where compactions of a database on `backend` run off the main thread, if the platform can. */
  compactionOffload?(backend: Backend): CompactionOffload | undefined;
}

let installed: Platform | undefined;

export function installPlatform(p: Platform): void {
  installed = p;
}

export function currentPlatform(): Platform | undefined {
  return installed;
}
