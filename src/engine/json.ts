/**
 * The JSON-document primitive: documents (any Value) under string keys, read and written by path
 * (json-path.ts), patched with RFC 7386 merge patches, listed, versioned, read as of the past,
 * diffed and merged by path between branches.
 *
 * Storage (docs/formats/json.md, json-rows.ts): a small document is one head row; in a large one
 * every container over 4 KiB keeps its children in chunk rows of at most 4 KiB, so that changing
 * one field rewrites about one chunk whatever the document's size. Every write
 * rewrites the head row, so the head row's versions are the document's versions (history, as-of,
 * getVersioned) and a transaction that reads a document validates against any change to it.
 */
import { binaryToUtf8, invalidArgument, JSON_DOCUMENT_BYTES_MAX, StrataError } from '../base/index.js';
import type { HistoryVersion, ReadPoint, Storage } from '../storage/index.js';
import { type Batch, commitBuilt, Overlay, type Reads, readOnly, View, type Writes } from './context.js';
import { editsBetween, equalValues, type JsonMergeConflict, mergeValues } from './json-merge.js';
import { formatPath, type JsonStep, parsePath } from './json-path.js';
import {
  checkDepth,
  type DocTarget,
  decodeHead,
  deleteAt,
  deleteDoc,
  docOfHead,
  docOfRowKey,
  getIn,
  HEAD_MARK,
  headKey,
  patchAt,
  readAt,
  readDoc,
  setAt,
  writeDoc,
} from './json-rows.js';
import { checkKey, JSON_TAG } from './keys.js';
import { type Commit, type KeyRange, keyRange, type ListOptions } from './kv.js';
import type { MergeConflictReport, PrimitiveMerge, PrimitiveMergeOutput } from './merge.js';
import { encodeValue, type Value } from './value-codec.js';

export { equalValues, mergePatch } from './json-merge.js';
export { formatPath, type JsonStep, parsePath } from './json-path.js';
export { JSON_TAG };

/** A document (or the value at a path of it) with the version and timestamp of the document's last write. */
export interface JsonVersioned {
  value: Value;
  version: number;
  timestamp: number;
}

/** One version of a document, newest first in Json.history. */
export interface JsonHistoryEntry {
  version: number;
  timestamp: number;
  /** The whole document as of this version; absent when this version deleted it. */
  value?: Value;
  deleted: boolean;
  /** The branch that wrote this version: this branch, or an ancestor it inherited the document from. */
  branch: string;
}

/** How the documents of one branch (or point) differ from another's: see Json.diff. */
export interface JsonDiff {
  /** Documents only the other side has. */
  added: { key: string; value: Value }[];
  /** Documents only this side has. */
  removed: { key: string; value: Value }[];
  /** Documents both have, with different contents; `paths` lists where they differ. */
  changed: { key: string; from: Value; to: Value; paths: string[] }[];
}

/** Which documents list and keys return: like KV's list options, over document keys. */
export type JsonListOptions = ListOptions;

/** What Json.delete resolves to: the commit, and whether anything was there to delete. */
export type JsonDeleteResult = Commit & { deleted: boolean };

function what(key: string): string {
  return `document '${key.length > 200 ? `${key.slice(0, 200)}…` : key}'`;
}

/** Checks a value for a write and encodes it. */
function encodeForWrite(value: unknown, steps: readonly JsonStep[], key: string): Uint8Array {
  const bytes = encodeValue(value, 'value');
  if (bytes.length > JSON_DOCUMENT_BYTES_MAX)
    throw invalidArgument(
      `the value is ${bytes.length} bytes encoded, more than the document limit of ${JSON_DOCUMENT_BYTES_MAX}`,
    );
  checkDepth(steps, value as Value, what(key));
  return bytes;
}

/**
 * JSON documents of one keyspace (a branch's space). Reads are synchronous and see the newest
 * visible version, or the read point given at construction (a read-only view as of the past);
 * every read of one call sees one version. Writes resolve when the commit is visible and as
 * durable as the mode promises; each is built at the moment its commit is ordered, so concurrent
 * writes to different paths of one document all land.
 */
