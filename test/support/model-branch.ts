/** What the branch model suites share about their model branches. */

/** A model branch: its parent and the parent's version it was forked at. */
export interface ForkedFrom<B> {
  readonly parent: B | undefined;
  readonly forkVersion: number;
}

/** The branch and its ancestors, each with the version cap a read from the branch has on it. */
export function pathOf<B extends ForkedFrom<B>>(branch: B): [B, number][] {
  const out: [B, number][] = [];
  let cap = Number.POSITIVE_INFINITY;
  for (let b: B | undefined = branch; b !== undefined; b = b.parent) {
    out.push([b, cap]);
    cap = Math.min(cap, b.forkVersion);
  }
  return out;
}
