// What `exec-doc plan` shows: the order of execution, what undoes what, the checks, the
// requirements and parameters. Also its JSON form (the same data, for agents).
import { runnableAddress } from '../model/doc-id.js';
import type { Param, Step } from '../model/types.js';
import type { Plan } from '../plan/plan.js';
import type { TargetUse } from '../plan/rehearsal.js';
import { formatDurationMs } from '../annotations/duration.js';
import { table } from './format.js';

export interface PlanJson {
  section: string;
  title: string;
  file: string;
  line: number;
  contentHash: string;
  target: Plan['section']['target'];
  requirements: string[];
  params: Array<Omit<Param, 'default'> & { default?: string | number | boolean }>;
  forward: StepJson[];
  rollbacks: Array<{ step: string; rollback: string | null }>;
  verifyAfterRollback: StepJson[];
  teardown: StepJson[];
  /** Where it would run, whether that target is disposable, and which fixtures are left out. */
  targetUse?: { disposable: boolean; detail: string; skippedFixtures: string[]; provenOver: 'database' | string[] };
  /** Values given with --set or EXEC_DOC_PARAM_* or by default, validated (secret ones as ***). */
  values?: Record<string, string>;
}

interface StepJson {
  id: string;
  kind: string;
  lang: string;
  phase?: string;
  line: number;
  timeoutMs: number;
  retries: number;
  confirm: string | null;
  requires: string[];
}

const stepJson = (s: Step): StepJson => ({
  id: s.id,
  kind: s.kind,
  lang: s.lang,
  ...(s.phase ? { phase: s.phase } : {}),
  line: s.position.start.line,
  timeoutMs: s.timeoutMs,
  retries: s.retries,
  confirm: s.confirm ?? null,
  requires: s.requires,
});

export interface PlanContext {
  use: TargetUse;
  /** Validated values (secret ones already masked). */
  values: Record<string, string>;
  /** What the rollback proof compares: the whole database, or the tables the section changes. */
  provenOver: 'database' | string[];
}

export function planJson(plan: Plan, context?: PlanContext): PlanJson {
  const { section } = plan;
  return {
    section: section.address,
    title: section.title,
    file: section.file,
    line: section.position.start.line,
    contentHash: section.contentHash,
    target: section.target,
    requirements: plan.requirements,
    params: section.params,
    forward: plan.forward.map(stepJson),
    rollbacks: plan.forward
      .filter((s) => s.kind === 'step' || s.kind === 'setup')
      .map((s) => ({
        step: s.id,
        rollback: plan.rollbackOf.has(s.id) ? (plan.rollbackOf.get(s.id)?.id ?? null) : null,
      })),
    verifyAfterRollback: plan.verify.map(stepJson),
    teardown: plan.teardown.map(stepJson),
    ...(context
      ? {
          targetUse: {
            ...context.use,
            skippedFixtures: plan.skippedFixtures.map((s) => s.id),
            provenOver: context.provenOver,
          },
          values: context.values,
        }
      : {}),
  };
}

export function formatPlan(plan: Plan, context?: PlanContext): string {
  const { section } = plan;
  const out: string[] = [
    `${section.address} — ${section.title}`,
    `${section.file}:${section.position.start.line}   content ${section.contentHash.slice(0, 19)}`,
    '',
  ];
  const undo = (s: Step): string => {
    if (s.kind !== 'step' && s.kind !== 'setup') return '';
    if (!plan.rollbackOf.has(s.id)) return 'NO ROLLBACK';
    return plan.rollbackOf.get(s.id)?.id ?? '(nothing to undo)';
  };
  const rows = plan.forward.map((s, i) => [
    String(i + 1),
    s.id,
    s.kind + (s.phase ? `:${s.phase}` : ''),
    s.lang,
    formatDurationMs(s.timeoutMs) + (s.retries ? ` ×${s.retries + 1}` : ''),
    undo(s),
    s.confirm ? 'confirm' : '',
  ]);
  out.push('Runs, in order:');
  out.push(indent(table(['#', 'id', 'kind', 'lang', 'timeout', 'undone by', ''], rows)));
  out.push(
    `On failure: the undo blocks of completed steps run in reverse order, then ${plan.verify.length ? `these checks verify the rollback: ${plan.verify.map((s) => s.id).join(', ')}` : 'no checks verify the rollback (add kind=check blocks before the first step)'}.`,
  );
  if (plan.teardown.length) out.push(`Always, at the end: ${plan.teardown.map((s) => s.id).join(', ')}.`);
  out.push('');
  out.push(`Requires: ${plan.requirements.join(', ') || '(nothing)'}`);
  out.push(
    `Target: PostgreSQL from $${section.target.urlEnv} or PG* variables, else an embedded server (database ${section.target.database})${plan.needsPostgres ? '' : ' — not used by this section'}`,
  );
  if (context && plan.needsPostgres)
    out.push(
      `  here: ${context.use.detail}; a rollback is proven over ${context.provenOver === 'database' ? 'the whole database' : `${context.provenOver.join(', ')} (the tables it changes)`}`,
    );
  const fixtures = section.steps.filter((s) => s.fixture).map((s) => s.id);
  if (plan.skippedFixtures.length > 0)
    out.push(
      `  not a rehearsal: fixtures skipped (${plan.skippedFixtures.map((s) => s.id).join(', ')}); the steps work on the tables the parameters name`,
    );
  else if (fixtures.length > 0)
    out.push(
      `  a rehearsal: fixtures ${fixtures.join(', ')} create the sample schema and data (only on a disposable target; skipped on a real server)`,
    );
  if (section.params.length) {
    out.push('Parameters (set with --set name=value or EXEC_DOC_PARAM_<name>):');
    for (const p of section.params) {
      const facts = [
        p.type === 'enum' ? `one of ${(p.values ?? []).join('|')}` : p.type,
        p.secret ? 'secret' : '',
        p.default !== undefined ? `default ${String(p.default)}` : p.required ? 'required' : 'optional',
        p.pattern ? `/${p.pattern}/` : '',
      ].filter(Boolean);
      // A value is shown when it is not the default (given with --set or EXEC_DOC_PARAM_*).
      const value = context?.values[p.name];
      const given = value !== undefined && value !== (p.default === undefined ? undefined : String(p.default));
      out.push(
        `  ${p.name}${given ? ` = ${value}` : ''}  (${facts.join(', ')})${p.description ? `  ${p.description}` : ''}`,
      );
    }
  }
  if (plan.confirmations.length)
    out.push(`Needs confirmation (or --yes): ${plan.confirmations.map((s) => s.id).join(', ')}`);
  if (plan.previews.length)
    out.push(
      `What it would change: npm run exec-doc -- plan ${runnableAddress(section)} --preview (runs ${plan.previews.map((s) => s.id).join(', ')}, which only read)`,
    );
  out.push('', `Run it: npm run exec-doc -- run ${runnableAddress(section)}`);
  return out.join('\n') + '\n';
}

const indent = (text: string): string => text.replace(/^(?=.)/gm, '  ');
