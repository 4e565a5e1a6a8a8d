#!/usr/bin/env node
// The layer check (see docs/ARCHITECTURE.md): imports point down only, the core uses no
// `node:*` module and no ambient clock, randomness or timers. Fails when it checks zero files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

// Each layer and the layers it may import (besides itself). Order is bottom to top.
const ALLOWED = {
  base: [],
  backend: ['base'],
  layout: ['base'],
  format: ['base'],
  lsm: ['base', 'backend', 'layout', 'format'],
  commit: ['base', 'backend', 'layout', 'format', 'lsm'],
  mvcc: ['base', 'backend', 'layout', 'format', 'lsm', 'commit'],
  storage: ['base', 'backend', 'layout', 'format', 'lsm', 'commit', 'mvcc'],
  engine: ['base', 'storage'],
  executor: ['base', 'storage', 'engine'],
  inference: ['base'],
  api: ['base', 'backend', 'storage', 'engine', 'executor', 'inference'],
  // Node worker threads (the compaction worker): Node built-ins allowed, like the backend.
  workers: ['base', 'backend', 'lsm'],
  cli: ['*'],
  mcp: ['*'],
  root: ['*'],
};
// Folders (relative to src/) where Node built-ins are allowed: the Node backend and front ends.
const NODE_ALLOWED = ['backend/node/', 'workers/', 'cli/', 'mcp/', 'index.ts', 'node.ts'];
const AMBIENT = [
  /\bDate\.now\s*\(/,
  /\bMath\.random\s*\(/,
  /\bset(Timeout|Interval|Immediate)\s*\(/,
  /\bBuffer\./,
];

function walk(dir, out) {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts') && !p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function layerOf(rel) {
  const top = rel.split('/')[0];
  if (!rel.includes('/')) return 'root';
  return top;
}

const files = walk('src', []);
const problems = [];
let importsChecked = 0;
for (const file of files) {
  const rel = relative('src', file).split('\\').join('/');
  const layer = layerOf(rel);
  const allowed = ALLOWED[layer];
  if (allowed === undefined) {
    problems.push(`${file}: folder '${layer}' is not a known layer (add it to scripts/check-layers.mjs)`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  const nodeOk = NODE_ALLOWED.some((p) => rel.startsWith(p) || rel === p);
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/g)) {
    const spec = m[1];
    importsChecked++;
    if (spec.startsWith('node:')) {
      if (!nodeOk) problems.push(`${file}: imports ${spec}; only the Node backend and front ends may`);
      continue;
    }
    if (!spec.startsWith('.')) continue;
    const target = relative('src', normalize(join(dirname(file), spec)))
      .split('\\')
      .join('/');
    if (target.startsWith('..')) {
      problems.push(`${file}: imports ${spec} from outside src/`);
      continue;
    }
    const targetLayer = layerOf(target.replace(/\.js$/, '.ts'));
    if (targetLayer === layer || allowed.includes('*')) continue;
    if (!allowed.includes(targetLayer))
      problems.push(`${file}: layer '${layer}' may not import layer '${targetLayer}' (${spec})`);
  }
  if (!nodeOk) {
    for (const re of AMBIENT)
      if (re.test(text)) problems.push(`${file}: uses ${re.source}; inject Clock/Random/Scheduler instead`);
  }
}
if (files.length === 0) problems.push('checked zero files: is the layer check looking in the right place?');
if (problems.length > 0) {
  console.error(`layer check: ${problems.length} problem(s)\n${problems.map((p) => `- ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`layer check: ${files.length} files, ${importsChecked} imports, all point down`);
