// `checks` blocks: the validation framework inside a runbook.
//
//   ```checks {id=safe-to-start kind=check phase=pre}
//   phase: pre-upgrade              # every check of the phase, as exec-doc.checks.yaml configures it
//   checks:                         # and/or checks of this block (settings override the file's)
//     postgres.long-transactions: { failSeconds: 30 }
//     orders-ledger: { type: ledger.consistent, migrations: ../migrations }
//   ```
//
// The block is validated when the document is read (positions are the document's); the phase
// is looked up in the configuration when the run starts, before anything runs. `${NAME}` in a
// value is the step's environment variable NAME when the block runs (EXEC_DOC_RUN_DIR, a
// parameter, a value handed on by an earlier step): a port, a path, an image digest.
import * as z from 'zod';
import { parseDocument, visit, type Document } from 'yaml';
import { pathLocator } from '../util/yaml-position.js';
import { ExecDocError } from '../errors/exec-doc-error.js';
import { checkDefinition } from './registry.js';
import { CHECK_NAME, phaseChecks, reportIssues, resolveCheck, wellFormedChecks, type ChecksConfig } from './config.js';
import { VALIDATION_PHASES, type PlannedCheck, type ValidationPhase } from './types.js';
import type { Problem } from '../model/diagnostic.js';

/** Every problem of a checks block has this rule id. */
const CHECKS_BLOCK = 'checks-block';
const problem = (line: number, column: number, message: string): Problem => ({
  ruleId: CHECKS_BLOCK,
  line,
  column,
  message,
});

const blockSchema = z.strictObject({
  phase: z.enum(VALIDATION_PHASES).optional(),
  checks: z
    .record(
      z.string().regex(CHECK_NAME, 'a check name: lower-case words joined by dots or dashes'),
      z.record(z.string(), z.unknown()).nullable(),
    )
    .optional(),
});

