export * from './branches.js';
