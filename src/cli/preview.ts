// `exec-doc plan <section> --preview`: the plan, then what the procedure would change, from its
// read-only kind=preview blocks (a lock diff, a configuration diff, a dry run). Nothing else runs:
// no setup, no step, no rollback. The blocks run through the runner (part-run.ts), so their
// output is masked and recorded like any step's.
import type { Resolved } from '../documents/address.js';
import { ExecDocError } from '../errors/exec-doc-error.js';
import type { Plan } from '../plan/plan.js';
import type { CliOptions } from './parse.js';
import type { Io } from './main.js';

export async function runPreviews(resolved: Resolved, plan: Plan, options: CliOptions, io: Io): Promise<number> {
  const { formatPlan, planJson } = await import('../report/plan.js');
  if (plan.previews.length === 0)
    throw new ExecDocError('E_USAGE', `${resolved.section.address} has no preview blocks`, {
      details: ['A ```bash {id=… kind=preview} block that only reads shows what the procedure would change.'],
    });
  const output = new Map<string, string>();
  const { runPart } = await import('./part-run.js');
  const outcome = await runPart(resolved, { suffix: 'preview', steps: plan.previews, what: 'preview' }, options, io, [
    (e) => {
      if (e.type === 'step.output') output.set(e.stepId, (output.get(e.stepId) ?? '') + e.text);
    },
  ]);
  const previews = outcome.record.steps.map((s) => ({
    stepId: s.stepId,
    status: s.status,
    reason: s.reason,
    output: output.get(s.stepId) ?? '',
  }));
  const ok = outcome.status === 'succeeded';
  if (options.json) io.stdout.write(`${JSON.stringify({ ...planJson(plan), previews }, null, 2)}\n`);
  else {
    io.stdout.write(formatPlan(plan));
    io.stdout.write('\nWhat it would change (preview blocks; nothing was changed):\n');
    for (const p of previews) {
      io.stdout.write(`\n  ${p.stepId}${p.status === 'passed' ? '' : ` — ${p.status}: ${p.reason ?? ''}`}\n`);
      io.stdout.write(p.output.replace(/^(?=.)/gm, '    '));
    }
  }
  return ok ? 0 : outcome.exitCode;
}
