/**
 * Reads one immutable sorted table (docs/formats/table.md) synchronously.
 *
 * Opening reads and verifies the footer, properties, index and filter; the reader keeps the index
 * (the last key and version of every data block) and the bloom filter in memory. Data blocks are
 * read on demand through the shared BlockCache: on a miss the block is read, its checksum verified
 * and its restart array decoded; each restart run (restartInterval entries) is decoded into
 * parallel arrays the first time a lookup lands in it, and stays decoded while the block is cached.
 * A point lookup is then: range check, bloom probe, binary search of the index, binary search of
 * the block's restart keys, binary search of one run — all on byte strings compared with `<`.
 *
 * Values returned are views of cached block bytes: callers must not modify them.
 *
 * Damage found at any point throws StrataError 'corruption' naming the object and byte offset.
 */

import type { ObjectReader } from '../backend/index.js';
import { assert, StrataError, viewOf } from '../base/index.js';
import {
  BLOCK_DATA,
  BLOCK_FILTER,
  BLOCK_INDEX,
  BLOCK_PROPERTIES,
  BLOCK_TRAILER_BYTES,
  type BloomFilter,
  bloomHash,
  bloomMayContain,
  checkBlock,
  compareEntryKeys,
  type DataRun,
  type Decoded,
  decodeDataBlockLayout,
  decodeDataRun,
  decodeFilterBlock,
  decodeIndexBlock,
  decodePropertiesBlock,
  decodeTableFooter,
  newBlockProbe,
  PROBE_ABSENT,
  PROBE_FOUND,
  PROBE_NEXT_BLOCK,
  probeDataBlock,
  TABLE_FOOTER_BYTES,
  type TableEntry,
  type TableMeta,
  type TableProperties,
} from '../format/index.js';
import type { BlockCache } from './block-cache.js';

/** Rough bytes a decoded entry costs beyond its share of the block bytes (arrays, key string). */
const DECODED_ENTRY_BYTES = 64;
/** Rough fixed cost of a cached block object and of a reader, for memory accounting. */
const OBJECT_OVERHEAD_BYTES = 256;
/**
 * Most data blocks a cursor moving forward reads with one read (32 KiB of 4 KiB blocks). Scans
 * and compactions read blocks in order; one `read(2)` per block cost more than decoding it. The
 * read-ahead starts at two blocks after the first step forward and doubles, so a short scan reads
 * little it does not use.
 */
const READAHEAD_BLOCKS_MAX = 8;

function corruption(name: string, offset: number, reason: string): StrataError {
  return new StrataError('corruption', `table ${name} is damaged at byte ${offset}: ${reason}`, {
    object: name,
    offset,
  });
}

function unwrap<T>(decoded: Decoded<T>, name: string, base: number): T {
  if (!decoded.ok) throw corruption(name, base + decoded.at, decoded.reason);
  return decoded.value;
}

/**
 * A data block as the cache holds it: its verified payload, its restart runs' first keys, and the
 * runs decoded so far.
 */
class DataBlock {
  readonly runs: (DataRun | undefined)[];
  readonly runCount: number;
  /** The verified payload: a view of a read shared with other blocks until `own` copies it out. */
  payload: Uint8Array;
  view: DataView;
  private shared: boolean;

  constructor(
    payload: Uint8Array,
    readonly entriesEnd: number,
    readonly restartOffsets: number[],
    readonly restartKeys: string[],
    readonly restartVersions: number[],
    private readonly table: TableShape,
    private readonly blockIndex: number,
    /** Where the block is cached: decoding a run adds to its charge there. */
    private readonly cache: BlockCache,
    private readonly fileNumber: number,
  ) {
    this.runCount = restartOffsets.length;
    this.payload = payload;
    this.view = viewOf(payload);
    this.shared = payload.byteLength + BLOCK_TRAILER_BYTES < payload.buffer.byteLength;
    this.runs = new Array<DataRun | undefined>(this.runCount).fill(undefined);
  }

  /**
   * Called on a cache hit. Blocks are read into buffers shared with their neighbours (the Node
   * backend's read slabs, a read-ahead of several blocks): a block that proves hot gets its own
   * copy of its bytes, so that it does not keep the whole buffer alive while the blocks read with
   * it are evicted. Views of the old bytes handed out before stay valid (the bytes are equal).
   */
  own(): void {
    if (!this.shared) return;
    this.payload = this.payload.slice();
    this.view = viewOf(this.payload);
    this.shared = false;
  }

