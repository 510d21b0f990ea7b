export * from './command.js';
export * from './node.js';
export * from './storage-port.js';
export * from './types.js';
