// A linter for dangerous DDL, on PostgreSQL's own parser (libpg-query, compiled to WASM). Each
// finding names the rule, the position (file:line:column) and the safe pattern to use instead.
// The rules live one per module in ./rules (the registry lists them); this file parses, works
// out what is known around each statement, and hands each statement to every rule.
// A migration can accept a finding deliberately with a comment `-- lint-ignore: <rule>[, <rule>]`
// (the contract step of an expand/contract change drops a column on purpose).
import path from 'node:path';
import { parse } from 'libpg-query';
import { lineStarts, positionAt } from '../../util/text-position.js';
import type { Severity } from '../../model/types.js';
import { alterCommands, firstNonSpace, newColumns, relationName, statementsOf, typeModifiers, typeNameOf } from './ast.js';
import { RULES } from './rules/index.js';
import type { ColumnType, FileFacts, LintFinding, Node, RuleContext, SchemaModel, Statement } from './types.js';

export type { LintFinding, LintRule, SchemaModel } from './types.js';
export { RULES } from './rules/index.js';

/** Each rule's severity and summary, by id. */
export const LINT_RULES: Record<string, { severity: Severity; summary: string }> = Object.fromEntries(RULES.map((r) => [r.id, { severity: r.severity, summary: r.summary }]));

export const NO_TRANSACTION_MARKER = /^\s*--\s*(?:exec-doc:no-transaction|morph:nontransactional)\b/m;

export interface LintOptions {
  /** A rollback script: rules about losing data do not apply (it exists to remove what `up` added). */
  rollback?: boolean;
  /** The schema as earlier migrations of the set left it; updated with this file's changes. */
  schema?: SchemaModel;
}

export async function lintSql(sql: string, file: string, options: LintOptions = {}): Promise<LintFinding[]> {
  const lines = lineStarts(sql);
  const ignored = new Set([...sql.matchAll(/--\s*lint-ignore:\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)/g)].flatMap((m) => m[1]!.split(/\s*,\s*/)));
  const findings: LintFinding[] = [];
  const push = (ruleId: string, offset: number, message: string, hint: string) => {
    const rule = RULES.find((r) => r.id === ruleId)!;
    if (ignored.has(ruleId) || (options.rollback && rule.destructive)) return;
    findings.push({ ruleId, severity: rule.severity, file, ...positionAt(lines, offset), message, hint });
  };
  // A file of nothing but comments and blanks is an empty migration, not a syntax error.
  if (firstNonSpace(sql, 0) >= sql.length) return [];

  let tree: { stmts?: Array<{ stmt: Node; stmt_location?: number }> };
  try {
    tree = (await parse(sql)) as typeof tree;
  } catch (error) {
    // libpg-query's cursorPosition is a 0-based offset (PostgreSQL's own is 1-based).
    const position = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition ?? 0;
    push('syntax', Math.max(0, position), `Unexpected SQL: ${(error as Error).message}`, RULES[0]!.safe);
    return findings;
  }

  const statements = statementsOf(tree, sql);
  const schema = options.schema ?? new Map<string, Map<string, ColumnType>>();
  const outsideTransaction = runsOutsideTransaction(sql, statements);
  const created = new Set<string>();
  const dropped = droppedTables(statements);
  let inExplicitTransaction = false;

  const contextFor = (rule: (typeof RULES)[number], stmt: Statement | undefined, facts: FileFacts): RuleContext => ({
    sql,
    facts,
    report: (offset, message, hint) => push(rule.id, offset, message, hint ?? rule.safe),
    at: (node) => {
      const l = (node as { location?: number } | undefined)?.location;
      return typeof l === 'number' && l >= 0 ? l : (stmt?.offset ?? 0);
    },
  });
  const factsAt = (index: number): FileFacts => ({
    statements,
    createdBefore: new Set(created),
    droppedAfter: new Set([...dropped].filter(([, at]) => at > index).map(([table]) => table)),
    inExplicitTransaction,
    outsideTransaction,
    columnType: (table, column) => schema.get(table)?.get(column),
  });

  for (const stmt of statements) {
    if (stmt.type === 'TransactionStmt') {
      const kind = stmt.body.kind as string;
      if (kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK') inExplicitTransaction = false;
    }
    const facts = factsAt(stmt.index);
    for (const rule of RULES) rule.statement?.(stmt, contextFor(rule, stmt, facts));
    if (stmt.type === 'TransactionStmt' && (stmt.body.kind === 'TRANS_STMT_BEGIN' || stmt.body.kind === 'TRANS_STMT_START')) inExplicitTransaction = true;
    if (stmt.type === 'CreateStmt') created.add(relationName(stmt.body.relation));
    learnSchema(stmt, schema);
  }
  const facts = factsAt(statements.length);
  for (const rule of RULES) rule.end?.(contextFor(rule, undefined, facts));
  return findings.sort((a, b) => a.line - b.line || a.column - b.column || a.ruleId.localeCompare(b.ruleId));
}

