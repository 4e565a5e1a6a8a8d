/**
 * JSON documents against a naive model in which every branch holds plain JS values per version:
 * random set / delete / patch at random paths (existing, appending, missing, of the wrong kind)
 * on small documents and on large ones that are split into node rows; gets at random paths, now
 * and at random past versions; lists and histories; forks now and at past versions; merges
 * between parent and child under each strategy (the by-path rule modelled naively); all with
 * tiny LSM sizes so that flushes and compactions run constantly, clean reopens and crashes of
 * the simulated disk in strict mode (everything acknowledged survives).
 *
 * Replay a seed with STRATA_SEED=<n>; STRATA_DEEP=1 runs more seeds and longer sessions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Branch, Strata } from '../../src/api/index.js';
import { SimDisk } from '../../src/backend/index.js';
import { isStrataError, ManualClock, SeededRandom } from '../../src/base/index.js';
import { formatPath, type JsonStep } from '../../src/engine/json-path.js';
import type { Value } from '../../src/engine/value-codec.js';
import { DEEP, seeds } from '../support/seeds.js';
import { crashAndRecover, openSim } from '../support/sim.js';

const SEEDS = seeds([21, 22], [1, 2, 3, 4, 5, 6]);
const STEPS = DEEP ? 1200 : 350;

type Obj = { [k: string]: Value };
const isObj = (v: Value | undefined): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const clone = (v: Value): Value => structuredClone(v);
const same = (a: Value | undefined, b: Value | undefined): boolean => {
  try {
    assert.deepStrictEqual(a, b);
    // deepStrictEqual ignores member order; the database keeps it.
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
};

class ModelError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

// --- the model's path semantics, written plainly --------------------------------------------------

function resolveIndex(arr: Value[], i: number): number {
  return i < 0 ? arr.length + i : i;
}

function modelGet(doc: Value | undefined, steps: JsonStep[]): Value | undefined {
  let cur = doc;
  for (const s of steps) {
    if (cur === undefined) return undefined;
    if (s.kind === 'name') cur = isObj(cur) && Object.hasOwn(cur, s.name) ? cur[s.name] : undefined;
    else if (Array.isArray(cur)) {
      const i = resolveIndex(cur, s.index);
      cur = i >= 0 && i < cur.length ? cur[i] : undefined;
    } else cur = undefined;
  }
  return cur;
}

/** Sets in place (doc is a private copy); throws ModelError with the expected code. */
function modelSet(doc: Value | undefined, steps: JsonStep[], value: Value): Value {
  if (steps.length === 0) return value;
  if (doc === undefined) throw new ModelError('not_found');
  let cur: Value = doc;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const last = i === steps.length - 1;
    if (s.kind === 'name') {
      if (!isObj(cur)) throw new ModelError('invalid_argument');
      if (last) {
        Object.defineProperty(cur, s.name, { value, enumerable: true, writable: true, configurable: true });
      } else {
        if (!Object.hasOwn(cur, s.name)) throw new ModelError('not_found');
        cur = cur[s.name]!;
      }
    } else {
      if (!Array.isArray(cur)) throw new ModelError('invalid_argument');
      const idx = resolveIndex(cur, s.index);
      if (last) {
        if (idx < 0 || idx > cur.length) throw new ModelError('invalid_argument');
        cur[idx] = value;
      } else {
        if (idx < 0 || idx >= cur.length) throw new ModelError('not_found');
        cur = cur[idx]!;
      }
    }
  }
  return doc;
}

/** Deletes in place; returns [new doc, whether something was deleted]. */
function modelDelete(doc: Value | undefined, steps: JsonStep[]): [Value | undefined, boolean] {
  if (doc === undefined) return [undefined, false];
  if (steps.length === 0) return [undefined, true];
  const parent = modelGet(doc, steps.slice(0, -1));
  const s = steps[steps.length - 1]!;
  if (s.kind === 'name') {
    if (!isObj(parent) || !Object.hasOwn(parent, s.name)) return [doc, false];
    delete parent[s.name];
    return [doc, true];
  }
  if (!Array.isArray(parent)) return [doc, false];
  const idx = resolveIndex(parent, s.index);
  if (idx < 0 || idx >= parent.length) return [doc, false];
  parent.splice(idx, 1);
  return [doc, true];
}

