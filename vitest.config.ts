import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ from the current source, and makes this run's temp folder and repository
    // templates, before any test file runs.
    globalSetup: ['test/global-setup.ts'],
    // In-process tests get the gate kinds the CLI's composition root installs; a file's CPU time
    // is logged when GASTOWN_TEST_CPU_LOG names a file (test/cpu-log.ts).
    setupFiles: ['test/setup-plugins.ts', 'test/cpu-log.ts'],
    // A guard against a hung test, not a speed check: a loaded machine may take minutes.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Child processes do most of the work; each worker waits on its own (docs/decisions.md,
    // "Test harness"). Forks, not threads: tests set process.env for a child.
    pool: 'forks',
    maxWorkers: 3,
    // Test files share one module registry per worker: no test relies on a fresh import.
    isolate: false,
    // Transformed modules kept on disk between runs (keyed by each file's text and the config),
    // so a run transforms only what changed since the last one.
    experimental: { fsModuleCache: true },
  },
});
