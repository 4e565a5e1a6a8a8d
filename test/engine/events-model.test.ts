/**
 * Event streams against a naive model in which every branch is a full copy of its streams:
 * random appends (awaited, un-awaited bursts, and transactions over two streams) of several
 * types on several branches (forked now and at past versions), reads by seq / type / time /
 * limit / reverse at now and at random past versions, heads, stream lists, verify, diffs and
 * merges in every direction (the model applies the merge rule of docs/events.md: the source's new
 * events appended with fresh seqs, events the target already holds skipped), with tiny LSM sizes
 * so flushes and compactions run constantly, clean reopens and SimDisk crashes (strict mode).
 * The model computes every hash itself, with node:crypto, from the chain record of
 * docs/formats/events.md.
 *
 * Replay a seed with STRATA_SEED=<n>; STRATA_DEEP=1 runs more seeds and longer sessions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Branch, Strata } from '../../src/api/index.js';
import { type CrashModel, SimDisk } from '../../src/backend/index.js';
import { ManualClock, SeededRandom } from '../../src/base/index.js';
import { encodeValue, type StreamEvent } from '../../src/engine/index.js';
import { referenceChainHash } from '../support/chain-hash.js';
import { pathOf } from '../support/model-branch.js';
import { DEEP, seeds } from '../support/seeds.js';
import { crashAndRecover, openSim } from '../support/sim.js';

const SEEDS = seeds([21, 22], [1, 2, 3, 4, 5, 6]);
const STEPS = DEEP ? 1200 : 350;
const MODELS: readonly CrashModel[] = ['strict', 'ordered', 'weak', 'hostile'];
const STREAMS = ['s0', 's1', 's2', 'x\u00e9'];
const TYPES = ['call', 'result', 'note', 'err'];

type Data = { step: number; pad: string };

interface ModelEvent {
  seq: number;
  type: string;
  data: Data;
  version: number;
  timestamp: number;
  hash: string;
  origin?: string;
}

/** The chain hash from the record of docs/formats/events.md (hex in, hex out). */
function chainHex(
  seq: number,
  type: string,
  timestamp: number,
  data: Data,
  origin: string | undefined,
  previous: string,
): string {
  const o = origin === undefined ? undefined : Buffer.from(origin, 'hex');
  return referenceChainHash(seq, type, timestamp, encodeValue(data), o, Buffer.from(previous, 'hex'));
}

const ZERO = '00'.repeat(32);

class ModelBranch {
  readonly streams = new Map<string, ModelEvent[]>();
  constructor(
    readonly name: string,
    readonly parent: ModelBranch | undefined = undefined,
    readonly forkVersion = Number.POSITIVE_INFINITY,
  ) {}

  path(): [ModelBranch, number][] {
    return pathOf<ModelBranch>(this);
  }

  forkAt(name: string, version: number): ModelBranch {
    const child = new ModelBranch(name, this, version);
    for (const [s, es] of this.streams) {
      const kept = es.filter((e) => e.version <= version);
      if (kept.length > 0) child.streams.set(s, kept);
    }
    return child;
  }

  at(stream: string, version: number): ModelEvent[] {
    return (this.streams.get(stream) ?? []).filter((e) => e.version <= version);
  }

  /** Appends one event as the database would; returns it. */
  append(
    stream: string,
    type: string,
    data: Data,
    timestamp: number,
    version: number,
    origin?: string,
  ): ModelEvent {
    let es = this.streams.get(stream);
    if (es === undefined) {
      es = [];
      this.streams.set(stream, es);
    }
    const last = es[es.length - 1];
    const ts = last === undefined || timestamp > last.timestamp ? timestamp : last.timestamp;
    const seq = es.length;
    const e: ModelEvent = {
      seq,
      type,
      data,
      version,
      timestamp: ts,
      hash: chainHex(seq, type, ts, data, origin, last?.hash ?? ZERO),
      ...(origin === undefined ? {} : { origin }),
    };
    es.push(e);
    return e;
  }
}

