/**
 * The events API through `Strata` and `Branch`, on an in-memory database and on durable ones
 * (buffered and strict, MemoryBackend): appends, reads by seq / type / time / limit / reverse,
 * get, head, streams, verify, as-of views, transactions, spaces, diff and merge, un-awaited
 * concurrent appends, tampering found by verify, and bad input for every public method — a typed
 * StrataError and nothing changed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Strata } from '../../src/api/index.js';
import {
  EVENTS_READ_LIMIT_MAX,
  isStrataError,
  KEY_SIZE_BYTES_MAX,
  ManualClock,
  ManualScheduler,
  SeededRandom,
  VALUE_SIZE_BYTES_MAX,
} from '../../src/base/index.js';
import {
  chainHash,
  decodeEventRow,
  EVENTS_TAG,
  type Events,
  encodeEventRow,
  type StreamEvent,
  segment,
  seqKey,
} from '../../src/engine/index.js';
import { rejectsCode, throwsCode } from '../support/errors.js';
import { apiConfigs } from '../support/openers.js';

const CONFIGS = apiConfigs({ realScheduler: true });

/** Every event of a stream, in seq order, through pages of the largest limit. */
function all(events: Events, stream: string): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (;;) {
    const page = events.read(stream, { from: out.length, limit: EVENTS_READ_LIMIT_MAX });
    out.push(...page);
    if (page.length < EVENTS_READ_LIMIT_MAX) return out;
  }
}

/** Overwrites one storage row behind the API's back (what damage on disk would look like). */
async function rawPut(events: Events, key: string, value: Uint8Array | null): Promise<void> {
  await events.storage.commit([{ key: events.keyspace + EVENTS_TAG + key, value }]);
}

const TYPES = ['tool_call', 'result', 'thought'];

