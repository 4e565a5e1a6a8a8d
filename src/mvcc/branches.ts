/**
 * Branches (L6): the registry of branch records and the ancestry a read walks.
 *
 * A branch B forked from P at (fork version f, fork timestamp t) sees its own rows, then P's rows
 * at or below f and at or before t, then P's parent's rows under both of P's and B's caps, and so
 * on up to main. A fork writes one record (docs/formats/branch-record.md) and copies nothing: its
 * cost does not depend on the data. Storage keys carry the branch id in their first four bytes
 * (internal-key.ts), so an ancestor's row for the same key is the key with the ancestor's id
 * swapped in; `AncestorLink.rebase` does that, caching the rebased keyspace strings so that hot
 * reads on a branch hash no new strings.
 */
import { checkName, StrataError } from '../base/index.js';
import { BRANCH_ID_MAX, type BranchRecord, MAIN_BRANCH_ID } from '../format/index.js';

/** The four-byte branch-id prefix of every storage key of branch `id`. */
export function branchKeyPrefix(id: number): string {
  return String.fromCharCode((id >>> 24) & 0xff, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff);
}

/** The branch id a storage key (or keyspace prefix) belongs to. */
export function branchIdOf(key: string): number {
  return (
    ((key.charCodeAt(0) << 24) | (key.charCodeAt(1) << 16) | (key.charCodeAt(2) << 8) | key.charCodeAt(3)) >>>
    0
  );
}

/** One step of a read's walk up the ancestry: which branch, and the caps on its rows. */
export class AncestorLink {
  readonly prefix: string;
  private readonly rebased = new Map<string, string>();

  constructor(
    readonly id: number,
    readonly name: string,
    readonly versionCap: number,
    readonly timestampCap: number,
  ) {
    this.prefix = branchKeyPrefix(id);
  }

  /** `keyOrKeyspace` (of any branch) with this branch's id in its place; keyspaces are cached. */
  rebase(keyOrKeyspace: string, cache = false): string {
    if (!cache) return this.prefix + keyOrKeyspace.slice(4);
    let out = this.rebased.get(keyOrKeyspace);
    if (out === undefined) {
      out = this.prefix + keyOrKeyspace.slice(4);
      if (this.rebased.size < 1024) this.rebased.set(keyOrKeyspace, out);
    }
    return out;
  }
}

export interface BranchInfo {
  readonly record: BranchRecord;
  /** The version and time of the commit that created it (0 for main). */
  readonly createdVersion: number;
  readonly createdAt: number;
}

const MAIN: BranchInfo = {
  record: {
    id: MAIN_BRANCH_ID,
    parent: 0,
    name: 'main',
    forkVersion: 0,
    forkTimestamp: Number.POSITIVE_INFINITY,
    state: 'live',
    forkedAtNewest: true,
  },
  createdVersion: 0,
  createdAt: 0,
};

const MAIN_WALK: readonly AncestorLink[] = [
  new AncestorLink(MAIN_BRANCH_ID, 'main', Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY),
];

/** Checks a branch name: a non-empty string of at most 255 bytes of valid UTF-8. */
export function checkBranchName(name: unknown): string {
  return checkName(name, 'branch');
}

export class BranchRegistry {
  private readonly byId = new Map<number, BranchInfo>();
  private readonly byName = new Map<string, BranchInfo>();
  /** Names of forks committed but not yet acknowledged: no second fork may take them. */
  private readonly pendingNames = new Set<string>();
  /** Branches whose delete is committed but not yet acknowledged: no second delete may run. */
  private readonly pendingDeletes = new Set<number>();
  private readonly chains = new Map<number, readonly AncestorLink[]>();
  private nextId = MAIN_BRANCH_ID + 1;

  constructor(records: readonly BranchInfo[] = []) {
    this.put(MAIN);
    for (const info of records) {
      this.put(info);
      if (info.record.id >= this.nextId) this.nextId = info.record.id + 1;
    }
    for (const info of records) {
      if (!this.byId.has(info.record.parent)) {
        throw new StrataError(
          'corruption',
          `branch '${info.record.name}' (id ${info.record.id}) names a parent id ${info.record.parent} that has no record`,
        );
      }
    }
  }

  private put(info: BranchInfo): void {
    this.byId.set(info.record.id, info);
    if (info.record.state === 'live') this.byName.set(info.record.name, info);
  }

  /** The live branch named `name`, or undefined. */
  get(name: string): BranchInfo | undefined {
    return this.byName.get(name);
  }

  byIdOrUndefined(id: number): BranchInfo | undefined {
    return this.byId.get(id);
  }

  /** Every branch ever recorded, deleted ones included, main first. */
  all(): BranchInfo[] {
    return [...this.byId.values()].sort((a, b) => a.record.id - b.record.id);
  }

  /** Every live branch, main first, then by creation. */
  list(): BranchInfo[] {
    return [...this.byName.values()].sort((a, b) => a.record.id - b.record.id);
  }

