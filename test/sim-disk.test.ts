import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Backend, type CrashModel, publishTempName, SimDisk } from '../src/backend/index.js';
import {
  concatBytes,
  equalBytes,
  isStrataError,
  SeededRandom,
  toHex,
  utf8Encode,
} from '../src/base/index.js';
import { rejectsWithCode, runBackendConformance } from './backend-conformance.js';

runBackendConformance('SimDisk', async () => {
  const backend = new SimDisk().backend();
  return { backend, cleanup: () => backend.close() };
});

const MODELS: readonly CrashModel[] = ['strict', 'ordered', 'weak', 'hostile'];

function text(s: string): Uint8Array {
  return utf8Encode(s);
}

/** `length` bytes that are never zero and differ per `tag`, so zeros and garbage stand out. */
function chunk(tag: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = ((tag * 37 + i * 11) % 251) + 1;
  return out;
}

function isZero(b: Uint8Array): boolean {
  return b.every((x) => x === 0);
}

/** Number of differing bits between two equally long arrays. */
function bitDistance(a: Uint8Array, b: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]! ^ b[i]!;
    while (x !== 0) {
      bits += x & 1;
      x >>= 1;
    }
  }
  return bits;
}

/** The whole visible state as text, for equality checks between disks. */
function stateOf(disk: SimDisk): string {
  return disk
    .durableNames()
    .map((name) => `${name}=${toHex(disk.visibleBytes(name) ?? new Uint8Array(0))}`)
    .join(';');
}

/** After a crash the visible state is the durable state: same names, fresh handles see them. */
async function assertSettled(disk: SimDisk): Promise<void> {
  const b = disk.backend();
  assert.deepEqual(await b.list(''), disk.durableNames());
  await b.close();
}

async function bytesOf(disk: SimDisk, name: string): Promise<Uint8Array | undefined> {
  const b = disk.backend();
  const got = await b.read(name);
  await b.close();
  return got;
}

/** A disk with `wal/a` durable as `prefix`, plus a live handle. */
async function diskWithSynced(prefix: Uint8Array): Promise<{ disk: SimDisk; b: Backend }> {
  const disk = new SimDisk();
  const b = disk.backend();
  await b.write('wal/a', prefix);
  await b.sync('wal/a');
  return { disk, b };
}

describe('SimDisk handles and steps', () => {
  it('all handles share one disk, and locks across them', async () => {
    const disk = new SimDisk();
    const h1 = disk.backend();
    const h2 = disk.backend();
    await h1.write('fam/x', text('from h1'));
    assert.deepEqual(await h2.read('fam/x'), text('from h1'));
    await h1.lock('locks/db');
    await rejectsWithCode(h2.lock('locks/db'), 'busy');
    await h1.close();
    // Closing an opener drops its locks, as the end of a process does.
    const lock = await h2.lock('locks/db');
    await lock.release();
    await rejectsWithCode(h1.read('fam/x'), 'closed');
  });

  it('counts steps per call: reads one each, rename and delete two, publish four', async () => {
    const disk = new SimDisk();
    const b = disk.backend();
    const expectSteps = async (n: number, run: () => Promise<unknown>) => {
      const before = disk.steps;
      await run();
      assert.equal(disk.steps - before, n);
    };
    await expectSteps(1, () => b.write('fam/x', text('x')));
    await expectSteps(1, () => b.append('fam/x', text('y')));
    await expectSteps(1, () => b.read('fam/x'));
    await expectSteps(1, () => b.readRange('fam/x', 0, 1));
    await expectSteps(1, () => b.size('fam/x'));
    await expectSteps(1, () => b.list('fam/'));
    await expectSteps(1, () => b.sync('fam/x'));
    await expectSteps(2, () => b.rename('fam/x', 'fam/y'));
    await expectSteps(4, () => b.publish('manifest/current', text('m')));
    await expectSteps(2, () => b.delete('fam/y'));
    await expectSteps(1, () => b.delete('fam/missing'));
    await expectSteps(1, () => b.lock('locks/db'));
    // Rejected arguments are not steps: nothing reached the disk.
    await expectSteps(0, () => rejectsWithCode(b.read('BAD'), 'invalid_argument'));
  });

  it('durableNames follows syncs and resolved namespace changes only', async () => {
    const disk = new SimDisk();
    const b = disk.backend();
    await b.write('fam/x', text('x'));
    assert.deepEqual(disk.durableNames(), []);
    assert.deepEqual(disk.visibleBytes('fam/x'), text('x'));
    await b.sync('fam/x');
    assert.deepEqual(disk.durableNames(), ['fam/x']);
    await b.rename('fam/x', 'fam/y');
    assert.deepEqual(disk.durableNames(), ['fam/y']);
    await b.publish('manifest/current', text('m'));
    assert.deepEqual(disk.durableNames(), ['fam/y', 'manifest/current']);
    await b.delete('fam/y');
    assert.deepEqual(disk.durableNames(), ['manifest/current']);
    assert.equal(disk.visibleBytes('fam/y'), undefined);
  });

  it('visibleBytes returns a copy', async () => {
    const disk = new SimDisk();
    await disk.backend().write('fam/x', text('abc'));
    disk.visibleBytes('fam/x')?.fill(0);
    assert.deepEqual(disk.visibleBytes('fam/x'), text('abc'));
  });

  it('rejects bad options and plans', () => {
    assert.throws(
      () => new SimDisk({ capacityBytes: -1 }),
      (e) => isStrataError(e, 'invalid_argument'),
    );
    const disk = new SimDisk();
    assert.throws(
      () => disk.setFaults({ failAt: 0, kind: 'eio' }),
      (e) => isStrataError(e, 'invalid_argument'),
    );
    assert.throws(
      () => disk.crash('gentle' as CrashModel, new SeededRandom(1)),
      (e) => isStrataError(e, 'invalid_argument'),
    );
  });
});

