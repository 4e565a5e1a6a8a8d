/**
 * Merging sorted runs of table entries: the heart of every scan and every compaction.
 *
 * Each source (the memtable, an L0 table, a level) yields TableEntry in internal order: key
 * ascending (byte order, which is JS `<` on byte strings), then version descending, so a key's
 * newest version comes first. Versions come from one database-wide counter, so no (key, version)
 * pair appears in two sources and the merge needs no tie-break between sources.
 *
 * The merge is a binary min-heap over the sources' current entries, kept in two parallel arrays
 * (entries and their iterators) so a step allocates nothing of its own: it yields the top, pulls
 * the next entry from the same source into the root and sifts it down. A source that stays ahead
 * (the common case: long runs from one table) costs one or two comparisons per entry. When one
 * source is left, its entries pass straight through.
 *
 * Entries are yielded before their source is advanced, so a source may reuse its entry object
 * from one of its own next() calls to the next; the merge holds only each source's current one.
 */
import { assert } from '../base/index.js';
import type { TableEntry } from '../format/index.js';

/**
 * Merges sources that are each in internal order (key ascending, versions of a key newest first)
 * into one stream in internal order.
 *
 * Requires: every source in internal order, and no (key, version) in two sources (versions are
 * globally unique). Returns: a lazy stream of every entry of every source. Throws: an
 * AssertionError when the output would go out of order (a source out of order, or a repeated
 * (key, version)) — a bug, not bad input. The merge owns its sources once iteration begins:
 * when it stops early (closed by the consumer, or a source throws) it closes every unfinished
 * source (calls its `return`).
 */
export function mergeEntries(sources: readonly Iterator<TableEntry>[]): Generator<TableEntry> {
  return merge(sources, false);
}

/**
 * The same as mergeEntries for sources in reverse key order: keys descending, and the versions
 * of one key still newest first (which is how a reverse scan reads them).
 */
export function mergeEntriesReverse(sources: readonly Iterator<TableEntry>[]): Generator<TableEntry> {
  return merge(sources, true);
}

/**
 * Whether `a` comes before `b`: by key (ascending, or descending when `reverse`), then by
 * version descending. Two relational comparisons rather than `!==` then `<`: keys mostly differ,
 * and then the first one usually decides, where `!==` would scan the shared prefix and `<` scan
 * it again.
 */
function before(a: TableEntry, b: TableEntry, reverse: boolean): boolean {
  const ka = a.key;
  const kb = b.key;
  if (ka < kb) return !reverse;
  if (ka > kb) return reverse;
  return a.version > b.version;
}

/**
 * Moves the entry at `i` down the heap of `size` items until neither child comes before it.
 * Uses a hole instead of swaps: children move up, the entry is written once at the end.
 */
function siftDown(
  entries: TableEntry[],
  iters: Iterator<TableEntry>[],
  size: number,
  i: number,
  reverse: boolean,
): void {
  const entry = entries[i]!;
  const iter = iters[i]!;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= size) break;
    const right = child + 1;
    if (right < size && before(entries[right]!, entries[child]!, reverse)) child = right;
    const childEntry = entries[child]!;
    if (!before(childEntry, entry, reverse)) break;
    entries[i] = childEntry;
    iters[i] = iters[child]!;
    i = child;
  }
  entries[i] = entry;
  iters[i] = iter;
}

function merge(sources: readonly Iterator<TableEntry>[], reverse: boolean): Generator<TableEntry> {
  if (sources.length === 1) return passThrough(sources[0]!, reverse);
  return mergeHeap(sources, reverse);
}

/** One source: checks order as the merge would, without the heap. */
function* passThrough(source: Iterator<TableEntry>, reverse: boolean): Generator<TableEntry> {
  let done = false;
  try {
    let r = source.next();
    if (r.done === true) {
      done = true;
      return;
    }
    let prevKey = r.value.key;
    let prevVersion = r.value.version;
    yield r.value;
    for (;;) {
      r = source.next();
      if (r.done === true) break;
      const e = r.value;
      assertAfter(e, prevKey, prevVersion, reverse);
      prevKey = e.key;
      prevVersion = e.version;
      yield e;
    }
    done = true;
  } finally {
    if (!done) source.return?.();
  }
}

