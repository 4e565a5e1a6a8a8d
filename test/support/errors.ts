/** Assertions on typed errors, shared by the API and engine tests. */
import assert from 'node:assert/strict';
import { type ErrorCode, isStrataError } from '../../src/base/index.js';

/** Asserts that `fn` throws a StrataError with `code`. */
export function throwsCode(fn: () => unknown, code: ErrorCode, what: string): void {
  assert.throws(
    fn,
    (e: unknown) => {
      assert.ok(isStrataError(e, code), `${what}: expected StrataError '${code}', got ${String(e)}`);
      return true;
    },
    what,
  );
}

/**
 * Asserts that `fn` returns a promise (it must not throw synchronously) that rejects with a
 * StrataError with `code`; invalid input and conflicts must say `committed: 'no'`. Returns the error.
 */
export async function rejectsCode(
  fn: () => Promise<unknown>,
  code: ErrorCode,
  what: string,
): Promise<unknown> {
  let promise: Promise<unknown>;
  try {
    promise = fn();
  } catch (error) {
    assert.fail(`${what}: threw synchronously (${String(error)}) instead of returning a rejected promise`);
  }
  let caught: unknown;
  await assert.rejects(
    promise,
    (e: unknown) => {
      assert.ok(isStrataError(e, code), `${what}: expected StrataError '${code}', got ${String(e)}`);
      if (code === 'invalid_argument' || code === 'conflict')
        assert.equal((e as { committed?: string }).committed, 'no', `${what}: committed 'no'`);
      caught = e;
      return true;
    },
    what,
  );
  return caught;
}
