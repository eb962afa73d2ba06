import { relationName } from '../ast.js';
import type { LintRule } from '../types.js';

export const indexNotConcurrent: LintRule = {
  id: 'index-not-concurrent',
  severity: 'error',
  summary: 'CREATE INDEX on an existing table without CONCURRENTLY blocks writes',
  why: 'A plain CREATE INDEX holds a SHARE lock on the table for the whole build: every INSERT, UPDATE and DELETE waits, for minutes on a large table.',
  safe: 'CREATE INDEX CONCURRENTLY in a migration of its own (it runs outside a transaction).',
  examples: [
    {
      bad: 'create index orders_total on orders (total);',
      at: [1, 1],
      good: 'create index concurrently orders_total on orders (total);',
    },
  ],
  statement({ type, body, offset }, ctx) {
    if (type !== 'IndexStmt' || body.concurrent) return;
    const table = relationName(body.relation);
    // A table made or dropped in the same file: nobody else sees it, or the DROP locks it anyway.
    if (ctx.facts.createdBefore.has(table) || ctx.facts.droppedAfter.has(table)) return;
    ctx.report(
      offset,
      `Unexpected CREATE INDEX without CONCURRENTLY on ${table}, expected CREATE INDEX CONCURRENTLY`,
      `CREATE INDEX CONCURRENTLY ${String(body.idxname ?? 'name')} ON ${table} (…); in a migration of its own (it runs outside a transaction).`,
    );
  },
};
