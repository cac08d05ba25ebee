import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real services and child processes; two cores, so keep files moderately parallel.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
