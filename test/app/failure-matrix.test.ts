// The application guide's failure matrix: every forward step of every procedure that changes
// something fails once (EXEC_DOC_FAIL_BEFORE), and each time the rollback returns shopapp to where
// it started: the checks that ran before the change pass again (same packages, same release, same
// configuration, healthy at the old version) and so do the rollback-phase checks. Real processes:
// the service, its supervisor and workers, pip, PostgreSQL.
import path from 'node:path';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/plan.js';
import { loadCorpus } from '../../src/documents/corpus.js';
import { ROOT, runGuideSection } from '../helpers.js';

const docsRoot = path.join(ROOT, 'docs');
const DOC = 'application-upgrades';
const docs = await loadCorpus({ docsRoot, displayRoot: ROOT });
const sections = docs.find((d) => d.docId === DOC)!.sections;
const changing = sections.filter((s) => !s.slug.endsWith('-failing'));
// Every forward block but the preview and the pre checks: the rehearsal's setup, the steps that
// change something, and the checks between and after them.
const cases = changing.flatMap((section) =>
  buildPlan(section)
    .forward.filter(
      (step) => step.kind === 'setup' || step.kind === 'step' || (step.kind === 'check' && step.phase === 'post'),
    )
    .map((step) => [section.slug, step.id] as const),
);

const run = (slug: string, env: Record<string, string>, sets: Record<string, string> = {}) =>
  runGuideSection(`${DOC}/${slug}`, { env, sets });

describe.concurrent('application procedures under injected failures', () => {
  it('covers every procedure that changes something', () => {
    expect(changing.map((s) => s.slug)).toEqual([
      'upgrade-python-packages',
      'deploy-a-new-release',
      'update-the-configuration',
    ]);
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases)(
    '%s: failing before %s returns the application to where it started',
    async (slug, stepId) => {
      const outcome = await run(slug, { EXEC_DOC_FAIL_BEFORE: stepId });
      const failed = outcome.record.steps.filter((s) => s.status !== 'passed' && s.stepId !== stepId);
      expect(outcome.exitCode, `${outcome.record.failureReason}\n${JSON.stringify(failed, null, 1)}`).toBe(1);
      expect(outcome.record.failedStep).toBe(stepId);
      const verify = outcome.record.steps.filter((s) => s.phase === 'verify');
      // The pre checks that passed ran again (none did when the setup failed), and every one passed.
      const setup = buildPlan(sections.find((s) => s.slug === slug)!).forward[0]!.id === stepId;
      expect(verify.length).toBeGreaterThanOrEqual(setup ? 1 : 2);
      expect(verify.filter((s) => s.status !== 'passed')).toEqual([]);
      expect(outcome.record.rollback.complete).toBe(true);
    },
    180_000,
  );

  it('never shows the secret of the new configuration: not in output, events, logs, state or results', async () => {
    const secret = 'sk_live_0f1e2d3c4b5a69788796a5b4';
    const outcome = await run('update-the-configuration', {}, { payment_api_key: secret });
    const { stateDir } = outcome;
    expect(outcome.exitCode, outcome.record.failureReason ?? '').toBe(0);
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const file = path.join(dir, name);
        if (statSync(file).isDirectory()) walk(file);
        else files.push(file);
      }
    };
    walk(stateDir);
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) expect(readFileSync(file, 'utf8'), file).not.toContain(secret);
    const render = outcome.record.steps.find((s) => s.stepId === 'config-render')!;
    expect(render.outputExcerpt).toContain('"apiKey": "***"');
  }, 120_000);
});
