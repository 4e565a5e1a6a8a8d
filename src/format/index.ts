export * from './fixed-header.js';
export * from './frame.js';
export * from './internal-key.js';
export * from './manifest-current.js';
export * from './snapshot.js';
export * from './table-meta.js';
export * from './wal-record.js';
export * from './wal-segment.js';
