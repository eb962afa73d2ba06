import type { LintRule } from '../types.js';

const LOCKING = new Set([
  'AlterTableStmt',
  'IndexStmt',
  'DropStmt',
  'RenameStmt',
  'AlterDomainStmt',
  'TruncateStmt',
  'AlterEnumStmt',
]);

export const missingTimeouts: LintRule = {
  id: 'missing-timeouts',
  severity: 'warning',
  summary: 'DDL without lock_timeout/statement_timeout can wait forever behind a long transaction',
  why: 'A statement waiting for its lock blocks every later query on the table behind it. `db up` sets lock_timeout and retries; a file applied by another tool should set it itself.',
  safe: "Start the file with SET lock_timeout = '2s'; (`db up` sets it, default 2s, and retries).",
  examples: [
    {
      bad: 'create index concurrently i on orders (total);',
      at: [1, 1],
      good: "SET lock_timeout = '2s';\ncreate index concurrently i on orders (total);",
    },
  ],
  end(ctx) {
    const { statements } = ctx.facts;
    const sets = statements.some(
      (s) => s.type === 'VariableSetStmt' && ['lock_timeout', 'statement_timeout'].includes(s.body.name as string),
    );
    const locks = statements.some((s) => LOCKING.has(s.type));
    if (locks && !sets)
      ctx.report(
        statements[0]?.offset ?? 0,
        'Unexpected DDL without SET lock_timeout / statement_timeout: applied by another tool, it could wait forever behind a long transaction and block everything queued behind it',
      );
  },
};
