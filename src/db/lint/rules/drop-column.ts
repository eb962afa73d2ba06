import { alterCommands, relationName } from '../ast.js';
import type { LintRule } from '../types.js';

export const dropColumn: LintRule = {
  id: 'drop-column',
  severity: 'warning',
  summary: 'dropping a column breaks code that still reads it',
  why: 'Application code deployed before the migration still names the column: its queries fail the moment it is gone.',
  safe: 'Only in the contract step, after no code reads or writes the column; accept with `-- lint-ignore: drop-column`.',
  destructive: true,
  examples: [
    {
      bad: 'alter table orders drop column legacy;',
      at: [1, 1],
      good: 'alter table orders drop column legacy; -- lint-ignore: drop-column',
    },
  ],
  statement({ type, body, offset }, ctx) {
    if (type !== 'AlterTableStmt') return;
    for (const cmd of alterCommands(body))
      if (cmd.subtype === 'AT_DropColumn')
        ctx.report(
          offset,
          `Unexpected DROP COLUMN ${String(cmd.name)} on ${relationName(body.relation)}: code that still reads it breaks`,
        );
  },
};
