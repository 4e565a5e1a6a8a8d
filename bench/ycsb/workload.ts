/**
 * The YCSB core workloads, as YCSB defines them (site.ycsb.workloads.CoreWorkload and its
 * generators), reproduced so that every engine runs the same operation stream.
 *
 * - Keys: `"user" + FNV-1a-64(keynum)` in decimal (YCSB's `Utils.hash`, orderedinserts=false),
 *   so a load in keynum order arrives in random key order.
 * - Records: 10 fields × 100 B, stored as one 1,000-byte value (readallfields=true; updates
 *   write the whole record, writeallfields=true).
 * - Request distribution: ScrambledZipfianGenerator (Zipfian constant 0.99 over 10^10 items,
 *   hashed onto the key space, precomputed zeta 26.469…), retried while above the last inserted
 *   keynum; workload D uses SkewedLatestGenerator (the newest insert is the most popular).
 * - Scans (E): start key from the request distribution, length uniform in 1..100.
 * - Inserts (D, E): the next keynum after the last insert (transactioninsertkeysequence).
 *
 * The stream is generated before the timed phase, from a seed, so the driver's own cost is an
 * array read per operation and identical for every engine.
 */
import { rng } from '../report.js';

export const FIELD_COUNT = 10;
export const FIELD_BYTES = 100;
export const RECORD_BYTES = FIELD_COUNT * FIELD_BYTES;
export const ZIPFIAN_CONSTANT = 0.99;
export const MAX_SCAN_LENGTH = 100;

export const READ = 0;
export const UPDATE = 1;
export const INSERT = 2;
export const SCAN = 3;
export const RMW = 4;

export type WorkloadName = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

export interface WorkloadSpec {
  name: WorkloadName;
  title: string;
  read: number;
  update: number;
  insert: number;
  scan: number;
  rmw: number;
  distribution: 'zipfian' | 'latest';
}

export const WORKLOADS: readonly WorkloadSpec[] = [
  {
    name: 'A',
    title: 'update heavy: 50% read, 50% update',
    read: 0.5,
    update: 0.5,
    insert: 0,
    scan: 0,
    rmw: 0,
    distribution: 'zipfian',
  },
  {
    name: 'B',
    title: 'read mostly: 95% read, 5% update',
    read: 0.95,
    update: 0.05,
    insert: 0,
    scan: 0,
    rmw: 0,
    distribution: 'zipfian',
  },
  { name: 'C', title: 'read only', read: 1, update: 0, insert: 0, scan: 0, rmw: 0, distribution: 'zipfian' },
  {
    name: 'D',
    title: 'read latest: 95% read, 5% insert',
    read: 0.95,
    update: 0,
    insert: 0.05,
    scan: 0,
    rmw: 0,
    distribution: 'latest',
  },
  {
    name: 'E',
    title: 'short ranges: 95% scan (1–100), 5% insert',
    read: 0,
    update: 0,
    insert: 0.05,
    scan: 0.95,
    rmw: 0,
    distribution: 'zipfian',
  },
  {
    name: 'F',
    title: 'read-modify-write: 50% read, 50% RMW',
    read: 0.5,
    update: 0,
    insert: 0,
    scan: 0,
    rmw: 0.5,
    distribution: 'zipfian',
  },
];

const MASK64 = (1n << 64n) - 1n;
const FNV_OFFSET_64 = 0xcbf29ce484222325n;
const FNV_PRIME_64 = 1099511628211n;

/** YCSB's Utils.fnvhash64: FNV-1a over the 8 bytes of a long, then Math.abs of the signed result. */
export function fnv64(value: number): bigint {
  let v = BigInt(value);
  let h = FNV_OFFSET_64;
  for (let i = 0; i < 8; i++) {
    h ^= v & 0xffn;
    v >>= 8n;
    h = (h * FNV_PRIME_64) & MASK64;
  }
  const signed = BigInt.asIntN(64, h);
  return signed < 0n ? -signed : signed;
}

/** CoreWorkload.buildKeyName with orderedinserts=false and zeropadding=1. */
export function keyName(keynum: number): string {
  return `user${fnv64(keynum)}`;
}

function zeta(from: number, to: number, theta: number, initial: number): number {
  let sum = initial;
  for (let i = from; i < to; i++) sum += 1 / (i + 1) ** theta;
  return sum;
}

/** YCSB's ZipfianGenerator (Gray et al., "Quickly generating billion-record synthetic databases"). */
class Zipfian {
  private readonly theta = ZIPFIAN_CONSTANT;
  private readonly alpha = 1 / (1 - ZIPFIAN_CONSTANT);
  private readonly zeta2theta = zeta(0, 2, ZIPFIAN_CONSTANT, 0);
  private countForZeta: number;
  private zetan: number;
  private eta: number;

