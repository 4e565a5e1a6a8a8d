export * from './compaction-picker.js';
export * from './key-index.js';
export * from './memtable.js';
export * from './merge.js';
export * from './retention.js';
