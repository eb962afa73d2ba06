import type { LintRule } from '../types.js';

export const truncateCascade: LintRule = {
  id: 'truncate-cascade',
  severity: 'error',
  summary: 'TRUNCATE … CASCADE empties every table that references it, too',
  why: 'CASCADE truncates all tables with foreign keys to the table, and the tables referencing those: far more data than the statement names is gone.',
  safe: 'TRUNCATE the tables by name (RESTRICT, the default), so an unexpected reference stops it.',
  examples: [{ bad: 'truncate orders cascade;', at: [1, 1], good: 'truncate order_lines, orders;' }],
  statement({ type, body, offset }, ctx) {
    if (type === 'TruncateStmt' && body.behavior === 'DROP_CASCADE')
      ctx.report(offset, 'Unexpected TRUNCATE … CASCADE: every table that references it is emptied too');
  },
};