function modelMergePatch(target: Value | undefined, patch: Value): Value {
  if (!isObj(patch)) return patch;
  const out: Obj = isObj(target) ? (clone(target) as Obj) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else
      Object.defineProperty(out, k, {
        value: modelMergePatch(Object.hasOwn(out, k) ? out[k] : undefined, v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return out;
}

function modelPatch(doc: Value | undefined, steps: JsonStep[], patch: Value): Value {
  if (steps.length > 0 && doc === undefined) throw new ModelError('not_found');
  const next = modelMergePatch(modelGet(doc, steps), patch);
  return modelSet(doc, steps, next);
}

/** The by-path three-way rule: see json-merge.ts mergeValues (here written independently). */
function modelMerge3(
  b: Value | undefined,
  s: Value | undefined,
  t: Value | undefined,
  strategy: string,
  conflicts: string[],
  path: JsonStep[],
): Value | undefined {
  if (same(s, t) || same(b, s)) return t;
  if (same(b, t)) return s;
  if (isObj(b) && isObj(s) && isObj(t)) {
    const out: Obj = {};
    const keys = [...Object.keys(t), ...Object.keys(s).filter((k) => !Object.hasOwn(t, k))];
    const get = (o: Obj, k: string) => (Object.hasOwn(o, k) ? o[k] : undefined);
    for (const k of keys) {
      const r = modelMerge3(get(b, k), get(s, k), get(t, k), strategy, conflicts, [
        ...path,
        { kind: 'name', name: k },
      ]);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  if (
    Array.isArray(b) &&
    Array.isArray(s) &&
    Array.isArray(t) &&
    b.length === s.length &&
    s.length === t.length
  )
    return t.map(
      (x, i) => modelMerge3(b[i], s[i], x, strategy, conflicts, [...path, { kind: 'index', index: i }])!,
    );
  conflicts.push(formatPath(path));
  return strategy === 'source-wins' ? s : t;
}

// --- branches -------------------------------------------------------------------------------------

interface DocVersion {
  version: number;
  value: Value | undefined;
  branch: string;
}

class ModelBranch {
  readonly docs = new Map<string, DocVersion[]>();
  constructor(
    readonly name: string,
    readonly parent?: ModelBranch,
    readonly forkVersion = 0,
  ) {}

  fork(name: string, at: number): ModelBranch {
    const child = new ModelBranch(name, this, at);
    for (const [k, vs] of this.docs) {
      const kept = vs.filter((v) => v.version <= at);
      if (kept.length > 0) child.docs.set(k, kept);
    }
    return child;
  }

  at(key: string, version = Number.MAX_SAFE_INTEGER): Value | undefined {
    const vs = this.docs.get(key) ?? [];
    for (let i = vs.length - 1; i >= 0; i--) if (vs[i]!.version <= version) return vs[i]!.value;
    return undefined;
  }

  write(key: string, version: number, value: Value | undefined): void {
    if (!this.docs.has(key)) this.docs.set(key, []);
    this.docs
      .get(key)!
      .push({ version, value: value === undefined ? undefined : clone(value), branch: this.name });
  }

  keys(version = Number.MAX_SAFE_INTEGER): string[] {
    return [...this.docs.keys()].filter((k) => this.at(k, version) !== undefined).sort();
  }
}

// --- random documents, paths and values -----------------------------------------------------------

const KEYS = ['doc:a', 'doc:b', 'doc:c', 'big:1', 'big:2', 'huge:1'];

function smallValue(rnd: SeededRandom, depth = 0): Value {
  const r = rnd.int(10);
  if (r < 3) return rnd.int(1000) - 500;
  if (r < 5) return `s${rnd.int(100)}`;
  if (r < 6) return rnd.bool() ? null : true;
  if (depth >= 2) return 'leaf';
  if (r < 8) return { [`m${rnd.int(4)}`]: smallValue(rnd, depth + 1), x: rnd.int(9) };
  return [smallValue(rnd, depth + 1), smallValue(rnd, depth + 1)];
}

function bigDoc(rnd: SeededRandom): Value {
  return {
    title: `t${rnd.int(100)}`,
    items: Array.from({ length: 40 + rnd.int(40) }, (_, i) => ({
      i,
      note: 'n'.repeat(60 + rnd.int(40)),
      tags: [i % 3],
    })),
    meta: { a: 1, nested: { deep: Array.from({ length: 3 }, () => 'd'.repeat(30)) } },
  };
}

/**
 * A document whose containers are chunked: an array of numbers and one of items (several chunk
 * rows each), an object of many short members (chunks keyed by name) and a split child below.
 */
function hugeDoc(rnd: SeededRandom): Value {
  const tags: Obj = {};
  for (let i = 0; i < 600 + rnd.int(600); i++) tags[`t${rnd.int(9000)}`] = rnd.int(100);
  return {
    nums: Array.from({ length: 2000 + rnd.int(2000) }, () => rnd.int(1_000_000) - 500),
    items: Array.from({ length: 60 + rnd.int(80) }, (_, i) => ({ i, note: 'n'.repeat(50 + rnd.int(80)) })),
    tags,
    nest: { deep: { list: Array.from({ length: 200 }, (_, i) => `e${i}`), more: 'm'.repeat(4200) } },
  };
}

/**
 * A bulk change to a huge document (many writes, each checked against the model): deletes of a
 * run of elements in the middle (chunks shrink and merge), appends (new chunks), new and
 * deleted members (object chunks split and merge), negative indexes.
 */
function bulkOps(rnd: SeededRandom, doc: Value): { path: JsonStep[]; value?: Value }[] {
  const out: { path: JsonStep[]; value?: Value }[] = [];
  if (!isObj(doc)) return out;
  const arrays = Object.keys(doc).filter((k) => Array.isArray(doc[k]));
  const objects = Object.keys(doc).filter((k) => isObj(doc[k]));
  const r = rnd.int(4);
  if (r === 0 && arrays.length > 0) {
    const k = arrays[rnd.int(arrays.length)]!;
    const len = (doc[k] as Value[]).length;
    const at = rnd.int(Math.max(1, len));
    for (let i = 0; i < 20 + rnd.int(200); i++)
      out.push({
        path: [
          { kind: 'name', name: k },
          { kind: 'index', index: at },
        ],
      });
  } else if (r === 1 && arrays.length > 0) {
    const k = arrays[rnd.int(arrays.length)]!;
    for (let i = 0; i < 20 + rnd.int(300); i++)
      out.push({
        path: [
          { kind: 'name', name: k },
          { kind: 'index', index: -1 - rnd.int(3) },
        ],
        value: rnd.int(99),
      });
  } else if (r === 2 && objects.length > 0) {
    const k = objects[rnd.int(objects.length)]!;
    for (let i = 0; i < 50 + rnd.int(300); i++)
      out.push({
        path: [
          { kind: 'name', name: k },
          { kind: 'name', name: `t${rnd.int(5000)}` },
        ],
        ...(rnd.int(3) === 0 ? {} : { value: rnd.int(3) === 0 ? 'v'.repeat(rnd.int(300)) : rnd.int(9) }),
      });
  } else if (arrays.length > 0) {
    const k = arrays[rnd.int(arrays.length)]!;
    for (let i = 0; i < 20 + rnd.int(300); i++)
      out.push({
        path: [
          { kind: 'name', name: k },
          { kind: 'index', index: -1 },
        ],
        value: i,
      });
  }
  return out;
}

/** A random path into `doc`: mostly existing places, sometimes one past the end, missing, or mistyped. */
function randomPath(rnd: SeededRandom, doc: Value | undefined): JsonStep[] {
  const steps: JsonStep[] = [];
  let cur = doc;
  for (;;) {
    if (rnd.int(4) === 0 || cur === undefined) break;
    if (isObj(cur)) {
      const ks = Object.keys(cur);
      if (ks.length === 0 || rnd.int(8) === 0) {
        steps.push({ kind: 'name', name: `new${rnd.int(3)}` });
        break;
      }
      const k = ks[rnd.int(ks.length)]!;
      steps.push({ kind: 'name', name: k });
      cur = cur[k];
    } else if (Array.isArray(cur)) {
      const r = rnd.int(10);
      const i =
        r === 0
          ? cur.length
          : r === 1
            ? -1 - rnd.int(Math.max(1, cur.length))
            : rnd.int(Math.max(1, cur.length));
      steps.push({ kind: 'index', index: i });
      cur = i >= 0 && i < cur.length ? cur[i] : undefined;
    } else {
      if (rnd.int(3) === 0)
        steps.push(rnd.bool() ? { kind: 'name', name: 'bad' } : { kind: 'index', index: 0 });
      break;
    }
  }
  return steps;
}

// --- the run --------------------------------------------------------------------------------------

function checkBranch(db: Strata, m: ModelBranch, rnd: SeededRandom, where: string, full: boolean): void {
  const b = db.branch(m.name);
  const keys = m.keys();
  assert.deepEqual([...b.json.keys()], keys, `${where}: ${m.name} keys`);
  const docs = full ? keys : keys.filter(() => rnd.int(3) === 0);
  for (const k of docs) {
    const got = b.json.get(k);
    assert.ok(
      same(got, m.at(k)),
      `${where}: ${m.name}/${k}\n got ${JSON.stringify(got)}\nwant ${JSON.stringify(m.at(k))}`,
    );
  }
  if (full) {
    const listed = [...b.json.list()];
    assert.deepEqual(
      listed.map(([k]) => k),
      keys,
      `${where}: list keys`,
    );
    for (const [k, v] of listed) assert.ok(same(v, m.at(k)), `${where}: list ${k}`);
    for (const k of KEYS) {
      const h = b.json.history(k);
      const want = [...(m.docs.get(k) ?? [])].reverse();
      assert.deepEqual(
        h.map((e) => [e.version, e.deleted, e.branch]),
        want.map((w) => [w.version, w.value === undefined, w.branch]),
        `${where}: history ${m.name}/${k}`,
      );
      for (let i = 0; i < h.length; i++)
        assert.ok(same(h[i]!.value, want[i]!.value), `${where}: history ${k} #${i}`);
    }
  }
}

async function expectSame<T>(what: string, run: () => Promise<T>, model: () => void): Promise<T | undefined> {
  let want: string | undefined;
  try {
    model();
  } catch (error) {
    if (!(error instanceof ModelError)) throw error;
    want = error.code;
  }
  try {
    const r = await run();
    assert.equal(want, undefined, `${what}: expected ${want}, it succeeded`);
    return r;
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    assert.ok(isStrataError(error), `${what}: ${String(error)}`);
    assert.equal(error.code, want, `${what}: ${error.message}`);
    return undefined;
  }
}

async function runSeed(
  seed: number,
): Promise<{ merges: number; conflicts: number; crashes: number; split: number; bulk: number }> {
  const rnd = new SeededRandom(seed);
  let disk = new SimDisk();
  const clock = new ManualClock(1_000_000);
  const openOn = (d: SimDisk): Promise<Strata> => openSim(d, clock);
  const open = (): Promise<Strata> => openOn(disk);
  let db = await open();
  const branches = new Map<string, ModelBranch>([['main', new ModelBranch('main')]]);
  const merged = new Map<string, number>();
  const stats = { merges: 0, conflicts: 0, crashes: 0, split: 0, bulk: 0 };
  const pick = (): ModelBranch => [...branches.values()][rnd.int(branches.size)]!;

  for (let step = 0; step < STEPS; step++) {
    const where = `seed ${seed}, step ${step}`;
    clock.advance(1 + rnd.int(3));
    const m = pick();
    const b: Branch = db.branch(m.name);
    const key = rnd.int(4) === 0 ? 'huge:1' : KEYS[rnd.int(KEYS.length)]!;
    const cur = m.at(key);
    const r = rnd.int(100);
    if (key === 'huge:1' && cur !== undefined && r < 12) {
      // A bulk change: many writes to the chunked containers, checked one by one.
      let doc = clone(cur);
      for (const op of bulkOps(rnd, doc)) {
        const path = formatPath(op.path);
        if (op.value === undefined) {
          const d = await b.json.delete(key, path);
          const [next, deleted] = modelDelete(doc, op.path);
          assert.equal(d.deleted, deleted, `${where}: bulk delete ${path}`);
          doc = next!;
          if (deleted) m.write(key, d.version, doc);
        } else {
          const value = op.value;
          let next: Value | undefined;
          const c = await expectSame(
            `${where}: bulk set ${path}`,
            () => b.json.set(key, path, value),
            () => {
              next = modelSet(clone(doc), op.path, value);
            },
          );
          if (c !== undefined) {
            doc = next!;
            m.write(key, c.version, doc);
          }
        }
      }
      assert.ok(same(b.json.get(key), doc), `${where}: after a bulk change`);
      stats.bulk++;
    } else if (r < 8 || (cur === undefined && r < 30)) {
      const value = key === 'huge:1' ? hugeDoc(rnd) : key.startsWith('big') ? bigDoc(rnd) : smallValue(rnd);
      const c = await b.json.set(key, '$', value);
      m.write(key, c.version, value);
    } else if (r < 50) {
      const steps = randomPath(rnd, cur);
      const value = rnd.int(12) === 0 ? bigDoc(rnd) : smallValue(rnd);
      let next: Value | undefined;
      const c = await expectSame(
        `${where}: set ${key} ${formatPath(steps)}`,
        () => b.json.set(key, formatPath(steps), value),
        () => {
          next = modelSet(cur === undefined ? undefined : clone(cur), steps, value);
        },
      );
      if (c !== undefined) m.write(key, c.version, next);
    } else if (r < 62) {
      const steps = randomPath(rnd, cur);
      const v = db.version;
      const d = await b.json.delete(key, formatPath(steps));
      const [next, deleted] = modelDelete(cur === undefined ? undefined : clone(cur), steps);
      assert.equal(d.deleted, deleted, `${where}: delete ${key} ${formatPath(steps)}`);
      if (deleted) m.write(key, d.version, next);
      else assert.equal(db.version, v, `${where}: a no-op delete commits nothing`);
    } else if (r < 72) {
      const steps = rnd.int(3) === 0 ? [] : randomPath(rnd, cur);
      const patch: Value =
        rnd.int(5) === 0
          ? smallValue(rnd)
          : {
              [`m${rnd.int(4)}`]: rnd.bool() ? null : smallValue(rnd),
              x: rnd.int(3) === 0 ? null : rnd.int(9),
            };
      let next: Value | undefined;
      const c = await expectSame(
        `${where}: patch ${key} ${formatPath(steps)}`,
        () => b.json.patch(key, patch, formatPath(steps)),
        () => {
          next = modelPatch(cur === undefined ? undefined : clone(cur), steps, patch);
        },
      );
      if (c !== undefined) m.write(key, c.version, next);
    } else if (r < 80) {
      // Reads at random paths, now and at a past version.
      const steps = randomPath(rnd, cur);
      assert.ok(
        same(b.json.get(key, formatPath(steps)), modelGet(cur, steps)),
        `${where}: get ${m.name}/${key} ${formatPath(steps)}`,
      );
      const past = m.forkVersion + rnd.int(db.version - m.forkVersion + 1);
      const old = m.at(key, past);
      const ps = randomPath(rnd, old);
      assert.ok(
        same(b.at(past).json.get(key, formatPath(ps)), modelGet(old, ps)),
        `${where}: get ${m.name}/${key} ${formatPath(ps)} at ${past}`,
      );
      assert.deepEqual([...b.at(past).json.keys()], m.keys(past), `${where}: keys at ${past}`);
    } else if (r < 84 && branches.size < 6) {
      const past = rnd.int(3) === 0;
      const at = past ? m.forkVersion + rnd.int(db.version - m.forkVersion + 1) : db.version;
      const name = `b${branches.size}-${step}`;
      await b.fork(name, past ? { at } : {});
      branches.set(name, m.fork(name, at));
    } else if (r < 90) {
      // Merge between a branch and its parent, in either direction.
      const children = [...branches.values()].filter((x) => x.parent !== undefined);
      if (children.length === 0) continue;
      const child = children[rnd.int(children.length)]!;
      const [source, target] = rnd.bool() ? [child, child.parent!] : [child.parent!, child];
      const strategy = (['strict', 'source-wins', 'target-wins'] as const)[rnd.int(3)]!;
      const now = db.version;
      const last = merged.get(`${target.name}<${source.name}`);
      const baseAt = (k: string) =>
        last !== undefined ? source.at(k, last) : child.parent!.at(k, child.forkVersion);
      const conflicts: string[] = [];
      const writes: [string, Value | undefined][] = [];
      const all = new Set([...source.docs.keys(), ...target.docs.keys()]);
      for (const k of [...all].sort()) {
        const vb = baseAt(k);
        const vs = source.at(k);
        const vt = target.at(k);
        if (same(vs, vb) || same(vs, vt)) continue;
        const cs: string[] = [];
        const res = modelMerge3(vb, vs, vt, strategy, cs, []);
        conflicts.push(...cs.map((p) => `${k} ${p}`));
        if (strategy === 'strict' && cs.length > 0) continue;
        if (!same(res, vt)) writes.push([k, res]);
      }
      const report = await db.branch(target.name).merge(source.name, { strategy });
      assert.deepEqual(
        report!.conflicts.map((c) => `${c.key} ${c.path}`),
        conflicts,
        `${where}: ${strategy} merge ${source.name} → ${target.name}`,
      );
      const applied = strategy === 'strict' && conflicts.length > 0 ? [] : writes;
      assert.equal(report!.applied, applied.length, `${where}: merge applied`);
      for (const [k, v] of applied) target.write(k, report!.version, v);
      if (applied.length > 0) merged.set(`${target.name}<${source.name}`, now);
      stats.merges++;
      stats.conflicts += conflicts.length;
    } else if (r < 93) {
      await db.compact();
    } else if (r < 95) {
      await db.close();
      db = await open();
      for (const mb of branches.values()) checkBranch(db, mb, rnd, `${where} (reopened)`, true);
    } else if (r < 97) {
      stats.crashes++;
      disk = await crashAndRecover(disk, db, 'strict', new SeededRandom(seed * 1000 + step), openOn, (r) => {
        for (const mb of branches.values()) checkBranch(r, mb, rnd, `${where} (after a crash)`, true);
      });
      db = await open();
    } else {
      checkBranch(db, m, rnd, where, false);
    }
    const v = m.at('big:1');
    if (v !== undefined && JSON.stringify(v).length > 4096) stats.split++;
  }
  for (const mb of branches.values()) checkBranch(db, mb, rnd, `seed ${seed}, end`, true);
  await db.close();
  return stats;
}

describe('JSON documents against a naive model', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: branches, paths, merges, flushes, compactions, reopens and crashes`, async () => {
      const stats = await runSeed(seed);
      assert.ok(stats.merges > 3, `some merges ran (${stats.merges})`);
      assert.ok(stats.split > 0, 'large (split) documents were exercised');
      assert.ok(stats.bulk > 3, `bulk changes of chunked documents ran (${stats.bulk})`);
    });
  }
});
