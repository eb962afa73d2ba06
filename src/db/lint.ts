// A linter for dangerous DDL, on PostgreSQL's own parser (libpg-query, compiled to WASM). Each
// finding names the rule, the position (file:line:column) and the safe pattern to use instead.
// A migration can accept a finding deliberately with a comment `-- lint-ignore: <rule>[, <rule>]`
// (the contract step of an expand/contract change drops a column on purpose).
import path from 'node:path';
import { parse } from 'libpg-query';
import { lineStarts, positionAt } from '../util/text-position.js';
import type { Severity } from '../model/types.js';

export interface LintFinding {
  ruleId: string;
  severity: Severity;
  file: string;
  line: number;
  column: number;
  message: string;
  hint: string;
}

export const LINT_RULES: Record<string, { severity: Severity; summary: string }> = {
  'syntax': { severity: 'error', summary: 'the SQL does not parse' },
  'index-not-concurrent': { severity: 'error', summary: 'CREATE INDEX on an existing table without CONCURRENTLY blocks writes' },
  'drop-index-not-concurrent': { severity: 'error', summary: 'DROP INDEX without CONCURRENTLY blocks reads and writes' },
  'concurrently-in-transaction': { severity: 'error', summary: 'CONCURRENTLY inside an explicit transaction fails' },
  'volatile-default': { severity: 'error', summary: 'ADD COLUMN with a volatile default rewrites the table under an exclusive lock' },
  'set-not-null': { severity: 'error', summary: 'SET NOT NULL scans the table under an exclusive lock' },
  'not-null-without-default': { severity: 'error', summary: 'a new NOT NULL column without a default fails on a non-empty table' },
  'constraint-not-valid': { severity: 'error', summary: 'a CHECK or FOREIGN KEY added without NOT VALID validates every row under lock' },
  'unique-constraint-index': { severity: 'error', summary: 'a UNIQUE or PRIMARY KEY constraint builds its index under lock' },
  'column-type-change': { severity: 'error', summary: 'changing a column type usually rewrites the table under an exclusive lock' },
  'drop-column': { severity: 'warning', summary: 'dropping a column breaks code that still reads it' },
  'drop-table': { severity: 'warning', summary: 'dropping a table loses its data' },
  'rename': { severity: 'warning', summary: 'renaming breaks code that uses the old name' },
  'missing-timeouts': { severity: 'warning', summary: 'DDL without lock_timeout/statement_timeout can wait forever behind a long transaction' },
};

// Defaults that call these make ADD COLUMN rewrite every row (a non-volatile default is free since PostgreSQL 11).
const VOLATILE = new Set(['random', 'gen_random_uuid', 'uuid_generate_v1', 'uuid_generate_v1mc', 'uuid_generate_v4', 'clock_timestamp', 'timeofday', 'nextval', 'txid_current', 'pg_current_xact_id']);
const SERIAL_TYPES = new Set(['serial', 'serial4', 'serial8', 'bigserial', 'smallserial', 'serial2']);

type Node = Record<string, unknown>;

/** Rules about losing data do not apply to a rollback script, which exists to remove what `up` added. */
const DESTRUCTIVE = new Set(['drop-table', 'drop-column', 'rename']);

