import { alterCommands, columnConstraints, relationName } from '../ast.js';
import type { LintRule, Node } from '../types.js';

export const uniqueConstraintIndex: LintRule = {
  id: 'unique-constraint-index',
  severity: 'error',
  summary: 'a UNIQUE or PRIMARY KEY constraint builds its index under lock',
  why: 'Adding a UNIQUE or PRIMARY KEY constraint (or a column declared with one) builds its index while holding ACCESS EXCLUSIVE on the table.',
  safe: 'CREATE UNIQUE INDEX CONCURRENTLY name ON … (…); then ADD CONSTRAINT … UNIQUE USING INDEX name (or PRIMARY KEY USING INDEX).',
  examples: [
    {
      bad: 'alter table orders add constraint u unique (code);',
      at: [1, 24],
      good: 'alter table orders add constraint u unique using index orders_code;',
    },
    {
      bad: 'alter table orders add column code text unique;',
      at: [1, 41],
      good: 'alter table orders add column code text;',
    },
  ],
  statement({ type, body }, ctx) {
    if (type !== 'AlterTableStmt') return;
    const table = relationName(body.relation);
    if (ctx.facts.createdBefore.has(table)) return;
    for (const cmd of alterCommands(body)) {
      const def = cmd.def as Node | undefined;
      const constraints =
        cmd.subtype === 'AT_AddConstraint' && def?.Constraint
          ? [def.Constraint as Node]
          : cmd.subtype === 'AT_AddColumn' && def?.ColumnDef
            ? columnConstraints(def.ColumnDef as Node)
            : [];
      for (const c of constraints) {
        if ((c.contype === 'CONSTR_UNIQUE' || c.contype === 'CONSTR_PRIMARY') && !c.indexname)
          ctx.report(
            ctx.at(c),
            `Unexpected ${c.contype === 'CONSTR_UNIQUE' ? 'UNIQUE' : 'PRIMARY KEY'} constraint on ${table} that builds its index under lock`,
          );
      }
    }
  },
};
