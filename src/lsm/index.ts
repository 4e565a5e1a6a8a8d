export * from './key-index.js';
export * from './memtable.js';
