/**
 * `npm start`: a short tour of what Strata does today. Opens a database in a folder, writes
 * agent state, reads it back, shows history and time travel, closes, reopens and shows what
 * recovery found.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Strata } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-demo-'));
const show = (label: string, value: unknown): void =>
  console.log(`  ${label.padEnd(28)} ${JSON.stringify(value)}`);

console.log(`Strata demo — database folder: ${dir}\n`);
console.log('1. Open (buffered durability: visible at once, synced within ~100 ms)');
let db = await Strata.open(dir);
show('recovery', db.recovery);

console.log('\n2. Write agent state');
const main = db.branch('main');
const first = await main.kv.put('agent:status', 'planning');
await main.kv.put('agent:goal', {
  task: 'summarise the quarterly report',
  steps: ['fetch', 'read', 'write'],
});
await main.kv.put('agent:status', 'fetching');
const last = await main.kv.put('agent:status', 'writing');
show('commit (version, timestamp)', last);
show('kv.get agent:status', main.kv.get('agent:status'));
show('kv.getVersioned agent:goal', main.kv.getVersioned('agent:goal'));
show(
  'kv.list prefix agent:',
  [...main.kv.list({ prefix: 'agent:' })].map(([k]) => k),
);

console.log('\n3. History and time travel');
for (const h of main.kv.history('agent:status')) show(`  version ${h.version}`, h.value);
show(`as of version ${first.version}`, main.at(first.version).kv.get('agent:status'));

console.log('\n4. Compare-and-set');
const current = main.kv.getVersioned('agent:status');
await main.kv.put('agent:status', 'done', { ifVersion: current?.version ?? null });
try {
  await main.kv.put('agent:status', 'stale write', { ifVersion: current?.version ?? null });
} catch (error) {
  show('stale compare-and-set', (error as { code: string }).code);
}

console.log('\n5. Durability watermarks');
show('version / durableVersion', [db.version, db.durableVersion]);
await db.sync();
show('after sync()', [db.version, db.durableVersion]);
await db.close();

console.log('\n6. Reopen: recovery replays the log');
db = await Strata.open(dir);
show('recovery', db.recovery);
show('kv.get agent:status', db.branch('main').kv.get('agent:status'));
await db.close();

console.log('\n7. Branches: fork, diverge, diff, merge');
db = await Strata.open(dir);
const trunk = db.branch('main');
const trial = await trunk.fork('try-1');
await trial.kv.put('agent:status', 'trying a shortcut');
await trial.kv.put('agent:plan', ['skip fetch', 'write']);
show('main sees', trunk.kv.get('agent:status'));
show('try-1 sees', trial.kv.get('agent:status'));
show('main.diff("try-1")', trunk.diff('try-1').kv);
const merged = await trunk.merge('try-1', { strategy: 'strict' });
show('merge', { applied: merged.applied, conflicts: merged.conflicts.length });
show('main after the merge', trunk.kv.get('agent:status'));
show(
  'branches',
  db.branches().map((b) => `${b.name} (from ${b.parent ?? '-'} at v${b.forkVersion})`),
);
await db.deleteBranch('try-1');
await db.close();

console.log('\n8. More data than memory: 16 MiB of observations with a 2 MiB memory budget');
db = await Strata.open(dir, { memoryBudgetBytes: 2 * 1024 * 1024 });
const log = db.branch('main').kv;
const note = 'x'.repeat(1000);
const began = performance.now();
for (let i = 0; i < 16_000; i++) await log.put(`obs:${String(i).padStart(6, '0')}`, `${i} ${note}`);
await db.compact();
const tree = db.stats().tree;
show('16,000 puts of 1 KB took', `${Math.round(performance.now() - began)} ms`);
show(
  'tables per level',
  tree.levels.filter((l) => l.tables > 0).map((l) => `L${l.level}: ${l.tables}`),
);
show('flushes / compactions', [tree.flushes, tree.compactions]);
show('kv.get obs:012345', log.get('obs:012345')?.toString().slice(0, 12));
show(
  'memtable + caches in use (MiB)',
  Number(((tree.memtableBytes + tree.blockCache.usedBytes + tree.tableCache.usedBytes) / 2 ** 20).toFixed(2)),
);
await db.close();
rmSync(dir, { recursive: true, force: true });
console.log('\nDone. `npm test` runs the test suite.');
