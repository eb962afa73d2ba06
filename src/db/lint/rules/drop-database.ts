import type { LintRule } from '../types.js';

export const dropDatabase: LintRule = {
  id: 'drop-database',
  severity: 'error',
  summary: 'DROP DATABASE in a migration',
  why: 'A migration runs against every environment it reaches; dropping a database there loses everything in it, and cannot be rolled back.',
  safe: 'Drop databases by hand, deliberately, after a verified backup; never from a migration.',
  examples: [
    {
      bad: 'drop database reporting;',
      at: [1, 1],
      good: 'drop schema reporting_old cascade; -- lint-ignore: drop-table',
    },
  ],
  statement({ type, body, offset }, ctx) {
    if (type === 'DropdbStmt')
      ctx.report(offset, `Unexpected DROP DATABASE ${String(body.dbname)} in a migration: everything in it is lost`);
  },
};
