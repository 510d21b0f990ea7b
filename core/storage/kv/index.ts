// The key-value face: commands, results, limits and the state machine that applies them.
export * from './commands.js';
export * from './limits.js';
export { KvStateMachine } from './machine.js';
export { read as readKv, scan as scanKv } from './reader.js';
export { compileKeyRegex } from './regex.js';
export { encodeKvCommand, decodeKvCommand } from './codec.js';
