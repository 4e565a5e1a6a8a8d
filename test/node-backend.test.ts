/**
 * NodeBackend: what only a real file system shows — files where the layout says, data across
 * reopen, the lock file against other processes, temporary files, and error mapping. The Backend
 * contract itself is checked by the shared conformance suite, run here on temporary folders.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import {
  type FileHandle,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  realpath,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { NodeBackend, toStrataError } from '../src/backend/node/node-backend.js';
import { isStrataError } from '../src/base/index.js';
import { runBackendConformance } from './backend-conformance.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

async function freshRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'strata-node-backend-'));
}

async function rejectsWith(work: Promise<unknown>, code: string, message?: RegExp): Promise<unknown> {
  let caught: unknown;
  await assert.rejects(work, (error: unknown) => {
    caught = error;
    assert.ok(isStrataError(error, code as never), `expected StrataError '${code}', got ${String(error)}`);
    if (message !== undefined) assert.match((error as Error).message, message);
    return true;
  });
  return caught;
}

/** Starts `node -e script` and resolves once it prints `ready`. */
function startChild(script: string, args: string[] = []): Promise<ChildProcess> {
  return new Promise((resolveChild, rejectChild) => {
    const child = spawn(process.execPath, [...args, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolveChild(child);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => rejectChild(new Error(`child exited (${code}) before ready: ${output}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolveStop) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
    child.once('exit', () => resolveStop());
    child.kill('SIGKILL');
  });
}

/** The pid of a process that has exited (pids are not reused this quickly). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = child.pid;
  assert.ok(pid !== undefined);
  await new Promise((resolveExit) => child.once('exit', resolveExit));
  return pid;
}

runBackendConformance('NodeBackend', async () => {
  const root = await freshRoot();
  const backend = await NodeBackend.open(root);
  return {
    backend,
    async cleanup() {
      await backend.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});

describe('NodeBackend on a real folder', () => {
  const roots: string[] = [];
  const backends: NodeBackend[] = [];
  async function openFresh(options?: { maxOpenFiles: number }) {
    const root = await freshRoot();
    roots.push(root);
    const backend = await NodeBackend.open(root, options);
    backends.push(backend);
    return { root, backend };
  }
  after(async () => {
    for (const backend of backends) await backend.close().catch(() => {});
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });

  it('creates a missing root, including missing parents', async () => {
    const base = await freshRoot();
    roots.push(base);
    const backend = await NodeBackend.open(join(base, 'a', 'b', 'db'));
    backends.push(backend);
    assert.ok((await stat(join(base, 'a', 'b', 'db'))).isDirectory());
    await backend.write('wal/x', bytes('x'));
    await backend.sync('wal/x');
    assert.equal(await readFile(join(base, 'a', 'b', 'db', 'wal', 'x'), 'utf8'), 'x');
  });

  it('maps family/leaf to <root>/family/leaf and creates families lazily', async () => {
    const { root, backend } = await openFresh();
    assert.deepEqual(await readdir(root), []);
    await backend.append('wal/000000000001.log', bytes('abc'));
    assert.deepEqual(await readdir(root), ['wal']);
    assert.equal(await readFile(join(root, 'wal', '000000000001.log'), 'utf8'), 'abc');
    assert.equal(backend.rootDir, await realpath(root));
  });

  it('rejects names that are not family/leaf with invalid_argument', async () => {
    const { backend } = await openFresh();
    for (const name of [
      'noslash',
      'Wal/x',
      'wal/X',
      '../x',
      'wal/../x',
      'a/b/c',
      './x',
      'wal/.',
      '/x',
      'wal/',
      '',
    ]) {
      await rejectsWith(backend.read(name), 'invalid_argument');
      await rejectsWith(backend.write(name, bytes('')), 'invalid_argument');
    }
    await rejectsWith(backend.rename('wal/a', '../a'), 'invalid_argument');
    await rejectsWith(backend.lock('db.lock'), 'invalid_argument');
    await rejectsWith(backend.readRange('wal/a', -1, 1), 'invalid_argument');
    await rejectsWith(backend.readRange('wal/a', 0, 1.5), 'invalid_argument');
  });

  it('keeps written, appended and published data across close and reopen', async () => {
    const { root, backend } = await openFresh();
    await backend.write('tables/t1', bytes('table one'));
    await backend.sync('tables/t1');
    for (const part of ['a', 'b', 'c']) await backend.append('wal/1.log', bytes(part));
    await backend.sync('wal/1.log');
    await backend.publish('manifest/current', bytes('v1'));
    await backend.publish('manifest/current', bytes('v2'));
    await backend.close();

    const reopened = await NodeBackend.open(root);
    backends.push(reopened);
    assert.equal(text(await reopened.read('tables/t1')), 'table one');
    assert.equal(text(await reopened.read('wal/1.log')), 'abc');
    assert.equal(text(await reopened.read('manifest/current')), 'v2');
    assert.deepEqual(await reopened.list(''), ['manifest/current', 'tables/t1', 'wal/1.log']);
    // Appending after reopen continues at the end, not at 0.
    await reopened.append('wal/1.log', bytes('d'));
    assert.equal(text(await reopened.read('wal/1.log')), 'abcd');
  });

  it('keeps the order of appends issued without awaiting each one', async () => {
    const { backend } = await openFresh();
    const parts = Array.from({ length: 200 }, (_, i) => `${i},`);
    const pending = parts.map((part) => backend.append('wal/2.log', bytes(part)));
    const synced = backend.sync('wal/2.log');
    // A read issued now sees every append issued before it.
    const seen = backend.read('wal/2.log');
    await Promise.all([...pending, synced]);
    assert.equal(text(await seen), parts.join(''));
  });

  it('lets appends proceed while a sync is in flight, and a later sync covers them', async () => {
    const { backend } = await openFresh();
    await backend.append('wal/3.log', bytes('a'));
    const first = backend.sync('wal/3.log');
    const more = backend.append('wal/3.log', bytes('b'));
    await Promise.all([first, more]);
    await backend.sync('wal/3.log');
    assert.equal(text(await backend.read('wal/3.log')), 'ab');
  });

  it('write replaces the whole object, shorter or longer', async () => {
    const { backend } = await openFresh();
    await backend.write('tables/t', bytes('a long first version'));
    await backend.write('tables/t', bytes('short'));
    assert.equal(text(await backend.read('tables/t')), 'short');
    await backend.append('tables/t', bytes('+tail'));
    assert.equal(text(await backend.read('tables/t')), 'short+tail');
    await backend.write('tables/t', new Uint8Array(0));
    assert.equal(await backend.size('tables/t'), 0);
    assert.deepEqual(await backend.read('tables/t'), new Uint8Array(0));
  });

  it('reads ranges clipped at the end, and reports missing objects', async () => {
    const { backend } = await openFresh();
    await backend.write('tables/r', bytes('0123456789'));
    assert.equal(text(await backend.readRange('tables/r', 2, 3)), '234');
    assert.equal(text(await backend.readRange('tables/r', 8, 100)), '89');
    assert.equal(text(await backend.readRange('tables/r', 4, Number.MAX_SAFE_INTEGER)), '456789');
    assert.equal((await backend.readRange('tables/r', 20, 5)).length, 0);
    assert.equal(await backend.read('tables/missing'), undefined);
    assert.equal(await backend.size('tables/missing'), undefined);
    assert.equal(await backend.read('nofamily/missing'), undefined);
    await rejectsWith(backend.readRange('tables/missing', 0, 1), 'not_found');
    await rejectsWith(backend.sync('tables/missing'), 'not_found');
    assert.ok(!((await backend.read('tables/r')) instanceof Buffer), 'returns plain Uint8Array, not Buffer');
  });

  it('publish leaves no temporary file, and later appends go to the new file', async () => {
    const { root, backend } = await openFresh();
    await backend.append('manifest/current', bytes('old'));
    await backend.publish('manifest/current', bytes('new'));
    assert.deepEqual(await readdir(join(root, 'manifest')), ['current']);
    await backend.append('manifest/current', bytes('+more'));
    assert.equal(text(await backend.read('manifest/current')), 'new+more');
    assert.equal(await readFile(join(root, 'manifest', 'current'), 'utf8'), 'new+more');
  });

  it('a publish that fails removes its temporary file and says io', async () => {
    const { root, backend } = await openFresh();
    // The target is a non-empty folder, so the final rename fails.
    await mkdir(join(root, 'manifest', 'current', 'inner'), { recursive: true });
    const error = await rejectsWith(
      backend.publish('manifest/current', bytes('x')),
      'io',
      /publish manifest\/current/,
    );
    assert.ok((error as Error).cause !== undefined);
    assert.deepEqual(await readdir(join(root, 'manifest')), ['current']);
  });

  it('list skips temporary files and strays, filters by prefix and sorts', async () => {
    const { root, backend } = await openFresh();
    for (const name of ['wal/2.log', 'wal/10.log', 'wal/1.log', 'tables/a', 'quarantine/x']) {
      await backend.write(name, bytes(name));
    }
    await writeFile(join(root, 'wal', '3.log.tmp-ABCDEF'), 'partial publish');
    await writeFile(join(root, 'wal', '.DS_Store'), '');
    await writeFile(join(root, 'wal', 'Upper'), '');
    await mkdir(join(root, 'wal', 'subfolder'));
    await writeFile(join(root, 'stray-file-at-root'), '');
    assert.deepEqual(await backend.list('wal/'), ['wal/1.log', 'wal/10.log', 'wal/2.log']);
    assert.deepEqual(await backend.list('wal/1'), ['wal/1.log', 'wal/10.log']);
    assert.deepEqual(await backend.list('t'), ['tables/a']);
    assert.deepEqual(await backend.list(''), [
      'quarantine/x',
      'tables/a',
      'wal/1.log',
      'wal/10.log',
      'wal/2.log',
    ]);
    assert.deepEqual(await backend.list('missing/'), []);
    assert.deepEqual(await backend.list('../'), []);
    await rejectsWith(backend.list('Upper/'), 'invalid_argument');
  });

  it('delete and rename close cached handles and work across families', async () => {
    const { root, backend } = await openFresh();
    await backend.append('wal/5.log', bytes('first'));
    await backend.rename('wal/5.log', 'quarantine/5.log');
    assert.equal(await backend.read('wal/5.log'), undefined);
    await backend.append('wal/5.log', bytes('second'));
    assert.equal(text(await backend.read('wal/5.log')), 'second');
    assert.equal(text(await backend.read('quarantine/5.log')), 'first');
    await backend.append('quarantine/5.log', bytes('+'));
    assert.equal(await readFile(join(root, 'quarantine', '5.log'), 'utf8'), 'first+');

    // rename replaces an existing target
    await backend.rename('wal/5.log', 'quarantine/5.log');
    assert.equal(text(await backend.read('quarantine/5.log')), 'second');
    await rejectsWith(backend.rename('wal/5.log', 'quarantine/y'), 'not_found');

    await backend.delete('quarantine/5.log');
    await backend.delete('quarantine/5.log'); // missing is fine
    await backend.delete('nofamily/x');
    assert.equal(await backend.read('quarantine/5.log'), undefined);
    await backend.append('quarantine/5.log', bytes('fresh'));
    assert.equal(text(await backend.read('quarantine/5.log')), 'fresh');
  });

  it('stays correct with more objects than cached handles', async () => {
    const { backend } = await openFresh({ maxOpenFiles: 2 });
    const names = Array.from({ length: 12 }, (_, i) => `wal/${i}.log`);
    for (let round = 0; round < 3; round++) {
      await Promise.all(names.map((name) => backend.append(name, bytes(`${round}`))));
      await Promise.all(names.map((name) => backend.sync(name)));
    }
    for (const name of names) assert.equal(text(await backend.read(name)), '012');
  });

  it('matches a sequential model when mutations are issued without awaiting (seeded)', async () => {
    const { backend } = await openFresh({ maxOpenFiles: 3 });
    let seed = 0x5eed;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const names = ['wal/a', 'wal/b', 'wal/c', 'tables/d', 'quarantine/e'];
    const model = new Map<string, string>();
    for (let batch = 0; batch < 30; batch++) {
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < 25; i++) {
        const name = names[random(names.length)]!;
        const value = `${batch}.${i};`;
        switch (random(7)) {
          case 0:
          case 1:
            model.set(name, (model.get(name) ?? '') + value);
            pending.push(backend.append(name, bytes(value)));
            break;
          case 2:
            model.set(name, value);
            pending.push(backend.write(name, bytes(value)));
            break;
          case 3:
            model.set(name, value);
            pending.push(backend.publish(name, bytes(value)));
            break;
          case 4:
            model.delete(name);
            pending.push(backend.delete(name));
            break;
          case 5: {
            const to = names[random(names.length)]!;
            const moved = model.get(name);
            if (moved === undefined || to === name) break;
            model.delete(name);
            model.set(to, moved);
            pending.push(backend.rename(name, to));
            break;
          }
          default:
            if (model.has(name)) pending.push(backend.sync(name));
        }
      }
      await Promise.all(pending);
      for (const name of names)
        assert.equal(text(await backend.read(name)), model.get(name), `${name} after batch ${batch}`);
      assert.deepEqual(await backend.list(''), [...model.keys()].sort());
    }
  });

  it('maps a full disk to no_space (Linux: an object that is a symlink to /dev/full)', async (t) => {
    if (process.platform !== 'linux' || !existsSync('/dev/full')) {
      t.skip('needs /dev/full');
      return;
    }
    const { root, backend } = await openFresh();
    await mkdir(join(root, 'wal'));
    await symlink('/dev/full', join(root, 'wal', 'full.log'));
    const error = await rejectsWith(backend.append('wal/full.log', bytes('x')), 'no_space', /wal\/full\.log/);
    assert.equal(((error as Error).cause as { code?: string }).code, 'ENOSPC');
    await rejectsWith(backend.write('wal/full.log', bytes('x')), 'no_space');
  });

  it('maps platform errors: ENOSPC/EDQUOT to no_space, others to io with the cause', () => {
    const enospc = Object.assign(new Error('no space'), { code: 'ENOSPC' });
    const edquot = Object.assign(new Error('quota'), { code: 'EDQUOT' });
    const eio = Object.assign(new Error('i/o error'), { code: 'EIO' });
    assert.equal(toStrataError('append to', 'wal/1', enospc).code, 'no_space');
    assert.equal(toStrataError('append to', 'wal/1', edquot).code, 'no_space');
    const io = toStrataError('sync', 'wal/1', eio);
    assert.equal(io.code, 'io');
    assert.equal(io.cause, eio);
    assert.equal(io.object, 'wal/1');
    assert.match(io.message, /sync wal\/1/);
  });

  it('reports other failures as io naming the object (reading a folder)', async () => {
    const { root, backend } = await openFresh();
    await mkdir(join(root, 'wal', 'folder'), { recursive: true });
    const error = await rejectsWith(backend.read('wal/folder'), 'io', /read wal\/folder/);
    assert.ok((error as Error).cause instanceof Error);
  });

  it('refuses work after close with closed', async () => {
    const { backend } = await openFresh();
    await backend.append('wal/1', bytes('x'));
    await backend.close();
    await rejectsWith(backend.read('wal/1'), 'closed');
    await rejectsWith(backend.append('wal/1', bytes('x')), 'closed');
    await rejectsWith(backend.list(''), 'closed');
    await backend.close(); // twice is fine
  });
});

describe('NodeBackend lock', () => {
  const roots: string[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  async function openFresh() {
    const root = await freshRoot();
    roots.push(root);
    const backend = await NodeBackend.open(root);
    cleanups.push(() => backend.close());
    return { root, backend, lockPath: join(root, 'locks', 'db.lock') };
  }
  after(async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });

  it('creates <root>/locks/<leaf> holding the pid, and removes it on release', async () => {
    const { backend, lockPath } = await openFresh();
    const lock = await backend.lock('locks/db.lock');
    const content = await readFile(lockPath, 'utf8');
    assert.equal(content.split('\n')[0], String(process.pid));
    assert.deepEqual(await readdir(join(lockPath, '..')), ['db.lock'], 'no temporary files left');
    await lock.release();
    assert.ok(!existsSync(lockPath));
    await lock.release(); // twice is fine
    await (await backend.lock('locks/db.lock')).release();
  });

  it('a second opener in the same process is busy until the first releases', async () => {
    const { root, backend } = await openFresh();
    const other = await NodeBackend.open(root);
    cleanups.push(() => other.close());
    const lock = await backend.lock('locks/db.lock');
    await rejectsWith(other.lock('locks/db.lock'), 'busy', /in this process/);
    await rejectsWith(backend.lock('locks/db.lock'), 'busy');
    // Concurrent attempts: exactly one wins.
    await lock.release();
    const results = await Promise.allSettled([backend.lock('locks/db.lock'), other.lock('locks/db.lock')]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'fulfilled') await r.value.release();
  });

  it('close releases the locks it holds', async () => {
    const { root, backend, lockPath } = await openFresh();
    await backend.lock('locks/db.lock');
    await backend.close();
    assert.ok(!existsSync(lockPath));
    const other = await NodeBackend.open(root);
    cleanups.push(() => other.close());
    await (await other.lock('locks/db.lock')).release();
  });

  it('is busy while a live process holds the lock file, and takes it over once that process is dead', async () => {
    const { backend, lockPath } = await openFresh();
    await mkdir(join(lockPath, '..'), { recursive: true });
    const holder = await startChild(
      `require('fs').writeFileSync(${JSON.stringify(lockPath)}, process.pid + '\\n', { flag: 'wx' });` +
        `console.log('ready'); setInterval(() => {}, 1000);`,
    );
    try {
      await rejectsWith(
        backend.lock('locks/db.lock'),
        'busy',
        new RegExp(`another process \\(pid ${holder.pid}\\)`),
      );
      assert.equal(
        (await readFile(lockPath, 'utf8')).trim(),
        String(holder.pid),
        'a busy attempt leaves the file',
      );
    } finally {
      await stopChild(holder);
    }
    const lock = await backend.lock('locks/db.lock');
    assert.equal((await readFile(lockPath, 'utf8')).split('\n')[0], String(process.pid));
    await lock.release();
  });

  it('is busy while another process holds it through NodeBackend', async () => {
    const { root, backend } = await openFresh();
    const modulePath = fileURLToPath(new URL('../src/backend/node/node-backend.ts', import.meta.url));
    const holder = await startChild(
      `import(${JSON.stringify(modulePath)}).then(async ({ NodeBackend }) => {` +
        `const b = await NodeBackend.open(${JSON.stringify(root)}); await b.lock('locks/db.lock');` +
        `console.log('ready'); setInterval(() => {}, 1000); })`,
      ['--import', 'tsx'],
    );
    try {
      await rejectsWith(backend.lock('locks/db.lock'), 'busy', /another process/);
    } finally {
      await stopChild(holder); // killed: its lock file stays behind, stale
    }
    await (await backend.lock('locks/db.lock')).release();
  });

  it('takes over the lock of a dead process, of an earlier process with our pid, and unreadable old files', async () => {
    const { backend, lockPath } = await openFresh();
    await mkdir(join(lockPath, '..'), { recursive: true });
    const stale = [
      `${await deadPid()}\n`,
      // Our pid but another start time: a previous process that had our pid (containers).
      `${process.pid}\n12345\nfeedface\n`,
      // Our pid, no start time: not written by this process.
      `${process.pid}\n`,
    ];
    for (const content of stale) {
      await writeFile(lockPath, content);
      const lock = await backend.lock('locks/db.lock');
      assert.notEqual(await readFile(lockPath, 'utf8'), content);
      await lock.release();
    }
    // No pid at all: busy while young (someone may be writing it), taken over when old.
    await writeFile(lockPath, '');
    await rejectsWith(backend.lock('locks/db.lock'), 'busy');
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath, old, old);
    await (await backend.lock('locks/db.lock')).release();
  });

  it('is busy while a worker thread of this process holds it', async () => {
    const { root, backend } = await openFresh();
    const modulePath = fileURLToPath(new URL('../src/backend/node/node-backend.ts', import.meta.url));
    // Worker threads have their own globals, so only the thread id in the file tells them apart.
    // A worker does not inherit tsx's loader, so it registers it before importing TypeScript.
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       import(${JSON.stringify(tsxApi)})
         .then(({ register }) => { register(); return import(${JSON.stringify(pathToFileURL(modulePath).href)}); })
         .then(async ({ NodeBackend }) => {
           const b = await NodeBackend.open(${JSON.stringify(root)});
           const lock = await b.lock('locks/db.lock');
           parentPort.postMessage('ready');
           parentPort.once('message', async () => { await lock.release(); parentPort.postMessage('released'); });
         });`,
      { eval: true },
    );
    try {
      assert.equal(await once(worker, 'message').then(([m]) => m), 'ready');
      await rejectsWith(backend.lock('locks/db.lock'), 'busy', /another thread of this process/);
      worker.postMessage('release');
      assert.equal(await once(worker, 'message').then(([m]) => m), 'released');
      await (await backend.lock('locks/db.lock')).release();
    } finally {
      await worker.terminate();
    }
  });

  it("takes over this thread's own leftover lock file (a release that failed to delete it)", async () => {
    const { backend, lockPath } = await openFresh();
    const first = await backend.lock('locks/db.lock');
    const content = await readFile(lockPath, 'utf8');
    await first.release();
    await writeFile(lockPath, content.replace(/^([^\n]*\n[^\n]*\n)[^\n]*/, '$1othertoken'));
    await (await backend.lock('locks/db.lock')).release();
  });

  it('release leaves a lock file that someone else took over', async () => {
    const { backend, lockPath } = await openFresh();
    const lock = await backend.lock('locks/db.lock');
    await writeFile(lockPath, '999999\n1\nsomeoneelse\n');
    await lock.release();
    assert.equal(await readFile(lockPath, 'utf8'), '999999\n1\nsomeoneelse\n');
  });

  it('once held, removes temporary files left by a crashed publish', async () => {
    const { root, backend } = await openFresh();
    await backend.write('manifest/other', bytes('keep'));
    await writeFile(join(root, 'manifest', 'current.tmp-0123456789AB'), 'left by a crash');
    await mkdir(join(root, 'locks'), { recursive: true });
    await writeFile(join(root, 'locks', 'db.lock.tmp-0123456789AB'), 'another opener mid-lock');
    const lock = await backend.lock('locks/db.lock');
    assert.deepEqual(await readdir(join(root, 'manifest')), ['other']);
    assert.ok(existsSync(join(root, 'locks', 'db.lock.tmp-0123456789AB')), 'the lock family is left alone');
    await lock.release();
  });
});

/** FileHandle.prototype, so tests can spy on or fail every handle's sync, datasync and write. */
async function fileHandlePrototype(dir: string): Promise<FileHandle> {
  const handle = await open(join(dir, 'probe'), 'w');
  await handle.close();
  return Object.getPrototypeOf(handle) as FileHandle;
}

const platformError = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

describe('NodeBackend durability calls and injected failures', () => {
  const roots: string[] = [];
  const backends: NodeBackend[] = [];
  async function openFresh() {
    const root = await freshRoot();
    roots.push(root);
    // Every append asynchronous, so the FileHandle methods these tests replace are the ones used.
    const backend = await NodeBackend.open(join(root, 'db'), { syncAppendBytesMax: 0 });
    backends.push(backend);
    return { backend, proto: await fileHandlePrototype(root) };
  }
  after(async () => {
    for (const backend of backends) await backend.close().catch(() => {});
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });

  it('fsyncs folders exactly where a name changes', async (t) => {
    if (process.platform === 'win32') {
      t.skip('folders are not synced on Windows');
      return;
    }
    const { backend, proto } = await openFresh();
    // handle.sync() is only used on folders; files get handle.datasync().
    const folderSyncs = t.mock.method(proto, 'sync');
    const dataSyncs = t.mock.method(proto, 'datasync');
    const counts = () => [folderSyncs.mock.callCount(), dataSyncs.mock.callCount()];

    await backend.append('wal/a', bytes('x'));
    assert.deepEqual(counts(), [1, 0], 'a new family syncs the root');
    await backend.sync('wal/a');
    assert.deepEqual(counts(), [2, 1], 'the first sync of a new object syncs its folder');
    await backend.append('wal/a', bytes('y'));
    await backend.sync('wal/a');
    assert.deepEqual(counts(), [2, 2], 'later syncs only sync data');
    await backend.write('wal/b', bytes('b'));
    assert.deepEqual(counts(), [2, 2], 'a known family costs nothing');
    await backend.delete('wal/a');
    assert.deepEqual(counts(), [3, 2], 'delete syncs the folder');
    await backend.rename('wal/b', 'quarantine/b');
    assert.deepEqual(counts(), [6, 2], 'rename: new family (root), then both folders');
    await backend.publish('manifest/current', bytes('m'));
    assert.deepEqual(counts(), [8, 3], 'publish: new family (root), the temporary file, the folder');
    await backend.publish('manifest/current', bytes('n'));
    assert.deepEqual(counts(), [9, 4]);
  });

  it('a failed sync sticks until the object is rewritten', async (t) => {
    const { backend, proto } = await openFresh();
    await backend.append('wal/s', bytes('x'));
    const failing = t.mock.method(proto, 'datasync', async () => {
      throw platformError('EIO');
    });
    const error = await rejectsWith(backend.sync('wal/s'), 'io', /sync wal\/s/);
    assert.equal(((error as Error).cause as { code?: string }).code, 'EIO');
    failing.mock.restore();
    // The disk would now say yes, but the dirty data may be gone: do not pretend.
    await rejectsWith(backend.sync('wal/s'), 'io');
    await backend.append('wal/s', bytes('y'));
    await rejectsWith(backend.sync('wal/s'), 'io');
    await backend.write('wal/s', bytes('rewritten'));
    await backend.sync('wal/s');
  });

  it('maps ENOSPC from fdatasync to no_space', async (t) => {
    const { backend, proto } = await openFresh();
    await backend.append('wal/n', bytes('x'));
    t.mock.method(proto, 'datasync', async () => {
      throw platformError('ENOSPC');
    });
    await rejectsWith(backend.sync('wal/n'), 'no_space', /wal\/n/);
  });

  it('a publish that runs out of space says no_space, leaves the old contents and no temporary file', async (t) => {
    const { backend, proto } = await openFresh();
    await backend.publish('manifest/current', bytes('old'));
    const write = t.mock.method(proto, 'write', async () => {
      throw platformError('ENOSPC');
    });
    await rejectsWith(backend.publish('manifest/current', bytes('new')), 'no_space');
    write.mock.restore();
    assert.equal(text(await backend.read('manifest/current')), 'old');
    assert.deepEqual(await readdir(join(backend.rootDir, 'manifest')), ['current']);
  });

  it('an append that fails part-way re-reads the size before the next append', async (t) => {
    const { backend, proto } = await openFresh();
    await backend.append('wal/p', bytes('abc'));
    const original = proto.write as (...args: unknown[]) => Promise<unknown>;
    let calls = 0;
    // One byte lands, then the disk is full: a short write followed by an error.
    t.mock.method(proto, 'write', async function (this: FileHandle, ...args: unknown[]) {
      calls++;
      if (calls === 1) return original.call(this, args[0], args[1], 1, args[3]);
      throw platformError('ENOSPC');
    });
    await rejectsWith(backend.append('wal/p', bytes('XYZ')), 'no_space');
    t.mock.restoreAll();
    await backend.append('wal/p', bytes('d'));
    assert.equal(text(await backend.read('wal/p')), 'abcXd');
  });
});

describe('NodeBackend, two openers on one root', () => {
  let root = '';
  before(async () => {
    root = await freshRoot();
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  it('opens an existing root twice and sees the same objects', async () => {
    const a = await NodeBackend.open(root);
    const b = await NodeBackend.open(root);
    await a.write('wal/x', bytes('from a'));
    assert.equal(text(await b.read('wal/x')), 'from a');
    await a.close();
    await b.close();
  });
});
