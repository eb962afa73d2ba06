// The one configuration of the validation framework (exec-doc.checks.yaml): which checks each
// phase runs, each check's thresholds and subjects, and where the Prometheus file goes.
// Everything has a default; whatever the file says is validated on load, and each problem is
// reported as file:line:column with what was expected. A bad file changes nothing: no check runs.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { parseDocument } from 'yaml';
import type { Diagnostic } from '../model/types.js';
import { ExecDocError, formatDiagnostic } from '../errors/exec-doc-error.js';
import { closest } from '../util/edit-distance.js';
import { pathLocator } from '../util/yaml-position.js';
import { findUp } from '../util/fs.js';
import { CHECK_TYPES, checkDefinition, DEFAULT_PHASES } from './registry.js';
import { VALIDATION_PHASES, type PlannedCheck, type ValidationPhase } from './types.js';
import { isPathLike } from './support.js';

export const CONFIG_FILE = 'exec-doc.checks.yaml';
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;
/** Check names: lower-case words joined by dots and dashes (`postgres.connections`, `api.health`). */
export const CHECK_NAME = /^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$/;

export interface ChecksConfig {
  /** The file read, or null when the built-in defaults apply. */
  file: string | null;
  timeoutMs: number;
  /** Every check by name: the configured ones and every type with its defaults. */
  checks: Map<string, PlannedCheck>;
  phases: Record<ValidationPhase, string[]>;
  /** Where the Prometheus text file goes (absolute), or null for <state-dir>/checks/last.prom. */
  prometheusFile: string | null;
}

const fileSchema = z.strictObject({
  version: z.literal(1).optional(),
  timeoutMs: z.number().int().positive().optional(),
  checks: z
    .record(
      z.string().regex(CHECK_NAME, 'a check name: lower-case words joined by dots or dashes'),
      z.record(z.string(), z.unknown()).nullable(),
    )
    .optional(),
  phases: z
    .strictObject(
      Object.fromEntries(VALIDATION_PHASES.map((p) => [p, z.array(z.string()).optional()])) as Record<
        ValidationPhase,
        z.ZodOptional<z.ZodArray<z.ZodString>>
      >,
    )
    .optional(),
  prometheus: z.strictObject({ file: z.string().min(1) }).optional(),
});

type Locate = (path: ReadonlyArray<string | number>, key?: boolean) => { line: number; column: number };

