/**
 * The backend layer's public face (L1): the Backend contract and its in-memory implementations.
 * The Node fs backend lives in `node/` and is exported from there, because it imports `node:*`
 * modules the core must not reach.
 */
export * from './backend.js';
export * from './memory-backend.js';
export * from './sim-disk.js';
