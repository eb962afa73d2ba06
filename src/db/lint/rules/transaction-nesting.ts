import type { LintRule } from '../types.js';

export const transactionNesting: LintRule = {
  id: 'transaction-nesting',
  severity: 'error',
  summary: 'BEGIN/COMMIT inside a migration that `db up` already runs in a transaction',
  why: '`db up` runs each migration in its own transaction and records it in the ledger in the same one. A COMMIT in the file ends that transaction early: what follows runs outside it, and a failure leaves the migration half applied.',
  safe: 'Leave BEGIN and COMMIT out; `db up` provides the transaction (or marks a file `-- exec-doc:no-transaction` when it must run outside one).',
  examples: [
    {
      bad: 'begin;\nalter table orders add column note text;\ncommit;',
      at: [1, 1],
      good: 'alter table orders add column note text;',
    },
  ],
  statement({ type, body, offset }, ctx) {
    if (type !== 'TransactionStmt' || ctx.facts.outsideTransaction) return;
    const kind = String(body.kind).replace('TRANS_STMT_', '');
    if (['BEGIN', 'START', 'COMMIT', 'ROLLBACK'].includes(kind))
      ctx.report(
        offset,
        `Unexpected ${kind} in a migration that \`db up\` runs in its own transaction: it ends or nests that transaction`,
      );
  },
};

export const uncommittedTransaction: LintRule = {
  id: 'uncommitted-transaction',
  severity: 'error',
  summary: 'a BEGIN without a COMMIT',
  why: 'A file that opens a transaction and never ends it leaves it to whoever applies it: some tools commit at the end, others roll everything back silently.',
  safe: 'End every BEGIN with COMMIT in the same file (or, under `db up`, leave both out).',
  examples: [
    {
      bad: "SET lock_timeout = '2s';\nbegin;\nalter table orders add column note text;",
      at: [2, 1],
      good: "SET lock_timeout = '2s';\nbegin;\nalter table orders add column note text;\ncommit;",
    },
  ],
  end(ctx) {
    let open: number | undefined;
    for (const s of ctx.facts.statements) {
      if (s.type !== 'TransactionStmt') continue;
      const kind = String(s.body.kind);
      if (kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START') open ??= s.offset;
      if (kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK') open = undefined;
    }
    if (open !== undefined) ctx.report(open, 'Unexpected BEGIN without a COMMIT before the end of the file');
  },
};
