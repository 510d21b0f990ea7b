export * from './command.js';
export * from './replica.js';
export * from './sessions.js';
export * from './state-machine.js';