  run(r: number): DataRun {
    return this.runs[r] ?? this.decodeRun(r);
  }

  /** The run to search for the first entry at or after (key, version): the last one starting before it. */
  findRun(key: string, version: number): number {
    const keys = this.restartKeys;
    const versions = this.restartVersions;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid]!;
      if (k < key || (k === key && versions[mid]! > version)) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : lo - 1;
  }

  private decodeRun(r: number): DataRun {
    const t = this.table;
    const start = this.restartOffsets[r]!;
    const end = r + 1 < this.runCount ? this.restartOffsets[r + 1]! : this.entriesEnd;
    const base = t.blockOffsets[this.blockIndex]!;
    const run = unwrap(decodeDataRun(this.payload, start, end, t.restartInterval), t.name, base);
    const last = run.keys.length - 1;
    // Runs are checked against their neighbours and the index, so that a table whose checksums
    // verify but whose order does not (a bug or a forged file) is reported, not misread.
    const [boundKey, boundVersion] =
      r + 1 < this.runCount
        ? [this.restartKeys[r + 1]!, this.restartVersions[r + 1]!]
        : [t.lastKeys[this.blockIndex]!, t.lastVersions[this.blockIndex]!];
    const order = compareEntryKeys(run.keys[last]!, run.versions[last]!, boundKey, boundVersion);
    if (r + 1 < this.runCount ? order >= 0 : order !== 0) {
      throw corruption(t.name, base + start, 'restart run does not fit its block or the index');
    }
    for (const v of run.versions) {
      if (v < t.minVersion || v > t.maxVersion) {
        throw corruption(t.name, base + start, 'version outside the table properties');
      }
    }
    this.runs[r] = run;
    this.cache.grow(this.fileNumber, base, run.keys.length * DECODED_ENTRY_BYTES);
    return run;
  }
}

/** What a DataBlock needs of its table: cached blocks pin these index arrays, not the reader and its object. */
interface TableShape {
  readonly name: string;
  readonly lastKeys: string[];
  readonly lastVersions: number[];
  readonly blockOffsets: number[];
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Most entries in one restart run. */
  readonly restartInterval: number;
}

/** A position in the table: block b, run r of it, entry i of the run. */
class Cursor {
  valid = false;
  private b = 0;
  block: DataBlock | undefined;
  private r = 0;
  run: DataRun | undefined;
  i = 0;
  /**
   * Bytes of blocks read ahead, blocks aheadFirst to aheadEnd - 1: a cursor moving forward reads
   * several per read, and verifies and decodes each only when it gets there (a scan that stops
   * early pays nothing for the rest).
   */
  private ahead: Uint8Array | undefined;
  private aheadFirst = 0;
  private aheadEnd = 0;
  /** Blocks to read at the next forward step into an unread block; doubles up to READAHEAD_BLOCKS_MAX. */
  private readahead = 1;

  constructor(private readonly table: TableBlocks) {}

