#!/usr/bin/env node
/**
 * The `strata` command line (KV and info for now; the executor-based CLI replaces this).
 *
 *   strata --db PATH kv put KEY VALUE [--json]   VALUE is a string, or JSON with --json
 *   strata --db PATH kv get KEY [--json]
 *   strata --db PATH kv delete KEY
 *   strata --db PATH kv list [--prefix P] [--limit N] [--json]
 *   strata --db PATH kv history KEY [--json]
 *   strata --db PATH info
 *
 * Exit codes: 0 ok, 1 failure, 2 usage error, 3 not found.
 */
import { isStrataError, Strata } from '../index.js';

const USAGE = `usage: strata --db PATH <command>
  kv put KEY VALUE [--json]    write VALUE (a string; parsed as JSON with --json)
  kv get KEY [--json]          print the value (exit 3 when missing)
  kv delete KEY                delete KEY
  kv list [--prefix P] [--limit N] [--json]
  kv history KEY [--json]      every version, newest first
  info                         versions, recovery and stats
options: --durability strict|buffered (default buffered)`;

class UsageError extends Error {}

function parse(argv: string[]): { flags: Map<string, string | true>; rest: string[] } {
  const flags = new Map<string, string | true>();
  const rest: string[] = [];
  const valued = new Set(['--db', '--prefix', '--limit', '--durability']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') flags.set('--help', true);
    else if (valued.has(a)) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      flags.set(a, v);
    } else if (a.startsWith('--')) flags.set(a, true);
    else rest.push(a);
  }
  return { flags, rest };
}

function print(value: unknown, json: boolean): void {
  if (json || typeof value !== 'string') console.log(JSON.stringify(value, bytesAsBase64));
  else console.log(value);
}

function bytesAsBase64(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? { $bytes: globalThis.btoa(String.fromCharCode(...value)) } : value;
}

async function main(argv: string[]): Promise<number> {
  const { flags, rest } = parse(argv);
  if (flags.has('--help') || rest.length === 0) {
    console.log(USAGE);
    return flags.has('--help') ? 0 : 2;
  }
  const path = flags.get('--db');
  if (typeof path !== 'string') throw new UsageError('--db PATH is required');
  const durability = flags.get('--durability') ?? 'buffered';
  if (durability !== 'strict' && durability !== 'buffered')
    throw new UsageError('--durability must be strict or buffered');
  const json = flags.has('--json');
  const [family, verb, ...args] = rest;
  const known =
    (family === 'info' && verb === undefined) ||
    (family === 'kv' && ['put', 'get', 'delete', 'list', 'history'].includes(verb ?? ''));
  if (!known) throw new UsageError(`unknown command: ${rest.join(' ')}`);
  const db = await Strata.open(path, { durability });
  try {
    const kv = db.branch('main').kv;
    if (family === 'info') {
      print(
        { version: db.version, durableVersion: db.durableVersion, recovery: db.recovery, stats: db.stats() },
        true,
      );
      return 0;
    }
    const key = args[0];
    if (verb !== 'list' && key === undefined) throw new UsageError(`kv ${verb} needs a KEY`);
    switch (verb) {
      case 'put': {
        const raw = args[1];
        if (raw === undefined) throw new UsageError('kv put needs a VALUE');
        let value: unknown = raw;
        if (json) {
          try {
            value = JSON.parse(raw);
          } catch {
            throw new UsageError('VALUE is not valid JSON');
          }
        }
        print(await kv.put(key!, value as never), true);
        return 0;
      }
      case 'get': {
        const v = kv.get(key!);
        if (v === undefined) {
          console.error(`not found: ${key}`);
          return 3;
        }
        print(v, json);
        return 0;
      }
      case 'delete':
        print(await kv.delete(key!), true);
        return 0;
      case 'list': {
        const limitText = flags.get('--limit');
        const limit = typeof limitText === 'string' ? Number(limitText) : undefined;
        if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0))
          throw new UsageError('--limit must be a whole number');
        const prefix = flags.get('--prefix');
        const rows = kv.list({
          ...(typeof prefix === 'string' ? { prefix } : {}),
          ...(limit === undefined ? {} : { limit }),
        });
        for (const [k, v] of rows)
          console.log(
            json ? JSON.stringify([k, v], bytesAsBase64) : `${k}\t${JSON.stringify(v, bytesAsBase64)}`,
          );
        return 0;
      }
      default:
        print(kv.history(key!), true);
        return 0;
    }
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`strata: ${error.message}\n${USAGE}`);
      process.exitCode = 2;
    } else if (isStrataError(error)) {
      console.error(`strata: ${error.code}: ${error.message}`);
      process.exitCode = error.code === 'not_found' ? 3 : error.code === 'invalid_argument' ? 2 : 1;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  },
);
