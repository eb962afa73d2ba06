import { alterCommands } from '../ast.js';
import type { LintRule } from '../types.js';

export const preferRobustStmts: LintRule = {
  id: 'prefer-robust-stmts',
  severity: 'warning',
  summary: 'outside a transaction, a statement that cannot run twice',
  why: 'A migration that runs outside a transaction (CONCURRENTLY) is not undone when it fails half-way: running it again must not fail on what the first attempt created. IF [NOT] EXISTS makes each statement safe to repeat.',
  safe: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS …, DROP INDEX CONCURRENTLY IF EXISTS …, ADD COLUMN IF NOT EXISTS ….',
  examples: [
    {
      bad: 'create index concurrently orders_total on orders (total);',
      at: [1, 1],
      good: 'create index concurrently if not exists orders_total on orders (total);',
    },
  ],
  statement({ type, body, offset }, ctx) {
    if (!ctx.facts.outsideTransaction) return;
    const fragile =
      (type === 'IndexStmt' && !body.if_not_exists) ||
      (type === 'CreateStmt' && !body.if_not_exists) ||
      (type === 'DropStmt' && !body.missing_ok) ||
      (type === 'AlterTableStmt' &&
        alterCommands(body).some(
          (c) => (c.subtype === 'AT_AddColumn' || c.subtype === 'AT_DropColumn') && !c.missing_ok,
        ));
    if (fragile)
      ctx.report(
        offset,
        'Unexpected statement without IF [NOT] EXISTS in a migration that runs outside a transaction: if it fails half-way, running it again fails here',
      );
  },
};
