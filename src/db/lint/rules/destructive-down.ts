import { alterCommands, droppedNames, relationName } from '../ast.js';
import type { LintRule } from '../types.js';

/**
 * In a down migration, what loses rows: rolling back the release destroys data written since it
 * went live, and applying it again brings the tables back empty. Only rollback scripts are checked.
 */
export const destructiveDown: LintRule = {
  id: 'destructive-down',
  severity: 'warning',
  summary: 'a down migration that drops a table or column, truncates or deletes destroys data',
  why: 'Rolling the release back destroys what was written since it went live, and applying the migration again brings the table or column back empty: the only way back is a backup taken before the down migration ran.',
  safe: 'Take a backup right before running it (`db backup`), confirm the step, and undo it with `db restore`, not `up` (the release rollback procedure does all three); accept with `-- lint-ignore: destructive-down`.',
  rollbackOnly: true,
  examples: [
    {
      bad: 'drop table orders;',
      at: [1, 1],
      good: '-- lint-ignore: destructive-down (backed up by the release rollback procedure)\ndrop table orders;',
    },
  ],
  statement({ type, body, offset }, ctx) {
    if (type === 'DropStmt' && body.removeType === 'OBJECT_TABLE') {
      const names = droppedNames(body);
      ctx.report(offset, `Unexpected DROP TABLE ${names.join(', ')} in a down migration: its rows are lost`);
    } else if (type === 'AlterTableStmt') {
      for (const cmd of alterCommands(body))
        if (cmd.subtype === 'AT_DropColumn')
          ctx.report(
            offset,
            `Unexpected DROP COLUMN ${String(cmd.name)} on ${relationName(body.relation)} in a down migration: its values are lost`,
          );
    } else if (type === 'TruncateStmt') {
      ctx.report(offset, 'Unexpected TRUNCATE in a down migration: the rows are lost');
    } else if (type === 'DeleteStmt' && body.whereClause === undefined) {
      ctx.report(
        offset,
        `Unexpected DELETE without WHERE on ${relationName(body.relation)} in a down migration: every row is lost`,
      );
    }
  },
};
