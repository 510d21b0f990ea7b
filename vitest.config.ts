import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // fast-check properties share one seed (FC_SEED to change it, FC_SEED=random to explore).
    setupFiles: ['test/setup-fast-check.ts'],
    // One build of dist/ before any file runs (CLI and worker-thread tests use it).
    globalSetup: ['test/global-setup.ts'],
    // Two cores on CI: keep the pool small so timing-sensitive real-process tests are not starved.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
