/**
 * The engines under test, each behind the same small interface, each through the API a Node
 * developer would call, at its fastest single-threaded setting: synchronous calls wherever the
 * binding has them, prepared statements for SQLite.
 *
 * Durability rows: `buffered` — no fsync per operation (each engine's own way of letting the
 * OS write back; see `settings`); `sync` — every commit is fsynced before it returns.
 *
 * The peers are loaded with a require rooted at bench/ycsb/package.json, so they come from
 * bench/ycsb/node_modules and are never dependencies of the library.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Strata } from '../../src/index.js';
import { packageRoot } from '../report.js';

export type Mode = 'buffered' | 'sync';

/** Cache sizes every engine is given alike (block cache, write buffer / memtable). */
export const CACHE_BYTES = 64 * 1024 * 1024;
export const WRITE_BUFFER_BYTES = 64 * 1024 * 1024;

export interface Engine {
  readonly name: string;
  /** The settings in force, printed beside the results. */
  settings(mode: Mode): string;
  open(dir: string, mode: Mode): Promise<void>;
  /** Writes a record; the driver awaits a returned promise. */
  write(key: string, value: Uint8Array): Promise<unknown> | undefined;
  read(key: string): Uint8Array | undefined;
  /** Reads up to `n` records from `start` in key order; resolves to / returns how many. */
  scan(start: string, n: number): number | Promise<number>;
  /** Lets background work (flushes, compactions) catch up after the load, where the engine can say when it has. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: the peers are untyped here (their types live in bench/ycsb/node_modules)
type Any = any;

let peerRequire: NodeJS.Require | undefined;
function peer(name: string): Any {
  peerRequire ??= createRequire(join(packageRoot(), 'bench', 'ycsb', 'package.json'));
  try {
    return peerRequire(name);
  } catch (error) {
    throw new Error(`cannot load ${name}: run \`npm ci --prefix bench/ycsb\` first (${String(error)})`);
  }
}

export function peerVersion(name: string): string {
  try {
    const path = join(packageRoot(), 'bench', 'ycsb', 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

class StrataEngine implements Engine {
  readonly name = 'Strata';
  private db: Strata | undefined;
  private kv: ReturnType<Strata['branch']>['kv'] | undefined;
  settings(mode: Mode): string {
    return mode === 'buffered'
      ? `durability 'buffered' (commit visible at once, log written when the loop turns, fdatasync at most 100 ms / 1,000 commits later), memoryBudgetBytes ${CACHE_BYTES * 4} (memtable ${WRITE_BUFFER_BYTES >> 20} MiB, block cache ${CACHE_BYTES >> 20} MiB), compaction on a worker thread`
      : `durability 'strict' (each put resolves after the fdatasync that covers it), memoryBudgetBytes ${CACHE_BYTES * 4}`;
  }
  async open(dir: string, mode: Mode): Promise<void> {
    this.db = await Strata.open(dir, {
      durability: mode === 'buffered' ? 'buffered' : 'strict',
      memoryBudgetBytes: CACHE_BYTES * 4,
    });
    this.kv = this.db.branch('main').kv;
  }
  write(key: string, value: Uint8Array): Promise<unknown> {
    return this.kv!.put(key, value);
  }
  read(key: string): Uint8Array | undefined {
    return this.kv!.get(key) as Uint8Array | undefined;
  }
  scan(start: string, n: number): number {
    let count = 0;
    for (const [, v] of this.kv!.list({ start, limit: n })) if (v !== undefined) count++;
    return count;
  }
  settle(): Promise<void> {
    return this.db!.settle();
  }
  async close(): Promise<void> {
    await this.db?.close();
    this.db = undefined;
  }
}

class LmdbEngine implements Engine {
  readonly name = 'lmdb-js';
  private db: Any;
  settings(mode: Mode): string {
    return mode === 'buffered'
      ? `lmdb ${peerVersion('lmdb')}: putSync (one synchronous write transaction per operation), noSync: true (never fsyncs; the OS writes the map back), encoding 'binary', compression off, mapSize 16 GiB`
      : `lmdb ${peerVersion('lmdb')}: putSync with noSync: false (each transaction commit fsyncs), encoding 'binary'`;
  }
  async open(dir: string, mode: Mode): Promise<void> {
    const { open } = peer('lmdb');
    this.db = open({
      path: dir,
      encoding: 'binary',
      compression: false,
      noSync: mode === 'buffered',
      mapSize: 16 * 2 ** 30,
    });
  }
  write(key: string, value: Uint8Array): undefined {
    this.db.putSync(key, value);
    return undefined;
  }
  read(key: string): Uint8Array | undefined {
    return this.db.get(key);
  }
  scan(start: string, n: number): number {
    let count = 0;
    for (const { value } of this.db.getRange({ start, limit: n })) if (value !== undefined) count++;
    return count;
  }
  async settle(): Promise<void> {}
  async close(): Promise<void> {
    await this.db?.close();
    this.db = undefined;
  }
}

class LevelEngine implements Engine {
  readonly name = 'LevelDB';
  private db: Any;
  private writeOptions: { sync: boolean } = { sync: false };
  settings(mode: Mode): string {
    return `classic-level ${peerVersion('classic-level')} (LevelDB): put is asynchronous (the binding has no synchronous put or iterator), getSync for reads, ${
      mode === 'buffered' ? 'sync: false (log written, no fsync)' : 'put with sync: true (fsync per put)'
    }, cacheSize ${CACHE_BYTES >> 20} MiB, writeBufferSize ${WRITE_BUFFER_BYTES >> 20} MiB, snappy on (default), buffer encodings`;
  }
  async open(dir: string, mode: Mode): Promise<void> {
    const { ClassicLevel } = peer('classic-level');
    this.db = new ClassicLevel(dir, {
      keyEncoding: 'utf8',
      valueEncoding: 'buffer',
      cacheSize: CACHE_BYTES,
      writeBufferSize: WRITE_BUFFER_BYTES,
    });
    await this.db.open();
    this.writeOptions = { sync: mode === 'sync' };
  }
  write(key: string, value: Uint8Array): Promise<unknown> {
    return this.db.put(key, value, this.writeOptions);
  }
  read(key: string): Uint8Array | undefined {
    return this.db.getSync(key);
  }
  async scan(start: string, n: number): Promise<number> {
    const it = this.db.iterator({ gte: start, limit: n });
    try {
      return (await it.nextv(n)).length;
    } finally {
      await it.close();
    }
  }
  async settle(): Promise<void> {}
  async close(): Promise<void> {
    await this.db?.close();
    this.db = undefined;
  }
}

class RocksEngine implements Engine {
  readonly name = 'RocksDB';
  private db: Any;
  private batch: Any;
  private writeOptions: { sync: boolean } = { sync: false };
  settings(mode: Mode): string {
    return `@nxtedition/rocksdb ${peerVersion('@nxtedition/rocksdb')}: synchronous binding calls throughout (batch _writeSync for puts, _getManySync for reads, iterator _nextvSync for scans), ${
      mode === 'buffered' ? 'sync: false (WAL written, no fsync)' : 'sync: true (WAL fsynced per write)'
    }, cacheSize ${CACHE_BYTES >> 20} MiB, writeBufferSize ${WRITE_BUFFER_BYTES >> 20} MiB, defaults otherwise`;
  }
  async open(dir: string, mode: Mode): Promise<void> {
    const { RocksLevel } = peer('@nxtedition/rocksdb');
    mkdirSync(dir, { recursive: true });
    this.db = new RocksLevel(dir, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      cacheSize: CACHE_BYTES,
      writeBufferSize: WRITE_BUFFER_BYTES,
    });
    await this.db.open();
    this.batch = this.db.batch();
    this.writeOptions = { sync: mode === 'sync' };
  }
  write(key: string, value: Uint8Array): undefined {
    const b = this.batch;
    b._put(key, value);
    b._writeSync(this.writeOptions);
    b._clear();
    return undefined;
  }
  read(key: string): Uint8Array | undefined {
    return this.db._getManySync([key])[0] ?? undefined;
  }
  scan(start: string, n: number): number {
    const it = this.db.iterator({
      gte: Buffer.from(start),
      limit: n,
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
    });
    try {
      return it._nextvSync(n).rows.length / 2;
    } finally {
      it._closeSync();
    }
  }
  async settle(): Promise<void> {}
  async close(): Promise<void> {
    this.batch?._closeSync();
    await this.db?.close();
    this.db = undefined;
  }
}

class SqliteEngine implements Engine {
  readonly name = 'SQLite';
  private db: Any;
  private get: Any;
  private put: Any;
  private range: Any;
  settings(mode: Mode): string {
    return `better-sqlite3 ${peerVersion('better-sqlite3')} (SQLite ${this.db?.prepare('select sqlite_version()').pluck().get() ?? ''}): journal_mode=WAL, synchronous=${
      mode === 'buffered' ? 'NORMAL (fsync only at checkpoints)' : 'FULL (WAL fsynced per commit)'
    }, prepared statements, one autocommit statement per operation, table (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID, page_size 8192 (a 1 KB record fits in its leaf), cache_size ${CACHE_BYTES >> 20} MiB`;
  }
  async open(dir: string, mode: Mode): Promise<void> {
    const Database = peer('better-sqlite3');
    mkdirSync(dir, { recursive: true });
    this.db = new Database(join(dir, 'ycsb.sqlite'));
    this.db.pragma('page_size = 8192');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${mode === 'buffered' ? 'NORMAL' : 'FULL'}`);
    this.db.pragma(`cache_size = -${CACHE_BYTES >> 10}`);
    this.db.exec('CREATE TABLE IF NOT EXISTS usertable (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID');
    this.get = this.db.prepare('SELECT v FROM usertable WHERE k = ?').pluck();
    this.put = this.db.prepare('INSERT OR REPLACE INTO usertable (k, v) VALUES (?, ?)');
    this.range = this.db.prepare('SELECT k, v FROM usertable WHERE k >= ? ORDER BY k LIMIT ?').raw();
  }
  write(key: string, value: Uint8Array): undefined {
    this.put.run(key, value);
    return undefined;
  }
  read(key: string): Uint8Array | undefined {
    return this.get.get(key);
  }
  scan(start: string, n: number): number {
    return this.range.all(start, n).length;
  }
  async settle(): Promise<void> {}
  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }
}

/** A B+tree of string keys in the JS heap: the ceiling, what a lookup costs with no storage at all. */
interface Leaf {
  leaf: true;
  keys: string[];
  values: Uint8Array[];
  next: Leaf | undefined;
}
interface Inner {
  leaf: false;
  /** keys[i] is the smallest key under children[i + 1]. */
  keys: string[];
  children: Node[];
}
type Node = Leaf | Inner;
const FANOUT = 64;

function upperBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class BPlusTree {
  private root: Node = { leaf: true, keys: [], values: [], next: undefined };

  private leafFor(key: string): Leaf {
    let n = this.root;
    while (!n.leaf) n = n.children[upperBound(n.keys, key)]!;
    return n;
  }

  get(key: string): Uint8Array | undefined {
    const leaf = this.leafFor(key);
    const i = lowerBound(leaf.keys, key);
    return leaf.keys[i] === key ? leaf.values[i] : undefined;
  }

  set(key: string, value: Uint8Array): void {
    const split = this.insert(this.root, key, value);
    if (split !== undefined)
      this.root = { leaf: false, keys: [split.key], children: [this.root, split.node] };
  }

  private insert(n: Node, key: string, value: Uint8Array): { key: string; node: Node } | undefined {
    if (n.leaf) {
      const i = lowerBound(n.keys, key);
      if (n.keys[i] === key) {
        n.values[i] = value;
        return undefined;
      }
      n.keys.splice(i, 0, key);
      n.values.splice(i, 0, value);
      if (n.keys.length <= FANOUT) return undefined;
      const half = n.keys.length >> 1;
      const right: Leaf = {
        leaf: true,
        keys: n.keys.splice(half),
        values: n.values.splice(half),
        next: n.next,
      };
      n.next = right;
      return { key: right.keys[0]!, node: right };
    }
    const i = upperBound(n.keys, key);
    const split = this.insert(n.children[i]!, key, value);
    if (split === undefined) return undefined;
    n.keys.splice(i, 0, split.key);
    n.children.splice(i + 1, 0, split.node);
    if (n.children.length <= FANOUT) return undefined;
    const half = n.children.length >> 1;
    const upKey = n.keys[half - 1]!;
    const right: Inner = { leaf: false, keys: n.keys.splice(half), children: n.children.splice(half) };
    n.keys.length = half - 1;
    return { key: upKey, node: right };
  }

  /** Visits up to `n` entries from `start` in key order; returns how many. */
  scan(start: string, n: number): number {
    let leaf: Leaf | undefined = this.leafFor(start);
    let i = lowerBound(leaf.keys, start);
    let count = 0;
    while (leaf !== undefined && count < n) {
      if (i >= leaf.keys.length) {
        leaf = leaf.next;
        i = 0;
        continue;
      }
      if (leaf.values[i] !== undefined) count++;
      i++;
    }
    return count;
  }
}

class CeilingEngine implements Engine {
  readonly name = 'JS B+tree (in memory)';
  private tree = new BPlusTree();
  settings(): string {
    return `a B+tree of fanout ${FANOUT} in the JS heap, holding each value's bytes as given (no copy, no encoding, nothing on disk): the ceiling`;
  }
  async open(): Promise<void> {}
  write(key: string, value: Uint8Array): undefined {
    this.tree.set(key, value);
    return undefined;
  }
  read(key: string): Uint8Array | undefined {
    return this.tree.get(key);
  }
  scan(start: string, n: number): number {
    return this.tree.scan(start, n);
  }
  async settle(): Promise<void> {}
  async close(): Promise<void> {}
}

export const ENGINE_NAMES = ['strata', 'lmdb', 'leveldb', 'rocksdb', 'sqlite', 'ceiling'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export function makeEngine(name: EngineName): Engine {
  switch (name) {
    case 'strata':
      return new StrataEngine();
    case 'lmdb':
      return new LmdbEngine();
    case 'leveldb':
      return new LevelEngine();
    case 'rocksdb':
      return new RocksEngine();
    case 'sqlite':
      return new SqliteEngine();
    case 'ceiling':
      return new CeilingEngine();
  }
}
