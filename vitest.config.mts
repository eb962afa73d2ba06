import { defineConfig } from 'vitest/config';

// Fast tests: pure functions and documents, no server, browser, container or spawned CLI.
// `npm run test:unit` runs them alone (under 30 s); `npm test` runs both projects.
const UNIT = [
  'test/annotations/**/*.test.ts',
  'test/cli/parse.test.ts',
  'test/cli/db-options.test.ts',
  'test/checks/pep440.test.ts',
  'test/checks/kubernetes.test.ts',
  'test/plan/plan.test.ts',
  'test/runner/metrics.test.ts',
  'test/runner/prompt-env.test.ts',
  'test/languages/commands.test.ts',
  'test/checks/config.test.ts',
  'test/db/lint.test.ts',
  'test/errors/**/*.test.ts',
  'test/db/sql-split.test.ts',
  'test/extract/**/*.test.ts',
  'test/guide-check/**/*.test.ts',
  'test/markdown.test.ts',
  'test/mutation-config.test.ts',
  'test/scripts/mutation-report.test.ts',
  'test/placeholders/render.test.ts',
  'test/process/launcher.test.ts',
  'test/public-surface.test.ts',
  'test/report/**/*.test.ts',
  'test/results/**/*.test.ts',
  'test/runner/state.test.ts',
  'test/runner/verify.test.ts',
  'test/secrets/**/*.test.ts',
  'test/security/policy.test.ts',
  'test/security/fuzz.test.ts',
  'test/security/signing.test.ts',
  'test/structure.test.ts',
  'test/targets/**/*.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Runner tests start real processes and PostgreSQL servers: keep parallelism modest on 2 cores.
    maxWorkers: 2,
    // describe.concurrent blocks (the failure matrix) run this many cases at once.
    maxConcurrency: 3,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      // Real PostgreSQL, processes, Chromium, Podman: the CLI tests spawn bin/exec-doc.js, which runs the compiled engine.
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: UNIT,
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'plugins/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      // The product's bar: at least 90 % of the lines of src/ and plugins/ run under test.
      thresholds: { lines: 90 },
    },
  },
});
