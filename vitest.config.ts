import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ from the current source before any end-to-end test runs it.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests spawn real git and node processes; two cores, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
  },
});
