export * from './commit-runtime.js';
export * from './recovery.js';
export * from './snapshot-io.js';
export * from './wal-writer.js';