function mergeBase(a: ModelBranch, b: ModelBranch, now: number): { branch: ModelBranch; version: number } {
  const pb = new Map(b.path().map(([x, cap]) => [x, cap]));
  for (const [x, capA] of a.path()) {
    const capB = pb.get(x);
    if (capB !== undefined) return { branch: x, version: Math.min(capA, capB, now) };
  }
  throw new Error('no common ancestor');
}

const ident = (e: ModelEvent): string => e.origin ?? e.hash;

/** Applies the merge rule to the model; returns the events it copies, per stream. */
function modelMerge(
  target: ModelBranch,
  source: ModelBranch,
  base: { branch: ModelBranch; version: number },
  now: number,
): [string, ModelEvent[]][] {
  const out: [string, ModelEvent[]][] = [];
  for (const stream of [...source.streams.keys()].sort()) {
    const s = source.at(stream, now);
    const b = base.branch.at(stream, base.version);
    if (s.length <= b.length) continue;
    const t = target.at(stream, now);
    let p = 0;
    while (p < Math.min(t.length, b.length) && t[p]!.hash === b[p]!.hash) p++;
    const held = new Set(t.slice(p).map(ident));
    const copies = s.slice(b.length).filter((e) => !held.has(ident(e)));
    if (copies.length > 0) out.push([stream, copies]);
  }
  return out;
}

function toModel(e: StreamEvent): ModelEvent {
  return { ...e, data: e.data as Data } as ModelEvent;
}

function checkStream(
  b: Branch,
  m: ModelBranch,
  stream: string,
  version: number,
  rnd: SeededRandom,
  where: string,
): void {
  const want = m.at(stream, version);
  const ev = b.events;
  if (want.length === 0) {
    assert.equal(ev.head(stream), undefined, `${where}: no head for ${m.name}/${stream}`);
    return;
  }
  const whole = ev.read(stream, { limit: 100_000 }).map(toModel);
  assert.deepEqual(whole, want, `${where}: ${m.name}/${stream} as of ${version}`);
  assert.deepEqual(
    ev.verify(stream),
    { ok: true, count: want.length },
    `${where}: verify ${m.name}/${stream}`,
  );
  const last = want[want.length - 1]!;
  assert.deepEqual(
    ev.head(stream),
    {
      stream,
      length: want.length,
      lastSeq: last.seq,
      lastTimestamp: last.timestamp,
      lastHash: last.hash,
      version: Math.max(...want.map((e) => e.version)),
    },
    `${where}: head ${m.name}/${stream}`,
  );
  for (let q = 0; q < 3; q++) {
    const t0 = want[0]!.timestamp;
    const span = last.timestamp - t0 + 3;
    const o = {
      ...(rnd.bool() ? { from: rnd.int(want.length + 2) } : {}),
      ...(rnd.bool() ? { to: rnd.int(want.length + 2) } : {}),
      ...(rnd.bool() ? { type: rnd.pick(TYPES) } : {}),
      ...(rnd.bool() ? { since: t0 - 1 + rnd.int(span) } : {}),
      ...(rnd.bool() ? { until: t0 - 1 + rnd.int(span) } : {}),
      ...(rnd.bool() ? { limit: rnd.int(8) } : {}),
      reverse: rnd.bool(),
    };
    let got = want.filter(
      (e) =>
        e.seq >= (o.from ?? 0) &&
        e.seq < (o.to ?? Infinity) &&
        (o.type === undefined || e.type === o.type) &&
        e.timestamp >= (o.since ?? -Infinity) &&
        e.timestamp < (o.until ?? Infinity),
    );
    if (o.reverse) got = got.reverse();
    got = got.slice(0, o.limit ?? 1000);
    assert.deepEqual(
      ev.read(stream, o).map(toModel),
      got,
      `${where}: read ${m.name}/${stream} ${JSON.stringify(o)}`,
    );
  }
}

