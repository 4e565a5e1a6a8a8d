export * from './key-index.js';
export * from './manifest-log.js';
export * from './memtable.js';
