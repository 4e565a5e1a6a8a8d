/** Seeds for the seeded suites: STRATA_SEED=<n> replays one, STRATA_DEEP=1 runs the long tier. */

/** Whether the long tier runs (STRATA_DEEP=1, `npm run test:deep`). */
export const DEEP = process.env.STRATA_DEEP === '1';

/** The seeds to run: STRATA_SEED alone when set, else `deep` in the long tier, else `normal`. */
export function seeds(normal: readonly number[], deep: readonly number[]): number[] {
  if (process.env.STRATA_SEED !== undefined) return [Number(process.env.STRATA_SEED)];
  return [...(DEEP ? deep : normal)];
}
