// Mutation testing of the modules where a silent breakage costs data or trust (issue 20).
// `npm run test:mutation`; incremental (reports/stryker-incremental.json), so a re-run only tests
// what changed. Not part of `npm test`: a full run takes longer than CI's budget allows.
import { readFileSync } from 'node:fs';

/**
 * `file:<first>-<last>`, found by name so that it follows the code as it moves: from the line that
 * starts with `from` to the closing brace (at its indentation) of the function that starts with
 * `to` (by default the same one). test/mutation-config.test.ts checks what it finds.
 */
function span(file, from, to = from) {
  const lines = readFileSync(new URL(file, import.meta.url), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.startsWith(from));
  const last = lines.findIndex((line, i) => i >= start && line.startsWith(to));
  const closing = `${/^ */.exec(to)[0]}}`;
  const end = lines.findIndex((line, i) => i > last && line === closing);
  if (start < 0 || last < 0 || end < 0) throw new Error(`stryker.config.mjs: no \`${from}\` … \`${to}\` in ${file}`);
  return `${file}:${start + 1}-${end + 1}`;
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.mts' },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  mutate: [
    'src/secrets/masker.ts',
    'src/runner/verify.ts',
    'src/placeholders/render.ts',
    'src/plan/plan.ts',
    'src/runner/metrics.ts',
    'src/checks/library/pep440.ts',
    // The security controls (issue 13): a surviving mutant here is a refusal that does not happen.
    'src/security/approvals.ts',
    'src/security/signing.ts',
    'src/security/identity.ts',
    'src/security/audit.ts',
    'src/security/policy.ts',
    'src/security/policy-file.ts',
    // Runme compatibility (issue 17): which program runs a block, and where an `export` value comes from.
    'src/languages/commands.ts',
    'src/runner/prompt-env.ts',
    // Result records (issue 20): what a reader and the site are told about a run.
    'src/results/record.ts',
    'src/runner/state.ts',
    'src/events/emitter.ts',
    // Starting and stopping a step's processes (issue 20's kill-tree; the launcher).
    'src/process/process.ts',
    'src/process/launcher.ts',
    'src/process/kill-tree.ts',
    // The database's own safety: the migration ledger and lock, batched backfills, snapshots (issue 20).
    'src/db/ledger.ts',
    'src/db/lock.ts',
    'src/db/backfill.ts',
    'src/db/snapshot.ts',
    // Transaction handling: one migration script and its ledger change, all or nothing, lock_timeout retried.
    span('src/db/migrate.ts', 'async function applyScript('),
    // The runner's resume and rollback paths (resume, rollback, reopening a stored run, what is
    // undone and in which order) and its forward, rollback, verify and teardown loops.
    span('src/runner/run.ts', 'export async function resumeRun(', 'async function continueRun('),
    span('src/runner/run.ts', 'function interruptedError(', 'function stopLeftover('),
    span('src/runner/run.ts', '  private async forward(', '  private async runAll('),
    // Executing one step: confirmation, injected failures, retries with backoff, the result masked
    // whole; an attempt's output checked against what the step expects.
    span('src/runner/execute-step.ts', 'export async function executeStep('),
    span('src/runner/execute-step.ts', 'function verifyOutput(', 'function excerpt('),
    span('src/runner/execute-step.ts', 'function sleep('),
    // The guide checker: a rule that stops reporting lets a broken page be published.
    'src/guide-check/**/*.ts',
  ],
  // Not copied into the sandbox: local runs' state (symlinks to folders), the site's builds, reports.
  ignorePatterns: ['.exec-doc', 'build', '.docusaurus', 'test-results'],
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  concurrency: 2,
  timeoutMS: 20000,
};
