// The plan of a section: what runs forward, what undoes what, what verifies a rollback,
// what always runs last, and what the machine must provide. Executes nothing.
import type { Requirement, Section, Step } from '../model/types.js';
import { programRequirement } from '../languages/commands.js';

/** What a step needs: what it declares plus what its language implies. */
export function requirementsOf(step: Step): Requirement[] {
  if (step.lang === 'checks')
    return [...new Set([...step.requires, ...(step.usesPostgres ? (['postgres'] as const) : [])])].sort();
  const program = programRequirement(step);
  const implied: Requirement[] =
    step.lang === 'sql'
      ? ['postgres']
      : step.lang === 'python' && step.interpreter === undefined
        ? ['python']
        : (step.lang === 'js' || step.lang === 'ts') && step.interpreter === undefined
          ? ['node']
          : program
            ? [program]
            : [];
  return [...new Set([...step.requires, ...implied])].sort();
}

export interface Plan {
  section: Section;
  /** Setup blocks, then steps and pre/post checks in document order. */
  forward: Step[];
  /** Undo partner of each forward step id (`null`: declared nothing to undo). */
  rollbackOf: Map<string, Step | null>;
  /** Checks that run after a rollback: the pre checks (we are back where we started) and rollback-phase checks. */
  verify: Step[];
  teardown: Step[];
  requirements: Requirement[];
  /** Forward steps that need confirmation. */
  confirmations: Step[];
  /** Whether any step talks to the section's PostgreSQL target. */
  needsPostgres: boolean;
  /** Read-only blocks that show what would change (`exec-doc plan --preview` runs them). */
  previews: Step[];
  /** Fixtures left out: the target is not disposable (see ./rehearsal.ts). */
  skippedFixtures: Step[];
}

export interface PlanOptions {
  /** Run the fixtures (default): false on a target that is not disposable. */
  fixtures?: boolean;
}

export function buildPlan(section: Section, options: PlanOptions = {}): Plan {
  const byId = new Map(section.steps.map((s) => [s.id, s]));
  const withFixtures = options.fixtures ?? true;
  // Runme's excludeFromRunAll: such a block runs only when named on its own (../documents/select.ts).
  const kept = (s: Step) => (withFixtures || !s.fixture) && !s.excludeFromRunAll;
  const setup = section.steps.filter((s) => s.kind === 'setup' && kept(s));
  // Previews only read: they run first among the forward steps, with nothing to undo.
  const main = section.steps.filter(
    (s) => kept(s) && (s.kind === 'step' || s.kind === 'preview' || (s.kind === 'check' && s.phase !== 'rollback')),
  );
  const forward = [...setup, ...main];
  const rollbackOf = new Map<string, Step | null>();
  for (const step of forward) {
    if (step.rollback === null) rollbackOf.set(step.id, null);
    else if (typeof step.rollback === 'string' && byId.has(step.rollback))
      rollbackOf.set(step.id, byId.get(step.rollback)!);
  }
  const verify = section.steps.filter(
    (s) => kept(s) && s.kind === 'check' && (s.phase === 'pre' || s.phase === 'rollback'),
  );
  const teardown = section.steps.filter((s) => s.kind === 'teardown' && !s.excludeFromRunAll);
  const everything = [
    ...forward,
    ...[...rollbackOf.values()].filter((s): s is Step => s !== null),
    ...verify,
    ...teardown,
  ];
  const requirements = [...new Set(everything.flatMap(requirementsOf))].sort();
  return {
    section,
    forward,
    rollbackOf,
    verify,
    teardown,
    requirements,
    confirmations: forward.filter((s) => s.confirm !== undefined),
    needsPostgres: requirements.includes('postgres'),
    previews: section.steps.filter((s) => s.kind === 'preview'),
    skippedFixtures: withFixtures ? [] : section.steps.filter((s) => s.fixture),
  };
}

/** Every block the plan may run. */
export function plannedSteps(plan: Plan): Step[] {
  return [
    ...plan.forward,
    ...plan.verify,
    ...plan.teardown,
    ...[...plan.rollbackOf.values()].filter((s): s is Step => s !== null),
  ];
}
