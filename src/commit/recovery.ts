/**
 * Recovery: opens the manifest (the tables in levels and the WAL position they cover), then
 * rebuilds the memtable from the WAL after what the tables hold, and says what it found. The
 * rules (docs/ARCHITECTURE.md, "Recovery"):
 *
 * 1. `manifest/current` names the manifest log; the log's edits name the tables and the first
 *    WAL segment to replay, and the version every table covers (`flushedVersion`). Tables and
 *    edits are synced before an edit names them, so damage there is corruption.
 * 2. Every WAL segment but the newest was synced completely before its successor was created,
 *    so a damaged record in one of them is corruption.
 * 3. In the newest segment, a damaged or truncated record starts a torn tail — unless a valid
 *    record after it carries a durable watermark at or above the version that was lost, which
 *    proves the damaged bytes had been synced: then it is corruption too.
 * 4. A torn tail is cut off atomically (the valid prefix is published over the segment), so
 *    the next recovery never mistakes it for damage in a finished segment.
 * 5. Corruption fails the open with a `corruption` error naming the object and offset, unless
 *    the caller asked to quarantine: then the damaged segment and every later one are set
 *    aside under quarantine/, the valid prefix is kept, and health is `degraded`.
 * 6. Tables no edit names (a flush or compaction that crashed before its edit) are set aside
 *    under quarantine/, never deleted outright.
 */

import type { Backend } from '../backend/index.js';
import { StrataError } from '../base/index.js';
import { decodeWalRecord, decodeWalSegmentHeader, readFrame, WAL_HEADER_BYTES } from '../format/index.js';
import {
  parseWalSegmentName,
  QUARANTINE_PREFIX,
  quarantineName,
  SNAPSHOT_PREFIX,
  TABLE_PREFIX,
  WAL_PREFIX,
  walSegmentName,
} from '../layout/index.js';
import { ManifestLog, Memtable } from '../lsm/index.js';

export type RecoveryHealth = 'clean' | 'degraded';

/** What an open found, as `db.recovery` reports it. */
export interface RecoveryReport {
  /** `degraded` when something that may have been durable was set aside or lost. */
  health: RecoveryHealth;
  /** The newest version recovered. */
  recoveredVersion: number;
  /** The newest version known durable after recovery (equal to recoveredVersion: recovery syncs). */
  durableVersion: number;
  /** What recovery did, in sentences. */
  notes: string[];
}

export type CorruptionPolicy = 'fail' | 'quarantine';

export interface RecoveredState {
  /** The WAL after the tables, replayed. */
  memtable: Memtable;
  manifest: ManifestLog;
  lastVersion: number;
  lastTimestamp: number;
  /** Versions up to here may have been issued (and seen) before the crash. */
  reservedVersion: number;
  /** The previous session ended with a close record: nothing was lost. */
  cleanClose: boolean;
  report: RecoveryReport;
}

class Corruption extends Error {
  constructor(
    readonly object: string,
    readonly offset: number,
    readonly reason: string,
    /** Index of the damaged WAL segment in replay order, when the damage is in the WAL. */
    readonly segmentIndex?: number,
  ) {
    super(`${object} at byte ${offset}: ${reason}`);
  }
}

function corruptionError(c: Corruption): StrataError {
  const hint =
    c.segmentIndex === undefined
      ? 'This object is needed to open the database; restore it from a backup.'
      : "Open with { onCorruption: 'quarantine' } to set the damaged log aside and open with what precedes it (health: degraded).";
  return new StrataError('corruption', `${c.object} is damaged at byte ${c.offset}: ${c.reason}. ${hint}`, {
    object: c.object,
    offset: c.offset,
  });
}