  constructor(
    private readonly base: number,
    items: number,
    private readonly random: () => number,
    zetan?: number,
  ) {
    this.countForZeta = items;
    this.zetan = zetan ?? zeta(0, items, this.theta, 0);
    this.eta = this.etaOf(items);
  }

  private etaOf(items: number): number {
    return (1 - (2 / items) ** (1 - this.theta)) / (1 - this.zeta2theta / this.zetan);
  }

  next(items: number): number {
    if (items !== this.countForZeta) {
      // YCSB only grows the item count incrementally (inserts); recompute zeta from where it was.
      if (items > this.countForZeta) this.zetan = zeta(this.countForZeta, items, this.theta, this.zetan);
      else this.zetan = zeta(0, items, this.theta, 0);
      this.countForZeta = items;
      this.eta = this.etaOf(items);
    }
    const u = this.random();
    const uz = u * this.zetan;
    if (uz < 1) return this.base;
    if (uz < 1 + 0.5 ** this.theta) return this.base + 1;
    return this.base + Math.floor(items * (this.eta * u - this.eta + 1) ** this.alpha);
  }
}

/** ScrambledZipfianGenerator: a Zipfian over 10^10 items, hashed onto [min, min + count). */
class ScrambledZipfian {
  private static readonly ITEM_COUNT = 10_000_000_000;
  private static readonly ZETAN = 26.46902820178302;
  private readonly gen: Zipfian;
  private readonly count: bigint;

  constructor(
    private readonly min: number,
    count: number,
    random: () => number,
  ) {
    this.gen = new Zipfian(0, ScrambledZipfian.ITEM_COUNT, random, ScrambledZipfian.ZETAN);
    this.count = BigInt(count);
  }

  next(): number {
    const r = this.gen.next(ScrambledZipfian.ITEM_COUNT);
    return this.min + Number(fnv64(r) % this.count);
  }
}

/** SkewedLatestGenerator: the newest keynum is the most popular. */
class SkewedLatest {
  private readonly gen: Zipfian;
  constructor(last: number, random: () => number) {
    this.gen = new Zipfian(0, last + 1, random);
  }
  next(last: number): number {
    return last - this.gen.next(last + 1);
  }
}

/** A precomputed stream of operations. */
export interface OpStream {
  spec: WorkloadSpec;
  count: number;
  op: Uint8Array;
  /** The key of each operation (the new key, for an insert). */
  key: string[];
  /** Scan length (1..100) for scans. */
  scanLength: Uint8Array;
  /** Index into the value pool for writes. */
  value: Uint16Array;
  inserts: number;
}

/**
 * The operation stream of `spec` over a database holding keynums [0, firstInsert), where the
 * next insert takes keynum `firstInsert`. `names` returns a key's name (cached by the caller).
 */
export function opStream(
  spec: WorkloadSpec,
  records: number,
  firstInsert: number,
  count: number,
  seed: number,
  valuePoolSize: number,
  names: (keynum: number) => string,
): OpStream {
  const next32 = rng(seed);
  const random = (): number => next32() / 4294967296;
  const expectedNewKeys = Math.floor(count * spec.insert * 2);
  const zipf = new ScrambledZipfian(0, records + expectedNewKeys, random);
  let last = firstInsert - 1;
  const latest = spec.distribution === 'latest' ? new SkewedLatest(last, random) : undefined;
  const chooseKey = (): number => {
    if (latest !== undefined) return latest.next(last);
    let k: number;
    do k = zipf.next();
    while (k > last);
    return k;
  };
  const op = new Uint8Array(count);
  const key = new Array<string>(count);
  const scanLength = new Uint8Array(count);
  const value = new Uint16Array(count);
  const c1 = spec.read;
  const c2 = c1 + spec.update;
  const c3 = c2 + spec.insert;
  const c4 = c3 + spec.scan;
  let inserts = 0;
  for (let i = 0; i < count; i++) {
    const u = random();
    const kind = u < c1 ? READ : u < c2 ? UPDATE : u < c3 ? INSERT : u < c4 ? SCAN : RMW;
    op[i] = kind;
    value[i] = next32() % valuePoolSize;
    if (kind === INSERT) {
      last += 1;
      inserts += 1;
      key[i] = names(last);
    } else {
      key[i] = names(chooseKey());
      if (kind === SCAN) scanLength[i] = 1 + (next32() % MAX_SCAN_LENGTH);
    }
  }
  return { spec, count, op, key, scanLength, value, inserts };
}

/** `count` records of 10 random printable fields × 100 B (YCSB's RandomByteIterator draws from 32..126). */
export function recordPool(count: number, seed: number): Uint8Array[] {
  const next = rng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const r = new Uint8Array(RECORD_BYTES);
    for (let j = 0; j < RECORD_BYTES; j++) r[j] = 32 + (next() % 95);
    out.push(r);
  }
  return out;
}