describe('SimDisk crash basics', () => {
  it('invalidates every handle, releases locks, clears faults, keeps counting steps', async () => {
    const disk = new SimDisk();
    const b = disk.backend();
    await b.write('fam/x', text('x'));
    await b.sync('fam/x');
    await b.lock('locks/db');
    disk.setFaults({ failAt: 1, kind: 'eio', continuous: true });
    const steps = disk.steps;
    disk.crash('strict', new SeededRandom(1));
    assert.equal(disk.steps, steps);
    await assert.rejects(b.read('fam/x'), (e: unknown) => {
      assert.ok(isStrataError(e, 'io'), `expected io, got ${String(e)}`);
      assert.match(e.message, /disk crashed/);
      return true;
    });
    await rejectsWithCode(b.write('fam/z', text('z')), 'io');
    // Closing a dead handle is harmless and frees nothing a new opener holds.
    const fresh = disk.backend();
    const lock = await fresh.lock('locks/db');
    await b.close();
    await rejectsWithCode(fresh.lock('locks/db'), 'busy');
    await lock.release();
    assert.deepEqual(await fresh.read('fam/x'), text('x'));
    assert.equal(disk.faultsInjected, 0);
    assert.equal(disk.steps, steps + 3);
  });

  it('changes nothing when nothing is pending, in every model', async () => {
    for (const model of MODELS) {
      for (let seed = 0; seed < 20; seed++) {
        const disk = new SimDisk();
        const b = disk.backend();
        await b.write('fam/x', chunk(1, 100));
        await b.sync('fam/x');
        await b.publish('manifest/current', chunk(2, 50));
        const before = stateOf(disk);
        disk.crash(model, new SeededRandom(seed));
        assert.equal(stateOf(disk), before, `${model} seed ${seed}`);
        await assertSettled(disk);
      }
    }
  });

  it('synced data always survives; unsynced data never damages it', async () => {
    const prefix = chunk(9, 300);
    for (const model of MODELS) {
      for (let seed = 0; seed < 60; seed++) {
        const { disk, b } = await diskWithSynced(prefix);
        await b.append('wal/a', chunk(1, 50));
        await b.append('wal/a', chunk(2, 70));
        await b.write('wal/b', chunk(3, 10));
        disk.crash(model, new SeededRandom(seed));
        const got = await bytesOf(disk, 'wal/a');
        assert.ok(got !== undefined && got.length >= prefix.length, `${model} seed ${seed}`);
        assert.deepEqual(got.subarray(0, prefix.length), prefix, `${model} seed ${seed}`);
        assert.ok(got.length <= prefix.length + 120, `${model} seed ${seed}: too long`);
        await assertSettled(disk);
      }
    }
  });

  it('resolved write+sync, rename, delete and publish are durable in every model', async () => {
    for (const model of MODELS) {
      for (let seed = 0; seed < 30; seed++) {
        const disk = new SimDisk();
        const b = disk.backend();
        await b.write('fam/keep', chunk(1, 40));
        await b.sync('fam/keep');
        await b.write('fam/moved', chunk(2, 40));
        await b.sync('fam/moved');
        await b.rename('fam/moved', 'fam/target');
        await b.write('fam/doomed', chunk(3, 40));
        await b.sync('fam/doomed');
        await b.delete('fam/doomed');
        await b.publish('manifest/current', chunk(4, 40));
        await b.write('fam/unsynced', chunk(5, 40));
        disk.crash(model, new SeededRandom(seed));
        const names = disk.durableNames().filter((n) => n !== 'fam/unsynced');
        assert.deepEqual(names, ['fam/keep', 'fam/target', 'manifest/current'], `${model} seed ${seed}`);
        assert.deepEqual(disk.visibleBytes('fam/keep'), chunk(1, 40));
        assert.deepEqual(disk.visibleBytes('fam/target'), chunk(2, 40));
        assert.deepEqual(disk.visibleBytes('manifest/current'), chunk(4, 40));
      }
    }
  });

  it('a crash inside publish leaves the old or the new contents, never a mix', async () => {
    const base = new SimDisk();
    const b = base.backend();
    const v1 = chunk(1, 64);
    const v2 = chunk(2, 80);
    await b.publish('manifest/current', v1);
    const start = base.steps;
    for (const model of MODELS) {
      const seen = new Map<number, Set<string>>();
      for (let k = 1; k <= 5; k++) {
        for (let seed = 0; seed < 40; seed++) {
          const disk = base.clone();
          const h = disk.backend();
          if (k <= 4) {
            disk.crashAtStep(start + k, model, new SeededRandom(seed));
            await rejectsWithCode(h.publish('manifest/current', v2), 'io');
          } else {
            await h.publish('manifest/current', v2);
            disk.crash(model, new SeededRandom(seed));
          }
          const got = disk.visibleBytes('manifest/current');
          assert.ok(got !== undefined, `${model} step ${k} seed ${seed}: manifest vanished`);
          const which = equalBytes(got, v1) ? 'old' : equalBytes(got, v2) ? 'new' : 'mix';
          assert.notEqual(which, 'mix', `${model} step ${k} seed ${seed}`);
          const set = seen.get(k) ?? new Set<string>();
          set.add(which);
          seen.set(k, set);
          // A leftover temporary object is allowed only once it was written.
          const others = disk.durableNames().filter((n) => n !== 'manifest/current');
          if (k === 1) assert.deepEqual(others, []);
          else if (others.length > 0) assert.deepEqual(others, [publishTempName('manifest/current')]);
        }
      }
      // Before the rename the old contents must survive; after publish resolved, the new ones.
      for (const k of [1, 2, 3]) assert.deepEqual([...seen.get(k)!], ['old'], `${model} step ${k}`);
      assert.deepEqual([...seen.get(5)!], ['new'], model);
      // Crashing before the rename's directory sync may go either way.
      assert.deepEqual([...seen.get(4)!].sort(), ['new', 'old'], `${model} step 4`);
    }
  });
});

