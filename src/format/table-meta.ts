/**
 * What the manifest records about one immutable table, and what a table's own properties block
 * repeats (so a table describes itself). Keys are storage keys held as byte strings (see
 * internal-key.ts).
 */
export interface TableMeta {
  /** The table is `tables/<fileNumber>.sst`. */
  readonly fileNumber: number;
  /** Size of the table object in bytes. */
  readonly size: number;
  /** Smallest and largest storage key in the table (inclusive). */
  readonly smallest: string;
  readonly largest: string;
  /** Lowest and highest version of any entry. */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Number of entries (versions, tombstones included). */
  readonly entries: number;
}

/** One version of one storage key as tables hold it; `value === null` is a tombstone. */
export interface TableEntry {
  readonly key: string;
  readonly version: number;
  readonly timestamp: number;
  readonly value: Uint8Array | null;
}
