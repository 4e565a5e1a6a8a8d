/**
 * The shadow model shared by the fail-the-Nth-operation suites (test/fault-nth.test.ts and
 * test/lsm-fault-nth.test.ts): commits j = 0, 1, … each write `commitValue(j)` to key
 * `keyOf(j)` (keys round-robin, so later commits overwrite earlier ones); the model records each
 * commit's outcome and version and which commits must survive any crash, and checks a reopened
 * database against it (a prefix of the issued commits, holding every durable one). Also the typed
 * error checks both suites apply to what an injected fault surfaces as.
 */
import assert from 'node:assert/strict';
import type { Strata } from '../../src/api/index.js';
import type { CrashModel, FaultKind } from '../../src/backend/index.js';
import { type ErrorCode, isStrataError, type StrataError } from '../../src/base/index.js';
import type { Kv } from '../../src/engine/index.js';
import type { Durability } from '../../src/storage/index.js';

export const KINDS: readonly FaultKind[] = ['eio', 'no_space', 'fsync'];
export const MODELS: readonly CrashModel[] = ['strict', 'ordered', 'weak', 'hostile'];
/** A pass count no phase comes near; reaching it means the loop would never end. */
export const PASSES_MAX = 3000;
/** Commits write these keys round-robin, so later commits overwrite earlier ones. */
export const KEY_COUNT = 5;
const VALUE_PAD = 'v'.repeat(300);

export type Outcome = 'pending' | 'acknowledged' | 'refused' | 'unknown';

export function keyOf(j: number): string {
  return `k${j % KEY_COUNT}`;
}

export function commitValue(j: number): string {
  return `${j}|${VALUE_PAD}`;
}

export function commitOf(value: unknown, key: string): number {
  assert.equal(typeof value, 'string', `value of ${key} must be a string, got ${String(value)}`);
  const j = Number((value as string).split('|')[0]);
  assert.ok(Number.isSafeInteger(j) && j >= 0, `value of ${key} must name a commit, got ${String(value)}`);
  assert.equal(value, commitValue(j), `value of ${key} must be intact`);
  return j;
}

/**
 * Every commit issued through it, numbered j = 0, 1, … in issue order (which is version order),
 * with its outcome and, when acknowledged, its version.
 */
export class Shadow {
  readonly outcomes: Outcome[] = [];
  readonly versions: (number | undefined)[] = [];
  /** Commits j <= this must survive any crash. */
  durableThrough = -1;

  get count(): number {
    return this.outcomes.length;
  }

  /** Issues commit j: resolves with its error (typed, with a `committed` claim) or undefined. */
  async put(kv: Kv, durability: Durability): Promise<StrataError | undefined> {
    const j = this.outcomes.length;
    this.outcomes.push('pending');
    try {
      const c = await kv.put(keyOf(j), commitValue(j));
      this.outcomes[j] = 'acknowledged';
      this.versions[j] = c.version;
      if (durability === 'strict') this.markDurable(j);
      return undefined;
    } catch (error) {
      const e = expectTyped(error, `commit ${j}`);
      assert.ok(
        e.committed === 'no' || e.committed === 'yes' || e.committed === 'unknown',
        `commit ${j}: a write's error must say whether it committed: ${e.message}`,
      );
      this.outcomes[j] =
        e.committed === 'no' ? 'refused' : e.committed === 'yes' ? 'acknowledged' : 'unknown';
      return e;
    }
  }

  markDurable(j: number): void {
    if (j > this.durableThrough) this.durableThrough = j;
  }

  /** Acknowledged commits at or below the database's durable watermark are durable. */
  noteDurableVersion(durableVersion: number): void {
    this.versions.forEach((v, j) => {
      if (v !== undefined && v <= durableVersion) this.markDurable(j);
    });
  }

  /** Every acknowledged commit is durable (a flush of all of them was installed). */
  markAllAcknowledgedDurable(): void {
    const acknowledged = this.acknowledged();
    const last = acknowledged[acknowledged.length - 1];
    if (last !== undefined) this.markDurable(last);
  }

  /** Commits the database took (all but those refused with committed 'no'), in issue order. */
  issued(): number[] {
    const out: number[] = [];
    this.outcomes.forEach((o, j) => {
      assert.notEqual(o, 'pending', `commit ${j} must have settled before the state is checked`);
      if (o !== 'refused') out.push(j);
    });
    return out;
  }

