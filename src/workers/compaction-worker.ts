/**
 * The compaction worker's entry: runs `compactionOutputs` (the same code the main thread runs when
 * no worker is available) over the job's input tables, read straight from the database folder
 * (tables are immutable once installed), and posts each output step to the main thread, which
 * writes it through its backend. See protocol.ts.
 */
import { join as joinPath } from 'node:path';
import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import { openFileReader } from '../backend/node/node-backend.js';
import { concatBytes, StrataError } from '../base/index.js';
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

const port = (() => {
  if (parentPort === null) throw new Error('compaction-worker.js runs as a worker thread');
  return parentPort;
})();

/** Output gathered per message (see run). */
const POST_BYTES = 1024 * 1024;

function post(m: WorkerMessage): void {
  port.postMessage(m);
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
  // Bytes of the current table not yet posted: steps are gathered into posts of POST_BYTES, one
  // buffer each, moved (not copied) to the main thread. A large append is written off the main
  // thread there (the Node backend writes appends above 256 KiB through libuv's thread pool), so
  // the main thread spends almost nothing on a compaction's output.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const send = (output: WorkerMessage & { type: 'output' }): void => {
    const chunk = output.output.kind === 'begin' ? undefined : output.output.chunks[0];
    Atomics.add(shared, IN_FLIGHT, output.bytes);
    port.postMessage(output, chunk === undefined ? [] : [chunk.buffer as ArrayBuffer]);
    for (;;) {
      const inFlight = Atomics.load(shared, IN_FLIGHT);
      if (inFlight <= IN_FLIGHT_BYTES_MAX) break;
      Atomics.wait(shared, IN_FLIGHT, inFlight, 100);
      cancelled();
    }
  };
  const take = (): Uint8Array => {
    // A fresh buffer of its own, so it can be transferred.
    const joined = concatBytes(pending);
    pending = [];
    pendingBytes = 0;
    return joined;
  };
  try {
    for (const o of compactionOutputs(
      m.job,
      (name) => openFileReader(joinPath(m.root, name), name),
      allocate,
    )) {
      cancelled();
      if (o.kind === 'pause') continue;
      if (o.kind === 'begin') {
        send({ type: 'output', output: o, bytes: 0 });
        continue;
      }
      for (const c of o.chunks) {
        pending.push(c);
        pendingBytes += c.length;
      }
      if (o.kind === 'end') {
        const joined = take();
        send({
          type: 'output',
          output: { kind: 'end', meta: o.meta, chunks: [joined] },
          bytes: joined.length,
        });
      } else if (pendingBytes >= POST_BYTES) {
        const joined = take();
        send({ type: 'output', output: { kind: 'bytes', chunks: [joined] }, bytes: joined.length });
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
