/**
 * Builds one immutable sorted table (docs/formats/table.md) from entries in internal order, as a
 * stream of byte chunks the caller appends to the table's object as they complete, so a table of
 * any size is written with one data block in memory (plus one 32-bit hash per distinct key for the
 * bloom filter and one index entry per block).
 */
import { assert, VALUE_SIZE_BYTES_MAX } from '../base/index.js';
import {
  BLOCK_TRAILER_BYTES,
  bloomHash,
  DataBlockWriter,
  dataEntrySizeBytesMax,
  encodeFilterBlock,
  encodeIndexBlock,
  encodePropertiesBlock,
  encodeTableFooter,
  RESTART_INTERVAL_MAX,
  TABLE_FOOTER_BYTES,
  type TableEntry,
  type TableMeta,
} from '../format/index.js';

export interface TableBuilderOptions {
  /** A data block is closed once it reaches this size (default 4096). */
  blockBytes?: number;
  /** Every this many entries a data block stores a key whole and records a restart point (default 16, at most 1024). */
  restartInterval?: number;
  /** Bloom filter bits per distinct key; 0 writes no filter (default 10, about 1% false positives). */
  bloomBitsPerKey?: number;
}

export const TABLE_BLOCK_BYTES_DEFAULT = 4096;
export const TABLE_RESTART_INTERVAL_DEFAULT = 16;
export const TABLE_BLOOM_BITS_PER_KEY_DEFAULT = 10;

export class TableBuilder {
  private readonly blockBytes: number;
  private readonly restartInterval: number;
  private readonly bloomBitsPerKey: number;
  private readonly block: DataBlockWriter;
  private chunks: Uint8Array[] = [];
  /** Bytes of every chunk produced so far, taken or not: the offset of the next block. */
  private producedBytes = 0;
  private count = 0;
  private lastKey = '';
  private lastVersion = 0;
  private smallest = '';
  private minVersion = Number.POSITIVE_INFINITY;
  private maxVersion = Number.NEGATIVE_INFINITY;
  /** bloomHash of each distinct key, in order. */
  private hashes = new Uint32Array(1024);
  private hashCount = 0;
  private readonly indexKeys: string[] = [];
  private readonly indexVersions: number[] = [];
  private readonly indexSizes: number[] = [];
  private finished = false;

  /** Requires a positive file number and sane options (positive block size and restart interval). */
  constructor(
    private readonly fileNumber: number,
    options: TableBuilderOptions = {},
  ) {
    assert(Number.isSafeInteger(fileNumber) && fileNumber > 0, 'bad table file number');
    this.blockBytes = options.blockBytes ?? TABLE_BLOCK_BYTES_DEFAULT;
    this.restartInterval = options.restartInterval ?? TABLE_RESTART_INTERVAL_DEFAULT;
    this.bloomBitsPerKey = options.bloomBitsPerKey ?? TABLE_BLOOM_BITS_PER_KEY_DEFAULT;
    assert(Number.isSafeInteger(this.blockBytes) && this.blockBytes >= 1, 'bad block size');
    assert(
      Number.isSafeInteger(this.restartInterval) &&
        this.restartInterval >= 1 &&
        this.restartInterval <= RESTART_INTERVAL_MAX,
      'bad restart interval',
    );
    assert(
      Number.isFinite(this.bloomBitsPerKey) && this.bloomBitsPerKey >= 0 && this.bloomBitsPerKey <= 64,
      'bad bloom bits per key',
    );
    this.block = new DataBlockWriter(this.restartInterval, Math.max(256, 2 * this.blockBytes));
  }