describe('SimDisk strict model', () => {
  it('keeps a prefix of whole appends, and every prefix happens', async () => {
    const chunks = [1, 2, 3, 4, 5].map((i) => chunk(i, 10 + i));
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const { disk, b } = await diskWithSynced(new Uint8Array(0));
      for (const c of chunks) await b.append('wal/a', c);
      disk.crash('strict', new SeededRandom(seed));
      const got = disk.visibleBytes('wal/a')!;
      const k = [0, 1, 2, 3, 4, 5].find((n) => equalBytes(got, concatBytes(chunks.slice(0, n))));
      assert.ok(k !== undefined, `seed ${seed}: ${toHex(got)} is not a whole-append prefix`);
      seen.add(k);
    }
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4, 5]);
  });

  it('keeps a prefix in global issue order across objects and directory operations', async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const disk = new SimDisk();
      const b = disk.backend();
      for (const name of ['wal/a', 'wal/b']) {
        await b.write(name, new Uint8Array(0));
        await b.sync(name);
      }
      await b.append('wal/a', chunk(1, 8));
      await b.append('wal/b', chunk(2, 8));
      await b.write('wal/c', chunk(3, 8)); // two operations: the name, then the contents
      await b.append('wal/a', chunk(4, 8));
      await b.append('wal/b', chunk(5, 8));
      disk.crash('strict', new SeededRandom(seed));
      const a = disk.visibleBytes('wal/a')!.length / 8;
      const bl = disk.visibleBytes('wal/b')!.length / 8;
      const c = disk.visibleBytes('wal/c');
      const flags = [a >= 1, bl >= 1, c !== undefined, c !== undefined && c.length === 8, a >= 2, bl >= 2];
      const survived = flags.filter(Boolean).length;
      assert.deepEqual(
        flags,
        flags.map((_, i) => i < survived),
        `seed ${seed}: ${flags.join(',')} is not a prefix`,
      );
      if (c !== undefined && c.length > 0) assert.deepEqual(c, chunk(3, 8));
      seen.add(flags.join(','));
    }
    assert.equal(seen.size, 7, 'every cut point of six operations happens');
  });

  it('applies an interrupted rename atomically: old name or new, never both', async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 60; seed++) {
      const disk = new SimDisk();
      const b = disk.backend();
      await b.write('fam/a', chunk(1, 20));
      await b.sync('fam/a');
      disk.crashAtStep(disk.steps + 2, 'strict', new SeededRandom(seed));
      await rejectsWithCode(b.rename('fam/a', 'fam/b'), 'io');
      const names = disk.durableNames().join(',');
      assert.ok(names === 'fam/a' || names === 'fam/b', names);
      seen.add(names);
    }
    assert.equal(seen.size, 2);
  });
});

describe('SimDisk ordered model', () => {
  it('keeps a byte prefix of the issued data, sometimes tearing an append', async () => {
    const chunks = [1, 2, 3, 4].map((i) => chunk(i, 50));
    const all = concatBytes(chunks);
    let torn = 0;
    let whole = 0;
    for (let seed = 0; seed < 200; seed++) {
      const { disk, b } = await diskWithSynced(new Uint8Array(0));
      for (const c of chunks) await b.append('wal/a', c);
      disk.crash('ordered', new SeededRandom(seed));
      const got = disk.visibleBytes('wal/a')!;
      assert.deepEqual(got, all.subarray(0, got.length), `seed ${seed}`);
      if (got.length % 50 === 0) whole += 1;
      else torn += 1;
    }
    assert.ok(torn > 20 && whole > 20, `torn ${torn}, whole ${whole}`);
  });

  it('never keeps a later operation when an earlier one is missing', async () => {
    for (let seed = 0; seed < 200; seed++) {
      const disk = new SimDisk();
      const b = disk.backend();
      for (const name of ['wal/a', 'wal/b']) {
        await b.write(name, new Uint8Array(0));
        await b.sync(name);
      }
      await b.append('wal/a', chunk(1, 100));
      await b.append('wal/b', chunk(2, 100));
      await b.append('wal/a', chunk(3, 100));
      disk.crash('ordered', new SeededRandom(seed));
      const a = disk.visibleBytes('wal/a')!.length;
      const bl = disk.visibleBytes('wal/b')!.length;
      if (bl > 0) assert.ok(a >= 100, `seed ${seed}: b has ${bl} bytes but a only ${a}`);
      if (a > 100) assert.equal(bl, 100, `seed ${seed}`);
    }
  });
});

