/**
 * Process kill on the real file system (NodeBackend): a child process (test/fixtures/kill-writer.ts)
 * commits in a loop and reports every acknowledgement on stdout; the parent kills it with SIGKILL
 * after a seeded random delay, reopens the database and checks that what it finds is a prefix of
 * the issued commits with no gap, holding every commit acknowledged durable: every acknowledged
 * one in strict mode, every one covered by a resolved sync() in buffered mode. Each mode runs a
 * few kill/reopen cycles on the same database, and while a child holds it a second opener must be
 * refused with `busy`.
 *
 * Replay a failure with STRATA_SEED=<seed> node scripts/run-tests.mjs process-kill.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '../src/base/index.js';
import { isStrataError, Strata } from '../src/index.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/kill-writer.ts', import.meta.url));
const CYCLES_PER_MODE = 4;
const KILL_DELAY_MS_MIN = 150;
const KILL_DELAY_MS_MAX = 600;
const READY_TIMEOUT_MS = 15_000;
const SEED = Number(process.env.STRATA_SEED ?? 20_240_611) >>> 0;

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** What one child reported before it died. */
interface ChildReport {
  first: number;
  acks: Map<number, number>;
  syncedThrough: number;
  stderr: string;
}

/** Everything acknowledged across the cycles on one database. */
interface History {
  acks: Map<number, number>;
  /** Commits j <= this must be present: acknowledged in strict mode, or covered by a sync. */
  durableThrough: number;
}

function commitValue(j: number): string {
  return `${j}|${'x'.repeat(200 + (j % 7) * 100)}`;
}

class ChildRun {
  readonly report: ChildReport = { first: -1, acks: new Map(), syncedThrough: -1, stderr: '' };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private buffered = '';
  private readyWaiters: Array<() => void> = [];
  private readonly child: ChildProcess;

