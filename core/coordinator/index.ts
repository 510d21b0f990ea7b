export * from './coordinator.js';
export * from './routes.js';
export * from './fanout.js';