  /** To the first entry at or after (key, version) in internal order. */
  seek(key: string, version: number): void {
    const b = this.table.findBlock(key, version);
    if (b === this.table.blockCount) {
      this.valid = false;
      return;
    }
    this.b = b;
    // A seek is a random access: the read-ahead starts small again.
    this.readahead = 1;
    const block = this.table.loadBlock(b);
    this.block = block;
    this.r = block.findRun(key, version);
    const run = block.run(this.r);
    this.run = run;
    const keys = run.keys;
    const versions = run.versions;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid]!;
      if (k < key || (k === key && versions[mid]! > version)) lo = mid + 1;
      else hi = mid;
    }
    this.i = lo;
    this.valid = true;
    if (lo === keys.length) this.nextRun();
  }

  seekToFirst(): void {
    this.b = 0;
    this.r = 0;
    this.enter(0);
    this.i = 0;
  }

  seekToLast(): void {
    this.b = this.table.blockCount - 1;
    this.block = this.table.loadBlock(this.b);
    this.r = this.block.runCount - 1;
    this.run = this.block.run(this.r);
    this.i = this.run.keys.length - 1;
    this.valid = true;
  }

  next(): void {
    if (++this.i === this.run!.keys.length) this.nextRun();
  }

  prev(): void {
    if (--this.i >= 0) return;
    if (this.r > 0) {
      this.r--;
    } else if (this.b > 0) {
      this.b--;
      this.block = this.table.loadBlock(this.b);
      this.r = this.block.runCount - 1;
    } else {
      this.valid = false;
      return;
    }
    this.run = this.block!.run(this.r);
    this.i = this.run.keys.length - 1;
  }

  key(): string {
    return this.run!.keys[this.i]!;
  }

  entry(): TableEntry {
    const run = this.run!;
    const i = this.i;
    const start = run.valueStarts[i]!;
    return {
      key: run.keys[i]!,
      version: run.versions[i]!,
      timestamp: run.timestamps[i]!,
      value: start < 0 ? null : this.block!.payload.subarray(start, run.valueEnds[i]!),
    };
  }

  private nextRun(): void {
    this.i = 0;
    if (this.r + 1 < this.block!.runCount) {
      this.r++;
      this.run = this.block!.run(this.r);
      return;
    }
    if (this.b + 1 === this.table.blockCount) {
      this.valid = false;
      return;
    }
    this.b++;
    this.r = 0;
    this.enter(this.b);
  }

  /** Into block b going forward (a scan, a compaction): from the read-ahead, or read ahead now. */
  private enter(b: number): void {
    const t = this.table;
    let block: DataBlock;
    if (this.ahead !== undefined && b >= this.aheadFirst && b < this.aheadEnd) {
      block = t.blockFrom(b, this.ahead, t.offsetOf(b) - t.offsetOf(this.aheadFirst));
    } else {
      this.readahead = Math.min(2 * this.readahead, READAHEAD_BLOCKS_MAX);
      const read = t.readAhead(b, this.readahead);
      if (read === undefined) {
        this.ahead = undefined;
        block = t.loadBlock(b);
      } else {
        this.ahead = read.bytes;
        this.aheadFirst = b;
        this.aheadEnd = b + read.count;
        block = t.blockFrom(b, read.bytes, 0);
      }
    }
    this.block = block;
    this.run = block.run(this.r);
    this.valid = true;
  }
}

/**
 * The data blocks of one open table: the index in memory, blocks through the cache. Separate from
 * TableReader so cursors can reach blocks without those methods becoming reader API.
 */
class TableBlocks {
  readonly blockCount: number;
  closed = false;
  private readonly smallest: string;

  constructor(
    private readonly reader: ObjectReader,
    private readonly cache: BlockCache,
    private readonly fileNumber: number,
    private readonly shape: TableShape,
    private readonly blockSizes: number[],
    properties: TableProperties,
  ) {
    this.blockCount = blockSizes.length;
    this.smallest = properties.smallest;
  }

  get name(): string {
    return this.shape.name;
  }

