/** The `strata` command: run as a child process on a temporary database. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'strata-cli-'));
const db = join(dir, 'db');
after(() => rmSync(dir, { recursive: true, force: true }));

function strata(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

describe('strata CLI', () => {
  it('puts, gets, lists, shows history and deletes', () => {
    assert.equal(strata('--db', db, 'kv', 'put', 'agent:status', 'thinking').code, 0, 'put exits 0');
    assert.equal(
      strata('--db', db, 'kv', 'put', 'agent:n', '{"a":[1,2]}', '--json').code,
      0,
      'put --json exits 0',
    );
    const got = strata('--db', db, 'kv', 'get', 'agent:status');
    assert.equal(got.code, 0, 'get exits 0');
    assert.equal(got.out, 'thinking', 'get prints the string as is');
    assert.equal(
      strata('--db', db, 'kv', 'get', 'agent:n', '--json').out,
      '{"a":[1,2]}',
      'get --json prints JSON',
    );
    assert.equal(
      strata('--db', db, 'kv', 'list', '--prefix', 'agent:').out.split('\n').length,
      2,
      'two keys listed',
    );
    const history = JSON.parse(strata('--db', db, 'kv', 'history', 'agent:status').out) as unknown[];
    assert.equal(history.length, 1, 'one version in history');
    assert.equal(strata('--db', db, 'kv', 'delete', 'agent:status').code, 0, 'delete exits 0');
    assert.equal(
      strata('--db', db, 'kv', 'get', 'agent:status').code,
      3,
      'a deleted key is not found (exit 3)',
    );
  });

  it('separates usage errors (exit 2) from not found (exit 3), and changes nothing on bad input', () => {
    assert.equal(strata('--db', db, 'bogus').code, 2, 'unknown command');
    assert.equal(strata('kv', 'get', 'x').code, 2, 'missing --db');
    assert.equal(strata('--db', db, 'kv', 'put', 'k', '{not json', '--json').code, 2, 'malformed JSON');
    assert.equal(strata('--db', db, 'kv', 'get', 'k').code, 3, 'the malformed put wrote nothing');
    assert.equal(strata('--help').code, 0, '--help exits 0');
  });

  it('reports versions and recovery with info', () => {
    const info = JSON.parse(strata('--db', db, 'info').out) as {
      version: number;
      recovery: { health: string };
    };
    assert.ok(info.version >= 3, `info shows the version (${info.version})`);
    assert.equal(info.recovery.health, 'clean', 'info shows recovery health');
  });
});
