export * from './coordinator.js';
export * from './routes.js';
