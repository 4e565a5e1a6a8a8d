#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's built-in test runner (through tsx).
// Arguments filter the files by substring: `node scripts/run-tests.mjs wal recovery`.
// `--deep` runs the long tier.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir, out) {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

// `--deep` runs the long tier: more seeds and crash states (see docs/testing.md).
const deep = process.argv.includes('--deep');
const filters = process.argv.slice(2).filter((a) => a !== '--deep');
const files = [...walk('src', []), ...walk('test', [])]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env: deep ? { ...process.env, STRATA_DEEP: '1' } : process.env,
});
process.exit(result.status ?? 1);