function checkBranch(db: Strata, m: ModelBranch, rnd: SeededRandom, where: string, full: boolean): void {
  const now = db.version;
  const b = db.branch(m.name);
  const names = STREAMS.filter((s) => m.at(s, now).length > 0).sort();
  assert.deepEqual(
    b.events.streams().map((s) => s.stream),
    names,
    `${where}: streams of ${m.name}`,
  );
  for (const s of full ? STREAMS : [rnd.pick(STREAMS)]) checkStream(b, m, s, now, rnd, where);
  const past = rnd.int(now + 1);
  checkStream(b.at(past), m, rnd.pick(STREAMS), past, rnd, `${where} (as of ${past})`);
}

interface Stats {
  appends: number;
  forks: number;
  merges: number;
  copied: number;
  skipped: number;
  diffs: number;
  compactions: number;
  crashes: number;
}

async function runSeed(seed: number): Promise<Stats> {
  const rnd = new SeededRandom(seed);
  let disk = new SimDisk();
  const clock = new ManualClock(1_000_000);
  const openOn = (d: SimDisk): Promise<Strata> => openSim(d, clock);
  const open = (): Promise<Strata> => openOn(disk);
  let db = await open();
  const branches = new Map<string, ModelBranch>([['main', new ModelBranch('main')]]);
  const merged = new Map<string, number>();
  const st: Stats = {
    appends: 0,
    forks: 0,
    merges: 0,
    copied: 0,
    skipped: 0,
    diffs: 0,
    compactions: 0,
    crashes: 0,
  };
  const pick = (): ModelBranch => [...branches.values()][rnd.int(branches.size)]!;
  const data = (step: number): Data => ({ step, pad: 'p'.repeat(rnd.int(60)) });

  for (let step = 0; step < STEPS; step++) {
    const where = `seed ${seed}, step ${step}`;
    if (rnd.bool(0.7)) clock.advance(rnd.int(3));
    const r = rnd.int(100);
    const m = pick();
    const b = db.branch(m.name);
    if (r < 40) {
      const stream = rnd.pick(STREAMS);
      const type = rnd.pick(TYPES);
      const d = data(step);
      const res = await b.events.append(stream, type, d);
      const e = m.append(stream, type, d, clock.now(), res.version);
      assert.deepEqual(
        res,
        { seq: e.seq, version: e.version, timestamp: e.timestamp, hash: e.hash },
        `${where}: append`,
      );
      st.appends++;
    } else if (r < 48) {
      // A burst of appends that are not awaited one by one.
      const n = 2 + rnd.int(6);
      const calls = Array.from({ length: n }, (_, i) => {
        const stream = rnd.pick(STREAMS);
        const type = rnd.pick(TYPES);
        const d = data(step * 100 + i);
        return { stream, type, d, p: b.events.append(stream, type, d) };
      });
      for (const c of calls) {
        const res = await c.p;
        const e = m.append(c.stream, c.type, c.d, clock.now(), res.version);
        assert.equal(res.hash, e.hash, `${where}: burst append`);
      }
      st.appends += n;
    } else if (r < 54) {
      const [s1, s2] = [rnd.pick(STREAMS), rnd.pick(STREAMS)];
      const [d1, d2] = [data(step), data(step + 0.5)];
      const res = await db.transaction(m.name, (tx) => {
        tx.events.append(s1, 'tx', d1);
        tx.events.append(s2, 'tx', d2);
      });
      m.append(s1, 'tx', d1, clock.now(), res.version);
      m.append(s2, 'tx', d2, clock.now(), res.version);
      st.appends += 2;
    } else if (r < 60 && branches.size < 10) {
      const name = `b${st.forks}`;
      const past = rnd.int(3) === 0;
      const at = past ? rnd.int(db.version + 1) : db.version;
      await b.fork(name, past ? { at } : {});
      branches.set(name, m.forkAt(name, at));
      st.forks++;
    } else if (r < 68 && branches.size > 1) {
      const source = pick();
      if (source === m) continue;
      const now = db.version;
      const last = merged.get(`${m.name}<${source.name}`);
      const base = last !== undefined ? { branch: source, version: last } : mergeBase(source, m, now);
      const plan = modelMerge(m, source, base, now);
      const strategy = rnd.pick(['strict', 'source-wins', 'target-wins'] as const);
      const report = await b.merge(source.name, { strategy });
      const copies = plan.reduce((n, [, es]) => n + es.length, 0);
      assert.equal(report.applied, copies, `${where}: merge ${source.name} → ${m.name} applied`);
      assert.deepEqual(report.conflicts, []);
      for (const [stream, es] of plan)
        for (const e of es) m.append(stream, e.type, e.data, e.timestamp, report.version, ident(e));
      if (copies > 0) merged.set(`${m.name}<${source.name}`, now);
      const newOnSource = STREAMS.reduce((n, s) => {
        const bl = base.branch.at(s, base.version).length;
        return n + Math.max(0, source.at(s, now).length - bl);
      }, 0);
      st.skipped += newOnSource - copies;
      st.copied += copies;
      st.merges++;
    } else if (r < 72 && branches.size > 1) {
      const other = pick();
      const pastView = rnd.int(3) === 0;
      const at = rnd.int(db.version + 1);
      const [om, ov] = pastView ? [m, at] : [other, db.version];
      const got = b.diff(pastView ? b.at(at) : db.branch(other.name)).events;
      const want: { stream: string; added: ModelEvent[]; removed: ModelEvent[] }[] = [];
      for (const stream of [...STREAMS].sort()) {
        const x = m.at(stream, db.version);
        const y = om.at(stream, ov);
        const added: ModelEvent[] = [];
        const removed: ModelEvent[] = [];
        for (let i = 0; i < Math.max(x.length, y.length); i++) {
          if (x[i] !== undefined && y[i] !== undefined && x[i]!.hash === y[i]!.hash) continue;
          if (y[i] !== undefined) added.push(y[i]!);
          if (x[i] !== undefined) removed.push(x[i]!);
        }
        if (added.length + removed.length > 0) want.push({ stream, added, removed });
      }
      assert.deepEqual(
        got.streams.map((s) => ({
          stream: s.stream,
          added: s.added.map(toModel),
          removed: s.removed.map(toModel),
        })),
        want,
        `${where}: ${m.name}.diff(${om.name} at ${ov})`,
      );
      st.diffs++;
    } else if (r < 74) {
      await db.compact();
      st.compactions = Math.max(st.compactions, db.stats().tree.compactions);
    } else if (r < 75) {
      await db.close();
      db = await open();
      for (const mb of branches.values()) checkBranch(db, mb, rnd, `${where} (reopened)`, true);
    } else if (r < 76) {
      const model = MODELS[rnd.int(MODELS.length)]!;
      st.crashes++;
      disk = await crashAndRecover(disk, db, model, new SeededRandom(seed * 1000 + step), openOn, (r) => {
        for (const mb of branches.values())
          checkBranch(r, mb, rnd, `${where} (after a ${model} crash)`, true);
      });
      db = await open();
    } else {
      checkBranch(db, m, rnd, where, false);
    }
  }
  for (const mb of branches.values()) checkBranch(db, mb, rnd, `seed ${seed}, end`, true);
  await db.close();
  return st;
}

describe('event streams against a full-copy model', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: appends, reads, as-of reads, verify, diffs and merges match, through flushes, compactions, reopens and crashes`, async (t) => {
      const s = await runSeed(seed);
      t.diagnostic(JSON.stringify(s));
      assert.ok(s.forks >= 3, 'forks ran');
      assert.ok(s.merges > 3 && s.copied > 0, 'merges copied events');
      assert.ok(s.diffs > 0 && s.compactions > 0, 'diffs and compactions ran');
    });
  }
});
