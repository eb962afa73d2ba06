import type { LintRule } from '../types.js';

export const concurrentlyInTransaction: LintRule = {
  id: 'concurrently-in-transaction',
  severity: 'error',
  summary: 'CONCURRENTLY inside an explicit transaction fails',
  why: 'CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction block: PostgreSQL refuses it, and the migration fails half-way.',
  safe: 'Remove the explicit transaction: `db up` runs a migration with CONCURRENTLY statement by statement, outside a transaction.',
  examples: [
    {
      bad: 'begin;\ncreate index concurrently i on orders (total);\ncommit;',
      at: [2, 1],
      good: 'create index concurrently i on orders (total);',
    },
  ],
  statement({ type, body, offset }, ctx) {
    const concurrent =
      (type === 'IndexStmt' || (type === 'DropStmt' && body.removeType === 'OBJECT_INDEX')) && body.concurrent;
    if (concurrent && ctx.facts.inExplicitTransaction)
      ctx.report(
        offset,
        `Unexpected ${type === 'IndexStmt' ? 'CREATE' : 'DROP'} INDEX CONCURRENTLY inside BEGIN … COMMIT, expected it outside any transaction`,
      );
  },
};
