export * from './assert.js';
export * from './bytes.js';
export * from './clock.js';
export * from './crc32c.js';
export * from './errors.js';
export * from './limits.js';
export * from './sha256.js';
export * from './varint.js';
