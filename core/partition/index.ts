export * from './errors.js';
export * from './fingerprint.js';
export * from './hash.js';
export * from './leaders.js';
export * from './map.js';
export * from './rendezvous.js';
export * from './replication-factor.js';