/** Classifies each unsynced chunk region after a weak or hostile crash. */
function classifyChunks(
  got: Uint8Array,
  start: number,
  chunks: readonly Uint8Array[],
): ('data' | 'zero' | 'garbage' | 'flipped' | 'absent')[] {
  const out: ('data' | 'zero' | 'garbage' | 'flipped' | 'absent')[] = [];
  let at = start;
  for (const c of chunks) {
    const region = got.subarray(at, at + c.length);
    if (region.length === 0) out.push('absent');
    else {
      // The file ends at an operation boundary: a chunk is all there or not at all.
      assert.equal(region.length, c.length, 'a chunk cut in the middle');
      if (equalBytes(region, c)) out.push('data');
      else if (isZero(region)) out.push('zero');
      else if (bitDistance(region, c) === 1) out.push('flipped');
      else out.push('garbage');
    }
    at += c.length;
  }
  return out;
}

describe('SimDisk weak model', () => {
  it('keeps or drops each chunk independently, with holes of zeros and sizes without data', async () => {
    const prefix = chunk(99, 32);
    const chunks = [1, 2, 3, 4, 5, 6].map((i) => chunk(i, 16));
    let holes = 0;
    let sizeWithoutData = 0;
    let lostFirstKeptLast = 0;
    for (let seed = 0; seed < 300; seed++) {
      const { disk, b } = await diskWithSynced(prefix);
      for (const c of chunks) await b.append('wal/a', c);
      disk.crash('weak', new SeededRandom(seed));
      const got = disk.visibleBytes('wal/a')!;
      assert.deepEqual(got.subarray(0, prefix.length), prefix);
      const kinds = classifyChunks(got, prefix.length, chunks);
      for (const k of kinds)
        assert.ok(k === 'data' || k === 'zero' || k === 'absent', `seed ${seed}: ${kinds}`);
      const lastData = kinds.lastIndexOf('data');
      if (kinds.slice(0, lastData).includes('zero')) holes += 1;
      if (kinds[kinds.length - 1] === 'zero' || (lastData >= 0 && kinds[lastData + 1] === 'zero')) {
        sizeWithoutData += 1;
      }
      if (kinds[0] !== 'data' && kinds[5] === 'data') lostFirstKeptLast += 1;
    }
    assert.ok(holes > 50, `holes ${holes}`);
    assert.ok(sizeWithoutData > 10, `sizes without data ${sizeWithoutData}`);
    assert.ok(lostFirstKeptLast > 10, `reorderings ${lostFirstKeptLast}`);
  });

  it('an interrupted rename may leave the old name, the new name, or both', async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 100; seed++) {
      const disk = new SimDisk();
      const b = disk.backend();
      await b.write('fam/a', chunk(1, 20));
      await b.sync('fam/a');
      disk.crashAtStep(disk.steps + 2, 'weak', new SeededRandom(seed));
      await rejectsWithCode(b.rename('fam/a', 'fam/b'), 'io');
      const names = disk.durableNames();
      assert.ok(names.length >= 1, `seed ${seed}: the object vanished`);
      for (const n of names) assert.deepEqual(disk.visibleBytes(n), chunk(1, 20));
      seen.add(names.join(','));
    }
    assert.deepEqual([...seen].sort(), ['fam/a', 'fam/a,fam/b', 'fam/b']);
  });

  it('objects left by a non-atomic rename are independent afterwards', async () => {
    for (let seed = 0; seed < 40; seed++) {
      const disk = new SimDisk();
      const b = disk.backend();
      await b.write('fam/a', text('same'));
      await b.sync('fam/a');
      disk.crashAtStep(disk.steps + 2, 'weak', new SeededRandom(seed));
      await rejectsWithCode(b.rename('fam/a', 'fam/b'), 'io');
      if (disk.durableNames().length !== 2) continue;
      const h = disk.backend();
      await h.append('fam/a', text('+a'));
      assert.deepEqual(await h.read('fam/b'), text('same'));
      return;
    }
    assert.fail('no seed left both names');
  });

  it('a created object whose name was never synced may vanish', async () => {
    const seen = new Set<boolean>();
    for (let seed = 0; seed < 60; seed++) {
      const disk = new SimDisk();
      const b = disk.backend();
      await b.write('fam/synced', text('s'));
      await b.sync('fam/synced');
      await b.write('fam/new', text('never synced'));
      disk.crash('weak', new SeededRandom(seed));
      assert.ok(disk.durableNames().includes('fam/synced'), `seed ${seed}: a synced object vanished`);
      seen.add(disk.durableNames().includes('fam/new'));
    }
    assert.equal(seen.size, 2);
  });

  it('a delete whose directory sync failed may come undone; a retried delete is durable', async () => {
    const seen = new Set<boolean>();
    for (let seed = 0; seed < 60; seed++) {
      const disk = new SimDisk();
      const b = disk.backend();
      await b.write('fam/d', text('d'));
      await b.sync('fam/d');
      disk.setFaults({ failAt: 1, kind: 'fsync' });
      await rejectsWithCode(b.delete('fam/d'), 'io');
      assert.equal(await b.read('fam/d'), undefined);
      const retried = disk.clone();
      disk.crash('weak', new SeededRandom(seed));
      seen.add(disk.durableNames().includes('fam/d'));
      const h = retried.backend();
      await h.delete('fam/d');
      retried.crash('weak', new SeededRandom(seed));
      assert.deepEqual(retried.durableNames(), []);
    }
    assert.equal(seen.size, 2);
  });
});