export async function lintSql(sql: string, file: string, options: { rollback?: boolean } = {}): Promise<LintFinding[]> {
  const lines = lineStarts(sql);
  const at = (offset: number) => positionAt(lines, offset);
  const ignored = new Set([...sql.matchAll(/--\s*lint-ignore:\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)/g)].flatMap((m) => m[1]!.split(/\s*,\s*/)));
  const findings: LintFinding[] = [];
  const report = (ruleId: string, offset: number, message: string, hint: string) => {
    if (ignored.has(ruleId) || (options.rollback && DESTRUCTIVE.has(ruleId))) return;
    findings.push({ ruleId, severity: LINT_RULES[ruleId]!.severity, file, ...at(offset), message, hint });
  };

  let tree: { stmts?: Array<{ stmt: Node; stmt_location?: number }> };
  try {
    tree = (await parse(sql)) as typeof tree;
  } catch (error) {
    // libpg-query's cursorPosition is a 0-based offset (PostgreSQL's own is 1-based).
    const position = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition ?? 0;
    report('syntax', Math.max(0, position), `Unexpected SQL: ${(error as Error).message}`, 'Fix the statement; the linter uses PostgreSQL\'s own parser.');
    return findings;
  }

  const stmts = tree.stmts ?? [];
  const createdTables = new Set<string>();
  let inTransaction = false;
  let takesLocks = false;
  let setsTimeouts = false;
  for (const { stmt, stmt_location: base = 0 } of stmts) {
    const [type, body] = Object.entries(stmt)[0] as [string, Node];
    // Node locations from libpg-query are offsets in the whole input.
    const where = (node: unknown): number => {
      const l = (node as { location?: number } | undefined)?.location;
      return typeof l === 'number' ? l : firstNonSpace(sql, base);
    };
    switch (type) {
      case 'TransactionStmt': {
        const kind = body.kind as string;
        if (kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START') inTransaction = true;
        if (kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK') inTransaction = false;
        break;
      }
      case 'VariableSetStmt':
        if (['lock_timeout', 'statement_timeout'].includes(body.name as string)) setsTimeouts = true;
        break;
      case 'CreateStmt':
        createdTables.add(relationName(body.relation));
        break;
      case 'IndexStmt': {
        takesLocks = true;
        const table = relationName(body.relation);
        if (body.concurrent) {
          if (inTransaction) report('concurrently-in-transaction', firstNonSpace(sql, base), `Unexpected CREATE INDEX CONCURRENTLY inside BEGIN … COMMIT, expected it outside any transaction`, 'Remove the explicit transaction: `db up` runs a migration with CONCURRENTLY statement by statement, outside a transaction.');
        } else if (!createdTables.has(table)) {
          report('index-not-concurrent', firstNonSpace(sql, base), `Unexpected CREATE INDEX without CONCURRENTLY on ${table}, expected CREATE INDEX CONCURRENTLY`, `CREATE INDEX CONCURRENTLY ${String(body.idxname ?? 'name')} ON ${table} (…); in a migration of its own (it runs outside a transaction).`);
        }
        break;
      }
      case 'DropStmt': {
        const removeType = body.removeType as string;
        if (removeType === 'OBJECT_INDEX') {
          takesLocks = true;
          if (body.concurrent && inTransaction) report('concurrently-in-transaction', firstNonSpace(sql, base), 'Unexpected DROP INDEX CONCURRENTLY inside BEGIN … COMMIT, expected it outside any transaction', 'Remove the explicit transaction.');
          else if (!body.concurrent) report('drop-index-not-concurrent', firstNonSpace(sql, base), 'Unexpected DROP INDEX without CONCURRENTLY, expected DROP INDEX CONCURRENTLY', 'DROP INDEX CONCURRENTLY name; in a migration of its own.');
        }
        if (removeType === 'OBJECT_TABLE') {
          takesLocks = true;
          report('drop-table', firstNonSpace(sql, base), 'Unexpected DROP TABLE: its data is lost', 'Stop all readers and writers first, keep a verified backup, and drop in a separate (contract) migration; accept with `-- lint-ignore: drop-table`.');
        }
        break;
      }
      case 'RenameStmt': {
        takesLocks = true;
        report('rename', firstNonSpace(sql, base), `Unexpected RENAME of ${String(body.renameType ?? '').replace('OBJECT_', '').toLowerCase()} to ${String(body.newname)}: code using the old name breaks`, 'Expand/contract: add the new name (column or view), move readers and writers, then drop the old one; accept with `-- lint-ignore: rename`.');
        break;
      }
      case 'AlterTableStmt': {
        takesLocks = true;
        const table = relationName(body.relation);
        for (const cmdNode of (body.cmds as Node[] | undefined) ?? []) {
          const cmd = cmdNode.AlterTableCmd as Node;
          const subtype = cmd.subtype as string;
          const def = cmd.def as Node | undefined;
          if (subtype === 'AT_AddColumn' && def?.ColumnDef) {
            const column = def.ColumnDef as Node;
            const constraints = ((column.constraints as Node[] | undefined) ?? []).map((c) => c.Constraint as Node);
            const dflt = constraints.find((c) => c.contype === 'CONSTR_DEFAULT');
            const typeName = (((column.typeName as Node).names as Node[]) ?? []).map((n) => (n.String as Node).sval as string).pop() ?? '';
            const volatile = dflt ? functionCalls(dflt.raw_expr).find((f) => VOLATILE.has(f)) : undefined;
            if (volatile || SERIAL_TYPES.has(typeName)) {
              report('volatile-default', where(column), `Unexpected ADD COLUMN ${String(column.colname)} with ${volatile ? `volatile default ${volatile}()` : `type ${typeName} (a nextval() default)`}: every row of ${table} is rewritten under ACCESS EXCLUSIVE`, 'Add the column without a default (or with a constant one), then backfill it in batches (`db` backfill), then SET DEFAULT for new rows.');
            }
            if (constraints.some((c) => c.contype === 'CONSTR_NOTNULL') && !dflt) {
              report('not-null-without-default', where(column), `Unexpected ADD COLUMN ${String(column.colname)} NOT NULL without a default: fails when ${table} has rows`, 'Add it nullable, backfill, add CHECK (… IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL; or give it a constant default.');
            }
          }
          if (subtype === 'AT_SetNotNull') {
            report('set-not-null', firstNonSpace(sql, base), `Unexpected SET NOT NULL on ${table}.${String(cmd.name)}: scans every row under ACCESS EXCLUSIVE`, `ALTER TABLE ${table} ADD CONSTRAINT ${String(cmd.name)}_not_null CHECK (${String(cmd.name)} IS NOT NULL) NOT VALID; then VALIDATE CONSTRAINT in another migration; then SET NOT NULL (PostgreSQL uses the valid check and skips the scan); accept with \`-- lint-ignore: set-not-null\`.`);
          }
          if (subtype === 'AT_AddConstraint' && def?.Constraint) {
            const constraint = def.Constraint as Node;
            const contype = constraint.contype as string;
            if ((contype === 'CONSTR_CHECK' || contype === 'CONSTR_FOREIGN') && !constraint.skip_validation) {
              report('constraint-not-valid', where(constraint), `Unexpected ${contype === 'CONSTR_CHECK' ? 'CHECK' : 'FOREIGN KEY'} constraint added to ${table} without NOT VALID: every row is checked under lock`, `ADD CONSTRAINT … NOT VALID; then, in another migration, ALTER TABLE ${table} VALIDATE CONSTRAINT … (takes only a SHARE UPDATE EXCLUSIVE lock).`);
            }
            if ((contype === 'CONSTR_UNIQUE' || contype === 'CONSTR_PRIMARY') && !constraint.indexname) {
              report('unique-constraint-index', where(constraint), `Unexpected ${contype === 'CONSTR_UNIQUE' ? 'UNIQUE' : 'PRIMARY KEY'} constraint on ${table} that builds its index under lock`, 'CREATE UNIQUE INDEX CONCURRENTLY name ON … (…); then ADD CONSTRAINT … UNIQUE USING INDEX name (or PRIMARY KEY USING INDEX).');
            }
          }
          if (subtype === 'AT_AlterColumnType') {
            report('column-type-change', firstNonSpace(sql, base), `Unexpected change of the type of ${table}.${String(cmd.name)}: usually rewrites the table under ACCESS EXCLUSIVE`, 'Expand/contract: add a column of the new type, backfill it in batches, switch readers and writers, drop the old column; accept with `-- lint-ignore: column-type-change` for a rewrite-free change (e.g. varchar(n) → text).');
          }
          if (subtype === 'AT_DropColumn') {
            report('drop-column', firstNonSpace(sql, base), `Unexpected DROP COLUMN ${String(cmd.name)} on ${table}: code that still reads it breaks`, 'Only in the contract step, after no code reads or writes the column; accept with `-- lint-ignore: drop-column`.');
          }
        }
        break;
      }
      default:
        break;
    }
  }
  if (takesLocks && !setsTimeouts) {
    report('missing-timeouts', firstNonSpace(sql, 0), 'Unexpected DDL without SET lock_timeout / statement_timeout: applied by another tool, it could wait forever behind a long transaction and block everything queued behind it', '`db up` sets lock_timeout (default 2s) and retries; if this file may be applied otherwise, start it with SET lock_timeout = \'2s\';');
  }
  return findings.sort((a, b) => a.line - b.line || a.column - b.column || a.ruleId.localeCompare(b.ruleId));
}

function relationName(relation: unknown): string {
  const r = relation as { schemaname?: string; relname?: string } | undefined;
  return r ? `${r.schemaname ? `${r.schemaname}.` : ''}${r.relname ?? '?'}` : '?';
}

/** Names of every function called anywhere in an expression tree. */
function functionCalls(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) functionCalls(n, out);
  else if (node && typeof node === 'object') {
    const call = (node as Node).FuncCall as Node | undefined;
    if (call) out.push(...(((call.funcname as Node[]) ?? []).map((n) => (n.String as Node).sval as string).slice(-1)));
    for (const value of Object.values(node)) functionCalls(value, out);
  }
  return out;
}

/** The first character of a statement that starts at `offset` (skipping blanks and comments). */
function firstNonSpace(text: string, offset: number): number {
  let i = offset;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (text.startsWith('--', i)) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end + 1;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i);
      i = end < 0 ? text.length : end + 2;
    } else return i;
  }
}

/** Lints the up and down scripts of `migrations`; paths in findings are the files'. */
export async function lintMigrations(migrations: Array<{ up: string; down?: string; files: { up: string; down?: string } }>): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  for (const m of migrations) {
    findings.push(...(await lintSql(m.up, m.files.up)));
    if (m.down !== undefined && m.files.down) findings.push(...(await lintSql(m.down, m.files.down, { rollback: true })));
  }
  return findings;
}

export function formatFinding(f: LintFinding, relativeTo = process.cwd()): string {
  const relative = path.relative(relativeTo, f.file);
  const file = relative.startsWith('..') ? f.file : relative;
  return `${file}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.ruleId}]\n    safe pattern: ${f.hint}`;
}
