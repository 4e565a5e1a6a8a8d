/**
 * Every limit Strata enforces, in one place. Units are last in the names.
 * Documented for users in docs/limits.md; keep the two in step.
 */

/** Largest user key, in UTF-8 bytes. */
export const KEY_SIZE_BYTES_MAX = 4096;
/** Largest encoded value of one write. */
export const VALUE_SIZE_BYTES_MAX = 16 * 1024 * 1024;
/** Largest branch or space name, in UTF-8 bytes. */
export const NAME_SIZE_BYTES_MAX = 255;
/** Largest single WAL frame payload (one commit batch). */
export const FRAME_PAYLOAD_BYTES_MAX = 64 * 1024 * 1024;
/** Most operations in one commit batch. */
export const BATCH_OPS_MAX = 100_000;
/** A WAL segment is rotated once it grows past this size. */
export const WAL_SEGMENT_BYTES_TARGET = 64 * 1024 * 1024;
/** Versions and timestamps are safe integers (or finite numbers for timestamps). */
export const VERSION_MAX = Number.MAX_SAFE_INTEGER;
/** Deepest nesting of a structured value. */
export const VALUE_DEPTH_MAX = 128;