describe('SimDisk hostile model', () => {
  it('fills unsynced tails with garbage and flips bits in kept data, never in synced data', async () => {
    const prefix = chunk(99, 64);
    const chunks = [1, 2, 3, 4, 5, 6].map((i) => chunk(i, 24));
    const counts = { data: 0, zero: 0, garbage: 0, flipped: 0, absent: 0 };
    for (let seed = 0; seed < 300; seed++) {
      const { disk, b } = await diskWithSynced(prefix);
      for (const c of chunks) await b.append('wal/a', c);
      disk.crash('hostile', new SeededRandom(seed));
      const got = disk.visibleBytes('wal/a')!;
      assert.deepEqual(got.subarray(0, prefix.length), prefix, `seed ${seed}`);
      for (const k of classifyChunks(got, prefix.length, chunks)) counts[k] += 1;
    }
    for (const k of ['data', 'zero', 'garbage', 'flipped', 'absent'] as const) {
      assert.ok(counts[k] > 10, `${k}: ${JSON.stringify(counts)}`);
    }
  });

  it('weak never produces garbage or flipped bits', async () => {
    const chunks = [1, 2, 3].map((i) => chunk(i, 24));
    for (let seed = 0; seed < 200; seed++) {
      const { disk, b } = await diskWithSynced(new Uint8Array(0));
      for (const c of chunks) await b.append('wal/a', c);
      disk.crash('weak', new SeededRandom(seed));
      for (const k of classifyChunks(disk.visibleBytes('wal/a')!, 0, chunks)) {
        assert.ok(k !== 'garbage' && k !== 'flipped', `seed ${seed}`);
      }
    }
  });
});

describe('SimDisk failed fsync', () => {
  const prefix = chunk(9, 40);
  const lost = chunk(1, 30);
  const later = chunk(2, 20);

  for (const model of MODELS) {
    it(`${model}: lost data reads back until a crash, then reads as zeros under later data`, async () => {
      for (let seed = 0; seed < 20; seed++) {
        const { disk, b } = await diskWithSynced(prefix);
        await b.append('wal/a', lost);
        disk.setFaults({ failAt: 1, kind: 'fsync' });
        await rejectsWithCode(b.sync('wal/a'), 'io');
        assert.equal(disk.faultsInjected, 1);
        // The running process still reads the data the disk will never keep.
        assert.deepEqual(await b.read('wal/a'), concatBytes([prefix, lost]));
        await b.append('wal/a', later);
        await b.sync('wal/a');
        assert.deepEqual(await b.read('wal/a'), concatBytes([prefix, lost, later]));
        disk.crash(model, new SeededRandom(seed));
        assert.deepEqual(disk.visibleBytes('wal/a'), concatBytes([prefix, new Uint8Array(30), later]));
      }
    });

    it(`${model}: lost data with nothing after it is truncated away`, async () => {
      for (let seed = 0; seed < 20; seed++) {
        const { disk, b } = await diskWithSynced(prefix);
        await b.append('wal/a', lost);
        disk.setFaults({ failAt: 1, kind: 'fsync' });
        await rejectsWithCode(b.sync('wal/a'), 'io');
        // Retrying the sync succeeds and still does not bring the data back.
        await b.sync('wal/a');
        disk.crash(model, new SeededRandom(seed));
        assert.deepEqual(disk.visibleBytes('wal/a'), prefix);
      }
    });

    it(`${model}: lost data never reappears, even with later unsynced data`, async () => {
      for (let seed = 0; seed < 40; seed++) {
        const { disk, b } = await diskWithSynced(prefix);
        await b.append('wal/a', lost);
        disk.setFaults({ failAt: 1, kind: 'fsync' });
        await rejectsWithCode(b.sync('wal/a'), 'io');
        await b.append('wal/a', later);
        disk.crash(model, new SeededRandom(seed));
        const got = disk.visibleBytes('wal/a')!;
        assert.deepEqual(got.subarray(0, prefix.length), prefix);
        const region = got.subarray(prefix.length, prefix.length + lost.length);
        assert.ok(isZero(region), `seed ${seed}: lost bytes came back as ${toHex(region)}`);
      }
    });
  }

  it('a failed write-replace keeps only its size under later data', async () => {
    const { disk, b } = await diskWithSynced(prefix);
    await b.write('wal/a', lost);
    disk.setFaults({ failAt: 1, kind: 'fsync' });
    await rejectsWithCode(b.sync('wal/a'), 'io');
    await b.append('wal/a', later);
    await b.sync('wal/a');
    disk.crash('strict', new SeededRandom(1));
    assert.deepEqual(disk.visibleBytes('wal/a'), concatBytes([new Uint8Array(30), later]));
  });

  it('counts only sync steps', async () => {
    const disk = new SimDisk();
    const b = disk.backend();
    disk.setFaults({ failAt: 2, kind: 'fsync' });
    await b.write('fam/x', text('x'));
    await b.sync('fam/x');
    await b.read('fam/x');
    await b.append('fam/x', text('y'));
    await b.list('fam/');
    await rejectsWithCode(b.sync('fam/x'), 'io');
    await b.sync('fam/x');
    assert.equal(disk.faultsInjected, 1);
  });

  it('an eio on sync loses nothing: a later sync makes the data durable', async () => {
    const { disk, b } = await diskWithSynced(prefix);
    await b.append('wal/a', lost);
    disk.setFaults({ failAt: 1, kind: 'eio' });
    await rejectsWithCode(b.sync('wal/a'), 'io');
    await b.sync('wal/a');
    disk.crash('hostile', new SeededRandom(3));
    assert.deepEqual(disk.visibleBytes('wal/a'), concatBytes([prefix, lost]));
  });

  it('a failed directory sync leaves a rename visible but not durable', async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const disk = new SimDisk();
      const b = disk.backend();
      await b.write('fam/a', text('a'));
      await b.sync('fam/a');
      disk.setFaults({ failAt: 1, kind: 'fsync' });
      await rejectsWithCode(b.rename('fam/a', 'fam/b'), 'io');
      assert.deepEqual(await b.list('fam/'), ['fam/b']);
      assert.deepEqual(disk.durableNames(), ['fam/a']);
      disk.crash('strict', new SeededRandom(seed));
      seen.add(disk.durableNames().join(','));
    }
    assert.deepEqual([...seen].sort(), ['fam/a', 'fam/b']);
  });
});