/** Opens or creates the durable state under `backend`. */
export async function recover(
  backend: Backend,
  policy: CorruptionPolicy,
  manifestRollBytes?: number,
): Promise<RecoveredState> {
  const notes: string[] = [];
  let health: RecoveryHealth = 'clean';
  const memtable = new Memtable();

  const quarantined = await backend.list(QUARANTINE_PREFIX);
  const opened = await ManifestLog.open(
    backend,
    manifestRollBytes === undefined ? {} : { rollBytes: manifestRollBytes },
  );
  const manifest = opened.log;
  notes.push(...opened.notes);
  const state = manifest.state;
  const walNames = await backend.list(WAL_PREFIX);

  let lastVersion = state.flushedVersion;
  let lastTimestamp = state.flushedTimestamp;
  const segments: number[] = [];
  for (const n of walNames) {
    const file = parseWalSegmentName(n);
    if (file !== undefined && file >= state.walStartFile) segments.push(file);
  }
  segments.sort((a, b) => a - b);

  let reservedVersion = state.reservedVersion;
  let cleanClose = false;
  // The newest segment as replay last saw it, and whether replay already rewrote it durably.
  let lastRead: { name: string; bytes: Uint8Array; published: boolean } | undefined;
  let replayedCommits = 0;
  const tablesVersion = lastVersion;
  // The newest version the log itself has reached, replayed or not: the first segment may begin
  // before the tables' version, and its commits up to that version are already in tables.
  let logVersion: number | undefined;

  // Replay each segment; on damage, decide between torn tail and corruption.
  for (let i = 0; i < segments.length; i++) {
    const file = segments[i]!;
    const name = walSegmentName(file);
    const isLast = i === segments.length - 1;
    const bytes = (await backend.read(name)) ?? new Uint8Array(0);
    lastRead = { name, bytes, published: false };
    try {
      const header = decodeWalSegmentHeader(bytes);
      if (!header.ok || header.header.fileNumber !== file) {
        if (isLast && findDurableClaim(bytes, 0, lastVersion) === undefined) {
          // A segment whose header never became durable was never synced at all, so none of
          // its records were acknowledged as durable: it is an unfinished creation. (A valid
          // record in it that claims a newer durable version would prove otherwise.)
          await backend.delete(name);
          notes.push(`removed ${name}, a log segment whose creation never became durable`);
          continue;
        }
        throw new Corruption(name, 0, header.ok ? 'file number does not match its name' : header.reason, i);
      }
      // Each segment continues where the log before it ended. A gap is allowed only where the
      // tables cover it: a flush can hold versions whose log records a crash then lost (a
      // strict commit not yet acknowledged), and the next session's log starts above them.
      const previous = header.header.previousVersion;
      const continues =
        previous === logVersion ||
        ((logVersion === undefined || previous > logVersion) && previous <= tablesVersion);
      if (!continues) {
        throw new Corruption(
          name,
          16,
          `it continues from version ${previous}, but the log before it ends at ${logVersion ?? lastVersion}`,
          i,
        );
      }
      logVersion = previous;
      // A writer writes nothing after its close record, so a segment after one was begun by a
      // later session; until that session's own close record, it did not close cleanly (its
      // commits may have been seen and lost, above versions a close record says were last).
      cleanClose = false;
      let off = WAL_HEADER_BYTES;
      while (off < bytes.length) {
        const f = readFrame(bytes, off);
        if (f.kind === 'ok') {
          const rec = decodeWalRecord(bytes, f.start, f.end);
          if (rec === undefined)
            throw new Corruption(name, off, 'a record with a valid checksum is malformed', i);
          cleanClose = false;
          if (rec.type === 'commit') {
            if (rec.version <= logVersion) {
              throw new Corruption(name, off, `version ${rec.version} does not follow ${logVersion}`, i);
            }
            logVersion = rec.version;
            if (rec.version > lastVersion) {
              memtable.apply(rec.version, rec.timestamp, rec.ops);
              lastVersion = rec.version;
              lastTimestamp = Math.max(lastTimestamp, rec.timestamp);
              replayedCommits++;
            }
          } else if (rec.type === 'reserve') {
            reservedVersion = Math.max(reservedVersion, rec.reservedVersion);
          } else {
            // The close record carries the highest version the session issued, which can be
            // above its last commit when that session started above a reservation.
            reservedVersion = Math.max(reservedVersion, rec.lastVersion);
            cleanClose = rec.lastVersion === Math.max(lastVersion, logVersion);
          }
          off = f.end;
          continue;
        }
        if (!isLast)
          throw new Corruption(name, off, 'a damaged record inside a finished, synced log segment', i);
        const proof = findDurableClaim(bytes, off + 1, lastVersion);
        if (proof !== undefined) {
          throw new Corruption(
            name,
            off,
            `a damaged record, though a later record (at byte ${proof.offset}) says version ${proof.durable} was already synced`,
            i,
          );
        }
        // A torn tail: cut it off atomically.
        const discarded = bytes.length - off;
        await backend.publish(name, bytes.subarray(0, off));
        lastRead = { name, bytes: bytes.subarray(0, off), published: true };
        notes.push(
          `discarded ${discarded} bytes of unfinished writes at the end of ${name}; recovered through version ${lastVersion}`,
        );
        break;
      }
    } catch (error) {
      if (!(error instanceof Corruption)) throw error;
      if (policy !== 'quarantine' || error.segmentIndex === undefined) throw corruptionError(error);
      // Versions in the log set aside were issued, and may have been seen: new commits must
      // start above them. Recorded in manifest/current before the log moves, since later
      // recoveries no longer read it.
      const issued = await highestVersionFrom(backend, segments, error.segmentIndex);
      if (issued > reservedVersion) {
        reservedVersion = issued;
        await manifest.apply({ reservedVersion });
        notes.push(`versions up to ${issued} were issued in the log set aside; new commits start above them`);
      }
      await quarantineFrom(backend, segments, error, quarantined.length, notes);
      // The segment now holds only the prefix before the damage: what replay read is stale.
      lastRead = undefined;
      health = 'degraded';
      cleanClose = false;
      break;
    }
  }

  // What was replayed may so far sit only in the OS cache (the crash was of the process, not
  // the machine): make it durable before calling it durable, or a later power loss could open a
  // gap. Syncing is not enough: if the previous process's fsync of this segment failed, the
  // kernel may have dropped the data while reads still return it, and a second fsync succeeds
  // without writing it (see backend.ts). So the newest segment, the only one that can hold
  // unsynced data (each is synced before its successor exists), is rewritten, atomically.
  const live = (await backend.list(WAL_PREFIX)).filter(
    (n) => (parseWalSegmentName(n) ?? 0) >= state.walStartFile,
  );
  const newest = live[live.length - 1];
  if (newest !== undefined && !(lastRead?.name === newest && lastRead.published)) {
    const replayed = lastRead?.name === newest ? lastRead.bytes : await backend.read(newest);
    if (replayed !== undefined) await backend.publish(newest, replayed);
  }

  if (replayedCommits > 0 || lastVersion > tablesVersion) {
    notes.push(
      `replayed ${replayedCommits} commits from the log (versions ${tablesVersion + 1}..${lastVersion})`,
    );
  }
  if (!cleanClose && segments.length > 0 && reservedVersion > lastVersion) {
    notes.push(
      `the previous session did not close cleanly; versions up to ${reservedVersion} may have been seen before the crash, so new commits start above it`,
    );
  }
  await removeUnreachable(backend, state.walStartFile, walNames);
  const orphans = manifest.unreferencedTables(await backend.list(TABLE_PREFIX));
  for (const name of orphans) {
    const target = quarantineName(name, quarantined.length);
    await backend.rename(name, target);
    notes.push(
      `set ${name} aside as ${target}: no manifest edit names it (an interrupted flush or compaction)`,
    );
  }

  return {
    memtable,
    manifest,
    lastVersion,
    lastTimestamp,
    reservedVersion,
    cleanClose,
    report: { health, recoveredVersion: lastVersion, durableVersion: lastVersion, notes },
  };
}

