/**
 * Writing and loading snapshot (checkpoint) files. Format: docs/formats/snapshot.md.
 */

import type { Backend } from '../backend/index.js';
import { concatBytes, StrataError } from '../base/index.js';
import {
  decodeSnapshotHeader,
  decodeSnapshotPayload,
  encodeSnapshotHeader,
  FRAME_HEADER_BYTES,
  readFrame,
  SNAPSHOT_END_PAYLOAD_BYTES,
  SNAPSHOT_HEADER_BYTES,
  type SnapshotEntry,
  sealFrame,
  snapshotEntrySize,
  writeSnapshotBlock,
  writeSnapshotEnd,
} from '../format/index.js';
import { snapshotName } from '../layout/index.js';
import { entryAt, type Memtable, type VersionEntry } from '../lsm/index.js';

const BLOCK_PAYLOAD_BYTES_TARGET = 64 * 1024;
const WRITE_CHUNK_BYTES = 1024 * 1024;

/**
 * Writes every version <= `version` held by `memtable` to `snapshots/<fileNumber>.snap` and
 * syncs it. Runs in slices: between appends, commits may add versions above `version` or new
 * keys, which the key cursor tolerates and the version filter leaves out.
 */
export async function writeSnapshot(
  backend: Backend,
  fileNumber: number,
  memtable: Memtable,
  version: number,
  timestamp: number,
): Promise<{ entries: number; bytes: number }> {
  const name = snapshotName(fileNumber);
  await backend.write(name, encodeSnapshotHeader({ fileNumber, version, timestamp }));
  let bytes = SNAPSHOT_HEADER_BYTES;
  let chunk: Uint8Array[] = [];
  let chunkBytes = 0;
  let block: SnapshotEntry[] = [];
  let blockBytes = 0;
  let entries = 0;
  let blocks = 0;

  const sealBlock = (): void => {
    if (block.length === 0) return;
    const payload = new Uint8Array(FRAME_HEADER_BYTES + 10 + blockBytes);
    const end = writeSnapshotBlock(payload, FRAME_HEADER_BYTES, block);
    sealFrame(payload, 0, end - FRAME_HEADER_BYTES);
    chunk.push(payload.subarray(0, end));
    chunkBytes += end;
    entries += block.length;
    blocks++;
    block = [];
    blockBytes = 0;
  };
  const flushChunk = async (): Promise<void> => {
    if (chunkBytes === 0) return;
    const data = chunk.length === 1 ? chunk[0]! : concatBytes(chunk);
    chunk = [];
    bytes += chunkBytes;
    chunkBytes = 0;
    await backend.append(name, data);
  };

  const chain: VersionEntry[] = [];
  for (const { key, head } of memtable.slots(undefined, undefined)) {
    chain.length = 0;
    for (let e = entryAt(head, version); e !== undefined; e = e.older) chain.push(e);
    for (let i = chain.length - 1; i >= 0; i--) {
      const e = chain[i]!;
      const entry: SnapshotEntry = { key, version: e.version, timestamp: e.timestamp, value: e.value };
      block.push(entry);
      blockBytes += snapshotEntrySize(entry);
      if (blockBytes >= BLOCK_PAYLOAD_BYTES_TARGET) sealBlock();
    }
    if (chunkBytes >= WRITE_CHUNK_BYTES) await flushChunk();
  }
  sealBlock();
  const end = new Uint8Array(FRAME_HEADER_BYTES + SNAPSHOT_END_PAYLOAD_BYTES);
  writeSnapshotEnd(end, FRAME_HEADER_BYTES, entries, blocks);
  sealFrame(end, 0, SNAPSHOT_END_PAYLOAD_BYTES);
  chunk.push(end);
  chunkBytes += end.length;
  await flushChunk();
  await backend.sync(name);
  return { entries, bytes };
}

/**
 * Loads a snapshot into `memtable`, verifying everything: a snapshot is synced before the
 * manifest names it, so any damage is corruption of a synced region and is reported as such.
 */
export async function loadSnapshot(
  backend: Backend,
  fileNumber: number,
  expectedVersion: number,
  memtable: Memtable,
): Promise<{ version: number; timestamp: number; entries: number }> {
  const name = snapshotName(fileNumber);
  const corrupt = (offset: number, reason: string): StrataError =>
    new StrataError(
      'corruption',
      `${name} is damaged at byte ${offset}: ${reason}. The snapshot is the only copy of the history it holds; restore it from a backup.`,
      { object: name, offset },
    );
  const bytes = await backend.read(name);
  if (bytes === undefined) throw corrupt(0, 'missing, though manifest/current names it');
  const header = decodeSnapshotHeader(bytes);
  if (!header.ok) throw corrupt(0, header.reason);
  if (header.header.fileNumber !== fileNumber) throw corrupt(12, 'file number does not match its name');
  if (header.header.version !== expectedVersion) throw corrupt(16, 'version does not match manifest/current');
  let off = SNAPSHOT_HEADER_BYTES;
  let entries = 0;
  let blocks = 0;
  let lastKey: string | undefined;
  let lastVersion = 0;
  for (;;) {
    const f = readFrame(bytes, off);
    if (f.kind !== 'ok') throw corrupt(off, f.kind === 'truncated' ? 'ends early' : 'damaged frame');
    const payload = decodeSnapshotPayload(bytes, f.start, f.end);
    if (payload === undefined) throw corrupt(off, 'malformed block');
    if (payload.type === 'end') {
      if (f.end !== bytes.length) throw corrupt(f.end, 'bytes after the end record');
      if (payload.entryCount !== entries || payload.blockCount !== blocks)
        throw corrupt(off, 'counts do not match');
      break;
    }
    for (const e of payload.entries) {
      const ordered =
        lastKey === undefined || e.key > lastKey || (e.key === lastKey && e.version > lastVersion);
      if (!ordered || e.version > expectedVersion) throw corrupt(off, 'entries out of order');
      memtable.insert(e.key, e.version, e.timestamp, e.value);
      lastKey = e.key;
      lastVersion = e.version;
    }
    entries += payload.entries.length;
    blocks++;
    off = f.end;
  }
  return { version: header.header.version, timestamp: header.header.timestamp, entries };
}