describe('SimDisk eio and no_space faults', () => {
  /** A workload that touches every kind of call, recovery-style reads included. */
  async function workload(b: Backend): Promise<void> {
    await b.list('wal/');
    await b.write('wal/x', text('x'));
    await b.read('wal/x');
    await b.append('wal/x', text('y'));
    await b.sync('wal/x');
    await b.rename('wal/x', 'wal/y');
    await b.readRange('wal/y', 0, 1);
    await b.publish('manifest/current', text('m'));
    await b.size('wal/y');
    await b.delete('wal/y');
    const lock = await b.lock('locks/db');
    await lock.release();
  }

  it('failing the Nth step reaches every step, reads included, then injects nothing', async () => {
    const clean = new SimDisk();
    await workload(clean.backend());
    const total = clean.steps;
    assert.equal(total, 16);
    let n = 1;
    for (; ; n++) {
      const disk = new SimDisk();
      disk.setFaults({ failAt: n, kind: 'eio' });
      let error: unknown;
      try {
        await workload(disk.backend());
      } catch (e) {
        error = e;
      }
      if (disk.faultsInjected === 0) {
        assert.equal(error, undefined);
        break;
      }
      assert.ok(isStrataError(error, 'io'), `step ${n}: ${String(error)}`);
      assert.equal(disk.steps, n, 'the workload stops at the failed step');
      assert.equal(disk.faultsInjected, 1);
    }
    assert.equal(n, total + 1);
  });

  it('a failed step has no effect', async () => {
    const disk = new SimDisk();
    const b = disk.backend();
    await b.write('fam/x', text('old'));
    disk.setFaults({ failAt: 1, kind: 'eio' });
    await rejectsWithCode(b.write('fam/x', text('new contents')), 'io');
    disk.setFaults({ failAt: 1, kind: 'eio' });
    await rejectsWithCode(b.append('fam/x', text('!')), 'io');
    disk.setFaults({ failAt: 1, kind: 'eio' });
    await rejectsWithCode(b.write('fam/y', text('y')), 'io');
    disk.setFaults({ failAt: 1, kind: 'eio' });
    await rejectsWithCode(b.rename('fam/x', 'fam/z'), 'io');
    disk.setFaults({ failAt: 1, kind: 'eio' });
    await rejectsWithCode(b.delete('fam/x'), 'io');
    disk.setFaults({ failAt: 1, kind: 'eio' });
    await rejectsWithCode(b.publish('fam/x', text('published')), 'io');
    disk.setFaults(undefined);
    assert.deepEqual(await b.list('fam/'), ['fam/x']);
    assert.deepEqual(await b.read('fam/x'), text('old'));
  });

  it('fails once by default and every step from failAt on when continuous', async () => {
    const disk = new SimDisk();
    const b = disk.backend();
    await b.write('fam/x', text('x'));
    disk.setFaults({ failAt: 2, kind: 'eio' });
    await b.read('fam/x');
    await rejectsWithCode(b.read('fam/x'), 'io');
    await b.read('fam/x');
    await b.size('fam/x');
    assert.equal(disk.faultsInjected, 1);
    disk.setFaults({ failAt: 2, kind: 'eio', continuous: true });
    await b.read('fam/x');
    await rejectsWithCode(b.read('fam/x'), 'io');
    await rejectsWithCode(b.size('fam/x'), 'io');
    await rejectsWithCode(b.append('fam/x', text('y')), 'io');
    assert.equal(disk.faultsInjected, 4);
    disk.setFaults(undefined);
    assert.deepEqual(await b.read('fam/x'), text('x'));
  });

  it('a due no_space fault waits for the next data step, then stops (once)', async () => {
    const disk = new SimDisk();
    const b = disk.backend();
    await b.write('fam/x', text('x'));
    disk.setFaults({ failAt: 1, kind: 'no_space' });
    await b.read('fam/x');
    await b.sync('fam/x');
    await b.list('fam/');
    await rejectsWithCode(b.append('fam/x', text('y')), 'no_space');
    assert.deepEqual(await b.read('fam/x'), text('x'));
    await b.append('fam/x', text('z'));
    assert.deepEqual(await b.read('fam/x'), text('xz'));
    assert.equal(disk.faultsInjected, 1);
  });

  it('continuous no_space fails every write, append and publish but nothing else', async () => {
    const disk = new SimDisk();
    const b = disk.backend();
    await b.write('fam/x', text('x'));
    disk.setFaults({ failAt: 1, kind: 'no_space', continuous: true });
    await rejectsWithCode(b.write('fam/x', text('new')), 'no_space');
    await rejectsWithCode(b.append('fam/x', text('y')), 'no_space');
    await rejectsWithCode(b.publish('manifest/current', text('m')), 'no_space');
    await b.sync('fam/x');
    await b.rename('fam/x', 'fam/y');
    await b.delete('fam/y');
    assert.deepEqual(await b.list(''), []);
    assert.equal(disk.faultsInjected, 3);
  });

  it('capacityBytes bounds the total visible size', async () => {
    const disk = new SimDisk({ capacityBytes: 100 });
    const b = disk.backend();
    await b.write('fam/a', chunk(1, 60));
    await rejectsWithCode(b.append('fam/a', chunk(2, 50)), 'no_space');
    assert.equal(await b.size('fam/a'), 60);
    await b.write('fam/b', chunk(3, 40));
    await rejectsWithCode(b.write('fam/b', chunk(3, 41)), 'no_space');
    await rejectsWithCode(b.append('fam/c', chunk(4, 1)), 'no_space');
    assert.equal(await b.read('fam/c'), undefined);
    // Replacing, deleting and renaming over an object give space back.
    await b.write('fam/a', chunk(5, 10));
    await b.append('fam/b', chunk(6, 50));
    await b.delete('fam/b');
    await b.write('fam/c', chunk(7, 90));
    await b.rename('fam/c', 'fam/a');
    await rejectsWithCode(b.publish('fam/a', chunk(8, 20)), 'no_space');
    await b.publish('fam/a', chunk(8, 10));
    assert.deepEqual(await b.read('fam/a'), chunk(8, 10));
    assert.equal(disk.faultsInjected, 0, 'capacity refusals are not injected faults');
  });
});

