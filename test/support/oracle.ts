/**
 * The recovery oracle (DESIGN.md, "How it is tested", item 1): a shadow model of a database's
 * history that every crash, fault and corruption suite checks a reopened database against.
 *
 * The model records every write in the order it was issued, and what became of it:
 * - `acked`: the promise resolved with a version (the commit was acknowledged);
 * - `unknown`: the commit took a version but its promise failed (`committed: 'unknown'`), e.g.
 *   a strict commit whose fsync never happened because the disk crashed;
 * - `refused`: it changed nothing (a compare-and-set conflict, a write refused with
 *   `committed: 'no'`, a delete of a missing key);
 * - `unexpected`: it failed in a way the API does not allow (a bug).
 * Acknowledged and unknown writes are "accepted": each took the next version of the session
 * (versions in one session are consecutive; a new session may start above a gap).
 *
 * It also records the durable watermark observed (`db.durableVersion` after every ack, every
 * sync and every observation) and every version anyone could have seen (`db.version` and acked
 * versions). After a crash and reopen, `verifyOpen` requires that the recovered database equals
 * the model at some prefix k of the accepted writes with
 *   durable watermark ≤ version(k) ≤ last version issued,
 * and in strict mode k covers every acknowledged write. The comparison covers every key's value
 * (`kv.get` and `kv.list`), every key's full history (`kv.history`: versions, deletes, values and,
 * where acknowledged, timestamps) and `db.version`. It also checks the version rules: a new
 * session's versions start above every version seen before (a clean close continues at +1), and
 * every compare-and-set was decided against the right head version.
 *
 * The verified state becomes the new baseline, so one model follows a database through any
 * number of crashes. Failures carry `context` (the seed and how to replay it) in their message.
 */
import assert from 'node:assert/strict';
import type { Strata } from '../../src/api/index.js';
import type { Backend, BackendLock, ObjectReader } from '../../src/backend/index.js';
import { isStrataError, ManualClock, ManualScheduler, toHex } from '../../src/base/index.js';
import type { Commit, HistoryEntry, Kv, PutOptions, Value } from '../../src/engine/index.js';

/** One write of a commit. */
export type ModelOp = { kind: 'put'; key: string; value: Value } | { kind: 'delete'; key: string };

/** A compare-and-set: the write happens only if `key`'s head version is `expected` (null: missing). */
export interface CasCheck {
  key: string;
  expected: number | null;
}

export type WriteStatus = 'pending' | 'acked' | 'unknown' | 'refused' | 'unexpected';

export interface TrackedWrite {
  /** Issue order within the session. */
  readonly seq: number;
  readonly ops: readonly ModelOp[];
  readonly cas: CasCheck | undefined;
  status: WriteStatus;
  refusal: 'conflict' | 'noop' | 'not_committed' | undefined;
  version: number | undefined;
  timestamp: number | undefined;
  error: unknown;
}

/** One version of one key: what the model expects `kv.history` to report. */
export interface ModelEntry {
  version: number;
  /** Unknown for a write whose promise never resolved (it was not acknowledged). */
  timestamp: number | undefined;
  deleted: boolean;
  /** canonical(value), or '<deleted>'. */
  canon: string;
}

const DELETED = '<deleted>';

/** A canonical text form of a value, so values compare by content (object keys sorted). */
export function canonical(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Object.is(v, -0) ? 'n:-0' : `n:${v}`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Uint8Array) return `b:${toHex(v)}`;
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k]!)}`).join(',')}}`;
}