  /** The first data block whose last entry is at or after (key, version); blockCount when none. */
  findBlock(key: string, version: number): number {
    const keys = this.shape.lastKeys;
    const versions = this.shape.lastVersions;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid]!;
      if (k < key || (k === key && versions[mid]! > version)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The corruption error for payload offset `at` of data block b. */
  corruptionIn(b: number, at: number, reason: string): StrataError {
    return corruption(this.shape.name, this.shape.blockOffsets[b]! + at, reason);
  }

  /** Data block b, from the cache or read, verified and decoded (then cached). */
  loadBlock(b: number): DataBlock {
    const offset = this.shape.blockOffsets[b]!;
    const cached = this.cache.get(this.fileNumber, offset);
    if (cached instanceof DataBlock) {
      cached.own();
      return cached;
    }
    if (this.closed) throw new StrataError('closed', `the table reader of ${this.shape.name} is closed`);
    return this.decodeBlock(b, this.reader.readSync(offset, this.blockSizes[b]!));
  }

  offsetOf(b: number): number {
    return this.shape.blockOffsets[b]!;
  }

  /**
   * The bytes of data blocks b, b + 1, … read with one read: more than one and at most `count`,
   * stopping before a block the cache holds. Undefined when block b is cached, or when b + 1 is
   * cached or missing too (then there is nothing to read ahead). Nothing is verified yet: each
   * block is, by blockFrom, when a cursor gets to it.
   */
  readAhead(b: number, count: number): { bytes: Uint8Array; count: number } | undefined {
    const offsets = this.shape.blockOffsets;
    const sizes = this.blockSizes;
    const offset = offsets[b]!;
    if (this.cache.has(this.fileNumber, offset)) return undefined;
    if (this.closed) throw new StrataError('closed', `the table reader of ${this.shape.name} is closed`);
    let n = 1;
    let length = sizes[b]!;
    // Data blocks lie back to back (the index checked it); stop at the first one already cached.
    while (n < count && b + n < this.blockCount && offsets[b + n] === offset + length) {
      if (this.cache.has(this.fileNumber, offsets[b + n]!)) break;
      length += sizes[b + n]!;
      n++;
    }
    if (n === 1) return undefined;
    return { bytes: this.reader.readSync(offset, length), count: n };
  }

  /**
   * Data block b from the cache, or else verified and decoded from `bytes` (read ahead, block b
   * at byte `at`) and cached. The cursor holds the bytes: with a cache too small to keep the
   * blocks (compaction uses none), they would otherwise be read again.
   */
  blockFrom(b: number, bytes: Uint8Array, at: number): DataBlock {
    const cached = this.cache.get(this.fileNumber, this.shape.blockOffsets[b]!);
    if (cached instanceof DataBlock) {
      cached.own();
      return cached;
    }
    return this.decodeBlock(b, bytes.subarray(at, at + this.blockSizes[b]!));
  }

  /** Verifies and decodes the bytes of data block b, and caches it. */
  private decodeBlock(b: number, bytes: Uint8Array): DataBlock {
    const offset = this.shape.blockOffsets[b]!;
    const name = this.shape.name;
    const payload = unwrap(checkBlock(bytes, BLOCK_DATA), name, offset);
    const layout = unwrap(decodeDataBlockLayout(payload), name, offset);
    const firstKey = layout.restartKeys[0]!;
    const firstVersion = layout.restartVersions[0]!;
    const firstOk =
      b === 0
        ? firstKey === this.smallest
        : compareEntryKeys(
            this.shape.lastKeys[b - 1]!,
            this.shape.lastVersions[b - 1]!,
            firstKey,
            firstVersion,
          ) < 0;
    if (!firstOk)
      throw corruption(name, offset, 'first entry of the block does not follow the previous block');
    const block = new DataBlock(
      payload,
      layout.entriesEnd,
      layout.restartOffsets,
      layout.restartKeys,
      layout.restartVersions,
      this.shape,
      b,
      this.cache,
      this.fileNumber,
    );
    // Charged for its bytes and restart keys now; each run adds its decoded entries when a
    // cursor decodes it (point reads never do).
    const charge =
      OBJECT_OVERHEAD_BYTES + bytes.length + layout.restartOffsets.length * (2 * DECODED_ENTRY_BYTES);
    this.cache.put(this.fileNumber, offset, block, charge);
    assert(payload.length + BLOCK_TRAILER_BYTES === bytes.length, 'block payload size');
    return block;
  }
}

export class TableReader {
  readonly meta: TableMeta;
  /** Bytes this reader holds outside the block cache (index, filter, properties), for the memory budget. */
  readonly memoryBytes: number;
  private readonly smallest: string;
  private readonly largest: string;
  /** Reused by get and versions, which never yield mid-way. */
  private readonly scratch: Cursor;
  private readonly probe = newBlockProbe();

  private constructor(
    private readonly reader: ObjectReader,
    private readonly blocks: TableBlocks,
    private readonly filter: BloomFilter,
    meta: TableMeta,
    memoryBytes: number,
  ) {
    this.meta = meta;
    this.smallest = meta.smallest;
    this.largest = meta.largest;
    this.memoryBytes = memoryBytes;
    this.scratch = new Cursor(blocks);
  }

  /** The table's object name, as given to open. */
  get name(): string {
    return this.blocks.name;
  }

