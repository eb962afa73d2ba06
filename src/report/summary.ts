// The closing summary of a run: one row per executed block, then the verdict.
import type { RunRecord } from '../results/record.js';
import { formatMs, table } from './format.js';

const VERDICT: Record<RunRecord['status'], string> = {
  succeeded: 'succeeded',
  'rolled-back': 'failed, rolled back',
  'rollback-incomplete': 'failed, ROLLBACK INCOMPLETE — the system may be half-changed',
  'requirements-missing': 'not run: a requirement is missing',
  'teardown-failed': 'steps succeeded, but a teardown failed',
  failed: 'failed; the document declares no rollbacks, so nothing was undone',
};

export function formatSummary(record: RunRecord, runDir: string): string {
  const rows = record.steps.map((s) => [
    s.stepId,
    s.kind,
    s.phase,
    s.status,
    s.attempts > 1 ? String(s.attempts) : '',
    formatMs(s.durationMs),
  ]);
  const lines: string[] = [''];
  if (rows.length > 0) lines.push(table(['step', 'kind', 'phase', 'status', 'tries', 'duration'], rows, [5]).trimEnd());
  lines.push('');
  lines.push(
    `${record.section.address}: ${record.status === 'rolled-back' && record.exitCode === 0 ? "rolled back at the operator's request, and verified" : VERDICT[record.status]} (exit ${record.exitCode}) in ${formatMs(record.durationMs)}`,
  );
  if (record.failedStep) {
    lines.push(`failed step: ${record.failedStep} — ${(record.failureReason ?? '').split('\n')[0]}`);
    const failed = record.steps.find((s) => s.stepId === record.failedStep && s.phase === 'forward');
    const excerpt =
      failed?.outputExcerpt
        .split('\n')
        .filter((l) => l.trim())
        .slice(-10) ?? [];
    for (const line of excerpt) lines.push(`  │ ${line}`);
  }
  if (record.rollback.ran && record.status !== 'failed') {
    lines.push(
      `undone: ${record.rollback.undone.join(', ') || '(nothing)'}${record.rollback.notUndone.length ? `; NOT undone: ${record.rollback.notUndone.join(', ')}` : ''}`,
    );
  }
  if (record.rollback.notUndoable.length > 0)
    lines.push(`stayed done (no rollback declared): ${[...record.rollback.notUndoable].reverse().join(', ')}`);
  if (record.rollback.remaining.length > 0) {
    lines.push(`left to undo, in this order (${record.section.file}):`);
    for (const r of record.rollback.remaining)
      lines.push(
        r.rollback
          ? `  ${r.rollback} (line ${r.line}) undoes ${r.step}`
          : `  ${r.step}: declares no rollback; undo it by hand`,
      );
  }
  if (record.status === 'rollback-incomplete' && record.rollback.notUndone.length > 0)
    lines.push(`resume the rollback with: exec-doc resume ${record.runId}   (if it was interrupted), or undo by hand`);
  lines.push(`run ${record.runId}: ${runDir}`);
  return lines.join('\n') + '\n';
}
