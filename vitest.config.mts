import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Runner tests start real processes and PostgreSQL servers: keep parallelism modest on 2 cores.
    maxWorkers: 2,
    // describe.concurrent blocks (the failure matrix) run this many cases at once.
    maxConcurrency: 3,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'plugins/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      // The product's bar: at least 90 % of the lines of src/ and plugins/ run under test.
      thresholds: { lines: 90 },
    },
  },
});
