import { newColumns, columnConstraints, relationName } from '../ast.js';
import type { LintRule } from '../types.js';

export const notNullWithoutDefault: LintRule = {
  id: 'not-null-without-default',
  severity: 'error',
  summary: 'a new NOT NULL column without a default fails on a non-empty table',
  why: 'ADD COLUMN … NOT NULL without a default has no value for the existing rows: PostgreSQL refuses it as soon as the table holds one row (fine in development, fatal in production).',
  safe: 'Add it nullable, backfill, add CHECK (… IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL; or give it a constant default.',
  examples: [
    {
      bad: 'alter table orders add column status text not null;',
      at: [1, 31],
      good: "alter table orders add column status text not null default 'new';",
    },
  ],
  statement({ type, body }, ctx) {
    if (type !== 'AlterTableStmt' || ctx.facts.createdBefore.has(relationName(body.relation))) return;
    // The columns ALTER TABLE … ADD COLUMN adds.
    for (const column of newColumns(type, body)) {
      const constraints = columnConstraints(column);
      if (
        constraints.some((c) => c.contype === 'CONSTR_NOTNULL') &&
        !constraints.some(
          (c) => c.contype === 'CONSTR_DEFAULT' || c.contype === 'CONSTR_IDENTITY' || c.contype === 'CONSTR_GENERATED',
        )
      ) {
        ctx.report(
          ctx.at(column),
          `Unexpected ADD COLUMN ${String(column.colname)} NOT NULL without a default: fails when ${relationName(body.relation)} has rows`,
        );
      }
    }
  },
};