for (const [label, open] of CONFIGS) {
  describe(`events API: ${label}`, () => {
    it('append, read, get, head, streams, verify', async () => {
      const { db, clock } = await open();
      const ev = db.branch('main').events;
      assert.deepEqual(ev.streams(), [], 'no streams yet');
      assert.equal(ev.head('run-7'), undefined, 'no head yet');
      const a0 = await ev.append('run-7', 'tool_call', { tool: 'search' });
      assert.equal(a0.seq, 0);
      assert.equal(a0.version, 1);
      assert.equal(a0.timestamp, 1_000);
      assert.match(a0.hash, /^[0-9a-f]{64}$/);
      clock.advance(5);
      const a1 = await ev.append('run-7', 'result', [1, 'two']);
      assert.deepEqual([a1.seq, a1.version, a1.timestamp], [1, 2, 1_005]);
      await ev.append('other', 'x', null);
      const got = ev.read('run-7');
      assert.deepEqual(got, [
        { seq: 0, type: 'tool_call', data: { tool: 'search' }, version: 1, timestamp: 1_000, hash: a0.hash },
        { seq: 1, type: 'result', data: [1, 'two'], version: 2, timestamp: 1_005, hash: a1.hash },
      ]);
      assert.deepEqual(ev.get('run-7', 1), got[1]);
      assert.equal(ev.get('run-7', 2), undefined, 'past the end');
      assert.deepEqual(ev.head('run-7'), {
        stream: 'run-7',
        length: 2,
        lastSeq: 1,
        lastTimestamp: 1_005,
        lastHash: a1.hash,
        version: 2,
      });
      assert.deepEqual(
        ev.streams().map((s) => [s.stream, s.length]),
        [
          ['other', 1],
          ['run-7', 2],
        ],
      );
      assert.deepEqual(
        ev.streams({ prefix: 'ru' }).map((s) => s.stream),
        ['run-7'],
      );
      assert.deepEqual(
        ev.streams({ after: 'other' }).map((s) => s.stream),
        ['run-7'],
      );
      assert.deepEqual(
        ev.streams({ limit: 1 }).map((s) => s.stream),
        ['other'],
      );
      assert.deepEqual(ev.verify('run-7'), { ok: true, count: 2 });
      assert.deepEqual(ev.verify('run-7', { from: 1 }), { ok: true, count: 1 });
      // The chain: the second hash continues from the first.
      const row = decodeEventRow(
        ev.storage.read(`${ev.keyspace + EVENTS_TAG}e${segment('run-7')}${seqKey(1)}`)!,
      );
      assert.ok(row.ok);
      assert.equal(
        Buffer.from(
          chainHash(1, 'result', 1_005, row.value.data, undefined, Buffer.from(a0.hash, 'hex')),
        ).toString('hex'),
        a1.hash,
      );
      await db.close();
    });

    it('read by seq range, type, time range, limit and reverse matches filtering the whole stream', async () => {
      const { db, clock } = await open();
      const ev = db.branch('main').events;
      const rnd = new SeededRandom(5);
      for (let i = 0; i < 150; i++) {
        if (rnd.bool(0.6)) clock.advance(rnd.int(4));
        await ev.append('s', rnd.pick(TYPES), { i });
      }
      const whole = all(ev, 's');
      assert.equal(whole.length, 150);
      for (let i = 1; i < whole.length; i++) assert.ok(whole[i]!.timestamp >= whole[i - 1]!.timestamp);
      const t0 = whole[0]!.timestamp;
      const t1 = whole[whole.length - 1]!.timestamp;
      for (let q = 0; q < 300; q++) {
        const o: Record<string, unknown> = {};
        if (rnd.bool()) o.from = rnd.int(170);
        if (rnd.bool()) o.to = rnd.int(170);
        if (rnd.bool()) o.type = rnd.pick([...TYPES, 'none']);
        if (rnd.bool()) o.since = t0 - 2 + rnd.int(t1 - t0 + 4);
        if (rnd.bool()) o.until = t0 - 2 + rnd.int(t1 - t0 + 4);
        if (rnd.bool()) o.limit = rnd.int(30);
        if (rnd.bool()) o.reverse = rnd.bool();
        let want = whole.filter(
          (e) =>
            e.seq >= ((o.from as number) ?? 0) &&
            e.seq < ((o.to as number) ?? Infinity) &&
            (o.type === undefined || e.type === o.type) &&
            e.timestamp >= ((o.since as number) ?? -Infinity) &&
            e.timestamp < ((o.until as number) ?? Infinity),
        );
        if (o.reverse === true) want = want.reverse();
        want = want.slice(0, (o.limit as number) ?? 1000);
        assert.deepEqual(ev.read('s', o), want, `read ${JSON.stringify(o)}`);
      }
      await db.close();
    });

    it('views as of a past version or timestamp see the stream as it was; writes through them are refused', async () => {
      const { db, clock } = await open();
      const main = db.branch('main');
      const results = [];
      for (let i = 0; i < 10; i++) {
        clock.advance(10);
        results.push(await main.events.append('s', i % 2 === 0 ? 'even' : 'odd', i));
      }
      const v = results[4]!.version;
      const past = main.at(v).events;
      assert.deepEqual(
        past.read('s').map((e) => e.data),
        [0, 1, 2, 3, 4],
      );
      assert.deepEqual(
        past.read('s', { type: 'odd' }).map((e) => e.data),
        [1, 3],
      );
      assert.equal(past.head('s')?.length, 5);
      assert.deepEqual(past.verify('s'), { ok: true, count: 5 });
      const byTime = main.at({ timestamp: results[6]!.timestamp }).events;
      assert.equal(byTime.read('s').length, 7);
      throwsCode(() => main.at(0).events.read('s'), 'not_found', 'the stream did not exist at version 0');
      assert.deepEqual(main.at(0).events.streams(), []);
      const before = db.version;
      await rejectsCode(() => past.append('s', 'x', 1), 'read_only', 'append through a view');
      assert.equal(db.version, before);
      await db.close();
    });

    it('transactions: appends land atomically with other writes; an aborted one leaves no event', async () => {
      const { db } = await open();
      const main = db.branch('main');
      await main.events.append('audit', 'start', 0);
      const r = await db.transaction('main', async (tx) => {
        const n = (tx.kv.get('counter') as number | undefined) ?? 0;
        tx.kv.put('counter', n + 1);
        const a = tx.events.append('audit', 'increment', { n });
        const b = tx.events.append('audit', 'increment', { n: n + 1 });
        assert.deepEqual([a.seq, b.seq], [1, 2]);
        // Its own appends are visible to it, not yet committed (version 0).
        const own = tx.events.read('audit', { from: 1 });
        assert.deepEqual(
          own.map((e) => [e.seq, e.version, e.hash]),
          [
            [1, 0, a.hash],
            [2, 0, b.hash],
          ],
        );
        assert.equal(tx.events.head('audit')?.length, 3);
        assert.deepEqual(tx.events.verify('audit'), { ok: true, count: 3 });
        return a;
      });
      const got = main.events.read('audit');
      assert.deepEqual(
        got.map((e) => [e.seq, e.version]),
        [
          [0, 1],
          [1, r.version],
          [2, r.version],
        ],
      );
      assert.equal(got[1]!.hash, r.value.hash);
      assert.equal(main.kv.get('counter'), 1);
      const before = db.version;
      await assert.rejects(
        db.transaction('main', async (tx) => {
          tx.events.append('audit', 'lost', 1);
          tx.events.append('fresh', 'lost', 1);
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.equal(db.version, before, 'nothing committed');
      assert.equal(main.events.head('audit')?.length, 3);
      assert.equal(main.events.head('fresh'), undefined);
      assert.deepEqual(main.events.verify('audit'), { ok: true, count: 3 });
      await db.close();
    });

    it('concurrent transactions appending to one stream conflict and retry: seqs stay gapless', async () => {
      const { db } = await open();
      const runs = Array.from({ length: 8 }, (_, i) =>
        db.transaction(
          'main',
          async (tx) => {
            const a = tx.events.append('s', 'tx', i);
            await Promise.resolve();
            return a.seq;
          },
          { retries: 20 },
        ),
      );
      const results = await Promise.all(runs);
      assert.deepEqual(
        results.map((r) => r.value).sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7],
      );
      assert.ok(
        results.some((r) => r.retries > 0),
        'some runs lost to a concurrent append and ran again',
      );
      const ev = db.branch('main').events;
      assert.deepEqual(ev.verify('s'), { ok: true, count: 8 });
      assert.deepEqual(
        ev
          .read('s')
          .map((e) => e.data)
          .sort(),
        [0, 1, 2, 3, 4, 5, 6, 7],
      );
      await db.close();
    });

    it('500 un-awaited appends get seqs 0..499, in call order, and a valid chain', async () => {
      const { db } = await open();
      const ev = db.branch('main').events;
      const pending = Array.from({ length: 500 }, (_, i) => ev.append('fast', TYPES[i % 3]!, i));
      const results = await Promise.all(pending);
      assert.deepEqual(
        results.map((r) => r.seq),
        Array.from({ length: 500 }, (_, i) => i),
      );
      const got = all(ev, 'fast');
      assert.deepEqual(
        got.map((e) => e.data),
        Array.from({ length: 500 }, (_, i) => i),
      );
      assert.deepEqual(ev.verify('fast'), { ok: true, count: 500 });
      assert.equal(ev.read('fast', { type: 'result', limit: 1000 }).length, 167);
      await db.close();
    });

    it('spaces keep their streams apart; forks see the parent as of the fork', async () => {
      const { db } = await open();
      const main = db.branch('main');
      await main.events.append('s', 'a', 1);
      await main.space('notes').events.append('s', 'b', 2);
      assert.deepEqual(
        main.events.read('s').map((e) => e.type),
        ['a'],
      );
      assert.deepEqual(
        main
          .space('notes')
          .events.read('s')
          .map((e) => e.type),
        ['b'],
      );
      const fork = await main.fork('f');
      await main.events.append('s', 'after-fork', 3);
      await fork.events.append('s', 'on-fork', 4);
      assert.deepEqual(
        fork.events.read('s').map((e) => [e.seq, e.type]),
        [
          [0, 'a'],
          [1, 'on-fork'],
        ],
      );
      assert.deepEqual(fork.events.verify('s'), { ok: true, count: 2 });
      await db.close();
    });

    it('diff lists, per stream, the events each side has that the other lacks; merge appends the source’s new events', async () => {
      const { db, clock } = await open();
      const main = db.branch('main');
      await main.events.append('s', 'base', 0);
      const b = await main.fork('b');
      clock.advance(10);
      const m1 = await main.events.append('s', 'main', 1);
      clock.advance(10);
      const b1 = await b.events.append('s', 'b', 1);
      const b2 = await b.events.append('s', 'b', 2);
      await b.events.append('only-b', 'x', 0);
      const d = main.diff('b').events;
      assert.deepEqual(
        d.streams.map((s) => [s.stream, s.added.map((e) => e.hash), s.removed.map((e) => e.hash)]),
        [
          ['only-b', [b.events.get('only-b', 0)!.hash], []],
          ['s', [b1.hash, b2.hash], [m1.hash]],
        ],
      );
      const report = await main.merge('b');
      assert.equal(report.applied, 3, 'three events copied');
      assert.deepEqual(report.conflicts, []);
      const s = main.events.read('s');
      assert.deepEqual(
        s.map((e) => [e.seq, e.type, e.data, e.origin]),
        [
          [0, 'base', 0, undefined],
          [1, 'main', 1, undefined],
          [2, 'b', 1, b1.hash],
          [3, 'b', 2, b2.hash],
        ],
      );
      assert.equal(s[2]!.timestamp, b1.timestamp, 'original timestamps kept');
      assert.equal(s[2]!.version, report.version);
      assert.deepEqual(main.events.verify('s'), { ok: true, count: 4 });
      assert.deepEqual(
        main.events.read('only-b').map((e) => e.data),
        [0],
      );
      // Merging back brings main's own event, not the copies of b's (which b holds already).
      const back = await b.merge('main');
      assert.equal(back.applied, 1);
      assert.deepEqual(
        b.events.read('s').map((e) => [e.type, e.data]),
        [
          ['base', 0],
          ['b', 1],
          ['b', 2],
          ['main', 1],
        ],
      );
      assert.deepEqual(b.events.verify('s'), { ok: true, count: 4 });
      // Nothing new on either side: nothing to merge.
      const again = await main.merge('b');
      assert.equal(again.applied, 0);
      assert.equal(main.events.head('s')?.length, 4);
      await db.close();
    });

    it('a copy stamped earlier than the target’s last event takes that event’s timestamp', async () => {
      const { db, clock } = await open();
      const main = db.branch('main');
      await main.events.append('s', 'base', 0);
      const b = await main.fork('b');
      clock.advance(5);
      const early = await b.events.append('s', 'early', 1);
      clock.advance(100);
      const late = await main.events.append('s', 'late', 2);
      await main.merge('b');
      const copy = main.events.get('s', 2)!;
      assert.equal(copy.type, 'early');
      assert.ok(early.timestamp < late.timestamp);
      assert.equal(copy.timestamp, late.timestamp);
      assert.deepEqual(main.events.verify('s'), { ok: true, count: 3 });
      await db.close();
    });

    it('bad input to every method: a typed error and nothing changed', async () => {
      const { db } = await open();
      const main = db.branch('main');
      const ev = main.events;
      await ev.append('s', 't', 1);
      const version = db.version;
      const snapshot = JSON.stringify(ev.read('s'));
      const bad: unknown[] = [undefined, null, 5, {}, '', '\ud800', 'x'.repeat(KEY_SIZE_BYTES_MAX + 1)];
      for (const name of bad) {
        await rejectsCode(
          () => ev.append(name as string, 't', 1),
          'invalid_argument',
          `append stream ${String(name)?.slice(0, 9)}`,
        );
        await rejectsCode(
          () => ev.append('s', name as string, 1),
          'invalid_argument',
          `append type ${String(name)?.slice(0, 9)}`,
        );
        throwsCode(() => ev.read(name as string), 'invalid_argument', 'read stream');
        throwsCode(() => ev.get(name as string, 0), 'invalid_argument', 'get stream');
        throwsCode(() => ev.head(name as string), 'invalid_argument', 'head stream');
        throwsCode(() => ev.verify(name as string), 'invalid_argument', 'verify stream');
        if (name !== undefined)
          throwsCode(() => ev.read('s', { type: name as string }), 'invalid_argument', 'read type');
      }
      for (const data of [
        undefined,
        () => 1,
        new Date(0),
        { a: undefined },
        1n,
        new Uint8Array(VALUE_SIZE_BYTES_MAX + 1),
      ])
        await rejectsCode(
          () => ev.append('s', 't', data as never),
          'invalid_argument',
          `data ${typeof data}`,
        );
      for (const o of [
        5,
        'x',
        [],
        { from: -1 },
        { from: 1.5 },
        { from: '1' },
        { to: Number.NaN },
        { since: Number.NaN },
        { until: Number.POSITIVE_INFINITY },
        { since: '1' },
        { limit: -1 },
        { limit: EVENTS_READ_LIMIT_MAX + 1 },
        { limit: 1.5 },
        { reverse: 1 },
        { after: 5 },
        { typ: 'x' },
      ])
        throwsCode(() => ev.read('s', o as never), 'invalid_argument', `read options ${JSON.stringify(o)}`);
      for (const seq of [-1, 1.5, '0', undefined, Number.NaN])
        throwsCode(() => ev.get('s', seq as never), 'invalid_argument', `get seq ${String(seq)}`);
      for (const o of [5, { from: -1 }, { to: 'x' }, { limit: 1 }])
        throwsCode(
          () => ev.verify('s', o as never),
          'invalid_argument',
          `verify options ${JSON.stringify(o)}`,
        );
      for (const o of [5, { prefix: 5 }, { after: null }, { limit: -1 }, { start: 'a' }])
        throwsCode(() => ev.streams(o as never), 'invalid_argument', `streams options ${JSON.stringify(o)}`);
      throwsCode(() => ev.read('missing'), 'not_found', 'read of an unknown stream');
      throwsCode(() => ev.get('missing', 0), 'not_found', 'get of an unknown stream');
      throwsCode(() => ev.verify('missing'), 'not_found', 'verify of an unknown stream');
      await assert.rejects(
        db.transaction('main', (tx) => {
          tx.events.append('s', '', 1);
        }),
        (e: unknown) => isStrataError(e, 'invalid_argument'),
      );
      await assert.rejects(
        db.transaction('main', (tx) => {
          tx.events.read('missing');
        }),
        (e: unknown) => isStrataError(e, 'not_found'),
      );
      assert.equal(db.version, version, 'no commit');
      assert.equal(JSON.stringify(ev.read('s')), snapshot, 'the stream is unchanged');
      assert.deepEqual(ev.verify('s'), { ok: true, count: 1 });
      await db.close();
    });
  });
}

describe('events: damage behind the API’s back is found by verify', () => {
  async function stream(n: number): Promise<{ db: Strata; ev: Events }> {
    const clock = new ManualClock(1_000);
    const db = await Strata.cache({ clock, scheduler: new ManualScheduler(clock) });
    const ev = db.branch('main').events;
    for (let i = 0; i < n; i++) {
      clock.advance(1);
      await ev.append('s', TYPES[i % 3]!, { i });
    }
    return { db, ev };
  }
  const eventKey = (seq: number): string => `e${segment('s')}${seqKey(seq)}`;
  const rowOf = (ev: Events, seq: number) => {
    const d = decodeEventRow(ev.storage.read(ev.keyspace + EVENTS_TAG + eventKey(seq))!);
    assert.ok(d.ok);
    return d.value;
  };

  it('changed data: hash_mismatch at that seq; reads still work', async () => {
    const { ev } = await stream(10);
    const row = rowOf(ev, 4);
    const data = row.data.slice();
    data[data.length - 1]! ^= 1;
    await rawPut(ev, eventKey(4), encodeEventRow({ ...row, data }));
    const r = ev.verify('s');
    assert.equal(r.ok, false);
    assert.ok(
      !r.ok && r.firstBadSeq === 4 && r.problem === 'hash_mismatch' && r.count === 4,
      JSON.stringify(r),
    );
    const v2 = ev.verify('s', { from: 5 });
    assert.deepEqual(
      v2,
      { ok: true, count: 5 },
      'the rest of the chain, from the stored hash of 4, is intact',
    );
    const v3 = ev.verify('s', { to: 4 });
    assert.deepEqual(v3, { ok: true, count: 4 });
  });

  it('a rewritten event with a recomputed hash breaks the next link', async () => {
    const { ev } = await stream(10);
    const row = rowOf(ev, 3);
    const prev = rowOf(ev, 2).hash;
    const data = new Uint8Array([0x04, 0x02]); // the value 1
    const hash = chainHash(3, row.type, row.timestamp, data, undefined, prev);
    await rawPut(ev, eventKey(3), encodeEventRow({ ...row, data, hash }));
    const r = ev.verify('s');
    assert.ok(!r.ok && r.firstBadSeq === 4 && r.problem === 'hash_mismatch', JSON.stringify(r));
  });

  it('a missing event, a truncated row, a bad timestamp, index damage and a bad head are each reported', async () => {
    const cases: [string, (ev: Events) => Promise<void>, number, string][] = [
      ['missing event', (ev) => rawPut(ev, eventKey(6), null), 6, 'missing_event'],
      [
        'truncated row',
        async (ev) =>
          rawPut(ev, eventKey(2), ev.storage.read(ev.keyspace + EVENTS_TAG + eventKey(2))!.slice(0, 20)),
        2,
        'damaged_row',
      ],
      [
        'earlier timestamp',
        async (ev) => {
          const row = rowOf(ev, 5);
          await rawPut(ev, eventKey(5), encodeEventRow({ ...row, timestamp: 0 }));
        },
        5,
        'timestamp_order',
      ],
      [
        'missing index row',
        (ev) => rawPut(ev, `t${segment('s')}${segment(TYPES[7 % 3]!)}${seqKey(7)}`, null),
        7,
        'index',
      ],
      [
        'stray index row',
        (ev) => rawPut(ev, `t${segment('s')}${segment('thought')}${seqKey(3)}`, new Uint8Array(0)),
        3,
        'index',
      ],
      ['damaged head', (ev) => rawPut(ev, `h${segment('s')}`, new Uint8Array(3)), 10, 'head'],
      [
        'event past the head',
        (ev) => rawPut(ev, eventKey(10), ev.storage.read(ev.keyspace + EVENTS_TAG + eventKey(9))!),
        10,
        'head',
      ],
      ['missing head', (ev) => rawPut(ev, `h${segment('s')}`, null), 0, 'head'],
    ];
    for (const [what, damage, seq, problem] of cases) {
      const { ev } = await stream(10);
      await damage(ev);
      const r = ev.verify('s');
      assert.ok(!r.ok, `${what}: verify fails`);
      assert.equal(r.problem, problem, `${what}: ${r.reason}`);
      assert.equal(r.firstBadSeq, seq, `${what}: firstBadSeq`);
    }
  });

  it('reads that meet damage throw corruption rather than answer wrong', async () => {
    const { ev } = await stream(10);
    await rawPut(ev, eventKey(6), null);
    throwsCode(() => ev.read('s'), 'corruption', 'a gap in a seq read');
    throwsCode(
      () => ev.read('s', { type: TYPES[0]!, from: 6 }),
      'corruption',
      'an index row without its event',
    );
    throwsCode(() => ev.get('s', 6), 'corruption', 'get of a missing event');
    assert.equal(ev.read('s', { to: 6 }).length, 6, 'the intact part reads');
    await rawPut(ev, `h${segment('s')}`, new Uint8Array(3));
    throwsCode(() => ev.read('s'), 'corruption', 'a damaged head');
    throwsCode(() => ev.streams(), 'corruption', 'a damaged head in streams()');
  });
});
