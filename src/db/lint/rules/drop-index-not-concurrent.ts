import type { LintRule } from '../types.js';

export const dropIndexNotConcurrent: LintRule = {
  id: 'drop-index-not-concurrent',
  severity: 'error',
  summary: 'DROP INDEX without CONCURRENTLY blocks reads and writes',
  why: "DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table: queued behind a long query, it blocks every later reader too.",
  safe: 'DROP INDEX CONCURRENTLY name; in a migration of its own.',
  examples: [{ bad: 'drop index orders_total;', at: [1, 1], good: 'drop index concurrently orders_total;' }],
  statement({ type, body, offset }, ctx) {
    if (type === 'DropStmt' && body.removeType === 'OBJECT_INDEX' && !body.concurrent)
      ctx.report(offset, 'Unexpected DROP INDEX without CONCURRENTLY, expected DROP INDEX CONCURRENTLY');
  },
};
