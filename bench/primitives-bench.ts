/**
 * `npm run bench:primitives`: the primitives' figures — event append rate and read-by-type
 * latency on a 1M-event stream, JSON one-field update cost against document size, graph
 * neighbors and traversals on 100k nodes / 1M edges, transaction commit rates with and without
 * conflicts — each script run in its own process, one after another, and written to
 * docs/benchmarks.md ("Primitives"). `--quick` runs small sizes and writes nothing unless
 * `--write` is given.
 */
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeLoad, describeMachine, probeLoad, writeSection } from './report.js';
import { measureTransactions } from './transaction-bench.js';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const write = process.argv.includes('--write') || (!quick && !process.argv.includes('--no-write'));

function run(script: string, args: string[]): string {
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, script), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${script} failed with status ${r.status}`);
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.error(`${script}: ${seconds} s`);
  return r.stdout.trimEnd();
}

const start = probeLoad();
const m = describeMachine(tmpdir(), 'the temp folder');
const q = quick ? ['--quick'] : [];
const events = run('events.js', quick ? ['--n', '100000'] : []);
const json = run('json.js', q);
const graph = run('graph.js', q);
const tx = await measureTransactions(quick ? 5_000 : 50_000, quick ? 1 : 3);
const end = probeLoad();
const k = (x: number): string => `${(x / 1000).toFixed(1)}k`;

const text = [
  '## Primitives',
  '',
  `Command: \`npm run bench:primitives${quick ? ' -- --quick' : ''}\` (each part is its own script in bench/, run in`,
  'its own process). Medians; every figure beside its baseline from the same run.',
  '',
  `- Machine: ${m.cpus}; ${m.memory}; Node ${m.node}; ${m.fileSystem}`,
  `- Load: ${describeLoad(start, end)}`,
  '',
  '### Event streams (`bench/events.ts`)',
  '',
  '```',
  events,
  '```',
  '',
  '### JSON documents: one-field update against document size (`bench/json.ts`)',
  '',
  '```',
  json,
  '```',
  '',
  '### Graph (`bench/graph.ts`)',
  '',
  '```',
  graph,
  '```',
  '',
  '### Transactions (`bench/transaction-bench.ts`)',
  '',
  `Buffered, on disk; ${tx.transactions.toLocaleString('en-US')} transactions per measure, median of ${tx.repetitions}; each`,
  'transaction reads two keys and writes two.',
  '',
  '| measure | per second | vs plain puts |',
  '| --- | --- | --- |',
  `| plain awaited puts, one at a time (baseline) | ${k(tx.putsPerSecond)} | 1.00 |`,
  `| transactions, one at a time | ${k(tx.serialPerSecond)} | ${(tx.serialPerSecond / tx.putsPerSecond).toFixed(2)} |`,
  `| transactions, 8 in flight, disjoint keys (no conflicts) | ${k(tx.disjointPerSecond)} | ${(tx.disjointPerSecond / tx.putsPerSecond).toFixed(2)} |`,
  `| transactions, 8 in flight, one counter (conflicts) | ${k(tx.contendedPerSecond)} | ${(tx.contendedPerSecond / tx.putsPerSecond).toFixed(2)} |`,
  '',
  `Contended: ${tx.contendedRunsPerCommit.toFixed(2)} runs of the callback per commit (every commit makes the other`,
  'seven in flight run again); no update is lost (the run checks the counter).',
  '',
].join('\n');
console.log(text);
if (write) console.error(`wrote ${writeSection('Primitives', text, '# Benchmarks\n')}`);