/**
 * Looks for a valid record after a damaged one whose durable watermark is above `lastVersion`:
 * proof that the damaged region had been synced. Scans byte by byte (the damaged length field
 * cannot be trusted); cheap in practice because random bytes rarely pass the length check.
 */
function findDurableClaim(
  bytes: Uint8Array,
  from: number,
  lastVersion: number,
): { offset: number; durable: number } | undefined {
  for (let p = from; p + 8 < bytes.length; p++) {
    const f = readFrame(bytes, p);
    if (f.kind !== 'ok') continue;
    const rec = decodeWalRecord(bytes, f.start, f.end);
    if (rec !== undefined && rec.durable > lastVersion) return { offset: p, durable: rec.durable };
  }
  return undefined;
}

/**
 * The highest version any readable part of segments[from..] mentions: segment headers, and every
 * record that still verifies, found by scanning past damaged bytes.
 */
async function highestVersionFrom(
  backend: Backend,
  segments: readonly number[],
  from: number,
): Promise<number> {
  let highest = 0;
  for (let j = from; j < segments.length; j++) {
    const bytes = await backend.read(walSegmentName(segments[j]!));
    if (bytes === undefined) continue;
    const header = decodeWalSegmentHeader(bytes);
    if (header.ok) highest = Math.max(highest, header.header.previousVersion);
    let p = header.ok ? WAL_HEADER_BYTES : 0;
    while (p < bytes.length) {
      const f = readFrame(bytes, p);
      const rec = f.kind === 'ok' ? decodeWalRecord(bytes, f.start, f.end) : undefined;
      if (f.kind !== 'ok' || rec === undefined) {
        p++;
        continue;
      }
      const v =
        rec.type === 'commit' ? rec.version : rec.type === 'reserve' ? rec.reservedVersion : rec.lastVersion;
      highest = Math.max(highest, v, rec.durable);
      p = f.end;
    }
  }
  return highest;
}

async function quarantineFrom(
  backend: Backend,
  segments: readonly number[],
  c: Corruption,
  attempt: number,
  notes: string[],
): Promise<void> {
  const index = c.segmentIndex ?? 0;
  for (let j = index; j < segments.length; j++) {
    const name = walSegmentName(segments[j]!);
    const target = quarantineName(name, attempt);
    const bytes = j === index ? await backend.read(name) : undefined;
    if (j === index && bytes !== undefined && c.offset >= WAL_HEADER_BYTES) {
      // Keep the valid prefix as the segment, so the versions before the damage stay readable:
      // a durable copy goes aside first, then the prefix replaces the segment atomically, so a
      // crash in between never leaves the segment missing (which would lose its valid prefix).
      await backend.write(target, bytes);
      await backend.sync(target);
      await backend.publish(name, bytes.subarray(0, c.offset));
    } else {
      await backend.rename(name, target);
    }
    notes.push(
      `set ${name} aside as ${target}${j === index ? ` (damaged at byte ${c.offset}: ${c.reason})` : ''}`,
    );
  }
}

/**
 * Deletes what the manifest proves unreachable: WAL segments before the first one replayed, and
 * checkpoint files of the format tables replaced.
 */
async function removeUnreachable(
  backend: Backend,
  walStartFile: number,
  walNames: readonly string[],
): Promise<void> {
  for (const n of walNames) {
    const file = parseWalSegmentName(n);
    if (file !== undefined && file < walStartFile) await backend.delete(n);
  }
  for (const n of await backend.list(SNAPSHOT_PREFIX)) await backend.delete(n);
}
