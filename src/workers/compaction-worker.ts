/**
 * The compaction worker's entry: runs `compactionOutputs` (the same code the main thread runs when
 * no worker is available) over the job's input tables, read straight from the database folder
 * (tables are immutable once installed), and posts each output step to the main thread, which
 * writes it through its backend. See protocol.ts.
 */
import { join } from 'node:path';
import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import { openFileReader } from '../backend/node/node-backend.js';
import { StrataError } from '../base/index.js';
import { compactionOutputs, type JobFailure } from '../lsm/index.js';
import {
  CANCEL,
  GRANT,
  type Grant,
  IN_FLIGHT,
  IN_FLIGHT_BYTES_MAX,
  type RunMessage,
  type WorkerMessage,
} from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('compaction-worker.js runs as a worker thread');

function post(m: WorkerMessage): void {
  port!.postMessage(m);
}

function failureOf(error: unknown): JobFailure {
  if (error instanceof StrataError) {
    return {
      code: error.code,
      message: error.message,
      ...(error.object === undefined ? {} : { object: error.object }),
      ...(error.offset === undefined ? {} : { offset: error.offset }),
    };
  }
  return {
    code: 'io',
    message: `the compaction worker failed: ${error instanceof Error ? error.stack : String(error)}`,
  };
}

function run(m: RunMessage): void {
  const shared = new Int32Array(m.shared);
  let grant: Grant = m.grant;
  const allocate = (): number => {
    if (grant.next >= grant.end) {
      const generation = Atomics.load(shared, GRANT);
      post({ type: 'numbers' });
      Atomics.wait(shared, GRANT, generation);
      const next = receiveMessageOnPort(m.grants);
      if (next === undefined) throw new StrataError('closed', 'the database closed during a compaction');
      grant = next.message as Grant;
    }
    return grant.next++;
  };
  const cancelled = (): void => {
    if (Atomics.load(shared, CANCEL) !== 0) throw new StrataError('closed', 'the compaction was cancelled');
  };
  try {
    for (const o of compactionOutputs(m.job, (name) => openFileReader(join(m.root, name), name), allocate)) {
      cancelled();
      if (o.kind === 'pause') continue;
      let bytes = 0;
      if (o.kind !== 'begin') for (const c of o.chunks) bytes += c.length;
      Atomics.add(shared, IN_FLIGHT, bytes);
      post({ type: 'output', output: o, bytes });
      for (;;) {
        const inFlight = Atomics.load(shared, IN_FLIGHT);
        if (inFlight <= IN_FLIGHT_BYTES_MAX) break;
        Atomics.wait(shared, IN_FLIGHT, inFlight, 100);
        cancelled();
      }
    }
    post({ type: 'done' });
  } catch (error) {
    post({ type: 'done', failure: failureOf(error) });
  } finally {
    m.grants.close();
  }
}

port.on('message', (m: RunMessage) => run(m));