describe('SimDisk crashAtStep', () => {
  it('crashes instead of the chosen step, which does not count', async () => {
    const disk = new SimDisk();
    const b = disk.backend();
    await b.write('fam/x', text('x'));
    await b.sync('fam/x');
    await b.append('fam/x', text('unsynced'));
    const steps = disk.steps;
    disk.crashAtStep(steps + 2, 'strict', new SeededRandom(5));
    await b.read('fam/x');
    await rejectsWithCode(b.read('fam/x'), 'io');
    assert.equal(disk.steps, steps + 1);
    await rejectsWithCode(b.size('fam/x'), 'io');
    const fresh = disk.backend();
    const got = await fresh.read('fam/x');
    assert.ok(
      got !== undefined && (equalBytes(got, text('x')) || equalBytes(got, text('xunsynced'))),
      'the object is its synced or its full contents',
    );
  });

  it('rejects a step that has already happened', async () => {
    const disk = new SimDisk();
    await disk.backend().write('fam/x', text('x'));
    assert.throws(
      () => disk.crashAtStep(disk.steps, 'weak', new SeededRandom(1)),
      (e) => isStrataError(e, 'invalid_argument'),
    );
  });

  it('an explicit crash disarms a pending crash point', async () => {
    const disk = new SimDisk();
    disk.crashAtStep(3, 'strict', new SeededRandom(1));
    disk.crash('strict', new SeededRandom(1));
    const b = disk.backend();
    for (let i = 0; i < 5; i++) await b.write('fam/x', text(`${i}`));
    assert.deepEqual(await b.read('fam/x'), text('4'));
  });
});