/** The settings keys a check accepts, for "expected one of" messages. */
function knownKeys(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/** One zod issue as a sentence in the house style. */
export function issueMessage(issue: z.core.$ZodIssue, where: string, keys: string[]): string {
  if (issue.code === 'unrecognized_keys')
    return `Unexpected setting \`${issue.keys[0]}\` in ${where}, expected ${keys.length ? `one of ${keys.join(', ')}` : 'no settings'}`;
  return `Unexpected value for \`${[...issue.path].join('.') || where}\` in ${where}: ${issue.message.replace(/^Invalid (input|option): /, '')}`;
}

/** Reports each zod issue at the position of the value (or, for an unexpected key, of the key). */
export function reportIssues(
  issues: readonly z.core.$ZodIssue[],
  source: {
    locate: Locate;
    /** What was validated, for messages: `the checks block`, `` `http.health` ``. */
    where: string;
    /** The keys allowed where the issue is (for "expected one of"). */
    keys: (issue: z.core.$ZodIssue) => string[];
    /** The path of the validated value in the file. */
    prefix?: ReadonlyArray<string | number>;
  },
  report: (line: number, column: number, message: string) => void,
): void {
  const { locate, where, keys, prefix = [] } = source;
  for (const issue of issues) {
    const extra = issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [];
    const at = locate(
      [...prefix, ...(issue.path as Array<string | number>), ...extra],
      extra.length > 0 || issue.code === 'invalid_key',
    );
    report(at.line, at.column, issueMessage(issue, where, keys(issue)));
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The entries of a `checks:` mapping that have the right shape (name → settings or nothing). */
export function wellFormedChecks(value: unknown): Record<string, Record<string, unknown> | null> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter(
      (e): e is [string, Record<string, unknown> | null] => CHECK_NAME.test(e[0]) && (e[1] === null || isRecord(e[1])),
    ),
  );
}

/**
 * Validates one check's entry (from the file, or a `checks` block): its type, timeout and
 * settings; relative paths are resolved against `baseDir`. Problems go to `report`.
 */
export function resolveCheck(input: {
  name: string;
  raw: Record<string, unknown> | null;
  base?: PlannedCheck | undefined;
  baseDir: string;
  defaultTimeoutMs: number;
  locate: Locate;
  prefix: ReadonlyArray<string | number>;
  report: (line: number, column: number, message: string) => void;
}): PlannedCheck | undefined {
  const { name, baseDir, locate, prefix, report } = input;
  const raw = { ...(input.raw ?? {}) };
  const typeValue = raw.type;
  delete raw.type;
  const type = typeof typeValue === 'string' ? typeValue : (input.base?.definition.type ?? name);
  const definition = checkDefinition(type);
  if (!definition) {
    const at = typeValue !== undefined ? locate([...prefix, 'type']) : locate(prefix, true);
    const near = closest(type, CHECK_TYPES, 4);
    report(
      at.line,
      at.column,
      `Unexpected check type \`${type}\`, expected one of the checks in the validation reference${near.length ? ` (did you mean ${near.map((n) => `\`${n}\``).join(' or ')}?)` : ''}; a check of your own name needs \`type: <check>\``,
    );
    return undefined;
  }
  let timeoutMs = input.base?.timeoutMs ?? input.defaultTimeoutMs;
  if (raw.timeoutMs !== undefined) {
    if (typeof raw.timeoutMs === 'number' && Number.isInteger(raw.timeoutMs) && raw.timeoutMs > 0)
      timeoutMs = raw.timeoutMs;
    else {
      const at = locate([...prefix, 'timeoutMs']);
      report(
        at.line,
        at.column,
        `Unexpected \`timeoutMs: ${JSON.stringify(raw.timeoutMs)}\` for \`${name}\`, expected a positive whole number of milliseconds`,
      );
    }
    delete raw.timeoutMs;
  }
  // Paths are resolved where they were written, before merging over the base settings.
  for (const key of definition.pathSettings ?? []) {
    const value = raw[key];
    if (typeof value === 'string' && (key !== 'python' || isPathLike(value))) raw[key] = path.resolve(baseDir, value);
    else if (Array.isArray(value))
      raw[key] = value.map((v: unknown) => (typeof v === 'string' ? path.resolve(baseDir, v) : v));
  }
  // What was written, over what the base (the configuration's entry) wrote; defaults apply on parse.
  const written = { ...(input.base?.raw ?? {}), ...raw };
  const parsed = definition.settings.safeParse(written);
  if (!parsed.success) {
    const keys = ['type', 'timeoutMs', ...knownKeys(definition.settings)];
    reportIssues(parsed.error.issues, { locate, where: `\`${name}\``, keys: () => keys, prefix }, report);
    return undefined;
  }
  return { name, definition, settings: parsed.data as Record<string, unknown>, raw: written, timeoutMs };
}

/** The configuration file that applies from `startDir`: the nearest exec-doc.checks.yaml above it. */
export function findConfigFile(startDir: string): string | null {
  return findUp(startDir, CONFIG_FILE);
}

function defaults(): ChecksConfig {
  const checks = new Map<string, PlannedCheck>();
  for (const type of CHECK_TYPES) {
    const definition = checkDefinition(type)!;
    checks.set(type, {
      name: type,
      definition,
      settings: definition.settings.parse({}) as Record<string, unknown>,
      raw: {},
      timeoutMs: DEFAULT_CHECK_TIMEOUT_MS,
    });
  }
  return {
    file: null,
    timeoutMs: DEFAULT_CHECK_TIMEOUT_MS,
    checks,
    phases: structuredClone(DEFAULT_PHASES),
    prometheusFile: null,
  };
}

/** Loads `file` (or the built-in defaults when null). Throws E_CONFIG naming every problem. */
export function loadChecksConfig(file: string | null): ChecksConfig {
  const config = defaults();
  if (file === null) return config;
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ExecDocError(
      'E_CONFIG',
      `Cannot read the checks configuration ${file}: ${code === 'ENOENT' ? 'it does not exist' : (code ?? (error as Error).message)}`,
      {
        details: [
          `Create it (see the validation guide), or leave --config out to use ${CONFIG_FILE} or the built-in defaults.`,
        ],
      },
    );
  }
  const diagnostics: Diagnostic[] = [];
  const report = (line: number, column: number, message: string) =>
    diagnostics.push({ file: absolute, line, column, severity: 'error', ruleId: 'checks-config', message });
  const fail = () => {
    diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
    return new ExecDocError(
      'E_CONFIG',
      `The checks configuration ${file} is not valid (${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'}); no check ran`,
      { diagnostics, details: diagnostics.map(formatDiagnostic) },
    );
  };
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  for (const error of doc.errors) {
    const { line, col } = error.linePos?.[0] ?? { line: 1, col: 1 };
    report(
      line,
      col,
      `Unexpected YAML: ${error.message.split('\n')[0]}; expected a YAML mapping like the one in the validation guide`,
    );
  }
  if (diagnostics.length > 0) throw fail();
  const data = doc.toJS() ?? {};
  const locator = pathLocator(doc, text);
  const locate: Locate = (p, key) => (key ? locator.keyAt(p) : locator.at(p));
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) {
    const keys = (issue: z.core.$ZodIssue) => [
      'version',
      'timeoutMs',
      'checks',
      'phases',
      'prometheus',
      ...(issue.path[0] === 'phases' ? VALIDATION_PHASES : []),
    ];
    reportIssues(parsed.error.issues, { locate, where: CONFIG_FILE, keys }, report);
  }
  // Whatever parts are well-formed are still checked, so that every problem shows at once.
  const body = parsed.success ? parsed.data : wellFormedParts(data);
  const baseDir = path.dirname(absolute);
  config.file = absolute;
  if (body.timeoutMs !== undefined) {
    config.timeoutMs = body.timeoutMs;
    for (const check of config.checks.values()) check.timeoutMs = body.timeoutMs;
  }
  for (const [name, raw] of Object.entries(body.checks ?? {})) {
    const resolved = resolveCheck({
      name,
      raw,
      baseDir,
      defaultTimeoutMs: config.timeoutMs,
      locate,
      prefix: ['checks', name],
      report,
    });
    if (resolved) config.checks.set(name, resolved);
  }
  for (const phase of VALIDATION_PHASES) {
    const names = body.phases?.[phase];
    if (!names) continue;
    names.forEach((name, index) => {
      if (config.checks.has(name) || diagnostics.some((d) => d.message.includes(`\`${name}\``))) return;
      const at = locate(['phases', phase, index]);
      const near = closest(name, [...config.checks.keys()], 4);
      report(
        at.line,
        at.column,
        `Unexpected check \`${name}\` in phase ${phase}, expected a check type or a name under \`checks:\`${near.length ? ` (did you mean ${near.map((n) => `\`${n}\``).join(' or ')}?)` : ''}`,
      );
    });
    config.phases[phase] = names;
  }
  if (body.prometheus) config.prometheusFile = path.resolve(baseDir, body.prometheus.file);
  if (diagnostics.length > 0) throw fail();
  return config;
}

function wellFormedParts(data: unknown): z.infer<typeof fileSchema> {
  if (!isRecord(data)) return {};
  const checks = isRecord(data.checks) ? wellFormedChecks(data.checks) : undefined;
  const phases = isRecord(data.phases)
    ? Object.fromEntries(
        VALIDATION_PHASES.filter(
          (p) =>
            Array.isArray((data.phases as Record<string, unknown>)[p]) &&
            (data.phases as Record<string, unknown[]>)[p]!.every((n) => typeof n === 'string'),
        ).map((p) => [p, (data.phases as Record<string, string[]>)[p]]),
      )
    : undefined;
  return { ...(checks ? { checks } : {}), ...(phases ? { phases } : {}) };
}

/** The checks of a phase, in the configured order. */
export function phaseChecks(config: ChecksConfig, phase: ValidationPhase): PlannedCheck[] {
  return config.phases[phase].map((name) => config.checks.get(name)!);
}
