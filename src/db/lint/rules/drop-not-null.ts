import { alterCommands, relationName } from '../ast.js';
import type { LintRule } from '../types.js';

export const dropNotNull: LintRule = {
  id: 'drop-not-null',
  severity: 'warning',
  summary: 'DROP NOT NULL lets NULLs in that readers do not expect',
  why: 'Code written while the column could not be NULL does not handle NULL; once the constraint is gone, a writer can store one and break every reader.',
  safe: 'Make readers handle NULL first (deploy), then drop the constraint; accept with `-- lint-ignore: drop-not-null`.',
  examples: [
    {
      bad: 'alter table orders alter column note drop not null;',
      at: [1, 1],
      good: "alter table orders alter column note set default '';",
    },
  ],
  statement({ type, body, offset }, ctx) {
    if (type !== 'AlterTableStmt') return;
    for (const cmd of alterCommands(body))
      if (cmd.subtype === 'AT_DropNotNull')
        ctx.report(
          offset,
          `Unexpected DROP NOT NULL on ${relationName(body.relation)}.${String(cmd.name)}: readers that expect a value break on the first NULL`,
        );
  },
};
