// A linter for dangerous DDL, on PostgreSQL's own parser (libpg-query, compiled to WASM). Each
// finding names the rule, the position (file:line:column) and the safe pattern to use instead.
// The rules live one per module in ./rules (the registry lists them); this file parses, works
// out what is known around each statement, and hands each statement to every rule.
// A migration can accept a finding deliberately with a comment `-- lint-ignore: <rule>[, <rule>]`
// (the contract step of an expand/contract change drops a column on purpose).
import { parse, parsePlPgSQL } from 'libpg-query';
import { lineStarts, positionAt } from '../../util/text-position.js';
import type { Severity } from '../../model/types.js';
import {
  alterCommands,
  firstNonSpace,
  newColumns,
  relationName,
  statementsOf,
  typeModifiers,
  typeNameOf,
} from './ast.js';
import { RULES } from './rules/index.js';
import type { ColumnType, FileFacts, LintFinding, Node, RuleContext, SchemaModel, Statement } from './types.js';
import { diagnosticFormatter } from '../../model/diagnostic.js';

export type { LintFinding, LintRule, SchemaModel } from './types.js';
export { RULES } from './rules/index.js';

/** Each rule's severity and summary, by id. */
export const LINT_RULES: Record<string, { severity: Severity; summary: string }> = Object.fromEntries(
  RULES.map((r) => [r.id, { severity: r.severity, summary: r.summary }]),
);

export const NO_TRANSACTION_MARKER = /^\s*--\s*(?:exec-doc:no-transaction|morph:nontransactional)\b/m;

export interface LintOptions {
  /** A rollback script: rules about losing data do not apply (it exists to remove what `up` added). */
  rollback?: boolean;
  /** The schema as earlier migrations of the set left it; updated with this file's changes. */
  schema?: SchemaModel;
  /** Tables created by migrations applied in the same run before this file (new and empty when it runs); updated. */
  created?: Set<string>;
}

export async function lintSql(sql: string, file: string, options: LintOptions = {}): Promise<LintFinding[]> {
  const lines = lineStarts(sql);
  const ignored = new Set(
    [...sql.matchAll(/--\s*lint-ignore:\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)/g)].flatMap((m) => m[1]!.split(/\s*,\s*/)),
  );
  const findings: LintFinding[] = [];
  const push = (ruleId: string, offset: number, message: string, fix: string) => {
    const rule = RULES.find((r) => r.id === ruleId)!;
    if (ignored.has(ruleId) || (options.rollback && rule.destructive) || (!options.rollback && rule.rollbackOnly))
      return;
    findings.push({ ruleId, severity: rule.severity, file, ...positionAt(lines, offset), message, fix });
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
  const created = options.created ?? new Set<string>();
  const state = { created, schema, outsideTransaction: runsOutsideTransaction(sql, statements) };
  // The DDL a DO block runs is DDL too: its PL/pgSQL is parsed, and each statement it runs is
  // checked where the block stands among the others.
  const inner = new Map<number, Array<{ text: string; offset: number; statements: Statement[] }>>();
  for (const stmt of statements) {
    if (stmt.type !== 'DoStmt') continue;
    const found: Array<{ text: string; offset: number; statements: Statement[] }> = [];
    for (const { text, offset } of await doBlockStatements(sql, stmt)) {
      try {
        found.push({
          text,
          offset,
          statements: statementsOf(
            (await parse(text)) as { stmts?: Array<{ stmt?: unknown; stmt_location?: number }> },
            text,
          ),
        });
      } catch {
        // A statement PL/pgSQL accepts but SQL alone does not (it names variables): not checked.
      }
    }
    inner.set(stmt.index, found);
  }
  checkStatements({ text: sql, statements, base: 0, topLevel: true, inner }, state, push);
  return findings.sort((a, b) => a.line - b.line || a.column - b.column || a.ruleId.localeCompare(b.ruleId));
}

interface LintState {
  created: Set<string>;
  schema: SchemaModel;
  outsideTransaction: boolean;
}

/** A run of statements: the file itself (top level), or the SQL of a DO block inside it. */
interface StatementChunk {
  text: string;
  statements: Statement[];
  /** Offset of `text` in the file. */
  base: number;
  /** The file itself: end-of-file rules run after it. */
  topLevel: boolean;
  /** The DO blocks' SQL, by the index of the statement holding them. */
  inner?: Map<number, Array<{ text: string; offset: number; statements: Statement[] }>>;
}

