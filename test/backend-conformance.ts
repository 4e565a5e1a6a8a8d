/**
 * The shared conformance suite of the Backend contract (src/backend/backend.ts). Every backend
 * runs it (memory, simulated disk, Node fs, later OPFS), in the manner of Hono's `runTest`: one
 * set of rules, many adapters. It checks only what the contract promises while the process runs;
 * crash behaviour is the simulated disk's own test, because no other backend can crash on cue.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend } from '../src/backend/index.js';
import { type ErrorCode, isStrataError, SeededRandom, utf8Encode } from '../src/base/index.js';

/** A fresh, empty backend and the way to dispose of it (which must tolerate a closed backend). */
export interface BackendFixture {
  backend: Backend;
  cleanup(): Promise<void>;
}

/** Asserts that `promise` rejects with a StrataError of `code`. */
export async function rejectsWithCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isStrataError(error, code), `expected StrataError '${code}', got ${String(error)}`);
    return true;
  });
}

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

function text(s: string): Uint8Array {
  return utf8Encode(s);
}

/**
 * Registers node:test cases that check every rule of the Backend contract against backends made
 * by `make`. Each case gets its own fresh backend and cleans it up afterwards.
 */
export function runBackendConformance(label: string, make: () => Promise<BackendFixture>): void {
  async function withBackend(fn: (backend: Backend) => Promise<void>): Promise<void> {
    const fixture = await make();
    try {
      await fn(fixture.backend);
    } finally {
      await fixture.cleanup();
    }
  }

  describe(`Backend conformance: ${label}`, () => {
    describe('reads', () => {
      it('a missing object reads as undefined and has no size', () =>
        withBackend(async (b) => {
          assert.equal(await b.read('fam/missing'), undefined);
          assert.equal(await b.size('fam/missing'), undefined);
        }));

      it('an empty object reads as empty bytes, not as missing', () =>
        withBackend(async (b) => {
          await b.write('fam/empty', new Uint8Array(0));
          const got = await b.read('fam/empty');
          assert.ok(got instanceof Uint8Array, 'an empty object reads as bytes');
          assert.equal(got.length, 0);
          assert.equal(await b.size('fam/empty'), 0);
          assert.deepEqual(await b.list('fam/'), ['fam/empty']);
        }));

      it('readRange returns the requested bytes and clips at the end', () =>
        withBackend(async (b) => {
          await b.write('fam/r', bytes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
          assert.deepEqual(await b.readRange('fam/r', 0, 10), bytes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
          assert.deepEqual(await b.readRange('fam/r', 2, 3), bytes(2, 3, 4));
          assert.deepEqual(await b.readRange('fam/r', 7, 100), bytes(7, 8, 9));
          assert.deepEqual(await b.readRange('fam/r', 9, 1), bytes(9));
          assert.equal((await b.readRange('fam/r', 10, 5)).length, 0);
          assert.equal((await b.readRange('fam/r', 1000, 5)).length, 0);
          assert.equal((await b.readRange('fam/r', 3, 0)).length, 0);
        }));

      it('readRange of a missing object throws not_found', () =>
        withBackend(async (b) => {
          await rejectsWithCode(b.readRange('fam/missing', 0, 1), 'not_found');
          await rejectsWithCode(b.readRange('fam/missing', 0, 0), 'not_found');
        }));

      it('readRange rejects negative or fractional offsets and lengths', () =>
        withBackend(async (b) => {
          await b.write('fam/r', bytes(1, 2, 3));
          await rejectsWithCode(b.readRange('fam/r', -1, 1), 'invalid_argument');
          await rejectsWithCode(b.readRange('fam/r', 0, -1), 'invalid_argument');
          await rejectsWithCode(b.readRange('fam/r', 0.5, 1), 'invalid_argument');
          await rejectsWithCode(b.readRange('fam/r', 0, Number.NaN), 'invalid_argument');
        }));
    });

    describe('openReader', () => {
      it('reads ranges synchronously and rejects ranges outside the object', () =>
        withBackend(async (b) => {
          await b.write('fam/r', bytes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
          await b.sync('fam/r');
          const r = await b.openReader('fam/r');
          try {
            assert.equal(r.size, 10);
            assert.deepEqual(Uint8Array.from(r.readSync(2, 3)), bytes(2, 3, 4));
            assert.deepEqual(Uint8Array.from(r.readSync(0, 10)), bytes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
            assert.equal(r.readSync(10, 0).length, 0);
            for (const [off, len] of [
              [9, 2],
              [-1, 1],
              [0, -1],
              [0.5, 1],
              [11, 0],
            ] as const) {
              assert.throws(
                () => r.readSync(off, len),
                (e: unknown) => isStrataError(e, 'invalid_argument'),
                `range ${off}+${len}`,
              );
            }
          } finally {
            r.close();
          }
          r.close();
          assert.throws(
            () => r.readSync(0, 1),
            (e: unknown) => isStrataError(e, 'closed'),
          );
        }));

      it('a missing object throws not_found', () =>
        withBackend(async (b) => {
          await rejectsWithCode(b.openReader('fam/missing'), 'not_found');
        }));

      it('an open reader keeps the bytes it opened across a replace and a delete', () =>
        withBackend(async (b) => {
          await b.write('fam/t', bytes(1, 2, 3, 4));
          await b.sync('fam/t');
          const r = await b.openReader('fam/t');
          try {
            await b.delete('fam/t');
            await b.write('fam/t', bytes(9, 9));
            assert.deepEqual(Uint8Array.from(r.readSync(0, 4)), bytes(1, 2, 3, 4));
          } finally {
            r.close();
          }
        }));
    });

    describe('write, append and size', () => {
      it('write creates an object that reads back at once, before any sync', () =>
        withBackend(async (b) => {
          await b.write('fam/w', text('hello'));
          assert.deepEqual(await b.read('fam/w'), text('hello'));
          assert.equal(await b.size('fam/w'), 5);
        }));

      it('write replaces the whole object, shorter or longer', () =>
        withBackend(async (b) => {
          await b.write('fam/w', text('a long first version'));
          await b.write('fam/w', text('short'));
          assert.deepEqual(await b.read('fam/w'), text('short'));
          assert.equal(await b.size('fam/w'), 5);
          await b.write('fam/w', text('a much longer third version'));
          assert.deepEqual(await b.read('fam/w'), text('a much longer third version'));
        }));

      it('append creates a missing object, even with no bytes', () =>
        withBackend(async (b) => {
          await b.append('fam/a', text('abc'));
          assert.deepEqual(await b.read('fam/a'), text('abc'));
          await b.append('fam/zero', new Uint8Array(0));
          assert.equal(await b.size('fam/zero'), 0);
          assert.deepEqual(await b.read('fam/zero'), new Uint8Array(0));
        }));

      it('append adds at the end, after writes and appends alike', () =>
        withBackend(async (b) => {
          await b.write('fam/a', text('one'));
          await b.append('fam/a', text('-two'));
          await b.append('fam/a', new Uint8Array(0));
          await b.append('fam/a', text('-three'));
          assert.deepEqual(await b.read('fam/a'), text('one-two-three'));
          assert.equal(await b.size('fam/a'), 13);
          await b.write('fam/a', text('x'));
          await b.append('fam/a', text('y'));
          assert.deepEqual(await b.read('fam/a'), text('xy'));
        }));

      it('objects whose names share a prefix are independent', () =>
        withBackend(async (b) => {
          await b.write('fam/x', text('1'));
          await b.write('fam/xy', text('22'));
          await b.write('fam2/x', text('333'));
          await b.append('fam/x', text('!'));
          assert.deepEqual(await b.read('fam/x'), text('1!'));
          assert.deepEqual(await b.read('fam/xy'), text('22'));
          assert.deepEqual(await b.read('fam2/x'), text('333'));
        }));

      it('sync keeps the contents and throws not_found for a missing object', () =>
        withBackend(async (b) => {
          await b.write('fam/s', text('data'));
          await b.sync('fam/s');
          await b.append('fam/s', text('+more'));
          await b.sync('fam/s');
          await b.sync('fam/s');
          assert.deepEqual(await b.read('fam/s'), text('data+more'));
          await rejectsWithCode(b.sync('fam/missing'), 'not_found');
        }));
    });

    describe('list', () => {
      it('lists names by prefix, sorted ascending in byte order', () =>
        withBackend(async (b) => {
          // Written out of order, with every character class, to catch unsorted or locale sorts.
          const names = ['wal/b1', 'wal/b_1', 'wal/a', 'wal/b-1', 'wal/b.1', 'wal/0', 'tables/t', 'walx/z'];
          for (const name of names) await b.write(name, text(name));
          assert.deepEqual(await b.list('wal/'), [
            'wal/0',
            'wal/a',
            'wal/b-1',
            'wal/b.1',
            'wal/b1',
            'wal/b_1',
          ]);
          assert.deepEqual(await b.list('wal/b'), ['wal/b-1', 'wal/b.1', 'wal/b1', 'wal/b_1']);
          assert.deepEqual(await b.list('wal/b1'), ['wal/b1']);
          assert.deepEqual(await b.list('wal'), [
            'wal/0',
            'wal/a',
            'wal/b-1',
            'wal/b.1',
            'wal/b1',
            'wal/b_1',
            'walx/z',
          ]);
          assert.deepEqual(await b.list('tables/'), ['tables/t']);
          assert.deepEqual(await b.list(''), [...names].sort());
          assert.deepEqual(await b.list('nothing/'), []);
          assert.deepEqual(await b.list('wal/zzz'), []);
        }));

      it('does not list deleted or renamed-away objects', () =>
        withBackend(async (b) => {
          await b.write('fam/a', text('a'));
          await b.write('fam/b', text('b'));
          await b.write('fam/c', text('c'));
          await b.delete('fam/a');
          await b.rename('fam/b', 'fam/d');
          assert.deepEqual(await b.list('fam/'), ['fam/c', 'fam/d']);
        }));
    });

    describe('delete', () => {
      it('removes the object', () =>
        withBackend(async (b) => {
          await b.write('fam/d', text('gone soon'));
          await b.sync('fam/d');
          await b.delete('fam/d');
          assert.equal(await b.read('fam/d'), undefined);
          assert.equal(await b.size('fam/d'), undefined);
          await rejectsWithCode(b.readRange('fam/d', 0, 1), 'not_found');
        }));

      it('deleting a missing object is not an error', () =>
        withBackend(async (b) => {
          await b.delete('fam/never');
          await b.write('fam/d', text('x'));
          await b.delete('fam/d');
          await b.delete('fam/d');
          assert.deepEqual(await b.list('fam/'), []);
        }));

      it('a deleted name can be created again from scratch', () =>
        withBackend(async (b) => {
          await b.write('fam/d', text('old contents'));
          await b.delete('fam/d');
          await b.append('fam/d', text('new'));
          assert.deepEqual(await b.read('fam/d'), text('new'));
        }));
    });

    describe('rename', () => {
      it('moves the contents to a new name', () =>
        withBackend(async (b) => {
          await b.write('fam/from', text('payload'));
          await b.rename('fam/from', 'fam/to');
          assert.equal(await b.read('fam/from'), undefined);
          assert.deepEqual(await b.read('fam/to'), text('payload'));
        }));

      it('replaces an object already at the new name', () =>
        withBackend(async (b) => {
          await b.write('fam/from', text('new'));
          await b.write('fam/to', text('the old, longer contents'));
          await b.sync('fam/to');
          await b.rename('fam/from', 'fam/to');
          assert.deepEqual(await b.read('fam/to'), text('new'));
          assert.equal(await b.size('fam/to'), 3);
          assert.deepEqual(await b.list('fam/'), ['fam/to']);
        }));

      it('moves an object across families', () =>
        withBackend(async (b) => {
          await b.write('tables/t1', text('table'));
          await b.rename('tables/t1', 'quarantine/t1');
          assert.deepEqual(await b.list('tables/'), []);
          assert.deepEqual(await b.read('quarantine/t1'), text('table'));
        }));

      it('renaming a missing object throws not_found and changes nothing', () =>
        withBackend(async (b) => {
          await b.write('fam/to', text('keep'));
          await rejectsWithCode(b.rename('fam/missing', 'fam/to'), 'not_found');
          assert.deepEqual(await b.read('fam/to'), text('keep'));
        }));

      it('the renamed object keeps accepting appends under its new name', () =>
        withBackend(async (b) => {
          await b.append('fam/from', text('ab'));
          await b.rename('fam/from', 'fam/to');
          await b.append('fam/to', text('cd'));
          await b.append('fam/from', text('new'));
          assert.deepEqual(await b.read('fam/to'), text('abcd'));
          assert.deepEqual(await b.read('fam/from'), text('new'));
        }));
    });

    describe('publish', () => {
      it('creates the object when missing', () =>
        withBackend(async (b) => {
          await b.publish('manifest/current', text('v1'));
          assert.deepEqual(await b.read('manifest/current'), text('v1'));
        }));

      it('replaces the object, longer or shorter, and leaves nothing else behind', () =>
        withBackend(async (b) => {
          await b.write('manifest/current', text('version zero'));
          await b.publish('manifest/current', text('version one, longer'));
          assert.deepEqual(await b.read('manifest/current'), text('version one, longer'));
          await b.publish('manifest/current', text('v2'));
          assert.deepEqual(await b.read('manifest/current'), text('v2'));
          assert.equal(await b.size('manifest/current'), 2);
          assert.deepEqual(await b.list('manifest/'), ['manifest/current']);
        }));

      it('publishes empty contents', () =>
        withBackend(async (b) => {
          await b.publish('manifest/current', text('something'));
          await b.publish('manifest/current', new Uint8Array(0));
          assert.deepEqual(await b.read('manifest/current'), new Uint8Array(0));
        }));
    });

    describe('lock', () => {
      it('a held lock is busy for a second holder until released', () =>
        withBackend(async (b) => {
          const first = await b.lock('locks/db');
          await rejectsWithCode(b.lock('locks/db'), 'busy');
          await rejectsWithCode(b.lock('locks/db'), 'busy');
          await first.release();
          const second = await b.lock('locks/db');
          await rejectsWithCode(b.lock('locks/db'), 'busy');
          await second.release();
        }));

      it('locks with different names are independent', () =>
        withBackend(async (b) => {
          const one = await b.lock('locks/one');
          const two = await b.lock('locks/two');
          await one.release();
          await rejectsWithCode(b.lock('locks/two'), 'busy');
          await two.release();
        }));

      it('releasing twice does not free a lock taken again since', () =>
        withBackend(async (b) => {
          const first = await b.lock('locks/db');
          await first.release();
          const second = await b.lock('locks/db');
          await first.release();
          await rejectsWithCode(b.lock('locks/db'), 'busy');
          await second.release();
        }));
    });

    describe('bad input and closed backends', () => {
      const badNames = [
        '',
        'noslash',
        'a/b/c',
        'UP/per',
        'fam/',
        '/leaf',
        'fam/a b',
        'fam/..',
        '../x',
        'fam/é',
      ];

      it('rejects invalid names with invalid_argument and changes nothing', () =>
        withBackend(async (b) => {
          await b.write('fam/ok', text('ok'));
          for (const bad of badNames) {
            await rejectsWithCode(b.read(bad), 'invalid_argument');
            await rejectsWithCode(b.readRange(bad, 0, 1), 'invalid_argument');
            await rejectsWithCode(b.size(bad), 'invalid_argument');
            await rejectsWithCode(b.write(bad, text('x')), 'invalid_argument');
            await rejectsWithCode(b.append(bad, text('x')), 'invalid_argument');
            await rejectsWithCode(b.sync(bad), 'invalid_argument');
            await rejectsWithCode(b.publish(bad, text('x')), 'invalid_argument');
            await rejectsWithCode(b.delete(bad), 'invalid_argument');
            await rejectsWithCode(b.rename(bad, 'fam/ok2'), 'invalid_argument');
            await rejectsWithCode(b.rename('fam/ok', bad), 'invalid_argument');
            await rejectsWithCode(b.lock(bad), 'invalid_argument');
          }
          assert.deepEqual(await b.list(''), ['fam/ok']);
          assert.deepEqual(await b.read('fam/ok'), text('ok'));
        }));

      it('rejects every call after close with closed', () =>
        withBackend(async (b) => {
          await b.write('fam/x', text('x'));
          await b.close();
          await rejectsWithCode(b.read('fam/x'), 'closed');
          await rejectsWithCode(b.readRange('fam/x', 0, 1), 'closed');
          await rejectsWithCode(b.size('fam/x'), 'closed');
          await rejectsWithCode(b.write('fam/x', text('y')), 'closed');
          await rejectsWithCode(b.append('fam/x', text('y')), 'closed');
          await rejectsWithCode(b.sync('fam/x'), 'closed');
          await rejectsWithCode(b.publish('fam/x', text('y')), 'closed');
          await rejectsWithCode(b.list('fam/'), 'closed');
          await rejectsWithCode(b.delete('fam/x'), 'closed');
          await rejectsWithCode(b.rename('fam/x', 'fam/y'), 'closed');
          await rejectsWithCode(b.lock('locks/db'), 'closed');
        }));
    });

    describe('bytes', () => {
      it('binary data round-trips exactly, every byte value', () =>
        withBackend(async (b) => {
          const all = new Uint8Array(256 * 3);
          for (let i = 0; i < all.length; i++) all[i] = (i * 7 + (i >> 8)) & 0xff;
          await b.write('fam/bin', all);
          assert.deepEqual(await b.read('fam/bin'), all);
          await b.append('fam/bin', bytes(0, 0, 0xff, 0x0a, 0x0d, 0x00));
          const got = await b.read('fam/bin');
          assert.equal(got?.length, all.length + 6);
          assert.deepEqual(got?.subarray(all.length), bytes(0, 0, 0xff, 0x0a, 0x0d, 0x00));
          assert.deepEqual(await b.readRange('fam/bin', 250, 10), all.slice(250, 260));
          await b.publish('fam/pub', all);
          assert.deepEqual(await b.read('fam/pub'), all);
        }));

      it('honours the offset of a view into a larger buffer', () =>
        withBackend(async (b) => {
          const big = Uint8Array.from({ length: 64 }, (_, i) => i);
          await b.write('fam/view', big.subarray(10, 20));
          assert.deepEqual(await b.read('fam/view'), big.slice(10, 20));
          await b.append('fam/view', big.subarray(60, 62));
          assert.deepEqual(await b.read('fam/view'), bytes(10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 60, 61));
          await b.publish('fam/pview', big.subarray(1, 4));
          assert.deepEqual(await b.read('fam/pview'), bytes(1, 2, 3));
        }));

      it('stores copies: changing the caller buffer after a call changes nothing', () =>
        withBackend(async (b) => {
          const input = text('original');
          await b.write('fam/w', input);
          const appended = text('+tail');
          await b.append('fam/w', appended);
          const published = text('published');
          await b.publish('fam/p', published);
          input.fill(0x21);
          appended.fill(0x21);
          published.fill(0x21);
          assert.deepEqual(await b.read('fam/w'), text('original+tail'));
          assert.deepEqual(await b.read('fam/p'), text('published'));
        }));

      it('reads return plain Uint8Array, never a subclass whose slice() aliases', () =>
        withBackend(async (b) => {
          await b.write('fam/r', text('plain'));
          const whole = await b.read('fam/r');
          assert.equal(Object.getPrototypeOf(whole), Uint8Array.prototype);
          assert.equal(Object.getPrototypeOf(await b.readRange('fam/r', 1, 2)), Uint8Array.prototype);
        }));

      it('returns copies: changing what a read returned changes nothing', () =>
        withBackend(async (b) => {
          await b.write('fam/r', text('stable'));
          const whole = await b.read('fam/r');
          whole?.fill(0);
          const part = await b.readRange('fam/r', 0, 3);
          part.fill(0);
          assert.deepEqual(await b.read('fam/r'), text('stable'));
        }));

      it('large appends: many chunks and one big one read back exactly', () =>
        withBackend(async (b) => {
          const random = new SeededRandom(42);
          const chunks: Uint8Array[] = [];
          let total = 0;
          for (let i = 0; i < 400; i++) {
            const chunk = random.bytes(1 + random.int(3000));
            chunks.push(chunk);
            total += chunk.length;
            await b.append('wal/big', chunk);
          }
          const big = random.bytes(4 * 1024 * 1024 + 17);
          await b.append('wal/big', big);
          await b.sync('wal/big');
          assert.equal(await b.size('wal/big'), total + big.length);
          const got = await b.read('wal/big');
          assert.ok(got !== undefined, 'the object exists');
          let at = 0;
          for (const chunk of chunks) {
            assert.deepEqual(got.subarray(at, at + chunk.length), chunk);
            at += chunk.length;
          }
          assert.deepEqual(got.subarray(at), big);
          assert.deepEqual(await b.readRange('wal/big', total + 1000, 5000), big.slice(1000, 6000));
          assert.deepEqual(await b.readRange('wal/big', total - 3, 6), got.slice(total - 3, total + 3));
        }));
    });
  });
}
