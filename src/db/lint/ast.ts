// Small readers of libpg-query's parse tree, shared by the rules.
import type { Node, Statement } from './types.js';

export function relationName(relation: unknown): string {
  const r = relation as { schemaname?: string; relname?: string } | undefined;
  return r ? `${r.schemaname ? `${r.schemaname}.` : ''}${r.relname ?? '?'}` : '?';
}

/** The names a DROP statement lists (`schema.table` as written). */
export function droppedNames(body: Node): string[] {
  return ((body.objects as Node[] | undefined) ?? []).map(
    (o) =>
      ((o.List as Node | undefined)?.items as Node[] | undefined)
        ?.map((i) => (i.String as Node).sval as string)
        .join('.') ?? '',
  );
}

/** Names of every function called anywhere in an expression tree. */
export function functionCalls(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) functionCalls(n, out);
  else if (node && typeof node === 'object') {
    const call = (node as Node).FuncCall as Node | undefined;
    if (call) out.push(...((call.funcname as Node[]) ?? []).map((n) => (n.String as Node).sval as string).slice(-1));
    for (const value of Object.values(node)) functionCalls(value, out);
  }
  return out;
}

/** A type name as written, without `pg_catalog.`: `int4`, `varchar`, `timestamp`. */
export function typeNameOf(typeName: unknown): string {
  return (((typeName as Node | undefined)?.names as Node[] | undefined) ?? [])
    .map((n) => (n.String as Node).sval as string)
    .filter((n) => n !== 'pg_catalog')
    .join('.');
}

/** The integer modifiers of a type (`varchar(20)` → [20], `numeric(10, 2)` → [10, 2]). */
export function typeModifiers(typeName: unknown): number[] {
  return (((typeName as Node | undefined)?.typmods as Node[] | undefined) ?? []).map((m) =>
    Number(((m.A_Const as Node | undefined)?.ival as Node | undefined)?.ival ?? NaN),
  );
}

/** The ALTER TABLE commands of a statement. */
export function alterCommands(body: Node): Node[] {
  return ((body.cmds as Node[] | undefined) ?? []).map((c) => c.AlterTableCmd as Node);
}

/** The column definitions a statement adds: CREATE TABLE's, and ALTER TABLE … ADD COLUMN's. */
export function newColumns(type: string, body: Node): Node[] {
  if (type === 'CreateStmt')
    return ((body.tableElts as Node[] | undefined) ?? []).map((e) => e.ColumnDef as Node).filter(Boolean);
  if (type === 'AlterTableStmt')
    return alterCommands(body)
      .filter((c) => c.subtype === 'AT_AddColumn' && (c.def as Node | undefined)?.ColumnDef)
      .map((c) => (c.def as Node).ColumnDef as Node);
  return [];
}

export function columnConstraints(column: Node): Node[] {
  return ((column.constraints as Node[] | undefined) ?? []).map((c) => c.Constraint as Node);
}

/** The first character of a statement that starts at `offset` (skipping blanks and comments). */
export function firstNonSpace(text: string, offset: number): number {
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

/** The statements of a parse tree, each with its node type and where it starts in `sql`. */
export function statementsOf(
  tree: { stmts?: Array<{ stmt?: unknown; stmt_location?: number }> },
  sql: string,
): Statement[] {
  return (tree.stmts ?? []).map(({ stmt, stmt_location: base = 0 }, index) => {
    const [type, body] = Object.entries(stmt as object)[0] as [string, Node];
    return { type, body, offset: firstNonSpace(sql, base), index };
  });
}
