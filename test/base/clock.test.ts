/** Injected randomness and scheduling: SeededRandom replays from a seed; ManualScheduler runs in time order. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, ManualScheduler, SeededRandom } from '../../src/base/index.js';

describe('SeededRandom', () => {
  it('replays the same sequence from the same seed (golden values)', () => {
    const r = new SeededRandom(1);
    assert.deepEqual(
      [r.u32(), r.u32(), r.u32(), r.u32()],
      [2442144158, 3238099751, 3819917871, 2104621829],
      'seed 1 sequence is pinned: changing it changes every recorded simulator seed',
    );
    const a = new SeededRandom(0xdeadbeef);
    const b = new SeededRandom(0xdeadbeef);
    for (let i = 0; i < 1000; i++) assert.equal(a.u32(), b.u32(), `draw ${i} agrees`);
  });

  it('differs between seeds', () => {
    const a = new SeededRandom(1);
    const b = new SeededRandom(2);
    const same = Array.from({ length: 16 }, () => a.u32() === b.u32()).filter(Boolean).length;
    assert.ok(same < 2, 'seeds 1 and 2 give different sequences');
  });

  it('stays in range', () => {
    const r = new SeededRandom(42);
    for (let i = 0; i < 5000; i++) {
      const u = r.u32();
      assert.ok(Number.isInteger(u) && u >= 0 && u <= 0xffffffff, `u32 ${u}`);
      const f = r.float();
      assert.ok(f >= 0 && f < 1, `float ${f}`);
      const n = r.int(7);
      assert.ok(Number.isInteger(n) && n >= 0 && n < 7, `int ${n}`);
    }
    assert.equal(r.bytes(33).length, 33, 'bytes length');
    assert.ok(['a', 'b'].includes(r.pick(['a', 'b'])), 'pick from the list');
    assert.throws(() => r.pick([]), RangeError, 'pick from an empty list');
    assert.equal(typeof r.bool(), 'boolean', 'bool');
  });

  it('is roughly uniform', () => {
    const r = new SeededRandom(99);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) buckets[r.int(10)]!++;
    for (const [i, n] of buckets.entries()) assert.ok(n > 1700 && n < 2300, `bucket ${i} has ${n}`);
  });
});

describe('ManualScheduler', () => {
  it('runs due tasks in time order, ties in scheduling order, and moves the clock', () => {
    const clock = new ManualClock(1000);
    const s = new ManualScheduler(clock);
    const log: string[] = [];
    s.after(30, () => log.push(`c@${clock.now()}`));
    s.after(10, () => log.push(`a@${clock.now()}`));
    s.after(10, () => log.push(`b@${clock.now()}`));
    s.after(100, () => log.push('late'));
    assert.equal(s.pending, 4, 'four pending');
    s.advance(5);
    assert.deepEqual(log, [], 'nothing due after 5 ms');
    assert.equal(clock.now(), 1005, 'clock moved by 5');
    s.advance(25);
    assert.deepEqual(log, ['a@1010', 'b@1010', 'c@1030'], 'due tasks in order, each at its time');
    assert.equal(clock.now(), 1030, 'clock at the end of the window');
    assert.equal(s.pending, 1, 'one left');
  });

  it('runs tasks scheduled by tasks when they fall due in the same window', () => {
    const clock = new ManualClock(0);
    const s = new ManualScheduler(clock);
    const log: number[] = [];
    s.after(10, () => {
      log.push(clock.now());
      s.after(10, () => log.push(clock.now()));
      s.after(1000, () => log.push(-1));
    });
    s.advance(50);
    assert.deepEqual(log, [10, 20], 'the chained task ran at 20');
    assert.equal(s.pending, 1, 'the far task waits');
  });

  it('does not run cancelled tasks', () => {
    const clock = new ManualClock(0);
    const s = new ManualScheduler(clock);
    let ran = false;
    const h = s.after(1, () => {
      ran = true;
    });
    h.cancel();
    assert.equal(s.pending, 0, 'cancelled is not pending');
    s.advance(10);
    assert.equal(ran, false, 'cancelled task did not run');
  });

  it('ManualClock moves by hand', () => {
    const c = new ManualClock(5);
    c.advance(2.5);
    assert.equal(c.now(), 7.5, 'advanced');
    c.set(1);
    assert.equal(c.now(), 1, 'set (may go backwards)');
  });
});