export interface ParsedChecksBlock {
  phase?: ValidationPhase;
  entries: Array<{ name: string; raw: Record<string, unknown> | null }>;
  /** Plans the block's checks over `config`, or reports problems (paths resolve against `baseDir`). */
  plan(config: ChecksConfig | null, baseDir: string, report: (p: Problem) => void): PlannedCheck[];
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const VARIABLE_AT = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/;
// A reference is swapped for a token of the same length before the YAML is parsed (so that
// positions hold and `{ port: ${PORT} }` stays a flow mapping), and the value goes into the
// parsed scalar afterwards: a value is data, it can never add keys or end a string.
const TOKEN_START = '\uE000';
const TOKEN_FILL = '\uE001';
const TOKEN = /\uE000([0-9]+)\uE001*/g;
const TOKEN_ALONE = new RegExp(`^${TOKEN.source}$`);

/**
 * Parses a block. `variables` gives the values of `${NAME}` references when the block runs; when
 * it is left out (the document is being read), each stands for `0`, a placeholder that fits a
 * port, a path or a name, so that the rest can be validated.
 */
export function parseChecksBlock(
  source: string,
  variables?: Record<string, string>,
): { block?: ParsedChecksBlock; problems: Problem[] } {
  const problems: Problem[] = [];
  const starts = source.split('\n');
  const values: string[] = [];
  const code = starts
    .map((line, index) =>
      line.replace(VARIABLE, (whole, name: string, column: number) => {
        const value = variables ? variables[name] : '0';
        if (value === undefined)
          problems.push({
            ruleId: CHECKS_BLOCK,
            line: index + 1,
            column: column + 1,
            message: `Unexpected \`${whole}\`: no variable ${name} is set for this step, expected one of the step's environment variables (e.g. \${EXEC_DOC_RUN_DIR}) or a value handed on by an earlier step`,
          });
        values.push(value ?? '');
        const id = String(values.length - 1);
        return (TOKEN_START + id).padEnd(whole.length, TOKEN_FILL);
      }),
    )
    .join('\n');
  if (problems.length > 0) return { problems };
  const doc = parseDocument(code, { prettyErrors: false, uniqueKeys: true });
  for (const error of doc.errors) {
    const { line, col } = error.linePos?.[0] ?? { line: 1, col: 1 };
    problems.push({
      ruleId: CHECKS_BLOCK,
      line,
      column: col,
      message: `Unexpected YAML in the checks block: ${error.message.split('\n')[0]}`,
    });
  }
  if (problems.length > 0) return { problems };
  if (values.length > 0) substituteScalars(doc, values);
  const locator = pathLocator(doc, code);
  const locate = (p: ReadonlyArray<string | number>, key?: boolean) => (key ? locator.keyAt(p) : locator.at(p));
  const data: unknown = doc.toJS() ?? {};
  const parsed = blockSchema.safeParse(data);
  if (!parsed.success)
    reportIssues(
      parsed.error.issues,
      { locate, where: 'the checks block', keys: () => ['phase', 'checks'] },
      (line, column, message) => problems.push(problem(line, column, message)),
    );
  // The well-formed entries are still checked, so that every problem shows at once.
  const { phase, checks = {} } = parsed.success
    ? parsed.data
    : { phase: undefined, checks: wellFormedChecks((data as { checks?: unknown } | null)?.checks) };
  if (parsed.success && phase === undefined && Object.keys(checks).length === 0) {
    return {
      problems: [
        {
          ruleId: CHECKS_BLOCK,
          line: 1,
          column: 1,
          message: `Unexpected empty checks block, expected \`phase: <${VALIDATION_PHASES.join('|')}>\` and/or \`checks:\` naming checks`,
        },
      ],
    };
  }
  const entries = Object.entries(checks).map(([name, raw]) => ({ name, raw }));
  const block: ParsedChecksBlock = {
    ...(phase ? { phase } : {}),
    entries,
    plan(config, baseDir, report) {
      const planned: PlannedCheck[] = phase && config ? phaseChecks(config, phase) : [];
      for (const { name, raw } of entries) {
        const base = config?.checks.get(name);
        const resolved = resolveCheck({
          name,
          raw,
          base: base && (raw?.type === undefined || raw.type === base.definition.type) ? base : undefined,
          baseDir,
          defaultTimeoutMs: config?.timeoutMs ?? 10_000,
          locate,
          prefix: ['checks', name],
          report: (line, column, message) => report(problem(line, column, message)),
        });
        if (!resolved) continue;
        const at = planned.findIndex((p) => p.name === name);
        if (at >= 0) planned[at] = resolved;
        else planned.push(resolved);
      }
      return planned;
    },
  };
  // Validated on its own (without a configuration) so every problem shows when the document is read.
  // A value holding `${NAME}` is judged when the block runs, with the variable's value.
  const judgedLater = (p: Problem) => !variables && VARIABLE_AT.test(starts[p.line - 1] ?? '');
  block.plan(null, '/', (p) => (judgedLater(p) ? undefined : problems.push(p)));
  return problems.length > 0 ? { problems } : { block, problems };
}

/** Whether a parsed `checks` block looks at the database (then the run opens the PostgreSQL target). */
function blockUsesPostgres(block: ParsedChecksBlock): boolean {
  if (block.phase) return true;
  return block.entries.some(
    ({ name, raw }) => checkDefinition(typeof raw?.type === 'string' ? raw.type : name)?.usesPostgres ?? true,
  );
}

/**
 * The problems of a block as the extractor reports them, and whether it looks at the database: the
 * extractor records that on the step (`usesPostgres`), so that planning never loads the checks library.
 */
export function readChecksBlock(code: string): { problems: Problem[]; usesPostgres: boolean } {
  const { block, problems } = parseChecksBlock(code);
  return { problems, usesPostgres: block ? blockUsesPostgres(block) : false };
}

/** The checks of a block over the configuration; a problem (the document changed under us) is a usage error. */
export function planChecksBlock(
  code: string,
  config: ChecksConfig,
  docDir: string,
  where: { file: string; line: number },
  variables: Record<string, string>,
): PlannedCheck[] {
  const { block, problems } = parseChecksBlock(code, variables);
  const all = [...problems];
  const planned = block ? block.plan(config, docDir, (p) => all.push(p)) : [];
  if (all.length > 0) {
    throw new ExecDocError('E_DOCUMENT', `The checks block at ${where.file}:${where.line} is not valid`, {
      details: all.map((p) => `${where.file}:${where.line + p.line}:${p.column}: ${p.message}`),
    });
  }
  return planned;
}

/**
 * Puts each variable's value into the scalar that referred to it. A plain scalar that is one
 * reference alone takes the type YAML would give the value (a number for `port: ${PORT}`);
 * anything else stays a string. Keys are scalars too, and are treated alike.
 */
function substituteScalars(doc: Document, values: string[]): void {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes(TOKEN_START)) return;
      const text = node.value.replace(TOKEN, (_whole, id: string) => values[Number(id)] ?? '');
      const alone = TOKEN_ALONE.test(node.value);
      node.value = alone && node.type === 'PLAIN' ? plainValue(text) : text;
    },
  });
}

function plainValue(text: string): string | number | boolean {
  if (/^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}
