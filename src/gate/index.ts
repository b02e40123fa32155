export * from './verdict.js';
export * from './override.js';
export * from './decide.js';