/** Orders keys by code point, which is the UTF-8 byte order `kv.list` uses. */
function compareKeys(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * A backend wrapper that notices a crash: any `io` error from the disk means the handle died
 * (use it only where no other I/O faults are injected, or check the disk's fault count).
 */
export class WatchedBackend implements Backend {
  crashed = false;

  constructor(private readonly inner: Backend) {}

  private async watch<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (isStrataError(error, 'io')) this.crashed = true;
      throw error;
    }
  }

  read(name: string): Promise<Uint8Array | undefined> {
    return this.watch(() => this.inner.read(name));
  }
  readRange(name: string, offset: number, length: number): Promise<Uint8Array> {
    return this.watch(() => this.inner.readRange(name, offset, length));
  }
  openReader(name: string): Promise<ObjectReader> {
    return this.watch(() => this.inner.openReader(name));
  }
  size(name: string): Promise<number | undefined> {
    return this.watch(() => this.inner.size(name));
  }
  write(name: string, bytes: Uint8Array): Promise<void> {
    return this.watch(() => this.inner.write(name, bytes));
  }
  append(name: string, bytes: Uint8Array): Promise<void> {
    return this.watch(() => this.inner.append(name, bytes));
  }
  sync(name: string): Promise<void> {
    return this.watch(() => this.inner.sync(name));
  }
  publish(name: string, bytes: Uint8Array): Promise<void> {
    return this.watch(() => this.inner.publish(name, bytes));
  }
  list(prefix: string): Promise<string[]> {
    return this.watch(() => this.inner.list(prefix));
  }
  delete(name: string): Promise<void> {
    return this.watch(() => this.inner.delete(name));
  }
  rename(from: string, to: string): Promise<void> {
    return this.watch(() => this.inner.rename(from, to));
  }
  lock(name: string): Promise<BackendLock> {
    return this.watch(() => this.inner.lock(name));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** What a database shows: live values, and each key's history oldest first. */
export interface ObservedState {
  version: number;
  live: Map<string, string>;
  history: Map<string, ModelEntry[]>;
}

/** Reads every key of `keys` and every listed key, checking that `get` and `list` agree. */
export function observe(db: Strata, kv: Kv, keys: Iterable<string>, context: string): ObservedState {
  const listed = new Map<string, string>();
  let previous: string | undefined;
  for (const [key, value] of kv.list()) {
    assert.ok(
      previous === undefined || compareKeys(previous, key) < 0,
      `${context}: kv.list is not in key order ('${previous}' before '${key}')`,
    );
    previous = key;
    listed.set(key, canonical(value));
  }
  const all = new Set(keys);
  for (const key of listed.keys()) all.add(key);
  const live = new Map<string, string>();
  const history = new Map<string, ModelEntry[]>();
  for (const key of [...all].sort(compareKeys)) {
    const v = kv.get(key);
    if (v !== undefined) live.set(key, canonical(v));
    assert.equal(live.get(key), listed.get(key), `${context}: kv.get and kv.list disagree on key '${key}'`);
    const h = kv.history(key).map(
      (e: HistoryEntry): ModelEntry => ({
        version: e.version,
        timestamp: e.timestamp,
        deleted: e.deleted,
        canon: e.deleted || e.value === undefined ? DELETED : canonical(e.value),
      }),
    );
    h.reverse();
    if (h.length > 0) history.set(key, h);
  }
  return { version: db.version, live, history };
}

export interface ShadowModelOptions {
  durability: 'strict' | 'buffered';
  /** Put in every failure message: the seed, the configuration and how to replay it. */
  context: string;
}

export interface VerifyOptions {
  /** Expected `db.recovery.health` (default 'clean'). */
  health?: 'clean' | 'degraded';
  /**
   * The durable state was damaged on purpose (quarantine tests): the recovered prefix may end
   * anywhere, the durable watermark and strict acknowledgements are not enforced.
   */
  allowLoss?: boolean;
}

export interface VerifyResult {
  /** Accepted writes of the ended session that survived, and how many there were. */
  k: number;
  accepted: number;
  /** Acknowledged writes that were lost (only buffered mode, or allowLoss). */
  lostAcked: number;
}

type SessionEnd = 'none' | 'crash' | 'clean';

/** The shadow model. See the file comment for the rules it checks. */
export class ShadowModel {
  readonly durability: 'strict' | 'buffered';
  context: string;
  /** The verified history per key, oldest first. */
  private base = new Map<string, ModelEntry[]>();
  private baseVersion = 0;
  /** The highest version acknowledged or seen as db.version, over every session. */
  private seen = 0;
  private seenAtSessionStart = 0;
  /** How the session before the current one ended. */
  private endBefore: SessionEnd = 'none';
  /** Whether the session before the current one issued any version. */
  private issuedBefore = false;
  /** The recovery notes of the open that started the current session. */
  private openNotes: readonly string[] = [];
  private end: SessionEnd = 'none';
  private writes: TrackedWrite[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private durableSeen = 0;
  private db: Strata | undefined;
  /** Set when any tracked operation failed with `io`: the disk crashed (or failed). */
  crashSeen = false;
  /** Number of successful verifications after the first open. */
  verified = 0;

  constructor(o: ShadowModelOptions) {
    this.durability = o.durability;
    this.context = o.context;
  }

  /** Every key the model knows of. */
  keys(): Set<string> {
    const keys = new Set(this.base.keys());
    for (const w of this.writes) for (const op of w.ops) keys.add(op.key);
    return keys;
  }

  /** The newest acknowledged version of this session (0 if none). */
  get newestAcked(): number {
    let v = 0;
    for (const w of this.writes) if (w.status === 'acked') v = Math.max(v, w.version!);
    return v;
  }

  /** The newest value's version of `key` the model knows (for compare-and-set), if any. */
  headVersion(key: string): number | undefined {
    for (let i = this.writes.length - 1; i >= 0; i--) {
      const w = this.writes[i]!;
      if (w.status !== 'acked') continue;
      const op = w.ops.find((o) => o.key === key);
      if (op !== undefined) return op.kind === 'put' ? w.version : undefined;
    }
    const h = this.base.get(key);
    const last = h?.[h.length - 1];
    return last === undefined || last.deleted ? undefined : last.version;
  }

  /** Records what the database shows now: the durable watermark and the visible version. */
  observe(db: Strata): void {
    this.durableSeen = Math.max(this.durableSeen, db.durableVersion);
    this.seen = Math.max(this.seen, db.version);
  }

  /** kv.put, tracked. The returned promise never rejects. */
  put(kv: Kv, key: string, value: Value, options?: PutOptions): Promise<void> {
    const cas = options?.ifVersion === undefined ? undefined : { key, expected: options.ifVersion };
    return this.track([{ kind: 'put', key, value }], cas, () => kv.put(key, value, options));
  }

  /** kv.delete, tracked. The returned promise never rejects. */
  delete(kv: Kv, key: string, options?: PutOptions): Promise<void> {
    const cas = options?.ifVersion === undefined ? undefined : { key, expected: options.ifVersion };
    return this.track([{ kind: 'delete', key }], cas, () => kv.delete(key, options));
  }

  /**
   * Tracks one write issued by `run` (which must issue it synchronously, so that issue order
   * is version order). The returned promise never rejects.
   */
  track(
    ops: readonly ModelOp[],
    cas: CasCheck | undefined,
    run: () => Promise<Commit & { deleted?: boolean }>,
  ): Promise<void> {
    assert.ok(this.db !== undefined, `${this.context}: write tracked outside a session`);
    const db = this.db;
    const w: TrackedWrite = {
      seq: this.writes.length,
      ops,
      cas,
      status: 'pending',
      refusal: undefined,
      version: undefined,
      timestamp: undefined,
      error: undefined,
    };
    this.writes.push(w);
    let p: Promise<Commit & { deleted?: boolean }>;
    try {
      p = run();
    } catch (error) {
      p = Promise.reject(error);
    }
    const done = p.then(
      (c) => {
        if (c.deleted === false) {
          w.status = 'refused';
          w.refusal = 'noop';
          return;
        }
        w.status = 'acked';
        w.version = c.version;
        w.timestamp = c.timestamp;
        this.seen = Math.max(this.seen, c.version);
        // Acknowledged means visible; in strict mode it also means durable.
        if (db.version < c.version || (this.durability === 'strict' && db.durableVersion < c.version)) {
          w.status = 'unexpected';
          w.error = new Error(
            `acknowledged version ${c.version} while db.version = ${db.version}, durableVersion = ${db.durableVersion}`,
          );
        }
        this.observe(db);
      },
      (error: unknown) => {
        w.error = error;
        if (isStrataError(error, 'io')) this.crashSeen = true;
        if (isStrataError(error, 'conflict') && cas !== undefined) {
          w.status = 'refused';
          w.refusal = 'conflict';
        } else if (isStrataError(error) && error.code !== 'conflict' && error.committed === 'no') {
          w.status = 'refused';
          w.refusal = 'not_committed';
        } else if (isStrataError(error) && error.committed === 'unknown') {
          w.status = 'unknown';
        } else {
          w.status = 'unexpected';
        }
      },
    );
    this.inFlight.add(done);
    void done.then(() => this.inFlight.delete(done));
    return done;
  }

  /**
   * `db.sync()`, tracked: on success everything acknowledged before the call must be durable.
   * Returns false when the sync failed with `io` (a crash). Never rejects on an expected error.
   */
  async sync(db: Strata): Promise<boolean> {
    const before = this.newestAcked;
    try {
      await db.sync();
    } catch (error) {
      return this.expectedFailure(error, 'sync');
    }
    assert.ok(
      db.durableVersion >= before,
      `${this.context}: after sync() durableVersion ${db.durableVersion} < acknowledged ${before}`,
    );
    this.observe(db);
    return true;
  }

  /** `db.compact()`, tracked. Returns false when it failed with `io`. */
  async compact(db: Strata): Promise<boolean> {
    try {
      await db.compact();
    } catch (error) {
      return this.expectedFailure(error, 'compact');
    }
    this.observe(db);
    return true;
  }

  private expectedFailure(error: unknown, what: string): false {
    if (isStrataError(error, 'io')) {
      this.crashSeen = true;
      return false;
    }
    throw new Error(`${this.context}: ${what}() failed unexpectedly: ${String(error)}`, { cause: error });
  }

  /** Waits until every tracked write has settled (after a crash they all must). */
  async settle(): Promise<void> {
    const timeoutMs = 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const all = Promise.allSettled([...this.inFlight]).then(() => 'done' as const);
    const r = await Promise.race([all, timeout]);
    clearTimeout(timer);
    assert.equal(r, 'done', `${this.context}: tracked writes did not settle within ${timeoutMs} ms`);
  }

  /** Ends the session: the disk crashed (or will be crashed now) or the database closed cleanly. */
  async endSession(how: 'crash' | 'clean'): Promise<void> {
    if (this.db !== undefined) this.observe(this.db);
    await this.settle();
    if (this.db !== undefined) this.observe(this.db);
    this.end = how;
    this.db = undefined;
  }

  /** An open crashed before it finished: the next session follows a crash. */
  openCrashed(): void {
    this.end = 'crash';
  }

  /**
   * Checks a freshly opened database against the model (see the file comment), makes what it
   * recovered the new baseline and starts a new session on `db`.
   */
  verifyOpen(db: Strata, options: VerifyOptions = {}): VerifyResult {
    assert.ok(this.db === undefined, `${this.context}: verifyOpen while a session is running`);
    const ctx = this.context;
    const health = options.health ?? 'clean';
    assert.equal(
      db.recovery.health,
      health,
      `${ctx}: recovery health ${db.recovery.health}, expected ${health}; notes: ${db.recovery.notes.join(' | ')}`,
    );
    const kv = db.branch().kv;
    const got = observe(db, kv, this.keys(), ctx);

    for (const w of this.writes) {
      assert.ok(
        w.status !== 'pending' && w.status !== 'unexpected',
        `${ctx}: write #${w.seq} ${describeOps(w.ops)} ended ${w.status}: ${String(w.error)}`,
      );
    }
    const accepted = this.writes.filter((w) => w.status === 'acked' || w.status === 'unknown');
    // Versions within a session are consecutive: floor + index.
    let floor: number | undefined;
    accepted.forEach((w, i) => {
      if (w.version === undefined) return;
      const f = w.version - (i + 1);
      assert.ok(
        floor === undefined || floor === f,
        `${ctx}: versions of one session are not consecutive (write #${w.seq} got ${w.version}, expected ${(floor ?? 0) + i + 1})`,
      );
      floor = f;
    });
    if (floor !== undefined) {
      assert.ok(
        floor >= this.baseVersion,
        `${ctx}: the session's first version ${floor + 1} is not above the recovered ${this.baseVersion}`,
      );
    }

    // The lower bound on k.
    let kMin = 0;
    if (this.end === 'clean') kMin = accepted.length;
    if (!options.allowLoss) {
      if (this.durability === 'strict') {
        accepted.forEach((w, i) => {
          if (w.status === 'acked') kMin = Math.max(kMin, i + 1);
        });
      }
      if (floor !== undefined && this.durableSeen > floor) {
        kMin = Math.max(kMin, Math.min(this.durableSeen - floor, accepted.length));
      }
    }
    const kMax = accepted.length;

    // Candidate prefixes: same live state, then same version, then same histories.
    const live = liveOf(this.base);
    const reasons: string[] = [];
    let chosen: number | undefined;
    let chosenFloor: number | undefined;
    for (let k = 0; k <= kMax; k++) {
      if (k > 0) applyLive(live, accepted[k - 1]!.ops);
      if (k < kMin) continue;
      const diff = diffLive(live, got.live);
      if (diff !== undefined) {
        if (reasons.length < 6) reasons.push(`k=${k}: ${diff}`);
        continue;
      }
      const f = floor ?? (k === 0 ? undefined : got.version - k);
      const expectedVersion = k === 0 ? this.baseVersion : f! + k;
      if (expectedVersion !== got.version) {
        reasons.push(`k=${k}: db.version ${got.version}, expected ${expectedVersion}`);
        continue;
      }
      if (f !== undefined && f < this.baseVersion) {
        reasons.push(`k=${k}: implies first version ${f + 1} at or below the recovered ${this.baseVersion}`);
        continue;
      }
      const hdiff = this.diffHistory(accepted.slice(0, k), f, got.history);
      if (hdiff !== undefined) {
        reasons.push(`k=${k}: ${hdiff}`);
        continue;
      }
      chosen = k;
      chosenFloor = f;
      break;
    }
    if (chosen === undefined) {
      assert.fail(
        [
          `${ctx}: the recovered database matches no allowed prefix of the ${this.durability} history`,
          `  session ended: ${this.end}; recovered version ${got.version} (durable watermark seen ${this.durableSeen}, base version ${this.baseVersion}, floor ${floor ?? '?'})`,
          `  allowed k in [${kMin}, ${kMax}]; ${reasons.length === 0 ? 'no candidate' : reasons.join('; ')}`,
          `  recovered: ${[...got.live].map(([k, v]) => `${k}=${short(v)}`).join(' ')}`,
          `  writes: ${this.writes.map(describeWrite).join(' ')}`,
          `  notes: ${db.recovery.notes.join(' | ')}`,
        ].join('\n'),
      );
    }
    if (!options.allowLoss) {
      assert.ok(
        got.version >= this.durableSeen,
        `${ctx}: recovered version ${got.version} is below the durable watermark ${this.durableSeen} that was observed`,
      );
    }

    // Version rules: never reuse a version someone could have seen.
    if (chosenFloor !== undefined && accepted.length > 0) {
      assert.ok(
        chosenFloor >= this.seenAtSessionStart,
        `${ctx}: the session started at version ${chosenFloor + 1}, reusing versions up to ${this.seenAtSessionStart} that were seen before (previous session ended: ${this.endBefore}; recovered version ${this.baseVersion})\n  writes: ${this.writes.map(describeWrite).join(' ')}\n  notes at its open: ${this.openNotes.join(' | ')}`,
      );
      // (+1 from the last version issued: after a session that issued none, from its floor,
      // which may be above the recovered version; the rule above covers that case.)
      if (this.endBefore === 'clean' && this.issuedBefore) {
        assert.equal(
          chosenFloor,
          this.baseVersion,
          `${ctx}: after a clean close versions must continue at +1 (first ${chosenFloor + 1}, recovered ${this.baseVersion})`,
        );
      }
    }
    this.checkCompareAndSet(chosenFloor);

    let lostAcked = 0;
    accepted.forEach((w, i) => {
      if (i >= chosen! && w.status === 'acked') lostAcked++;
    });

    // The recovered state becomes the baseline; a new session begins.
    this.base = got.history;
    this.baseVersion = got.version;
    this.seen = Math.max(this.seen, got.version);
    this.seenAtSessionStart = this.seen;
    this.openNotes = db.recovery.notes;
    this.endBefore = this.end;
    this.issuedBefore = accepted.length > 0;
    this.end = 'none';
    this.writes = [];
    this.durableSeen = db.durableVersion;
    this.crashSeen = false;
    this.db = db;
    this.verified++;
    return { k: chosen, accepted: accepted.length, lostAcked };
  }

  /** Compares the histories expected after `prefix` (numbered from `floor`) with `got`. */
  private diffHistory(
    prefix: readonly TrackedWrite[],
    floor: number | undefined,
    got: Map<string, ModelEntry[]>,
  ): string | undefined {
    const expected = new Map<string, ModelEntry[]>();
    for (const [k, h] of this.base) expected.set(k, [...h]);
    prefix.forEach((w, i) => {
      const version = floor! + i + 1;
      for (const op of w.ops) {
        const h = expected.get(op.key) ?? [];
        h.push({
          version,
          timestamp: w.timestamp,
          deleted: op.kind === 'delete',
          canon: op.kind === 'delete' ? DELETED : canonical(op.value),
        });
        expected.set(op.key, h);
      }
    });
    const keys = new Set([...expected.keys(), ...got.keys()]);
    for (const key of keys) {
      const e = expected.get(key) ?? [];
      const g = got.get(key) ?? [];
      if (e.length !== g.length) return `history of '${key}' has ${g.length} versions, expected ${e.length}`;
      for (let i = 0; i < e.length; i++) {
        const x = e[i]!;
        const y = g[i]!;
        if (x.version !== y.version || x.deleted !== y.deleted || x.canon !== y.canon) {
          return `history of '${key}' entry ${i}: got v${y.version} ${short(y.canon)}, expected v${x.version} ${short(x.canon)}`;
        }
        if (x.timestamp !== undefined && x.timestamp !== y.timestamp) {
          return `history of '${key}' v${x.version}: timestamp ${y.timestamp}, acknowledged ${x.timestamp}`;
        }
      }
    }
    // Timestamps never go backwards as versions increase.
    const all = [...got.values()].flat().sort((a, b) => a.version - b.version);
    for (let i = 1; i < all.length; i++) {
      if ((all[i]!.timestamp ?? 0) < (all[i - 1]!.timestamp ?? 0)) {
        return `timestamp of v${all[i]!.version} is before that of v${all[i - 1]!.version}`;
      }
    }
    return undefined;
  }

  /** Every compare-and-set of the session was decided against the head version at its turn. */
  private checkCompareAndSet(floor: number | undefined): void {
    if (floor === undefined && this.writes.some((w) => w.status === 'acked' || w.status === 'unknown'))
      return;
    const head = new Map<string, number | null>();
    for (const [k, h] of this.base) {
      const last = h[h.length - 1];
      head.set(k, last === undefined || last.deleted ? null : last.version);
    }
    let index = 0;
    for (const w of this.writes) {
      const accepted = w.status === 'acked' || w.status === 'unknown';
      const version = accepted ? floor! + ++index : undefined;
      if (w.cas !== undefined && (accepted || w.refusal === 'conflict')) {
        const actual = head.get(w.cas.key) ?? null;
        const ok = accepted ? actual === w.cas.expected : actual !== w.cas.expected;
        assert.ok(
          ok,
          `${this.context}: compare-and-set #${w.seq} on '${w.cas.key}' expecting ${w.cas.expected} ${accepted ? 'succeeded' : 'conflicted'} while the head was ${actual}`,
        );
      }
      if (w.refusal === 'noop') {
        for (const op of w.ops) {
          assert.equal(
            head.get(op.key) ?? null,
            null,
            `${this.context}: delete #${w.seq} of '${op.key}' committed nothing though the key existed`,
          );
        }
      }
      if (version !== undefined) {
        for (const op of w.ops) head.set(op.key, op.kind === 'put' ? version : null);
      }
    }
  }
}

function liveOf(history: Map<string, ModelEntry[]>): Map<string, string> {
  const live = new Map<string, string>();
  for (const [k, h] of history) {
    const last = h[h.length - 1];
    if (last !== undefined && !last.deleted) live.set(k, last.canon);
  }
  return live;
}

function applyLive(live: Map<string, string>, ops: readonly ModelOp[]): void {
  for (const op of ops) {
    if (op.kind === 'put') live.set(op.key, canonical(op.value));
    else live.delete(op.key);
  }
}

function diffLive(expected: Map<string, string>, got: Map<string, string>): string | undefined {
  for (const [k, v] of expected) {
    const g = got.get(k);
    if (g === undefined) return `'${k}' missing (expected ${short(v)})`;
    if (g !== v) return `'${k}' = ${short(g)}, expected ${short(v)}`;
  }
  for (const [k, v] of got) if (!expected.has(k)) return `'${k}' = ${short(v)} should not exist`;
  return undefined;
}

function short(s: string): string {
  return s.length > 24 ? `${s.slice(0, 20)}…(${s.length})` : s;
}

function describeOps(ops: readonly ModelOp[]): string {
  return ops.map((o) => (o.kind === 'put' ? `put ${o.key}` : `del ${o.key}`)).join('+');
}

function describeWrite(w: TrackedWrite): string {
  const cas = w.cas === undefined ? '' : `?${w.cas.expected}`;
  const outcome =
    w.status === 'acked' ? `v${w.version}` : w.status === 'refused' ? `refused:${w.refusal}` : w.status;
  return `#${w.seq}:${describeOps(w.ops)}${cas}=${outcome}`;
}

export interface Clocks {
  clock: ManualClock;
  scheduler: ManualScheduler;
}

/** A manual clock and a scheduler driven by it: background work runs only when a test says so. */
export function clocks(): Clocks {
  const clock = new ManualClock();
  return { clock, scheduler: new ManualScheduler(clock) };
}
