import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Workers suite runs in workerd (vitest.workers.config.ts).
    exclude: ['test/workers/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time, whatever the core count: most of a test's time is spent waiting on
    // the processes it started (gateways, upstreams, the CLI), so one file per spare core (vitest's
    // default, one file on a 2-core machine) leaves a core idle much of the run.
    maxWorkers: 2,
    globalSetup: ['test/support/sqld-install.ts'],
  },
});
