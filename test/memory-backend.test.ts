import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBackend } from '../src/backend/index.js';
import { utf8Encode } from '../src/base/index.js';
import { rejectsWithCode, runBackendConformance } from './backend-conformance.js';

runBackendConformance('MemoryBackend', async () => {
  const backend = new MemoryBackend();
  return { backend, cleanup: () => backend.close() };
});

describe('MemoryBackend', () => {
  it('instances do not share objects or locks', async () => {
    const a = new MemoryBackend();
    const b = new MemoryBackend();
    await a.write('fam/x', utf8Encode('a'));
    assert.equal(await b.read('fam/x'), undefined);
    const lock = await a.lock('locks/db');
    const other = await b.lock('locks/db');
    await rejectsWithCode(a.lock('locks/db'), 'busy');
    await lock.release();
    await other.release();
  });

  it('close is idempotent', async () => {
    const a = new MemoryBackend();
    await a.close();
    await a.close();
    await rejectsWithCode(a.read('fam/x'), 'closed');
  });

  it('rejects list prefixes that no object name could start with', async () => {
    const a = new MemoryBackend();
    await rejectsWithCode(a.list('Upper/'), 'invalid_argument');
    await rejectsWithCode(a.list('a/b/'), 'invalid_argument');
  });
});
