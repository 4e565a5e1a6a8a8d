/**
 * `npm start`: a short tour of Strata as an agent would use it. One database in a folder holds
 * an agent's working memory (KV), its task (a JSON document), its tool calls (an event stream)
 * and what it learned (a graph); a transaction writes all four at once; a fork tries a risky
 * step, diff shows what changed, merge keeps it; time travel reads an earlier step; a reopen
 * shows what recovery found.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Strata } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-demo-'));
const show = (label: string, value: unknown): void =>
  console.log(`  ${label.padEnd(34)} ${JSON.stringify(value)}`);

console.log(`Strata demo — database folder: ${dir}\n`);
console.log('1. Open (buffered durability: visible at once, synced within ~100 ms)');
let db = await Strata.open(dir);
show('recovery', db.recovery);
const main = db.branch('main');

console.log('\n2. An agent starts a task: working memory, a task document, a knowledge graph');
await main.kv.put('agent:status', 'planning');
await main.json.set('task:1', '$', {
  goal: 'summarise the quarterly report',
  steps: [],
  budget: { tokens: 20_000, spent: 0 },
});
await main.graph.putNode('report', { kind: 'document', title: 'Q3 report' });
await main.graph.putNode('acme', { kind: 'company' });
await main.graph.putEdge('report', 'acme', 'about', {});
show('kv agent:status', main.kv.get('agent:status'));
show('json task:1 $.goal', main.json.get('task:1', '$.goal'));

console.log('\n3. Each step is one transaction: all four primitives, one commit, one version');
const step = async (tool: string, result: string, spent: number): Promise<number> => {
  const r = await db.transaction('main', (tx) => {
    const n = (tx.json.get('task:1', '$.steps') as unknown[]).length;
    tx.json.set('task:1', `$.steps[${n}]`, { tool, result });
    tx.json.set('task:1', '$.budget.spent', spent);
    tx.events.append('run-1', 'tool_call', { step: n, tool });
    tx.kv.put('agent:status', `step ${n}: ${tool}`);
    tx.graph.putNode(`step-${n}`, { tool });
    tx.graph.putEdge(`step-${n}`, 'report', 'read', {});
  });
  return r.version;
};
const afterFetch = await step('fetch', 'got 40 pages', 4_000);
await step('search', 'found revenue table', 6_500);
show('json $.steps[-1].tool', main.json.get('task:1', '$.steps[-1].tool'));
show('json $.budget', main.json.get('task:1', '$.budget'));
show(
  'events tool_call',
  main.events
    .read('run-1', { type: 'tool_call' })
    .map((e) => `#${e.seq} ${(e.data as { tool: string }).tool}`),
);
show('events.verify (hash chain)', main.events.verify('run-1'));
show(
  'graph neighbors of report (in)',
  main.graph.neighbors('report', { direction: 'in' }).map((n) => `${n.id} -${n.type}->`),
);
show(
  'graph traverse from step-0',
  main.graph.traverse('step-0', { maxDepth: 2, direction: 'both' }).map((s) => `${s.id}@${s.depth}`),
);

console.log('\n4. Fork before a risky step; diff; merge what worked');
const trial = await main.fork('try-shortcut');
await trial.json.patch('task:1', { plan: 'skip the appendix', budget: { tokens: 12_000 } });
await trial.kv.put('agent:status', 'trying a shortcut');
await trial.events.append('run-1', 'tool_call', { step: 2, tool: 'summarise' });
await trial.graph.putNode('summary', { kind: 'draft' });
await trial.graph.putEdge('summary', 'report', 'summarises', {});
show('main sees status', main.kv.get('agent:status'));
show('try-shortcut sees status', trial.kv.get('agent:status'));
const d = main.diff('try-shortcut');
show(
  'diff kv changed',
  d.kv.changed.map((c) => c.key),
);
show(
  'diff json changed paths',
  d.json.changed.map((c) => `${c.key}: ${c.paths.join(', ')}`),
);
show(
  'diff events added',
  d.events.streams.map((s) => `${s.stream}: +${s.added.length}`),
);
show('diff graph added', [
  ...d.graph.nodes.added.map((n) => n.id),
  ...d.graph.edges.added.map((e) => `${e.from}-${e.type}->${e.to}`),
]);
// Meanwhile main keeps working on another path of the same document: both merge cleanly.
await main.json.set('task:1', '$.budget.spent', 7_000);
const merged = await main.merge('try-shortcut');
show('merge (strict)', { applied: merged.applied, conflicts: merged.conflicts.length });
show('json $.budget after the merge', main.json.get('task:1', '$.budget'));
show('json $.plan after the merge', main.json.get('task:1', '$.plan'));
show(
  'events after the merge',
  main.events.read('run-1').map((e) => (e.data as { tool: string }).tool),
);
await db.deleteBranch('try-shortcut');

console.log('\n5. Time travel: the task as it was right after the first step');
const then = main.at(afterFetch);
show(`version ${afterFetch}: status`, then.kv.get('agent:status'));
show(`version ${afterFetch}: steps`, (then.json.get('task:1', '$.steps') as unknown[]).length);
show(`version ${afterFetch}: events`, then.events.read('run-1').length);
show(`version ${afterFetch}: has node step-1`, then.graph.getNode('step-1') !== undefined);
show(
  'history of agent:status',
  main.kv.history('agent:status').map((h) => `v${h.version} ${String(h.value)}`),
);

console.log('\n6. Spaces: the same primitives, partitioned');
const scratch = main.space('scratch');
await scratch.kv.put('agent:status', 'a note to self');
show('spaces', main.spaces());
show('scratch vs default status', [scratch.kv.get('agent:status'), main.kv.get('agent:status')]);

console.log('\n7. Durability and recovery');
show('version / durableVersion', [db.version, db.durableVersion]);
await db.sync();
show('after sync()', [db.version, db.durableVersion]);
await db.close();
db = await Strata.open(dir);
show('recovery after reopen', db.recovery);
show('json $.budget after reopen', db.branch('main').json.get('task:1', '$.budget'));
show('events.verify after reopen', db.branch('main').events.verify('run-1'));
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
show('kv.get obs:012345', log.get('obs:012345')?.toString().slice(0, 12));
await db.close();
rmSync(dir, { recursive: true, force: true });
console.log('\nDone. `npm test` runs the test suite.');
