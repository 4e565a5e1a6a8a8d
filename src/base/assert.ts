/**
 * Assertions state invariants. A failed assertion is a bug in Strata, never bad input: bad input
 * gets a StrataError with code `invalid_argument` at the boundary.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
