// Parameter values for a run: `--set name=value`, then the environment variable
// EXEC_DOC_PARAM_<name>, then the declared default. Secret values are never stored.
import type { Param, Step } from '../model/types.js';
import { ExecDocError } from '../errors/exec-doc-error.js';
import { plannedSteps, type Plan } from '../plan/plan.js';
import { validateParamValue } from '../model/param-value.js';
import { closest } from '../util/edit-distance.js';
import { MASK } from '../secrets/masker.js';
import { PARAM_ENV_PREFIX, renderPlaceholders } from '../placeholders/index.js';

export interface ResolvedParams {
  values: Record<string, string>;
  /** Values of secret parameters, for the masker. */
  secrets: string[];
  problems: string[];
}

export { PARAM_ENV_PREFIX };

/** `requireAll: false` (plan): a required parameter without a value is not a problem yet. */
export function resolveParams(
  params: Param[],
  sets: Record<string, string>,
  env: NodeJS.ProcessEnv,
  options: { requireAll?: boolean } = {},
): ResolvedParams {
  const values: Record<string, string> = {};
  const secrets: string[] = [];
  const problems: string[] = [];
  const names = params.map((p) => p.name);
  for (const name of Object.keys(sets).sort()) {
    if (!names.includes(name)) {
      const near = closest(name, names, 2);
      problems.push(
        `--set ${name}: the section has no parameter \`${name}\`${near.length ? ` (did you mean ${near.map((n) => `\`${n}\``).join(', ')}?)` : names.length ? ` (its parameters: ${names.join(', ')})` : ' (it declares none)'}`,
      );
    }
  }
  for (const param of params) {
    const value =
      sets[param.name] ??
      env[PARAM_ENV_PREFIX + param.name] ??
      (param.default === undefined ? undefined : String(param.default));
    if (value === undefined) {
      if (param.required && options.requireAll !== false)
        problems.push(
          `parameter \`${param.name}\` needs a value: pass --set ${param.name}=<value>${param.secret ? ` (better for a secret: export ${PARAM_ENV_PREFIX}${param.name})` : ''}${param.description ? ` — ${param.description}` : ''}`,
        );
      // For a run, an optional one not given is empty where it is used (never the placeholder as
      // written); a plan shows it as not given.
      else if (!param.required && options.requireAll !== false) values[param.name] = '';
      continue;
    }
    const problem = validateParamValue(param, value);
    if (problem) {
      problems.push(`parameter \`${param.name}\` ${problem}`);
      continue;
    }
    values[param.name] = value;
    if (param.secret) secrets.push(value);
  }
  return { values, secrets, problems };
}

/** Parameter values as they may be shown (events, the audit trail): secret ones as `***`. */
export function shownValues(
  params: readonly Param[],
  values: Readonly<Record<string, string>>,
): Record<string, string> {
  const secret = new Set(params.filter((p) => p.secret).map((p) => p.name));
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, secret.has(k) ? MASK : v]));
}

/** Parses repeated `--set name=value` options. */
export function parseSets(items: string[]): { sets: Record<string, string>; problems: string[] } {
  const sets: Record<string, string> = {};
  const problems: string[] = [];
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      problems.push(`--set ${item.split('=')[0]}: expected name=value`);
      continue;
    }
    sets[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return { sets, problems };
}

/** Why the values cannot be placed in the blocks that use them (checked before anything runs). */
export function placeholderProblems(
  steps: readonly Step[],
  params: readonly Param[],
  values: Readonly<Record<string, string>>,
): string[] {
  const problems = new Set<string>();
  for (const step of steps)
    for (const problem of renderPlaceholders(step.lang, step.code, params, values).problems)
      problems.add(`${step.id}: ${problem}`);
  return [...problems];
}

/** The values, once each is valid and can be placed where every block uses it; else nothing runs. */
export function checkedParams(plan: Plan, params: ResolvedParams, what: string): ResolvedParams {
  const problems =
    params.problems.length > 0
      ? params.problems
      : placeholderProblems(plannedSteps(plan), plan.section.params, params.values);
  if (problems.length > 0) {
    throw new ExecDocError(
      'E_PARAM',
      `${what}: ${problems.length === 1 ? 'a parameter is' : 'parameters are'} not right`,
      { details: problems },
    );
  }
  return params;
}