/** Runs every rule over the chunk's statements, DO blocks' SQL in place. */
function checkStatements(
  chunk: StatementChunk,
  state: LintState,
  push: (ruleId: string, offset: number, message: string, fix: string) => void,
): void {
  const { text, statements, base, topLevel, inner = new Map() } = chunk;
  const dropped = droppedTables(statements);
  let inExplicitTransaction = false;
  const contextFor = (rule: (typeof RULES)[number], stmt: Statement | undefined, facts: FileFacts): RuleContext => ({
    sql: text,
    facts,
    report: (offset, message, fix) => push(rule.id, base + offset, message, fix ?? rule.safe),
    at: (node) => {
      const l = (node as { location?: number } | undefined)?.location;
      return typeof l === 'number' && l >= 0 ? l : (stmt?.offset ?? 0);
    },
  });
  const factsAt = (index: number): FileFacts => ({
    statements,
    createdBefore: new Set(state.created),
    droppedAfter: new Set([...dropped].filter(([, at]) => at > index).map(([table]) => table)),
    inExplicitTransaction,
    outsideTransaction: state.outsideTransaction,
    columnType: (table, column) => state.schema.get(table)?.get(column),
  });
  for (const stmt of statements) {
    if (stmt.type === 'TransactionStmt') {
      const kind = stmt.body.kind as string;
      if (kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK') inExplicitTransaction = false;
    }
    const facts = factsAt(stmt.index);
    for (const rule of RULES) rule.statement?.(stmt, contextFor(rule, stmt, facts));
    if (
      stmt.type === 'TransactionStmt' &&
      (stmt.body.kind === 'TRANS_STMT_BEGIN' || stmt.body.kind === 'TRANS_STMT_START')
    )
      inExplicitTransaction = true;
    if (stmt.type === 'CreateStmt') state.created.add(relationName(stmt.body.relation));
    learnSchema(stmt, state.schema);
    for (const block of inner.get(stmt.index) ?? [])
      checkStatements(
        { text: block.text, statements: block.statements, base: base + block.offset, topLevel: false },
        state,
        push,
      );
  }
  if (!topLevel) return;
  const facts = factsAt(statements.length);
  for (const rule of RULES) rule.end?.(contextFor(rule, undefined, facts));
}

/**
 * The SQL statements a DO block runs, each with its offset in the file: plain statements, and
 * EXECUTE of a string literal. (Built strings are not known before they run.)
 */
async function doBlockStatements(sql: string, stmt: Statement): Promise<Array<{ text: string; offset: number }>> {
  const args = (stmt.body.args as Node[] | undefined) ?? [];
  const language = args.map((a) => a.DefElem as Node).find((d) => d?.defname === 'language');
  const lang = ((language?.arg as Node | undefined)?.String as Node | undefined)?.sval;
  if (lang !== undefined && String(lang).toLowerCase() !== 'plpgsql') return [];
  const body = String(
    (
      (args.map((a) => a.DefElem as Node).find((d) => d?.defname === 'as')?.arg as Node | undefined)?.String as
        Node | undefined
    )?.sval ?? '',
  );
  const bodyAt = sql.indexOf(body, stmt.offset);
  if (!body || bodyAt < 0) return [];
  let tree: unknown;
  try {
    tree = await parsePlPgSQL(
      `CREATE FUNCTION exec_doc_do_block() RETURNS void AS $exec_doc_body$${body}$exec_doc_body$ LANGUAGE plpgsql`,
    );
  } catch {
    return [];
  }
  const queries: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const n = node as Node;
    const exec = n.PLpgSQL_stmt_execsql as Node | undefined;
    const query = ((exec?.sqlstmt as Node | undefined)?.PLpgSQL_expr as Node | undefined)?.query;
    if (typeof query === 'string') queries.push(query);
    const dynamic = (
      ((n.PLpgSQL_stmt_dynexecute as Node | undefined)?.query as Node | undefined)?.PLpgSQL_expr as Node | undefined
    )?.query;
    if (typeof dynamic === 'string' && /^'(?:[^']|'')*'$/.test(dynamic))
      queries.push(dynamic.slice(1, -1).replace(/''/g, "'"));
    for (const value of Object.values(n)) walk(value);
  };
  walk(tree);
  const out: Array<{ text: string; offset: number }> = [];
  let cursor = 0;
  for (const text of queries) {
    const at = body.indexOf(text, cursor);
    const found = at >= 0 ? at : body.indexOf(text.split(/\s+/)[0] ?? text);
    out.push({ text, offset: bodyAt + Math.max(0, found) });
    if (at >= 0) cursor = at + text.length;
  }
  return out;
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
    if (type === 'ReindexStmt')
      return ((body.params as Node[] | undefined) ?? []).some(
        (p) => (p.DefElem as Node | undefined)?.defname === 'concurrently',
      );
    return ['VacuumStmt', 'CreatedbStmt', 'DropdbStmt', 'AlterSystemStmt'].includes(type);
  });
}

