export * from './platform.js';
export * from './strata.js';
