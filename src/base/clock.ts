/**
 * Injected time, randomness and scheduling. The core never calls Date.now, Math.random or
 * timers directly: the simulator swaps these to make every run replayable from a seed.
 */

/** Wall-clock milliseconds since the Unix epoch (may be fractional). */
export interface Clock {
  now(): number;
}

/** A cancel handle for scheduled work. */
export interface Scheduled {
  cancel(): void;
}

/** Runs background work (periodic sync, checkpoints) at a later time. */
export interface Scheduler {
  /** Calls `fn` once, about `delayMs` from now. */
  after(delayMs: number, fn: () => void): Scheduled;
  /**
   * Calls `fn` once the current burst of work yields to the event loop (Node: setImmediate).
   * Used to gather many commits into one write without adding a timer's delay.
   */
  soon(fn: () => void): void;
}

/** A seeded or platform source of random 32-bit values. */
export interface Random {
  /** A uniformly random unsigned 32-bit integer. */
  u32(): number;
}

/**
 * Deterministic PRNG (SplitMix32 into xoshiro128**): fast, good quality, and replayable from a
 * 32-bit seed. Used by tests, the simulator and benchmarks.
 */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }

  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.u32() / 0x1_0000_0000;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  bool(p = 0.5): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from empty list');
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A clock the test or simulator moves by hand. */
export class ManualClock implements Clock {
  constructor(private t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}

/** A scheduler that runs nothing until the test says so; used by the simulator. */
export class ManualScheduler implements Scheduler {
  private queue: { at: number; fn: () => void; live: boolean }[] = [];
  constructor(private readonly clock: ManualClock) {}

  after(delayMs: number, fn: () => void): Scheduled {
    const item = { at: this.clock.now() + delayMs, fn, live: true };
    this.queue.push(item);
    return {
      cancel: () => {
        item.live = false;
      },
    };
  }

  soon(fn: () => void): void {
    this.after(0, fn);
  }

  /** Advances the clock by `ms`, running every task that comes due, in time order. */
  advance(ms: number): void {
    const until = this.clock.now() + ms;
    for (;;) {
      this.queue = this.queue.filter((q) => q.live);
      this.queue.sort((x, y) => x.at - y.at);
      const next = this.queue[0];
      if (next === undefined || next.at > until) break;
      this.queue.shift();
      if (next.at > this.clock.now()) this.clock.set(next.at);
      next.fn();
    }
    this.clock.set(until);
  }

  get pending(): number {
    return this.queue.filter((q) => q.live).length;
  }
}
