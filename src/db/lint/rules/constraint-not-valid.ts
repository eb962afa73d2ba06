import { alterCommands, relationName } from '../ast.js';
import type { LintRule, Node } from '../types.js';

export const constraintNotValid: LintRule = {
  id: 'constraint-not-valid',
  severity: 'error',
  summary: 'a CHECK or FOREIGN KEY added without NOT VALID validates every row under lock',
  why: 'ADD CONSTRAINT checks every existing row while holding a lock that blocks writes (and, for a foreign key, the referenced table too). NOT VALID adds it for new rows at once; VALIDATE CONSTRAINT then checks the old ones under a lock that lets writes go on.',
  safe: 'ADD CONSTRAINT … NOT VALID; then, in another migration, VALIDATE CONSTRAINT … (SHARE UPDATE EXCLUSIVE only).',
  examples: [
    {
      bad: 'alter table orders add constraint fk foreign key (customer) references customers (id);',
      at: [1, 24],
      good: 'alter table orders add constraint fk foreign key (customer) references customers (id) not valid;',
    },
    {
      bad: 'alter table orders add constraint positive check (total > 0);',
      at: [1, 24],
      good: 'alter table orders add constraint positive check (total > 0) not valid;',
    },
  ],
  statement({ type, body }, ctx) {
    if (type !== 'AlterTableStmt') return;
    const table = relationName(body.relation);
    if (ctx.facts.createdBefore.has(table)) return;
    for (const cmd of alterCommands(body)) {
      const constraint =
        cmd.subtype === 'AT_AddConstraint'
          ? ((cmd.def as Node | undefined)?.Constraint as Node | undefined)
          : undefined;
      if (!constraint || constraint.skip_validation) continue;
      if (constraint.contype === 'CONSTR_CHECK' || constraint.contype === 'CONSTR_FOREIGN') {
        ctx.report(
          ctx.at(constraint),
          `Unexpected ${constraint.contype === 'CONSTR_CHECK' ? 'CHECK' : 'FOREIGN KEY'} constraint added to ${table} without NOT VALID: every row is checked under lock`,
          `ADD CONSTRAINT … NOT VALID; then, in another migration, ALTER TABLE ${table} VALIDATE CONSTRAINT … (takes only a SHARE UPDATE EXCLUSIVE lock).`,
        );
      }
    }
  },
};