/**
 * Asserts that `e` comes strictly after the previously yielded (prevKey, prevVersion). One
 * comparison per entry; it catches a source out of order and a repeated (key, version), either
 * of which would silently corrupt a compaction's output.
 */
function assertAfter(e: TableEntry, prevKey: string, prevVersion: number, reverse: boolean): void {
  const key = e.key;
  if (reverse ? key < prevKey : key > prevKey) return;
  if (key === prevKey && e.version < prevVersion) return;
  assert(
    false,
    `merge input out of internal order: (${JSON.stringify(key)}, ${e.version}) after (${JSON.stringify(prevKey)}, ${prevVersion})`,
  );
}

function* mergeHeap(sources: readonly Iterator<TableEntry>[], reverse: boolean): Generator<TableEntry> {
  // The heap: entries[i] is the current entry of iters[i]; entries[0] comes first.
  const entries: TableEntry[] = [];
  const iters: Iterator<TableEntry>[] = [];
  let size = 0;
  // Sources not yet exhausted and not yet in the heap, closed if the merge stops early.
  let opening = 0;
  try {
    for (; opening < sources.length; opening++) {
      const source = sources[opening]!;
      const r = source.next();
      if (r.done === true) continue;
      entries.push(r.value);
      iters.push(source);
      size++;
    }
    for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(entries, iters, size, i, reverse);

    let prevKey = '';
    let prevVersion = 0;
    let first = true;
    while (size > 1) {
      const top = entries[0]!;
      if (first) first = false;
      else assertAfter(top, prevKey, prevVersion, reverse);
      prevKey = top.key;
      prevVersion = top.version;
      yield top;
      const r = iters[0]!.next();
      if (r.done === true) {
        // The source is exhausted: the last item fills the root.
        size--;
        entries[0] = entries[size]!;
        iters[0] = iters[size]!;
        entries.length = size;
        iters.length = size;
      } else {
        entries[0] = r.value;
      }
      siftDown(entries, iters, size, 0, reverse);
    }
    if (size === 0) return;

    // One source left: pass it through without the heap.
    const last = iters[0]!;
    let e = entries[0]!;
    for (;;) {
      if (first) first = false;
      else assertAfter(e, prevKey, prevVersion, reverse);
      prevKey = e.key;
      prevVersion = e.version;
      yield e;
      const r = last.next();
      if (r.done === true) break;
      e = r.value;
    }
    size = 0;
  } finally {
    // Stopped early (the consumer closed the stream, or a source or assertion threw): close
    // every source still open so it can release what it holds.
    for (let i = 0; i < size; i++) iters[i]!.return?.();
    for (let i = opening + 1; i < sources.length; i++) sources[i]!.return?.();
  }
}

/**
 * For scans: from an internal-order stream (forward or reverse — either way a key's versions
 * arrive together, newest first), yields per key the newest entry with version <= atVersion and
 * timestamp <= atTimestamp, skipping keys that have none. When that entry is a tombstone it is
 * yielded if `includeTombstones` (the caller filters), else the key is skipped — an older
 * version below a tombstone is never yielded.
 *
 * Requires: the versions of each key contiguous and newest first. Returns: a lazy stream, one
 * entry per visible key, in the stream's key order. Closing it early closes `stream`.
 */
export function newestPerKey(
  stream: Iterator<TableEntry>,
  atVersion: number,
  atTimestamp: number,
  includeTombstones: boolean,
): Generator<TableEntry> {
  assert(!Number.isNaN(atVersion) && !Number.isNaN(atTimestamp), 'read point must be a number');
  return newestPerKeyGen(stream, atVersion, atTimestamp, includeTombstones);
}

function* newestPerKeyGen(
  stream: Iterator<TableEntry>,
  atVersion: number,
  atTimestamp: number,
  includeTombstones: boolean,
): Generator<TableEntry> {
  let done = false;
  // The key whose answer is decided (yielded or skipped); its older versions are passed over.
  let decided: string | undefined;
  try {
    for (;;) {
      const r = stream.next();
      if (r.done === true) break;
      const e = r.value;
      if (e.key === decided) continue;
      if (e.version > atVersion || e.timestamp > atTimestamp) continue;
      decided = e.key;
      if (e.value === null && !includeTombstones) continue;
      yield e;
    }
    done = true;
  } finally {
    if (!done) stream.return?.();
  }
}
