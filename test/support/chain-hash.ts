/**
 * An event's chain hash computed the way docs/formats/events.md draws the record, with
 * node:crypto: an independent reference for the engine's own SHA-256 and encoding.
 */
import { createHash } from 'node:crypto';
import { utf8Encode } from '../../src/base/index.js';

export function referenceChainHash(
  seq: number,
  type: string,
  timestamp: number,
  data: Uint8Array,
  origin: Uint8Array | undefined,
  previous: Uint8Array,
): string {
  const t = utf8Encode(type);
  const fixed = Buffer.alloc(8 + 8 + 4);
  fixed.write('STRATEVT', 0, 'ascii');
  fixed.writeBigUInt64LE(BigInt(seq), 8);
  fixed.writeUInt32LE(t.length, 16);
  const mid = Buffer.alloc(12);
  mid.writeDoubleLE(timestamp, 0);
  mid.writeUInt32LE(data.length, 8);
  const h = createHash('sha256').update(fixed).update(t).update(mid).update(data);
  h.update(Buffer.from([origin === undefined ? 0 : 1]));
  if (origin !== undefined) h.update(origin);
  return h.update(previous).digest('hex');
}