/** Tables each DROP TABLE of the file removes, with the statement's index. */
function droppedTables(statements: readonly Statement[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const { type, body, index } of statements) {
    if (type !== 'DropStmt' || body.removeType !== 'OBJECT_TABLE') continue;
    for (const o of (body.objects as Node[] | undefined) ?? []) {
      const name = (((o.List as Node | undefined)?.items as Node[] | undefined) ?? [])
        .map((i) => (i.String as Node).sval as string)
        .join('.');
      if (!out.has(name)) out.set(name, index);
    }
  }
  return out;
}

/** Keeps the column types a statement defines, so that later type changes can be judged. */
function learnSchema({ type, body }: Statement, schema: SchemaModel): void {
  if (type === 'RenameStmt') {
    const table = relationName(body.relation);
    const columns = schema.get(table);
    if (body.renameType === 'OBJECT_COLUMN' && columns?.has(String(body.subname))) {
      columns.set(String(body.newname), columns.get(String(body.subname))!);
      columns.delete(String(body.subname));
    }
    if (body.renameType === 'OBJECT_TABLE' && columns) {
      const schemaPart = table.includes('.') ? `${table.slice(0, table.lastIndexOf('.'))}.` : '';
      schema.set(`${schemaPart}${String(body.newname)}`, columns);
      schema.delete(table);
    }
    return;
  }
  if (type !== 'CreateStmt' && type !== 'AlterTableStmt') {
    if (type === 'DropStmt' && body.removeType === 'OBJECT_TABLE')
      for (const [table] of droppedTables([{ type, body, offset: 0, index: 0 }])) schema.delete(table);
    return;
  }
  const table = relationName(body.relation);
  const columns = schema.get(table) ?? new Map<string, ColumnType>();
  schema.set(table, columns);
  for (const column of newColumns(type, body))
    columns.set(String(column.colname), { name: typeNameOf(column.typeName), mods: typeModifiers(column.typeName) });
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

/**
 * Lints the up and down scripts of `migrations` in order; paths in findings are the files'. With
 * `sameRun` (or from index `sameRunFrom` on: the pending migrations `db up` is about to apply
 * together), a table one of them creates is new and empty for the later ones too.
 */
export async function lintMigrations(
  migrations: Array<{ up: string; down?: string; files: { up: string; down?: string } }>,
  options: { sameRun?: boolean; sameRunFrom?: number } = {},
): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  const schema: SchemaModel = new Map();
  const from = options.sameRunFrom ?? (options.sameRun ? 0 : Infinity);
  const created = new Set<string>();
  for (const [index, m] of migrations.entries()) {
    findings.push(...(await lintSql(m.up, m.files.up, { schema, ...(index >= from ? { created } : {}) })));
    // A down script runs on the schema its up left: judged against a copy of it, which it does not change.
    const after: SchemaModel = new Map([...schema].map(([table, columns]) => [table, new Map(columns)]));
    if (m.down !== undefined && m.files.down)
      findings.push(...(await lintSql(m.down, m.files.down, { rollback: true, schema: after })));
  }
  return findings;
}

export function formatFinding(f: LintFinding, relativeTo = process.cwd()): string {
  return diagnosticFormatter({ relativeTo, fixLabel: 'safe pattern' })(f);
}