  constructor(dir: string, mode: 'strict' | 'buffered') {
    this.child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => this.onData(chunk));
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.report.stderr += chunk;
    });
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    const lines = this.buffered.split('\n');
    // A line is complete only once its newline arrived; the tail waits for the next chunk.
    this.buffered = lines.pop() ?? '';
    for (const line of lines) {
      const [what, a, b] = line.split(' ');
      const x = Number(a);
      if (what === 'ready') {
        this.report.first = x;
        for (const wake of this.readyWaiters.splice(0)) wake();
      } else if (what === 'ack') {
        this.report.acks.set(x, Number(b));
      } else if (what === 'synced') {
        this.report.syncedThrough = Math.max(this.report.syncedThrough, x);
      } else {
        assert.fail(`kill-writer printed an unexpected line: ${line}`);
      }
    }
  }

  /** Resolves once the child has opened the database; fails if it dies first or takes too long. */
  async ready(): Promise<void> {
    if (this.report.first >= 0) return;
    const timeout = new Promise<'timeout'>((resolve) => {
      const t = setTimeout(() => resolve('timeout'), READY_TIMEOUT_MS);
      t.unref();
    });
    const outcome = await Promise.race([
      new Promise<'ready'>((resolve) => this.readyWaiters.push(() => resolve('ready'))),
      this.exited.then(() => 'exited' as const),
      timeout,
    ]);
    if (outcome !== 'ready') {
      this.child.kill('SIGKILL');
      assert.fail(`kill-writer did not get ready (${outcome}); stderr:\n${this.report.stderr}`);
    }
  }

  /** Kills the child if it still runs (after a failed check), so it never outlives the test. */
  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    const { code, signal } = await this.exited;
    assert.equal(
      signal,
      'SIGKILL',
      `kill-writer must die by the kill, not on its own (exit code ${code}); stderr:\n${this.report.stderr}`,
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function listing(dir: string): string {
  try {
    return readdirSync(dir, { recursive: true }).join(', ');
  } catch {
    return '(unreadable)';
  }
}

/**
 * Reopens the database and checks it against everything the children reported: keys k0..k(m-1)
 * and nothing else (a prefix, no gap), every acknowledged commit that must be durable present,
 * every acknowledged commit present with its version, versions growing with j.
 */
async function reopenAndCheck(dir: string, mode: 'strict' | 'buffered', history: History, label: string) {
  let db: Strata;
  try {
    db = await Strata.open(dir, { durability: mode });
  } catch (error) {
    const detail = isStrataError(error) ? `${error.code}: ${error.message}` : String(error);
    assert.fail(`${label}: reopening after the kill failed: ${detail}; files: ${listing(dir)}`);
  }
  const kv = db.branch().kv;
  const present: number[] = [];
  for (const [key, value] of kv.list({ prefix: 'k' })) {
    const j = Number(key.slice(1));
    assert.ok(Number.isSafeInteger(j) && j >= 0, `${label}: unexpected key ${key}`);
    assert.equal(value, commitValue(j), `${label}: the value of ${key} must be intact`);
    present.push(j);
  }
  present.sort((a, b) => a - b);
  const count = present.length;
  assert.ok(
    count === 0 || present[count - 1] === count - 1,
    `${label}: ${count} commits are present but the newest is k${present[count - 1]}: a gap`,
  );
  assert.ok(
    count > history.durableThrough,
    `${label}: only k0..k${count - 1} are present, but k${history.durableThrough} was acknowledged durable`,
  );
  let previous = 0;
  for (const j of present) {
    const got = kv.getVersioned(`k${j}`);
    assert.ok(got !== undefined, `${label}: k${j} is listed, so it reads`);
    const acknowledged = history.acks.get(j);
    if (acknowledged !== undefined) {
      assert.equal(got.version, acknowledged, `${label}: k${j} must keep its acknowledged version`);
    }
    assert.ok(got.version > previous, `${label}: versions must grow with j (k${j})`);
    previous = got.version;
  }
  // Acknowledged commits that were lost must be an unsynced suffix (buffered mode only).
  for (const j of history.acks.keys()) {
    if (j >= count) {
      assert.equal(mode, 'buffered', `${label}: strict commit k${j} was acknowledged and must survive`);
    }
  }
  // The database accepts writes again; the key is outside the k-prefix the children count.
  await kv.put(`p-${label.replace(/[^a-z0-9]+/gi, '-')}`, count);
  await db.close();
  return count;
}

async function killCycles(mode: 'strict' | 'buffered', seed: number): Promise<string> {
  const random = new SeededRandom(seed);
  const root = mkdtempSync(join(tmpdir(), `strata-kill-${mode}-`));
  roots.push(root);
  const dir = join(root, 'db');
  const history: History = { acks: new Map(), durableThrough: -1 };
  const summary: string[] = [];
  for (let cycle = 0; cycle < CYCLES_PER_MODE; cycle++) {
    const label = `${mode} cycle ${cycle} (seed ${seed})`;
    const child = new ChildRun(dir, mode);
    const delayMs = KILL_DELAY_MS_MIN + random.int(KILL_DELAY_MS_MAX - KILL_DELAY_MS_MIN + 1);
    try {
      await child.ready();

      // A second opener, in this process, while the child holds the database.
      let second: unknown;
      try {
        const db = await Strata.open(dir, { durability: mode });
        await db.close();
      } catch (error) {
        second = error;
      }
      assert.ok(
        isStrataError(second, 'busy'),
        `${label}: a second opener must be refused with busy, got ${second === undefined ? 'an open database' : String(second)}`,
      );

      await sleep(delayMs);
      await child.kill();
    } finally {
      child.stop();
    }

    const { report } = child;
    assert.ok(report.acks.size > 0, `${label}: the child acknowledged nothing in ${delayMs} ms`);
    for (const [j, version] of report.acks) {
      assert.ok(j >= report.first, `${label}: ack of k${j} below the child's first key ${report.first}`);
      history.acks.set(j, version);
      if (mode === 'strict' && j > history.durableThrough) history.durableThrough = j;
    }
    if (report.syncedThrough > history.durableThrough) history.durableThrough = report.syncedThrough;
    const count = await reopenAndCheck(dir, mode, history, label);
    // Commits the reopen did not find were lost for good; the next child reuses their keys.
    for (const j of [...history.acks.keys()]) if (j >= count) history.acks.delete(j);
    summary.push(`${report.acks.size} acks in ${delayMs} ms, ${count} keys after reopen`);
  }
  return summary.join('; ');
}

describe('process kill (SIGKILL) on the real file system', () => {
  for (const [index, mode] of (['strict', 'buffered'] as const).entries()) {
    it(`${mode} mode: every acknowledged durable commit survives, as a prefix with no gap`, async (t) => {
      const summary = await killCycles(mode, SEED + index);
      t.diagnostic(summary);
    });
  }
});
