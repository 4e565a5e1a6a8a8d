/** StrataError: recognised by name across bundled copies; a closed set of codes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AssertionError,
  assert as check,
  ERROR_CODES,
  invalidArgument,
  isStrataError,
  StrataError,
  unreachable,
} from '../../src/base/index.js';

describe('StrataError', () => {
  it('has exactly the documented codes (adding one is an API change)', () => {
    assert.deepEqual(
      [...ERROR_CODES],
      [
        'not_found',
        'conflict',
        'invalid_argument',
        'corruption',
        'io',
        'closed',
        'busy',
        'history_unavailable',
        'no_space',
        'read_only',
      ],
      'the closed set of codes',
    );
    assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length, 'no duplicates');
  });

  it('carries code, committed, object, offset and cause', () => {
    const cause = new Error('disk');
    const e = new StrataError('corruption', 'bad', {
      cause,
      committed: 'unknown',
      object: 'wal/x',
      offset: 7,
    });
    assert.equal(e.name, 'StrataError', 'name');
    assert.equal(e.code, 'corruption', 'code');
    assert.equal(e.committed, 'unknown', 'committed');
    assert.equal(e.object, 'wal/x', 'object');
    assert.equal(e.offset, 7, 'offset');
    assert.equal(e.cause, cause, 'cause');
    assert.equal(e.message, 'bad', 'message');
    assert.ok(e instanceof Error, 'an Error');
    const plain = new StrataError('io', 'x');
    assert.equal(plain.committed, undefined, 'committed defaults to undefined');
    assert.equal('cause' in plain, false, 'no cause property without a cause');
  });

  it('is retryable only for busy and conflict', () => {
    for (const code of ERROR_CODES) {
      const expected = code === 'busy' || code === 'conflict';
      assert.equal(new StrataError(code, 'x').retryable, expected, `retryable of ${code}`);
    }
  });

  it('invalidArgument is invalid_argument with committed "no"', () => {
    const e = invalidArgument('nope');
    assert.ok(isStrataError(e, 'invalid_argument'), 'code');
    assert.equal(e.committed, 'no', 'committed');
  });
});

describe('isStrataError', () => {
  it('recognises errors by name and code, not instanceof, so copies interoperate', () => {
    // A StrataError from another bundled copy of the library: same name, different class.
    class OtherCopyError extends Error {
      override readonly name = 'StrataError';
      constructor(readonly code: string) {
        super('from another copy');
      }
    }
    const other = new OtherCopyError('conflict');
    assert.equal(other instanceof StrataError, false, 'not an instance of this copy');
    assert.ok(isStrataError(other), 'recognised');
    assert.ok(isStrataError(other, 'conflict'), 'recognised with its code');
    assert.equal(isStrataError(other, 'busy'), false, 'another code');
    assert.ok(isStrataError({ name: 'StrataError', code: 'io' }, 'io'), 'a plain object with the shape');
    assert.ok(isStrataError(new StrataError('closed', 'x'), 'closed'), 'this copy');
  });

  it('rejects everything else', () => {
    const others: unknown[] = [
      undefined,
      null,
      'StrataError',
      42,
      new Error('x'),
      new TypeError('x'),
      { name: 'StrataError' },
      { name: 'StrataError', code: 5 },
      { name: 'Error', code: 'io' },
      Object.assign(new Error('x'), { code: 'io' }),
    ];
    for (const x of others) assert.equal(isStrataError(x), false, `not a StrataError: ${String(x)}`);
  });
});

describe('assert', () => {
  it('throws AssertionError (a bug), never StrataError', () => {
    assert.throws(
      () => check(false, 'broken'),
      (e: unknown) => e instanceof AssertionError && e.name === 'AssertionError' && e.message === 'broken',
      'assert(false)',
    );
    assert.doesNotThrow(() => check(1, 'fine'), 'assert(truthy)');
    assert.throws(
      () => unreachable('x' as never),
      (e: unknown) => e instanceof AssertionError && !isStrataError(e),
      'unreachable',
    );
  });
});
