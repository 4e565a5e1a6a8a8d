/**
 * L2: the one namespace of object names under a database root. Nobody else builds names.
 *
 *   manifest/current            the root of everything durable: names the manifest log (docs/formats/manifest-current.md)
 *   manifest/<12 digits>.log     manifest logs: the table set and counters as a log of edits (docs/formats/manifest.md)
 *   wal/<12 digits>.log          write-ahead log segments, numbered from the database's file counter
 *   snapshots/<12 digits>.snap   checkpoints: the full versioned state up to one version
 *   tables/<12 digits>.sst       immutable sorted tables (the log-structured tables)
 *   quarantine/<family>.<leaf>.<n>  objects set aside by a degraded open, never read again
 *   locks/db.lock                the opener's exclusive lock
 *
 * File numbers come from one counter kept in the manifest, so a number is never reused: WAL
 * segments, snapshots, tables and manifest logs all draw from it.
 */
import { assert } from '../base/index.js';

export const MANIFEST_CURRENT = 'manifest/current';
export const DB_LOCK = 'locks/db.lock';

export const MANIFEST_PREFIX = 'manifest/';
export const WAL_PREFIX = 'wal/';
export const SNAPSHOT_PREFIX = 'snapshots/';
export const TABLE_PREFIX = 'tables/';
export const QUARANTINE_PREFIX = 'quarantine/';

const DIGITS = 12;
/** The largest file number a name can hold (12 decimal digits). */
export const FILE_NUMBER_MAX = 10 ** DIGITS - 1;

function numbered(prefix: string, fileNumber: number, suffix: string): string {
  assert(
    Number.isSafeInteger(fileNumber) && fileNumber > 0 && fileNumber <= FILE_NUMBER_MAX,
    'bad file number',
  );
  return `${prefix}${String(fileNumber).padStart(DIGITS, '0')}${suffix}`;
}

export function walSegmentName(fileNumber: number): string {
  return numbered(WAL_PREFIX, fileNumber, '.log');
}

export function snapshotName(fileNumber: number): string {
  return numbered(SNAPSHOT_PREFIX, fileNumber, '.snap');
}

export function tableName(fileNumber: number): string {
  return numbered(TABLE_PREFIX, fileNumber, '.sst');
}

/** `manifest/<12 digits>.log`: one manifest log (`manifest/current` names the live one). */
export function manifestLogName(fileNumber: number): string {
  return numbered(MANIFEST_PREFIX, fileNumber, '.log');
}

/** Where a corrupt object is set aside; `attempt` distinguishes repeated quarantines of one name. */
export function quarantineName(original: string, attempt: number): string {
  assert(Number.isSafeInteger(attempt) && attempt >= 0, 'bad attempt');
  return `${QUARANTINE_PREFIX}${original.replace('/', '.')}.${attempt}`;
}

/** The file number in a numbered object's name, or undefined if `name` is not of that family. */
export function parseFileNumber(name: string, prefix: string, suffix: string): number | undefined {
  if (!name.startsWith(prefix) || !name.endsWith(suffix)) return undefined;
  const digits = name.slice(prefix.length, name.length - suffix.length);
  if (!/^\d{12}$/.test(digits)) return undefined;
  const n = Number(digits);
  return n > 0 ? n : undefined;
}

export function parseWalSegmentName(name: string): number | undefined {
  return parseFileNumber(name, WAL_PREFIX, '.log');
}

export function parseSnapshotName(name: string): number | undefined {
  return parseFileNumber(name, SNAPSHOT_PREFIX, '.snap');
}

export function parseTableName(name: string): number | undefined {
  return parseFileNumber(name, TABLE_PREFIX, '.sst');
}

/** The file number of a manifest log's name; `manifest/current` and anything else give undefined. */
export function parseManifestLogName(name: string): number | undefined {
  return parseFileNumber(name, MANIFEST_PREFIX, '.log');
}

/**
 * The file number any numbered object's name carries: a WAL segment, snapshot, table or manifest
 * log, or a quarantined one of those (`quarantine/wal.000000000003.log.0`). Undefined for every
 * other name. Used to start the file counter above every number already in use.
 */
export function fileNumberOfName(name: string): number | undefined {
  let original = name;
  if (name.startsWith(QUARANTINE_PREFIX)) {
    // Undo quarantineName: drop the attempt suffix, then turn the first '.' back into '/'.
    const m = /^([a-z]+)\.(.+)\.\d+$/.exec(name.slice(QUARANTINE_PREFIX.length));
    if (m === null) return undefined;
    original = `${m[1]}/${m[2]}`;
  }
  return (
    parseWalSegmentName(original) ??
    parseSnapshotName(original) ??
    parseTableName(original) ??
    parseManifestLogName(original)
  );
}
