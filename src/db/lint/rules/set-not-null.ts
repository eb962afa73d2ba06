import { alterCommands, relationName } from '../ast.js';
import type { LintRule } from '../types.js';

export const setNotNull: LintRule = {
  id: 'set-not-null',
  severity: 'error',
  summary: 'SET NOT NULL scans the table under an exclusive lock',
  why: 'ALTER COLUMN … SET NOT NULL reads every row to prove there is no NULL, holding ACCESS EXCLUSIVE: reads and writes wait for the whole scan. Since PostgreSQL 12 a valid CHECK (col IS NOT NULL) lets it skip the scan.',
  safe: 'ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT in another migration; then SET NOT NULL (PostgreSQL uses the valid check and skips the scan).',
  examples: [
    {
      bad: 'alter table orders alter column total set not null;',
      at: [1, 1],
      good: 'alter table orders add constraint total_nn check (total is not null) not valid;',
    },
  ],
  statement({ type, body, offset }, ctx) {
    if (type !== 'AlterTableStmt') return;
    const table = relationName(body.relation);
    if (ctx.facts.createdBefore.has(table)) return;
    for (const cmd of alterCommands(body)) {
      if (cmd.subtype === 'AT_SetNotNull')
        ctx.report(
          offset,
          `Unexpected SET NOT NULL on ${table}.${String(cmd.name)}: scans every row under ACCESS EXCLUSIVE`,
          `ALTER TABLE ${table} ADD CONSTRAINT ${String(cmd.name)}_not_null CHECK (${String(cmd.name)} IS NOT NULL) NOT VALID; then VALIDATE CONSTRAINT in another migration; then SET NOT NULL; accept with \`-- lint-ignore: set-not-null\`.`,
        );
    }
  },
};
