export * from './commit-runtime.js';
export * from './recovery.js';
export * from './wal-writer.js';