  /**
   * Reads and verifies footer, properties, index and filter synchronously. Any damage,
   * inconsistency or a fileNumber/size different from `expected` throws StrataError 'corruption'
   * naming the object and byte offset; an I/O failure throws what the reader throws ('io').
   * On success the TableReader owns `reader` and closes it in close(); on a throw the caller keeps it.
   * Blocks are cached under `expected.fileNumber`, which must be this table's alone.
   */
  static open(
    reader: ObjectReader,
    name: string,
    expected: { fileNumber: number; size?: number },
    cache: BlockCache,
  ): TableReader {
    const size = reader.size;
    if (expected.size !== undefined && size !== expected.size) {
      throw corruption(
        name,
        Math.min(size, expected.size),
        `size ${size} where ${expected.size} was expected`,
      );
    }
    if (size < TABLE_FOOTER_BYTES) throw corruption(name, 0, 'shorter than a table footer');
    const footerAt = size - TABLE_FOOTER_BYTES;
    const footer = unwrap(
      decodeTableFooter(reader.readSync(footerAt, TABLE_FOOTER_BYTES), size),
      name,
      footerAt,
    );
    if (footer.fileNumber !== expected.fileNumber) {
      throw corruption(
        name,
        footerAt + 16,
        `file number ${footer.fileNumber} where ${expected.fileNumber} was expected`,
      );
    }
    // Filter, index and properties are adjacent (the footer decoder checked): one read.
    const tailAt = footer.filterOffset;
    const tail = reader.readSync(tailAt, footerAt - tailAt);
    const block = (offset: number, length: number, type: number): Uint8Array =>
      unwrap(checkBlock(tail.subarray(offset - tailAt, offset - tailAt + length), type), name, offset);

    const propertiesAt = footer.propertiesOffset;
    const properties = unwrap(
      decodePropertiesBlock(block(propertiesAt, footer.propertiesSize, BLOCK_PROPERTIES)),
      name,
      propertiesAt,
    );
    const index = unwrap(
      decodeIndexBlock(block(footer.indexOffset, footer.indexSize, BLOCK_INDEX)),
      name,
      footer.indexOffset,
    );
    const filter = unwrap(
      decodeFilterBlock(block(footer.filterOffset, footer.filterSize, BLOCK_FILTER)),
      name,
      footer.filterOffset,
    );
    const blockCount = index.lastKeys.length;
    if (index.dataEnd !== footer.filterOffset) {
      throw corruption(name, footer.indexOffset, 'data blocks do not end where the filter begins');
    }
    if (blockCount !== properties.dataBlocks || blockCount > properties.entries) {
      throw corruption(name, propertiesAt, 'data block count differs from the index');
    }
    if (index.lastKeys[blockCount - 1] !== properties.largest || index.lastKeys[0]! < properties.smallest) {
      throw corruption(name, propertiesAt, 'key range differs from the index');
    }
    for (const v of index.lastVersions) {
      if (v < properties.minVersion || v > properties.maxVersion) {
        throw corruption(name, footer.indexOffset, 'index version outside the table properties');
      }
    }

    const meta: TableMeta = {
      fileNumber: footer.fileNumber,
      size,
      smallest: properties.smallest,
      largest: properties.largest,
      minVersion: properties.minVersion,
      maxVersion: properties.maxVersion,
      entries: properties.entries,
    };
    let keyBytes = properties.smallest.length + properties.largest.length;
    for (const k of index.lastKeys) keyBytes += k.length;
    // The filter's bits are a view of `tail`: copy them, so the reader does not also pin the index
    // and properties bytes it has already decoded.
    const bits = filter.bits.slice();
    const memoryBytes = OBJECT_OVERHEAD_BYTES + bits.length + keyBytes + blockCount * (3 * 8 + 16 + 24);
    const shape: TableShape = {
      name,
      lastKeys: index.lastKeys,
      lastVersions: index.lastVersions,
      blockOffsets: index.blockOffsets,
      minVersion: properties.minVersion,
      maxVersion: properties.maxVersion,
      restartInterval: properties.restartInterval,
    };
    const blocks = new TableBlocks(reader, cache, footer.fileNumber, shape, index.blockSizes, properties);
    return new TableReader(reader, blocks, { probes: filter.probes, bits }, meta, memoryBytes);
  }

