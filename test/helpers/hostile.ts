/**
 * A hostile-input harness for decoders (STYLE.md: "every decoder treats its input as hostile").
 * It feeds a decoder every truncation of a golden encoding, every single-bit flip of it, random
 * mutations of it, and random byte strings, and fails when the decoder throws anything but its
 * documented error or accepts what it must reject. Hangs are caught by the test's timeout.
 */
import assert from 'node:assert/strict';
import { SeededRandom, toHex } from '../../src/base/index.js';

/** What a decoder made of its input: accepted it, or returned its "bad" result. */
export type Outcome = 'ok' | 'bad';

export interface HostileOptions {
  /** Seed for the random inputs, so a failure replays. */
  seed: number;
  /**
   * True when the format is checksummed over every byte, so that every single-bit flip must be
   * rejected. Decoders of unchecked payloads (the frame checks them) may accept a flip.
   */
  flipsRejected: boolean;
  /** The error type the decoder documents throwing for bad input, if any (e.g. ValueDecodeError). */
  allowedError?: (error: unknown) => boolean;
  /** How many random byte strings and random mutations to try (each). */
  randomCount?: number;
  /** Makes a random input; defaults to random bytes of random length up to twice the golden's. */
  randomInput?: (rnd: SeededRandom, golden: Uint8Array) => Uint8Array;
}

export interface HostileStats {
  truncations: number;
  flips: number;
  mutations: number;
  randoms: number;
  accepted: number;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Runs `decode` on `input`; a documented error counts as 'bad', anything else fails the test. */
function run(
  label: string,
  what: string,
  input: Uint8Array,
  decode: (bytes: Uint8Array) => Outcome,
  allowedError: ((error: unknown) => boolean) | undefined,
): Outcome {
  try {
    return decode(input);
  } catch (error) {
    if (allowedError?.(error)) return 'bad';
    assert.fail(`${label}: ${what} threw ${describeError(error)} for input ${toHex(input)}`);
  }
}

function mutate(rnd: SeededRandom, golden: Uint8Array): Uint8Array {
  let b = Array.from(golden);
  const edits = 1 + rnd.int(4);
  for (let e = 0; e < edits; e++) {
    const at = rnd.int(b.length + 1);
    switch (rnd.int(6)) {
      case 0:
        if (at < b.length) b[at] = rnd.u32() & 0xff;
        break;
      case 1:
        if (at < b.length) b[at] = rnd.bool() ? 0 : 0xff;
        break;
      case 2:
        b.splice(at, 0, rnd.u32() & 0xff);
        break;
      case 3:
        b.splice(at, 1 + rnd.int(4));
        break;
      case 4:
        b = [...b.slice(0, at), ...b.slice(at, at + 1 + rnd.int(8)), ...b.slice(at)];
        break;
      default:
        if (at < b.length) b[at] = (b[at]! + (rnd.bool() ? 1 : -1)) & 0xff;
    }
  }
  return Uint8Array.from(b);
}

/**
 * Checks that `decode` accepts `golden`, rejects every truncation of it, rejects every bit flip
 * (when `flipsRejected`), and survives random mutations and random bytes without an undocumented
 * exception. `decode` may assert on what it accepted (for example, that fields are in range).
 */
export function checkHostile(
  label: string,
  golden: Uint8Array,
  decode: (bytes: Uint8Array) => Outcome,
  options: HostileOptions,
): HostileStats {
  const { allowedError } = options;
  const stats: HostileStats = { truncations: 0, flips: 0, mutations: 0, randoms: 0, accepted: 0 };
  assert.equal(
    run(label, 'golden', golden, decode, allowedError),
    'ok',
    `${label}: the golden encoding decodes`,
  );

  // Truncations, both as a copy and as a view whose buffer goes on (a decoder must respect length).
  for (let n = 0; n < golden.length; n++) {
    for (const input of [golden.slice(0, n), golden.subarray(0, n)]) {
      const outcome = run(label, `truncation to ${n} bytes`, input, decode, allowedError);
      assert.equal(outcome, 'bad', `${label}: truncation to ${n} of ${golden.length} bytes is rejected`);
      stats.truncations++;
    }
  }

  for (let bit = 0; bit < golden.length * 8; bit++) {
    const input = golden.slice();
    input[bit >>> 3]! ^= 1 << (bit & 7);
    const outcome = run(label, `flip of bit ${bit}`, input, decode, allowedError);
    if (options.flipsRejected) assert.equal(outcome, 'bad', `${label}: flip of bit ${bit} is rejected`);
    if (outcome === 'ok') stats.accepted++;
    stats.flips++;
  }

  const rnd = new SeededRandom(options.seed);
  const count = options.randomCount ?? 2000;
  for (let i = 0; i < count; i++) {
    const input = mutate(rnd, golden);
    if (run(label, `mutation #${i}`, input, decode, allowedError) === 'ok') stats.accepted++;
    stats.mutations++;
  }
  const makeRandom =
    options.randomInput ?? ((r: SeededRandom, g: Uint8Array) => r.bytes(r.int(g.length * 2 + 2)));
  for (let i = 0; i < count; i++) {
    const input = makeRandom(rnd, golden);
    if (run(label, `random input #${i}`, input, decode, allowedError) === 'ok') stats.accepted++;
    stats.randoms++;
  }
  return stats;
}