export class Json {
  /** The JSON rows' key prefix: keyspace | JSON_TAG. */
  private readonly base: string;

  /** @internal */
  constructor(
    readonly storage: Storage,
    readonly keyspace: string,
    readonly at?: ReadPoint,
  ) {
    this.base = keyspace + JSON_TAG;
  }

  private view(): View {
    return new View(this.storage, this.at);
  }

  private target(w: Writes, key: string): DocTarget {
    return { w, base: this.base, doc: checkKey(key), what: what(key) };
  }

  /**
   * Sets `value` at `path` of document `key`. `$` creates or replaces the document. Below `$`,
   * the document and the path's parent must exist (`not_found`: set does not create parents —
   * patch does); `.name` sets a member of an object, `[n]` replaces element n of an array or,
   * with n equal to its length, appends (`invalid_argument` for a parent of the wrong kind or an
   * index past the end). Rejects with `invalid_argument` for a bad key, path or value, or past
   * the limits (docs/limits.md); nothing is written then.
   */
  set(key: string, path: string, value: Value): Promise<Commit> {
    try {
      this.checkWrite();
      checkKey(key);
      const steps = parsePath(path);
      const bytes = encodeForWrite(value, steps, key);
      return commitBuilt(this.storage, (b) => setAt(this.target(b, key), steps, value, bytes)).then(
        ({ commit }) => ({ version: commit.version, timestamp: commit.timestamp }),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Applies an RFC 7386 merge patch to document `key` (or to the value at `path` of it): object
   * members of the patch merge into an object (null removes a member), anything else replaces.
   * A missing document is patched as `{}`; below `$`, the path's parent must exist.
   */
  patch(key: string, patch: Value, path = '$'): Promise<Commit> {
    try {
      this.checkWrite();
      checkKey(key);
      const steps = parsePath(path);
      encodeForWrite(patch, steps, key);
      return commitBuilt(this.storage, (b) => patchAt(this.target(b, key), steps, patch)).then(
        ({ commit }) => ({
          version: commit.version,
          timestamp: commit.timestamp,
        }),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Deletes what is at `path` of document `key` (the whole document for `$`, the default): a
   * member, or an array element (the later ones move down one place). A missing document or path
   * is not an error and commits nothing: it resolves with `deleted: false` and the current version.
   */
  delete(key: string, path = '$'): Promise<JsonDeleteResult> {
    try {
      this.checkWrite();
      checkKey(key);
      const steps = parsePath(path);
      return commitBuilt(this.storage, (b) => deleteAt(this.target(b, key), steps)).then(
        ({ result, commit }) => ({
          version: commit.version,
          timestamp: commit.timestamp,
          deleted: result,
        }),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The value at `path` (default `$`, the whole document) of document `key`; undefined when either is missing. */
  get(key: string, path = '$'): Value | undefined {
    const doc = checkKey(key);
    const steps = parsePath(path);
    return readAt(this.view(), this.base, doc, steps, what(key));
  }

  /** As get, with the version and timestamp of the document's last write. */
  getVersioned(key: string, path = '$'): JsonVersioned | undefined {
    const doc = checkKey(key);
    const steps = parsePath(path);
    return versioned(this.view(), this.base, doc, steps, key);
  }

  /** Every version of document `key`, newest first, deletes included, each with the whole document. */
  history(key: string): JsonHistoryEntry[] {
    const doc = checkKey(key);
    const v = this.view();
    return historyOf(this.storage, v.history(headKey(this.base, doc)), this.base, doc, key);
  }

  /**
   * Documents with their contents, in key order (or reversed); a range is [start, end). Options
   * are checked when list is called, so bad input throws `invalid_argument` here.
   */
  list(options: JsonListOptions = {}): Generator<[string, Value]> {
    const range = listRange(this.base, options);
    return listDocs(this.view(), this.base, range);
  }

  /** Document keys only (no document is read), in key order (or reversed); options as for list. */
  keys(options: JsonListOptions = {}): Generator<string> {
    const range = listRange(this.base, options);
    return listKeys(this.view(), this.base, range);
  }

  /**
   * How `other` (the same space on another branch, or this branch at another point) differs
   * from this: documents added, removed and changed (with both documents and the changed paths),
   * in key order. Its cost follows the rows the two sides changed, plus reading the documents
   * involved.
   */
  diff(other: Json): JsonDiff {
    const out: JsonDiff = { added: [], removed: [], changed: [] };
    const docs = new Set<string>();
    for (const d of this.storage.diff(this.base, this.at, other.base, other.at)) {
      const doc = docOfRowKey(d.key);
      if (doc === undefined) throw new StrataError('corruption', 'a JSON row key is damaged');
      docs.add(doc);
    }
    const mine = this.view();
    const theirs = new View(other.storage, other.at);
    for (const doc of [...docs].sort()) {
      const key = binaryToUtf8(doc);
      const from = readDoc(mine, this.base, doc, what(key));
      const to = readDoc(theirs, other.base, doc, what(key));
      if (equalValues(from, to)) continue;
      if (from === undefined) out.added.push({ key, value: to! });
      else if (to === undefined) out.removed.push({ key, value: from });
      else out.changed.push({ key, from, to, paths: editsBetween(from, to).map((e) => formatPath(e.steps)) });
    }
    return out;
  }

  private checkWrite(): void {
    if (this.at !== undefined) throw readOnly();
  }
}

/**
 * JSON documents inside a transaction: reads see the transaction's snapshot and its own writes
 * (a document read is validated at commit as a whole); writes are buffered and land with the
 * transaction's commit. Semantics and errors as Json's.
 */
export class TxJson {
  private readonly base: string;

  /** @internal */
  constructor(
    readonly batch: Batch,
    readonly keyspace: string,
  ) {
    this.base = keyspace + JSON_TAG;
  }

  private target(key: string): DocTarget {
    return { w: this.batch, base: this.base, doc: checkKey(key), what: what(key) };
  }

  /** As Json.set, when the transaction commits. */
  set(key: string, path: string, value: Value): void {
    checkKey(key);
    const steps = parsePath(path);
    const bytes = encodeForWrite(value, steps, key);
    setAt(this.target(key), steps, value, bytes);
  }

  /** As Json.patch, when the transaction commits. */
  patch(key: string, patch: Value, path = '$'): void {
    checkKey(key);
    const steps = parsePath(path);
    encodeForWrite(patch, steps, key);
    patchAt(this.target(key), steps, patch);
  }

  /** As Json.delete, when the transaction commits; returns whether there was anything to delete. */
  delete(key: string, path = '$'): boolean {
    checkKey(key);
    return deleteAt(this.target(key), parsePath(path));
  }

  get(key: string, path = '$'): Value | undefined {
    const doc = checkKey(key);
    return readAt(this.batch, this.base, doc, parsePath(path), what(key));
  }

  /** As Json.getVersioned; a document this transaction wrote has version 0 (not committed yet). */
  getVersioned(key: string, path = '$'): JsonVersioned | undefined {
    const doc = checkKey(key);
    return versioned(this.batch, this.base, doc, parsePath(path), key);
  }

  /** Committed versions of the document as of the snapshot (not this transaction's writes). */
  history(key: string): JsonHistoryEntry[] {
    const doc = checkKey(key);
    return historyOf(this.batch.storage, this.batch.history(headKey(this.base, doc)), this.base, doc, key);
  }

  list(options: JsonListOptions = {}): Generator<[string, Value]> {
    return listDocs(this.batch, this.base, listRange(this.base, options));
  }

  keys(options: JsonListOptions = {}): Generator<string> {
    return listKeys(this.batch, this.base, listRange(this.base, options));
  }
}

function versioned(
  r: Reads,
  base: string,
  doc: string,
  steps: readonly JsonStep[],
  key: string,
): JsonVersioned | undefined {
  const h = r.getVersioned(headKey(base, doc));
  if (h === undefined || h.value === null) return undefined;
  const head = decodeHead(h.value, what(key));
  const value = head.kind === 'inline' ? getIn(head.value, steps) : readAt(r, base, doc, steps, what(key));
  return value === undefined ? undefined : { value, version: h.version, timestamp: h.timestamp };
}

function historyOf(
  storage: Storage,
  versions: HistoryVersion[],
  base: string,
  doc: string,
  key: string,
): JsonHistoryEntry[] {
  return versions.map((v) => {
    if (v.value === null)
      return { version: v.version, timestamp: v.timestamp, deleted: true, branch: v.branch };
    const head = decodeHead(v.value, what(key));
    // A split document is rebuilt from its node rows as they were at this version.
    const value =
      head.kind === 'inline'
        ? head.value
        : docOfHead(new View(storage, { version: v.version }), base, doc, head, what(key));
    return { version: v.version, timestamp: v.timestamp, value, deleted: false, branch: v.branch };
  });
}

interface ListRange extends KeyRange {
  /** Where the document key starts in a head row key. */
  skip: number;
}

/** KV's list options over the head rows: one per document. */
function listRange(base: string, options: JsonListOptions): ListRange {
  const heads = base + HEAD_MARK;
  return { ...keyRange(heads, options), skip: heads.length };
}

function* listDocs(r: Reads, base: string, range: ListRange): Generator<[string, Value]> {
  if (range.limit === 0 || range.start >= range.end) return;
  let n = 0;
  for (const [k, v] of r.scan(range.start, range.end, range.reverse)) {
    const doc = k.slice(range.skip);
    const key = binaryToUtf8(doc);
    yield [key, docOfHead(r, base, doc, decodeHead(v.value!, what(key)), what(key))];
    if (++n >= range.limit) return;
  }
}

function* listKeys(r: Reads, _base: string, range: ListRange): Generator<string> {
  if (range.limit === 0 || range.start >= range.end) return;
  let n = 0;
  for (const [k] of r.scan(range.start, range.end, range.reverse)) {
    yield binaryToUtf8(k.slice(range.skip));
    if (++n >= range.limit) return;
  }
}

/**
 * JSON by path: for each document the source changed since the merge base, the three versions
 * are merged path by path (json-merge.ts mergeValues): changes to different paths combine; one
 * path changed differently on both sides is a conflict reported with its path. What changes on
 * the target is written as edits by path, so a merge into a large document rewrites only what
 * changed. `applied` counts documents.
 */
export const mergeJson: PrimitiveMerge = (input) => {
  const out: PrimitiveMergeOutput = { ops: [], applied: 0, conflicts: [] };
  const base = input.keyspace + JSON_TAG;
  const docs = new Set<string>();
  for (const row of input.rows) {
    const doc = docOfRowKey(row.key.slice(base.length));
    if (doc === undefined) throw new StrataError('corruption', 'a JSON row key is damaged');
    docs.add(doc);
  }
  const overlay = new Overlay(input.target);
  for (const doc of [...docs].sort()) {
    const key = binaryToUtf8(doc);
    const w = what(key);
    const b = readDoc(input.base, base, doc, w);
    const s = readDoc(input.source, base, doc, w);
    const t = readDoc(input.target, base, doc, w);
    if (equalValues(s, t)) continue;
    const conflicts: JsonMergeConflict[] = [];
    const merged = mergeValues(b, s, t, input.strategy, conflicts);
    for (const c of conflicts) out.conflicts.push(conflictReport(input.space, key, c));
    if ((input.strategy === 'strict' && conflicts.length > 0) || equalValues(merged, t)) continue;
    const target: DocTarget = { w: overlay, base, doc, what: w };
    if (merged === undefined) deleteDoc(target);
    else if (t === undefined) writeDoc(target, merged, encodeValue(merged));
    else {
      for (const e of editsBetween(t, merged)) {
        if (e.value === undefined) deleteAt(target, e.steps);
        else setAt(target, e.steps, e.value, encodeValue(e.value));
      }
    }
    out.applied++;
  }
  out.ops = overlay.ops();
  return out;
};

function conflictReport(space: string, key: string, c: JsonMergeConflict): MergeConflictReport {
  return {
    space,
    primitive: 'json',
    key,
    path: formatPath(c.steps),
    ...(c.base === undefined ? {} : { base: c.base }),
    ...(c.source === undefined ? {} : { source: c.source }),
    ...(c.target === undefined ? {} : { target: c.target }),
  };
}
