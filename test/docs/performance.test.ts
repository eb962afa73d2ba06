// The performance guide's procedure beyond its default run (which the guide doc-test runs): the
// stress run at saturation, and a failure late in the migration rolled back to the same table.
import { describe, expect, it } from 'vitest';
import { runGuideSection } from '../helpers.js';

const metric = (record: Awaited<ReturnType<typeof runGuideSection>>['record'], name: string) =>
  record.steps.find((s) => s.stepId === 'ul-impact')?.metrics?.find((m) => m.name === name && m.at === undefined)?.value;

describe('performance/under-load', () => {
  it('at saturation (rate=0): no failed client transaction and no lock wait over 100 ms; the loss is reported', async () => {
    const run = await runGuideSection('performance/under-load', {
      // A small table: the point is the clients at full speed beside every step, not the table's size.
      sets: { rate: '0', max_loss_pct: '100', baseline_s: '1', rows: '20000' },
    });
    expect(run.exitCode, run.record.failureReason ?? '').toBe(0);
    expect(metric(run.record, 'failedTransactions')).toBe(0);
    expect(metric(run.record, 'abortedClients')).toBe(0);
    expect(metric(run.record, 'longestLockWaitMs')).toBeLessThanOrEqual(100);
    expect(metric(run.record, 'baselineTps')).toBeGreaterThan(100);
    expect(metric(run.record, 'throughputLossPct')).toBeGreaterThanOrEqual(0);
    // The chart's series, and the sampler's view of the server during the migration.
    expect(run.record.steps.find((s) => s.stepId === 'ul-impact')?.metrics?.some((m) => m.name === 'loadTps' && m.at)).toBe(true);
    expect(run.record.samples?.points.some((p) => (p.postgres?.activeSessions ?? 0) > 0)).toBe(true);
  }, 120_000);

  it('a failure before the last step rolls the migration back while the load runs, to the same table', async () => {
    const run = await runGuideSection('performance/under-load', {
      env: { EXEC_DOC_FAIL_BEFORE: 'ul-validate' },
      sets: { baseline_s: '1', rows: '20000' },
    });
    expect(run.exitCode).toBe(1);
    expect(run.record.status).toBe('rolled-back');
    expect(run.record.rollback.undone).toEqual([
      'ul-constrain',
      'ul-index',
      'ul-backfill',
      'ul-expand',
      // rollback=none: nothing to undo, listed as done.
      'ul-baseline',
      'ul-load',
      'ul-snapshot',
      'ul-table',
    ]);
    expect(run.record.steps.find((s) => s.stepId === 'ul-identical')?.status).toBe('passed');
  }, 120_000);
});
