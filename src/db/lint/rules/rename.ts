import { relationName } from '../ast.js';
import type { LintRule } from '../types.js';

export const rename: LintRule = {
  id: 'rename',
  severity: 'warning',
  summary: 'renaming breaks code that uses the old name',
  why: 'Code deployed before the migration still uses the old name of the table or column, and fails as soon as it changes.',
  safe: 'Expand/contract: add the new name (column or view), move readers and writers, then drop the old one; accept with `-- lint-ignore: rename`.',
  destructive: true,
  examples: [
    {
      bad: 'alter table orders rename column total to amount;',
      at: [1, 1],
      good: 'create view orders_v as select total as amount from orders;',
    },
  ],
  statement({ type, body, offset }, ctx) {
    // Nobody uses the names of a table the file (or the run) just created.
    if (type === 'RenameStmt' && !ctx.facts.createdBefore.has(relationName(body.relation)))
      ctx.report(
        offset,
        `Unexpected RENAME of ${String(body.renameType ?? '')
          .replace('OBJECT_', '')
          .toLowerCase()} to ${String(body.newname)}: code using the old name breaks`,
      );
  },
};
