/**
 * The block cache: decoded data blocks of every open table, least recently used first out, within
 * one byte budget shared by all table readers.
 *
 * Blocks are keyed by (table file number, block offset). File numbers are never reused (layout.ts),
 * and a table never changes once written, so a cached block stays right for as long as its table
 * exists; whoever deletes a table's object calls evictTable so its blocks do not linger.
 *
 * Each block is charged the bytes its owner says it holds. A block charged more than the whole
 * capacity is not kept (it would only push everything else out); a capacity of 0 keeps nothing.
 */
import { assert } from '../base/index.js';

interface Node {
  readonly fileNumber: number;
  readonly offset: number;
  readonly block: object;
  chargeBytes: number;
  /** Towards the most recently used end of the list. */
  newer: Node | undefined;
  /** Towards the least recently used end. */
  older: Node | undefined;
}

export class BlockCache {
  #capacity: number;
  /** fileNumber -> block offset -> node; per table, so evictTable finds its blocks directly. */
  private readonly tables = new Map<number, Map<number, Node>>();
  private newest: Node | undefined;
  private oldest: Node | undefined;
  private used = 0;
  private count = 0;
  private hitCount = 0;
  private missCount = 0;

  /** Requires a safe non-negative integer budget. */
  constructor(capacityBytes: number) {
    assert(Number.isSafeInteger(capacityBytes) && capacityBytes >= 0, 'bad block cache capacity');
    this.#capacity = capacityBytes;
  }

  get capacityBytes(): number {
    return this.#capacity;
  }

  /** Changes the capacity, evicting least recently used blocks until what is held fits. */
  setCapacity(capacityBytes: number): void {
    assert(Number.isSafeInteger(capacityBytes) && capacityBytes >= 0, 'bad block cache capacity');
    this.#capacity = capacityBytes;
    while (this.used > capacityBytes) this.remove(this.oldest!);
  }

  /** Bytes charged by the blocks held; at most capacityBytes. */
  get usedBytes(): number {
    return this.used;
  }

  get hits(): number {
    return this.hitCount;
  }

  get misses(): number {
    return this.missCount;
  }

  /** Number of blocks held. */
  get entries(): number {
    return this.count;
  }

  /** The block at (fileNumber, offset), now the most recently used; undefined on a miss. */
  get(fileNumber: number, offset: number): object | undefined {
    const node = this.tables.get(fileNumber)?.get(offset);
    if (node === undefined) {
      this.missCount++;
      return undefined;
    }
    this.hitCount++;
    if (node !== this.newest) {
      this.unlink(node);
      this.pushNewest(node);
    }
    return node.block;
  }

  /** Whether a block is held at (fileNumber, offset); changes neither its recency nor the hit counts. */
  has(fileNumber: number, offset: number): boolean {
    return this.tables.get(fileNumber)?.has(offset) === true;
  }

  /**
   * Keeps `block` as the most recently used, charged `chargeBytes`, replacing any block at the same
   * place, then evicts least recently used blocks until the charge fits the capacity.
   */
  put(fileNumber: number, offset: number, block: object, chargeBytes: number): void {
    assert(Number.isSafeInteger(chargeBytes) && chargeBytes >= 0, 'bad block charge');
    const old = this.tables.get(fileNumber)?.get(offset);
    if (old !== undefined) this.remove(old);
    if (chargeBytes > this.#capacity) return;
    let blocks = this.tables.get(fileNumber);
    if (blocks === undefined) {
      blocks = new Map();
      this.tables.set(fileNumber, blocks);
    }
    const node: Node = { fileNumber, offset, block, chargeBytes, newer: undefined, older: undefined };
    blocks.set(offset, node);
    this.pushNewest(node);
    this.used += chargeBytes;
    this.count++;
    while (this.used > this.#capacity) this.remove(this.oldest!);
    assert(this.used >= 0 && this.used <= this.#capacity, 'block cache over budget');
  }

  /**
   * Adds `extraBytes` to the charge of the block at (fileNumber, offset), if it is still cached
   * (its owner decoded more of it), then evicts least recently used blocks until the total fits.
   * A block that no longer fits on its own is dropped.
   */
  grow(fileNumber: number, offset: number, extraBytes: number): void {
    assert(Number.isSafeInteger(extraBytes) && extraBytes >= 0, 'bad block charge');
    const node = this.tables.get(fileNumber)?.get(offset);
    if (node === undefined) return;
    node.chargeBytes += extraBytes;
    this.used += extraBytes;
    if (node.chargeBytes > this.#capacity) this.remove(node);
    while (this.used > this.#capacity) this.remove(this.oldest!);
    assert(this.used >= 0 && this.used <= this.#capacity, 'block cache over budget');
  }

  /** Drops every block of table `fileNumber` (its object was deleted). */
  evictTable(fileNumber: number): void {
    const blocks = this.tables.get(fileNumber);
    if (blocks === undefined) return;
    for (const node of [...blocks.values()]) this.remove(node);
    assert(!this.tables.has(fileNumber), 'evicted table still cached');
  }

  /** Drops every block. */
  clear(): void {
    while (this.oldest !== undefined) this.remove(this.oldest);
  }

  private remove(node: Node): void {
    this.unlink(node);
    const blocks = this.tables.get(node.fileNumber)!;
    blocks.delete(node.offset);
    if (blocks.size === 0) this.tables.delete(node.fileNumber);
    this.used -= node.chargeBytes;
    this.count--;
  }

  private unlink(node: Node): void {
    if (node.newer === undefined) this.newest = node.older;
    else node.newer.older = node.older;
    if (node.older === undefined) this.oldest = node.newer;
    else node.older.newer = node.newer;
    node.newer = undefined;
    node.older = undefined;
  }

  private pushNewest(node: Node): void {
    node.older = this.newest;
    node.newer = undefined;
    if (this.newest === undefined) this.oldest = node;
    else this.newest.newer = node;
    this.newest = node;
  }
}