  acknowledged(): number[] {
    const out: number[] = [];
    this.outcomes.forEach((o, j) => {
      if (o === 'acknowledged') out.push(j);
    });
    return out;
  }

  /** How many issued commits, from the first, must be present after any crash. */
  requiredCount(): number {
    return this.issued().filter((j) => j <= this.durableThrough).length;
  }
}

/** The commits of the shadow that `db` shows (through history, so overwritten ones count too). */
export function presentCommits(db: Strata, label: string): Map<number, number> {
  const kv = db.branch().kv;
  const present = new Map<number, number>();
  for (let r = 0; r < KEY_COUNT; r++) {
    const key = `k${r}`;
    for (const h of kv.history(key)) {
      assert.ok(!h.deleted, `${label}: nothing deletes ${key}, yet version ${h.version} is a delete`);
      const j = commitOf(h.value, key);
      assert.equal(j % KEY_COUNT, r, `${label}: commit ${j} wrote ${keyOf(j)}, not ${key}`);
      assert.ok(!present.has(j), `${label}: commit ${j} appears twice`);
      present.set(j, h.version);
    }
  }
  for (const [key] of kv.list()) {
    assert.ok(/^k\d$/.test(key) || key.startsWith('after-'), `${label}: unexpected key ${key}`);
  }
  return present;
}

/**
 * Checks that `db` shows a prefix of the issued commits, at least `required` long, with the
 * acknowledged versions, and that reads agree with history. Returns the prefix length.
 */
export function checkPrefix(db: Strata, shadow: Shadow, required: number, label: string): number {
  const present = presentCommits(db, label);
  const js = [...present.keys()].sort((a, b) => a - b);
  const issued = shadow.issued();
  assert.deepEqual(
    js,
    issued.slice(0, js.length),
    `${label}: the commits present (${js.join(',')}) must be a prefix of those issued (${issued.join(',')})`,
  );
  assert.ok(
    js.length >= required,
    `${label}: ${js.length} commits survived, but the first ${required} were acknowledged durable`,
  );
  let previous = 0;
  for (const j of js) {
    const version = present.get(j)!;
    const acknowledged = shadow.versions[j];
    if (acknowledged !== undefined) {
      assert.equal(version, acknowledged, `${label}: commit ${j} must keep its version ${acknowledged}`);
    }
    assert.ok(version > previous, `${label}: versions must grow in issue order (commit ${j})`);
    previous = version;
  }
  const kv = db.branch().kv;
  for (let r = 0; r < KEY_COUNT; r++) {
    const newest = js.filter((j) => j % KEY_COUNT === r).pop();
    assert.equal(
      kv.get(`k${r}`),
      newest === undefined ? undefined : commitValue(newest),
      `${label}: k${r} must read as its newest present commit`,
    );
  }
  return js.length;
}

// ── faults ───────────────────────────────────────────────────────────────────────────────────

export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

export function expectTyped(error: unknown, what: string): StrataError {
  if (!isStrataError(error)) assert.fail(`${what}: expected a StrataError, got ${describeError(error)}`);
  return error;
}

/** The code an injected fault of `kind` must surface as. */
export function codeOf(kind: FaultKind): ErrorCode {
  return kind === 'no_space' ? 'no_space' : 'io';
}

/**
 * A typed error of the injected code, wrapping (through `cause`) only typed errors of that code:
 * the tree's `fail()` rewraps whatever stopped a flush or compaction, an assertion included, as
 * `io`, so the top-level code alone would hide a bug.
 */
export function expectInjected(error: unknown, kind: FaultKind, what: string): StrataError {
  const e = expectTyped(error, what);
  const code = codeOf(kind);
  let link: unknown = e;
  for (let depth = 0; link !== undefined; depth++) {
    assert.ok(depth < 32, `${what}: the chain of causes does not end`);
    if (!isStrataError(link)) {
      assert.fail(`${what}: an injected ${kind} fault wraps an untyped error: ${describeError(link)}`);
    }
    assert.equal(
      link.code,
      code,
      `${what}: an injected ${kind} fault surfaced as ${link.code}${depth > 0 ? ` (cause at depth ${depth})` : ''}: ${link.message}`,
    );
    link = (link as Error).cause;
  }
  return e;
}

// ── environments ─────────────────────────────────────────────────────────────────────────────
