export * from './kv.js';
export * from './value-codec.js';