  /**
   * Adds one entry. Requires entries strictly increasing in internal order (key ascending, then
   * version descending), a byte-string key, a safe non-negative version, a finite timestamp and a
   * value of at most VALUE_SIZE_BYTES_MAX bytes. The value's bytes are copied.
   */
  add(entry: TableEntry): void {
    assert(!this.finished, 'add after finish');
    const { key, version, timestamp, value } = entry;
    assert(typeof key === 'string', 'key must be a byte string');
    assert(Number.isSafeInteger(version) && version >= 0, 'bad version');
    assert(Number.isFinite(timestamp), 'timestamp must be finite');
    assert(value === null || value.length <= VALUE_SIZE_BYTES_MAX, 'value too large');
    const newKey = this.count === 0 || key !== this.lastKey;
    if (this.count > 0) {
      assert(
        key > this.lastKey || (key === this.lastKey && version < this.lastVersion),
        'table entries must be strictly increasing in internal order',
      );
    } else {
      this.smallest = key;
    }
    // An entry that would overflow a non-empty block starts the next one, so a block exceeds
    // blockBytes only when it holds a single entry that alone does.
    if (this.block.entryCount > 0 && this.block.sizeBytes + dataEntrySizeBytesMax(entry) > this.blockBytes) {
      this.flushBlock();
    }
    this.block.add(entry);
    if (newKey) {
      if (this.hashCount === this.hashes.length) {
        const grown = new Uint32Array(this.hashes.length * 2);
        grown.set(this.hashes);
        this.hashes = grown;
      }
      this.hashes[this.hashCount++] = bloomHash(key);
    }
    this.count++;
    this.lastKey = key;
    this.lastVersion = version;
    if (version < this.minVersion) this.minVersion = version;
    if (version > this.maxVersion) this.maxVersion = version;
    if (this.block.sizeBytes >= this.blockBytes) this.flushBlock();
  }

  get entryCount(): number {
    return this.count;
  }

  /** Bytes produced so far, including the unfinished block: what the table would roughly weigh now. */
  get estimatedBytes(): number {
    return this.producedBytes + this.block.sizeBytes;
  }

  /** Completed bytes not yet taken, in order; the caller appends them to the object as it goes. */
  takeChunks(): Uint8Array[] {
    const chunks = this.chunks;
    this.chunks = [];
    return chunks;
  }

  /**
   * Closes the table: returns the remaining bytes (last data block, filter, index, properties,
   * footer) and the table's metadata, whose size counts every chunk ever returned. Requires at
   * least one entry; the builder takes no more entries afterwards.
   */
  finish(): { chunks: Uint8Array[]; meta: TableMeta } {
    assert(!this.finished, 'finish called twice');
    assert(this.count > 0, 'a table needs at least one entry');
    this.finished = true;
    if (this.block.entryCount > 0) this.flushBlock();
    const filterOffset = this.producedBytes;
    const filter = encodeFilterBlock(this.hashes, this.hashCount, this.bloomBitsPerKey);
    const index = encodeIndexBlock(this.indexKeys, this.indexVersions, this.indexSizes);
    const properties = encodePropertiesBlock({
      entries: this.count,
      dataBlocks: this.indexKeys.length,
      minVersion: this.minVersion,
      maxVersion: this.maxVersion,
      restartInterval: this.restartInterval,
      smallest: this.smallest,
      largest: this.lastKey,
    });
    const footer = encodeTableFooter({
      fileNumber: this.fileNumber,
      filterOffset,
      filterSize: filter.length,
      indexOffset: filterOffset + filter.length,
      indexSize: index.length,
      propertiesOffset: filterOffset + filter.length + index.length,
      propertiesSize: properties.length,
    });
    assert(footer.length === TABLE_FOOTER_BYTES && properties.length > BLOCK_TRAILER_BYTES, 'tail sizes');
    for (const chunk of [filter, index, properties, footer]) this.emit(chunk);
    const meta: TableMeta = {
      fileNumber: this.fileNumber,
      size: this.producedBytes,
      smallest: this.smallest,
      largest: this.lastKey,
      minVersion: this.minVersion,
      maxVersion: this.maxVersion,
      entries: this.count,
    };
    return { chunks: this.takeChunks(), meta };
  }

  private flushBlock(): void {
    const block = this.block.finish();
    this.indexKeys.push(this.lastKey);
    this.indexVersions.push(this.lastVersion);
    this.indexSizes.push(block.length);
    this.emit(block);
  }

  private emit(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.producedBytes += chunk.length;
  }
}
