/**
 * The one error type Strata throws for expected failures. Bugs are assertion failures
 * (see assert.ts), never a StrataError.
 *
 * Errors are recognised by `name` and `code`, not `instanceof`, so two bundled copies of
 * Strata interoperate (use {@link isStrataError}).
 */

/** The closed set of error codes. Adding a code is an API change: document it in docs/errors.md. */
export const ERROR_CODES = [
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
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * For errors raised by a write: whether its commit happened.
 * - `'no'`: nothing was changed, retrying is safe.
 * - `'yes'`: the commit is visible (for example, a buffered commit whose later fsync failed).
 * - `'unknown'`: the commit may or may not be on disk (for example, a strict commit whose fsync
 *   failed); reopen the database and look.
 */
export type Committed = 'yes' | 'no' | 'unknown';

export interface StrataErrorOptions {
  cause?: unknown;
  committed?: Committed;
  /** The object (file) and byte offset of a corruption, when known. */
  object?: string;
  offset?: number;
}

export class StrataError extends Error {
  override readonly name = 'StrataError';
  readonly code: ErrorCode;
  readonly committed: Committed | undefined;
  readonly object: string | undefined;
  readonly offset: number | undefined;

  constructor(code: ErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.committed = options.committed;
    this.object = options.object;
    this.offset = options.offset;
  }

  /** True when repeating the same call could succeed without any other change. */
  get retryable(): boolean {
    return this.code === 'busy' || this.code === 'conflict';
  }
}

/** Recognises a StrataError from any copy of the library. */
export function isStrataError(error: unknown, code?: ErrorCode): error is StrataError {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; code?: unknown };
  if (e.name !== 'StrataError' || typeof e.code !== 'string') return false;
  return code === undefined || e.code === code;
}

/** Shorthand for the most common boundary error. */
export function invalidArgument(message: string): StrataError {
  return new StrataError('invalid_argument', message, { committed: 'no' });
}