  /** false only when the table cannot hold `key` (range check + bloom filter). */
  mayContain(key: string): boolean {
    if (key < this.smallest || key > this.largest) return false;
    return bloomMayContain(this.filter, bloomHash(key));
  }

  /** Newest entry of `key` with version <= atVersion and timestamp <= atTimestamp (a tombstone counts), or undefined. */
  get(key: string, atVersion: number, atTimestamp: number): TableEntry | undefined {
    this.checkOpen();
    if (key < this.smallest || key > this.largest || !bloomMayContain(this.filter, bloomHash(key))) {
      return undefined;
    }
    // The common case reads the one block in place (probeDataBlock), decoding no run.
    const blocks = this.blocks;
    const b = blocks.findBlock(key, atVersion);
    if (b === blocks.blockCount) return undefined;
    const block = blocks.loadBlock(b);
    const probe = this.probe;
    const meta = this.meta;
    probeDataBlock(
      block.payload,
      block.view,
      block.restartOffsets[block.findRun(key, atVersion)]!,
      block.entriesEnd,
      key,
      atVersion,
      atTimestamp,
      meta.minVersion,
      meta.maxVersion,
      probe,
    );
    if (probe.status === PROBE_FOUND) {
      return {
        key,
        version: probe.version,
        timestamp: probe.timestamp,
        value: probe.valueStart < 0 ? null : block.payload.subarray(probe.valueStart, probe.valueEnd),
      };
    }
    if (probe.status === PROBE_ABSENT) return undefined;
    if (probe.status !== PROBE_NEXT_BLOCK) throw blocks.corruptionIn(b, probe.at, probe.reason);
    // The key's versions go on into the next block (rare: a key with many versions): walk them.
    const c = this.scratch;
    for (c.seek(key, atVersion); c.valid; c.next()) {
      const run = c.run!;
      const i = c.i;
      if (run.keys[i] !== key) return undefined;
      if (run.timestamps[i]! <= atTimestamp) return c.entry();
    }
    return undefined;
  }

  /** Every entry of `key` with version <= atVersion and timestamp <= atTimestamp, newest first. */
  versions(key: string, atVersion: number, atTimestamp: number): TableEntry[] {
    this.checkOpen();
    const out: TableEntry[] = [];
    if (!this.mayContain(key)) return out;
    const c = this.scratch;
    for (c.seek(key, atVersion); c.valid; c.next()) {
      const run = c.run!;
      const i = c.i;
      if (run.keys[i] !== key) break;
      if (run.timestamps[i]! <= atTimestamp) out.push(c.entry());
    }
    return out;
  }

  /** All entries with start <= key < end (undefined = open) in internal order. */
  *entries(start?: string, end?: string): Generator<TableEntry> {
    this.checkOpen();
    const c = new Cursor(this.blocks);
    if (start === undefined) c.seekToFirst();
    else c.seek(start, Number.POSITIVE_INFINITY);
    for (; c.valid; c.next()) {
      if (end !== undefined && c.key() >= end) return;
      yield c.entry();
    }
  }

  /** Same range, keys descending; the versions of one key still newest first. */
  *entriesReverse(start?: string, end?: string): Generator<TableEntry> {
    this.checkOpen();
    const c = new Cursor(this.blocks);
    if (end === undefined) {
      c.seekToLast();
    } else {
      c.seek(end, Number.POSITIVE_INFINITY);
      if (c.valid) c.prev();
      else c.seekToLast();
    }
    // Walking backwards meets a key's versions oldest first: gather them, then yield newest first.
    let group: TableEntry[] = [];
    for (; c.valid; c.prev()) {
      const key = c.key();
      if (start !== undefined && key < start) break;
      if (group.length > 0 && group[0]!.key !== key) {
        for (let j = group.length - 1; j >= 0; j--) yield group[j]!;
        group = [];
      }
      group.push(c.entry());
    }
    for (let j = group.length - 1; j >= 0; j--) yield group[j]!;
  }

  /** Closes the object reader. Blocks stay cached for other readers of the same table (evictTable drops them). */
  close(): void {
    if (this.blocks.closed) return;
    this.blocks.closed = true;
    this.reader.close();
  }

  private checkOpen(): void {
    if (this.blocks.closed)
      throw new StrataError('closed', `the table reader of ${this.blocks.name} is closed`);
  }
}