/**
 * Whether the statements must run outside a transaction block: CREATE/DROP INDEX CONCURRENTLY,
 * REINDEX CONCURRENTLY, VACUUM, CREATE/DROP DATABASE, ALTER SYSTEM; or the file says so with
 * `-- exec-doc:no-transaction` (morph's `-- morph:nontransactional` is read too).
 */
export function runsOutsideTransaction(sql: string, statements: readonly Statement[]): boolean {
  if (NO_TRANSACTION_MARKER.test(sql)) return true;
  return statements.some(({ type, body }) => {
    if ((type === 'IndexStmt' || type === 'DropStmt') && body.concurrent) return true;
    if (type === 'ReindexStmt') return ((body.params as Node[] | undefined) ?? []).some((p) => (p.DefElem as Node | undefined)?.defname === 'concurrently');
    return ['VacuumStmt', 'CreatedbStmt', 'DropdbStmt', 'AlterSystemStmt'].includes(type);
  });
}

/** Tables each DROP TABLE of the file removes, with the statement's index. */
function droppedTables(statements: readonly Statement[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const { type, body, index } of statements) {
    if (type !== 'DropStmt' || body.removeType !== 'OBJECT_TABLE') continue;
    for (const o of (body.objects as Node[] | undefined) ?? []) {
      const name = (((o.List as Node | undefined)?.items as Node[] | undefined) ?? []).map((i) => (i.String as Node).sval as string).join('.');
      if (!out.has(name)) out.set(name, index);
    }
  }
  return out;
}

/** Keeps the column types a statement defines, so that later type changes can be judged. */
function learnSchema({ type, body }: Statement, schema: SchemaModel): void {
  if (type !== 'CreateStmt' && type !== 'AlterTableStmt') {
    if (type === 'DropStmt' && body.removeType === 'OBJECT_TABLE') for (const [table] of droppedTables([{ type, body, offset: 0, index: 0 }])) schema.delete(table);
    return;
  }
  const table = relationName(body.relation);
  const columns = schema.get(table) ?? new Map<string, ColumnType>();
  schema.set(table, columns);
  for (const column of newColumns(type, body)) columns.set(String(column.colname), { name: typeNameOf(column.typeName), mods: typeModifiers(column.typeName) });
  if (type === 'AlterTableStmt') {
    for (const cmd of alterCommands(body)) {
      if (cmd.subtype === 'AT_AlterColumnType') {
        const def = (cmd.def as Node).ColumnDef as Node;
        columns.set(String(cmd.name), { name: typeNameOf(def.typeName), mods: typeModifiers(def.typeName) });
      }
      if (cmd.subtype === 'AT_DropColumn') columns.delete(String(cmd.name));
    }
  }
}

/** Lints the up and down scripts of `migrations` in order; paths in findings are the files'. */
export async function lintMigrations(migrations: Array<{ up: string; down?: string; files: { up: string; down?: string } }>): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  const schema: SchemaModel = new Map();
  for (const m of migrations) {
    findings.push(...(await lintSql(m.up, m.files.up, { schema })));
    if (m.down !== undefined && m.files.down) findings.push(...(await lintSql(m.down, m.files.down, { rollback: true })));
  }
  return findings;
}

export function formatFinding(f: LintFinding, relativeTo = process.cwd()): string {
  const relative = path.relative(relativeTo, f.file);
  const file = relative.startsWith('..') || f.file.startsWith('<') ? f.file : relative;
  return `${file}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.ruleId}]\n    safe pattern: ${f.hint}`;
}
