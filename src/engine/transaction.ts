/**
 * Transactions: optimistic, serializable, retried. A transaction runs its callback on a Batch at
 * a snapshot (the newest visible version when it starts); reads see that snapshot and the
 * transaction's own writes. At commit, everything it read — keys and scanned ranges — is checked
 * against commits made after the snapshot, pending ones included; if any changed, nothing is
 * written and the callback runs again on a newer snapshot, up to `retries` times, after which
 * the transaction fails with `conflict`. All its writes land in one commit with one version.
 */
import { invalidArgument, StrataError } from '../base/index.js';
import type { Storage } from '../storage/index.js';
import { Batch, ValidationConflict } from './context.js';

/** How a transaction runs. */
export interface TransactionOptions {
  /** Runs after the first that lose to a concurrent commit (default 8; 0 = no retry). */
  retries?: number;
}

/** What a transaction resolves to. */
export interface TransactionResult<T> {
  /** What the callback returned (of the run that committed). */
  value: T;
  /** The commit's version; for a transaction that wrote nothing, the snapshot it read. */
  version: number;
  /** The commit's timestamp (0 for a transaction that wrote nothing). */
  timestamp: number;
  /** How many runs lost to a concurrent commit before this one committed. */
  retries: number;
}

export const TRANSACTION_RETRIES_DEFAULT = 8;
/** Most retries one transaction may ask for. */
export const TRANSACTION_RETRIES_MAX = 1000;

export function checkTransactionOptions(options: unknown): Required<TransactionOptions> {
  if (options === undefined) return { retries: TRANSACTION_RETRIES_DEFAULT };
  if (typeof options !== 'object' || options === null)
    throw invalidArgument('transaction options must be an object');
  const retries = (options as TransactionOptions).retries ?? TRANSACTION_RETRIES_DEFAULT;
  if (!Number.isSafeInteger(retries) || retries < 0 || retries > TRANSACTION_RETRIES_MAX)
    throw invalidArgument(
      `retries must be an integer from 0 to ${TRANSACTION_RETRIES_MAX}, got ${String(retries)}`,
    );
  return { retries };
}

/**
 * Runs `fn` as a transaction on `storage`. `open` makes the callback's handle over the run's
 * batch; the batch is closed when the run ends, so a handle kept past it fails with `closed`.
 * An error thrown by the callback aborts the transaction (nothing is written) and is rethrown.
 */
export async function runTransaction<H, T>(
  storage: Storage,
  open: (batch: Batch) => H,
  fn: (tx: H) => T | Promise<T>,
  options: Required<TransactionOptions>,
): Promise<TransactionResult<T>> {
  for (let attempt = 0; ; attempt++) {
    const batch = new Batch(storage, { version: storage.version }, true);
    let value: T;
    try {
      value = await fn(open(batch));
    } finally {
      batch.close();
    }
    // Reads alone need no validation: they saw one snapshot, which is a serial point already.
    if (batch.empty) return { value, version: batch.version, timestamp: 0, retries: attempt };
    try {
      const c = await storage.commit(batch.ops(), () => batch.validate());
      return { value, version: c.version, timestamp: c.timestamp, retries: attempt };
    } catch (error) {
      if (!(error instanceof ValidationConflict)) throw error;
      if (attempt >= options.retries) {
        throw new StrataError(
          'conflict',
          `the transaction lost to concurrent commits ${attempt + 1} times; nothing was written, run it again`,
          { committed: 'no', cause: error },
        );
      }
      // What it lost to may still be pending: run again once that is visible.
      await storage.whenCaughtUp();
    }
  }
}