  /** Name of branch `id` (live or not), for history. */
  nameOf(id: number): string {
    return this.byId.get(id)?.record.name ?? `#${id}`;
  }

  /**
   * The walk a read on branch `id` takes: the branch itself (no caps), then each ancestor with
   * the caps of every fork below it. Undefined when the branch reads only its own rows (main).
   */
  ancestry(id: number, allowDeleted = false): readonly AncestorLink[] | undefined {
    if (id === MAIN_BRANCH_ID) return undefined;
    let chain = this.chains.get(id);
    if (chain !== undefined) return chain;
    const self = this.byId.get(id);
    if (self !== undefined && self.record.state !== 'live' && !allowDeleted)
      throw new StrataError('not_found', `branch '${self.record.name}' was deleted`, { committed: 'no' });
    const links: AncestorLink[] = [];
    let info = this.byId.get(id);
    let versionCap = Number.POSITIVE_INFINITY;
    let timestampCap = Number.POSITIVE_INFINITY;
    while (info !== undefined) {
      links.push(new AncestorLink(info.record.id, info.record.name, versionCap, timestampCap));
      if (info.record.id === MAIN_BRANCH_ID) break;
      versionCap = Math.min(versionCap, info.record.forkVersion);
      timestampCap = Math.min(timestampCap, info.record.forkTimestamp);
      info = this.byId.get(info.record.parent);
    }
    chain = links;
    if (self === undefined || self.record.state === 'live') this.chains.set(id, chain);
    return chain;
  }

  /**
   * The walk of branch `id` with main's link included (the full chain, for diff and merge).
   * `allowDeleted` reads a deleted branch's rows too (a merge base may be one: its children keep them).
   */
  walk(id: number, allowDeleted = false): readonly AncestorLink[] {
    return this.ancestry(id, allowDeleted) ?? MAIN_WALK;
  }

  /**
   * Key prefixes (branch ids) of the deleted branches that no live branch descends from: nothing
   * can read their rows any more, so compaction may drop them.
   */
  garbagePrefixes(): string[] {
    const needed = new Set<number>();
    for (const info of this.byName.values()) for (const l of this.walk(info.record.id)) needed.add(l.id);
    const out: string[] = [];
    for (const info of this.byId.values()) {
      if (info.record.state === 'deleted' && !needed.has(info.record.id))
        out.push(branchKeyPrefix(info.record.id));
    }
    return out;
  }

  /** Whether writes to branch `id` are allowed (it exists and is not deleted). */
  isLive(id: number): boolean {
    return this.byId.get(id)?.record.state === 'live';
  }

  /** Inside the delete's commit: the branch must still be live; its name is freed once it lands. */
  claimDelete(id: number): void {
    const info = this.byId.get(id);
    if (info === undefined || info.record.state !== 'live' || this.pendingDeletes.has(id))
      throw new StrataError('not_found', `branch #${id} does not exist`, { committed: 'no' });
    this.pendingDeletes.add(id);
  }

  /** The delete's commit settled: marks the branch deleted (or, on failure, leaves it live). */
  settleDelete(id: number, done: boolean): void {
    this.pendingDeletes.delete(id);
    const info = this.byId.get(id);
    if (!done || info === undefined) return;
    const record: BranchRecord = { ...info.record, state: 'deleted' };
    this.byId.set(id, { ...info, record });
    if (this.byName.get(record.name)?.record.id === id) this.byName.delete(record.name);
    // Children keep their walks (the links hold only ids, names and caps); the branch's own walk goes.
    this.chains.delete(id);
  }

  /** A record for a new fork of live branch `parent` (not yet registered); checks the name. */
  propose(
    name: string,
    parent: number,
    forkVersion: number,
    forkTimestamp: number,
    forkedAtNewest: boolean,
  ): BranchRecord {
    this.checkFree(name);
    if (this.nextId > BRANCH_ID_MAX) throw new StrataError('invalid_argument', 'no branch ids are left');
    return { id: this.nextId++, parent, name, forkVersion, forkTimestamp, state: 'live', forkedAtNewest };
  }

  /** Inside the fork's commit: the name is taken from now on, or throws `conflict`. */
  claim(name: string): void {
    this.checkFree(name);
    this.pendingNames.add(name);
  }

  /** Throws `conflict` when a live branch, or a fork being committed, has `name`. */
  private checkFree(name: string): void {
    if (this.byName.has(name) || this.pendingNames.has(name))
      throw new StrataError('conflict', `a branch named '${name}' already exists`, { committed: 'no' });
  }

  /** The fork's commit settled: registers the branch (or, on failure, frees the name). */
  settle(
    record: BranchRecord,
    created: { version: number; timestamp: number } | undefined,
  ): BranchInfo | undefined {
    this.pendingNames.delete(record.name);
    if (created === undefined) return undefined;
    const info: BranchInfo = { record, createdVersion: created.version, createdAt: created.timestamp };
    this.put(info);
    return info;
  }
}
