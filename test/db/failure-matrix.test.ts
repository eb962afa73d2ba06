// The failure matrix: for every forward step of every runbook of the database sub-guide, make that
// step fail before it runs and show that the rollback leaves the database identical to the
// snapshot taken before the first step (the runbook's own `…-identical` check after the rollback).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/plan.js';
import { loadCorpus } from '../../src/documents/corpus.js';
import { ROOT, runGuideSection } from '../helpers.js';

const docsRoot = path.join(ROOT, 'docs');
const DOC = 'database-migrations';
const docs = await loadCorpus({ docsRoot, displayRoot: ROOT });
const sections = docs.find((d) => d.docId === DOC)!.sections;
const cases = sections.flatMap((section) => buildPlan(section).forward.map((step) => [section.slug, step.id] as const));

describe.concurrent('database runbooks under injected failures', () => {
  it('covers every runbook of the sub-guide', () => {
    expect(sections.map((s) => s.slug)).toEqual([
      'schema-migration',
      'data-migration',
      'zero-downtime',
      'rollback',
      'integrity-validation',
      'backup-and-restore',
      'major-version-upgrade',
    ]);
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)(
    '%s: failing before %s rolls back to an identical database',
    async (slug, stepId) => {
      const outcome = await runGuideSection(`${DOC}/${slug}`, { env: { EXEC_DOC_FAIL_BEFORE: stepId } });
      const identical = outcome.record.steps.find((s) => s.phase === 'verify' && s.stepId.endsWith('-identical'));
      expect(
        outcome.exitCode,
        `${outcome.record.failureReason}\n${JSON.stringify(outcome.record.steps.filter((s) => s.status !== 'passed'))}`,
      ).toBe(1);
      expect(outcome.record.failedStep).toBe(stepId);
      expect(identical).toMatchObject({ status: 'passed' });
    },
    120_000,
  );
});
