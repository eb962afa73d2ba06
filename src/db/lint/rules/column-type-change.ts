import { alterCommands, relationName, typeModifiers, typeNameOf } from '../ast.js';
import type { ColumnType, LintRule, Node } from '../types.js';

// Changes PostgreSQL makes without rewriting the table or scanning it (binary-coercible, or a
// looser limit): from → to, where `to` has no modifier or one at least as large.
const FREE: Array<[string, string]> = [
  ['varchar', 'varchar'],
  ['varchar', 'text'],
  ['text', 'varchar'],
  ['bpchar', 'text'],
  ['varbit', 'varbit'],
  ['numeric', 'numeric'],
  ['cidr', 'inet'],
  ['xml', 'text'],
];
const ALIASES: Record<string, string> = {
  'character varying': 'varchar',
  character: 'bpchar',
  char: 'bpchar',
  decimal: 'numeric',
  'bit varying': 'varbit',
  int: 'int4',
  integer: 'int4',
  smallint: 'int2',
  bigint: 'int8',
};
const canonical = (name: string) => ALIASES[name] ?? name;

/** Whether changing a column from `from` to `to` rewrites nothing and scans nothing. */
export function isFreeTypeChange(from: ColumnType, to: ColumnType): boolean {
  const [a, b] = [canonical(from.name), canonical(to.name)];
  if (a === b && JSON.stringify(from.mods) === JSON.stringify(to.mods)) return true;
  if (!FREE.some(([x, y]) => x === a && y === b)) return false;
  if (to.mods.length === 0) return true;
  if (b === 'numeric')
    return (
      from.mods.length === 2 && to.mods.length === 2 && to.mods[1] === from.mods[1] && to.mods[0]! >= from.mods[0]!
    );
  return from.mods.length > 0 && to.mods[0]! >= from.mods[0]!;
}

const show = (t: ColumnType) => `${t.name}${t.mods.length ? `(${t.mods.join(', ')})` : ''}`;

export const columnTypeChange: LintRule = {
  id: 'column-type-change',
  severity: 'error',
  summary: 'changing a column type rewrites the table (or scans it) under an exclusive lock',
  why: "ALTER COLUMN … TYPE rewrites every row and rebuilds the table's indexes under ACCESS EXCLUSIVE, unless the change is binary-coercible (varchar(n) → text, a larger varchar or numeric precision). Where the column's type is known from earlier migrations, only changes that rewrite or scan are reported.",
  safe: 'Expand/contract: add a column of the new type, backfill it in batches, switch readers and writers, drop the old column.',
  examples: [
    {
      bad: 'alter table orders alter column total type bigint;',
      at: [1, 1],
      good: 'alter table orders add column total_big bigint;',
    },
  ],
  statement({ type, body, offset }, ctx) {
    if (type !== 'AlterTableStmt') return;
    const table = relationName(body.relation);
    if (ctx.facts.createdBefore.has(table)) return;
    for (const cmd of alterCommands(body)) {
      if (cmd.subtype !== 'AT_AlterColumnType') continue;
      const column = (cmd.def as Node).ColumnDef as Node;
      const to: ColumnType = { name: typeNameOf(column.typeName), mods: typeModifiers(column.typeName) };
      const from = ctx.facts.columnType(table, String(cmd.name));
      // USING computes every value again: a rewrite whatever the types.
      if (from && !column.raw_default && isFreeTypeChange(from, to)) continue;
      ctx.report(
        offset,
        `Unexpected change of the type of ${table}.${String(cmd.name)}${from ? ` from ${show(from)}` : ''} to ${show(to)}: ${from ? 'rewrites' : 'usually rewrites'} the table under ACCESS EXCLUSIVE`,
        `Expand/contract: add a column of the new type, backfill it in batches, switch readers and writers, drop the old column${from ? '' : '; a binary-coercible change (varchar(n) → text, a larger varchar) rewrites nothing: accept it with `-- lint-ignore: column-type-change`'}.`,
      );
    }
  },
};