describe('SimDisk clone, determinism and corruption', () => {
  async function busyDisk(): Promise<SimDisk> {
    const disk = new SimDisk();
    const b = disk.backend();
    for (let i = 0; i < 6; i++) {
      await b.append(`wal/${i % 2}`, chunk(i, 20 + i));
      if (i % 3 === 0) await b.sync(`wal/${i % 2}`);
    }
    await b.publish('manifest/current', chunk(50, 10));
    await b.write('tables/t', chunk(51, 33));
    await b.write('wal/0', chunk(52, 7));
    return disk;
  }

  it('a clone is independent of the original', async () => {
    const disk = await busyDisk();
    const before = stateOf(disk);
    const visible = disk.visibleBytes('tables/t');
    const copy = disk.clone();
    copy.crash('hostile', new SeededRandom(1));
    await copy.backend().write('wal/new', text('n'));
    assert.equal(stateOf(disk), before);
    assert.deepEqual(disk.visibleBytes('tables/t'), visible);
    assert.equal(disk.visibleBytes('wal/new'), undefined);
    assert.equal(copy.steps, disk.steps + 1);
  });

  it('the same seed and operations give the same state; other seeds differ', async () => {
    for (const model of MODELS) {
      const results = new Set<string>();
      for (let seed = 0; seed < 10; seed++) {
        const a = await busyDisk();
        const b = (await busyDisk()).clone();
        a.crash(model, new SeededRandom(seed));
        b.crash(model, new SeededRandom(seed));
        assert.equal(stateOf(a), stateOf(b), `${model} seed ${seed}`);
        results.add(stateOf(a));
      }
      assert.ok(results.size > 1, `${model}: every seed gave the same state`);
    }
  });

  it('survives thousands of clone-and-crash cycles with recovery checks', async () => {
    const disk = await busyDisk();
    const synced = disk.clone();
    synced.crash('strict', new SeededRandom(0));
    const start = performance.now();
    for (let i = 0; i < 2000; i++) {
      const copy = disk.clone();
      copy.crash(MODELS[i % 4]!, new SeededRandom(i));
      const b = copy.backend();
      // What was durable before the crash is still there (publish, and wal/1's synced prefix).
      assert.deepEqual(await b.read('manifest/current'), chunk(50, 10));
      const wal1 = await b.read('wal/1');
      assert.ok(wal1 !== undefined && wal1.length >= 21, `cycle ${i}: wal/1 lost synced data`);
      assert.deepEqual(wal1.subarray(0, 21), chunk(1, 21));
      await b.append('wal/1', text('recovered'));
      await b.sync('wal/1');
    }
    assert.ok(performance.now() - start < 20_000, 'crash cycles are fast enough for simulation loops');
  });

  it('corruptDurable flips bits in the durable and visible images, and they survive a crash', async () => {
    const disk = new SimDisk();
    const b = disk.backend();
    await b.write('fam/c', Uint8Array.from([1, 2, 3]));
    await b.sync('fam/c');
    const pristine = disk.clone();
    disk.corruptDurable('fam/c', 1, 0x80);
    assert.deepEqual(disk.visibleBytes('fam/c'), Uint8Array.from([1, 0x82, 3]));
    assert.deepEqual(await b.read('fam/c'), Uint8Array.from([1, 0x82, 3]));
    disk.crash('strict', new SeededRandom(1));
    assert.deepEqual(disk.visibleBytes('fam/c'), Uint8Array.from([1, 0x82, 3]));
    pristine.crash('strict', new SeededRandom(1));
    assert.deepEqual(
      pristine.visibleBytes('fam/c'),
      Uint8Array.from([1, 2, 3]),
      'clones do not share corruption',
    );
  });

  it('corruptDurable leaves newer unsynced data in the cache alone', async () => {
    const disk = new SimDisk();
    const b = disk.backend();
    await b.write('fam/c', Uint8Array.from([1, 2, 3]));
    await b.sync('fam/c');
    await b.write('fam/c', Uint8Array.from([9, 9, 9, 9]));
    disk.corruptDurable('fam/c', 0, 0x01);
    assert.deepEqual(disk.visibleBytes('fam/c'), Uint8Array.from([9, 9, 9, 9]));
    const seen = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const copy = disk.clone();
      copy.crash('strict', new SeededRandom(seed));
      seen.add(toHex(copy.visibleBytes('fam/c')!));
    }
    assert.deepEqual([...seen].sort(), ['000203', '09090909']);
  });

  it('corruptDurable rejects unsynced names and bad offsets or masks', async () => {
    const disk = new SimDisk();
    const b = disk.backend();
    await b.write('fam/c', Uint8Array.from([1, 2, 3]));
    assert.throws(
      () => disk.corruptDurable('fam/c', 0, 1),
      (e) => isStrataError(e, 'not_found'),
    );
    await b.sync('fam/c');
    assert.throws(
      () => disk.corruptDurable('fam/c', 3, 1),
      (e) => isStrataError(e, 'invalid_argument'),
    );
    assert.throws(
      () => disk.corruptDurable('fam/c', -1, 1),
      (e) => isStrataError(e, 'invalid_argument'),
    );
    assert.throws(
      () => disk.corruptDurable('fam/c', 0, 0),
      (e) => isStrataError(e, 'invalid_argument'),
    );
    assert.throws(
      () => disk.corruptDurable('fam/c', 0, 256),
      (e) => isStrataError(e, 'invalid_argument'),
    );
    assert.deepEqual(disk.visibleBytes('fam/c'), Uint8Array.from([1, 2, 3]));
  });
});
