// Rehearsal or the real change. A section's fixtures (setup blocks marked `fixture`) make a
// sample schema and data to rehearse on: they run only on a disposable target, the embedded
// PostgreSQL started for the run or a server the operator declares disposable (`--disposable`),
// and are left out, with a notice, on any other. A section marked `rehearsalOnly` cannot do
// without them and is refused on a real target before anything runs.
import type { Section } from '../model/types.js';
import { buildPlan, type Plan } from './plan.js';
import { TABLE_NAME, TOUCH_PARAM } from '../model/table-name.js';
import { ExecDocError } from '../errors/exec-doc-error.js';
import { configuredUrl, describeUrl } from '../targets/url.js';

export interface TargetUse {
  /** Fixtures run here: the embedded default, a declared-disposable server, or no database at all. */
  disposable: boolean;
  /** Which target, and why it is or is not disposable (safe to print: no password). */
  detail: string;
}

/**
 * How a section will use its target. `needsPostgres`: whether any step talks to the section's
 * database (without one, fixtures are files in the run's own folder and always run).
 */
export function targetUse(
  section: Section,
  needsPostgres: boolean,
  env: NodeJS.ProcessEnv,
  declaredDisposable: boolean,
): TargetUse {
  if (!needsPostgres) return { disposable: true, detail: 'no database target' };
  const url = configuredUrl(section.target, env);
  if (!url) return { disposable: true, detail: 'the embedded PostgreSQL started for the run (disposable)' };
  if (declaredDisposable)
    return { disposable: true, detail: `${describeUrl(url)}, declared disposable (--disposable)` };
  return { disposable: false, detail: `${describeUrl(url)} from ${section.target.urlEnv} (a real server)` };
}

/** Refuses a rehearsal-only section on a real target, saying what to do instead. */
export function assertRunnableOn(section: Section, use: TargetUse): void {
  if (!section.rehearsalOnly || use.disposable) return;
  throw new ExecDocError(
    'E_REHEARSAL_ONLY',
    `${section.address} is a rehearsal: its steps work on the sample schema and data its fixtures create, so it runs only on a disposable target, not on ${use.detail}`,
    {
      details: [
        `Unset ${section.target.urlEnv} to run it on the embedded PostgreSQL started for the run,`,
        `or, if that server is a scratch copy whose contents may be created and dropped, add --disposable.`,
      ],
    },
  );
}

/** The notice for fixtures left out on a real target. */
export function skippedFixturesNotice(ids: readonly string[], use: TargetUse): string {
  return `not a rehearsal: ${ids.length} fixture block(s) skipped (${ids.join(', ')}) on ${use.detail}; the steps work on your own tables, named by the parameters. Pass --disposable to create the sample data on a scratch server`;
}

/**
 * The plan for this target: a rehearsal-only section is refused on a real server (before
 * anything runs), and fixtures are left out there, with a notice.
 */
export function planForTarget(
  section: Section,
  env: NodeJS.ProcessEnv,
  declaredDisposable: boolean,
  notice?: (line: string) => void,
): { plan: Plan; use: TargetUse } {
  const full = buildPlan(section);
  const use = targetUse(section, full.needsPostgres, env, declaredDisposable);
  assertRunnableOn(section, use);
  if (use.disposable) return { plan: full, use };
  const plan = buildPlan(section, { fixtures: false });
  if (plan.skippedFixtures.length > 0)
    notice?.(
      skippedFixturesNotice(
        plan.skippedFixtures.map((s) => s.id),
        use,
      ),
    );
  return { plan, use };
}

/**
 * The tables a section declares it changes (`touches`), parameters replaced by their values;
 * undefined when it declares none. A value that is not a table name is an E_PARAM error.
 */
export function resolveTouches(section: Section, values: Readonly<Record<string, string>>): string[] | undefined {
  if (!section.touches?.length) return undefined;
  const out: string[] = [];
  const problems: string[] = [];
  for (const entry of section.touches) {
    const param = TOUCH_PARAM.exec(entry)?.[1];
    const value = param === undefined ? entry : values[param];
    if (value === undefined) problems.push(`\`touches\` names parameter \`${param}\`, which has no value`);
    else if (!TABLE_NAME.test(value))
      problems.push(
        `parameter \`${param}\` is \`${value}\`, which \`touches\` needs to be a table name (\`table\` or \`schema.table\`)`,
      );
    else out.push(value);
  }
  if (problems.length > 0)
    throw new ExecDocError('E_PARAM', `Cannot run ${section.address}: the tables it changes are not named right`, {
      details: problems,
    });
  return [...new Set(out)];
}
