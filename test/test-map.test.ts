/**
 * The test map (docs/testing.md): every file, folder or pattern the table lists exists and holds
 * tests, and every test file is listed under some technique — so a suite cannot disappear, or
 * appear, without the map saying so.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

function testFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) testFiles(p, out);
    else if (p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** A listed pattern with `*` (no `/` inside a star) as a regular expression. */
function patternOf(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${escaped}$`);
}

const TEST_CALL = /\b(it|test)\(\s*['"`]/;

describe('the test map (docs/testing.md)', () => {
  const text = readFileSync('docs/testing.md', 'utf8');
  const rows = text
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| ---') && !l.startsWith('| technique'));
  const listed = new Set<string>();
  for (const row of rows) {
    const where = row.split('|')[2] ?? '';
    for (const m of where.matchAll(/`([^`]+)`/g)) listed.add(m[1]!.replace(/\/$/, ''));
  }
  const all = [...testFiles('test'), ...testFiles('src')].sort();

  it('has rows and lists files', () => {
    assert.ok(rows.length >= 20, `the table has ${rows.length} rows`);
    assert.ok(listed.size >= 30, `it lists ${listed.size} places`);
  });

  it('every listed place exists and holds tests', () => {
    for (const place of listed) {
      if (place.includes('*')) {
        const re = patternOf(place);
        assert.ok(
          all.some((f) => re.test(f)),
          `${place}: no test file matches`,
        );
        continue;
      }
      assert.ok(existsSync(place), `${place} is listed in docs/testing.md but does not exist`);
      if (statSync(place).isDirectory()) {
        assert.ok(
          all.some((f) => f.startsWith(`${place}/`)),
          `${place}/ holds no test file`,
        );
      } else if (place.endsWith('.test.ts')) {
        assert.match(readFileSync(place, 'utf8'), TEST_CALL, `${place} holds no test`);
      }
    }
  });

  it('every test file is listed under some technique', () => {
    const patterns = [...listed].filter((p) => p.includes('*')).map(patternOf);
    const unlisted = all.filter(
      (f) =>
        !listed.has(f) &&
        !patterns.some((re) => re.test(f)) &&
        ![...listed].some((p) => f.startsWith(`${p}/`)),
    );
    assert.deepEqual(unlisted, [], 'test files missing from docs/testing.md');
  });
});
