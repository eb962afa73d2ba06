import { droppedNames } from '../ast.js';
import type { LintRule } from '../types.js';

export const dropTable: LintRule = {
  id: 'drop-table',
  severity: 'warning',
  summary: 'dropping a table loses its data',
  why: 'The data is gone unless a backup holds it, and code that still uses the table fails.',
  safe: 'Stop all readers and writers first, keep a verified backup, and drop in a separate (contract) migration; accept with `-- lint-ignore: drop-table`.',
  destructive: true,
  examples: [{ bad: 'drop table old_orders;', at: [1, 1], good: '-- lint-ignore: drop-table\ndrop table old_orders;' }],
  statement({ type, body, offset }, ctx) {
    if (type !== 'DropStmt' || body.removeType !== 'OBJECT_TABLE') return;
    // A table made earlier in the same file is scaffolding, not data.
    const names = droppedNames(body);
    if (names.length > 0 && names.every((n) => ctx.facts.createdBefore.has(n))) return;
    ctx.report(offset, `Unexpected DROP TABLE${names.length ? ` ${names.join(', ')}` : ''}: its data is lost`);
  },
};
