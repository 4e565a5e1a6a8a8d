export * from './block-cache.js';
export * from './key-index.js';
export * from './manifest-log.js';
export * from './memtable.js';
export * from './table-builder.js';
export * from './table-reader.js';
