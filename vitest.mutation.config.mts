import { defineConfig } from 'vitest/config';

// The tests that guard the mutated modules (fast ones: Stryker runs them once per mutant).
export default defineConfig({
  test: {
    include: [
      'test/secrets/**/*.test.ts',
      'test/runner/verify.test.ts',
      'test/report/formats.test.ts',
      'test/placeholders/render.test.ts',
      'test/plan/plan.test.ts',
      'test/runner/metrics.test.ts',
      'test/checks/pep440.test.ts',
      'test/security/policy.test.ts',
      'test/security/audit.test.ts',
      'test/security/fuzz.test.ts',
      'test/security/signing.test.ts',
      'test/languages/commands.test.ts',
      'test/runner/prompt-env.test.ts',
      'test/results/record.test.ts',
      'test/runner/state.test.ts',
      'test/runner/last-seq.test.ts',
      'test/process/process.test.ts',
      'test/process/launcher.test.ts',
      'test/process/launcher-life.test.ts',
      'test/db/ledger.test.ts',
      'test/db/migrate.test.ts',
      'test/runner/run.test.ts',
      'test/runner/rollback-run.test.ts',
      'test/runner/resume-matrix.test.ts',
      'test/runner/execute-step.test.ts',
      'test/runner/baseline.test.ts',
      'test/db/backfill.test.ts',
      'test/db/snapshot.test.ts',
      'test/guide-check/fixtures.test.ts',
    ],
    testTimeout: 60_000,
  },
});
