import type { LintRule, Node } from '../types.js';

export const domainConstraint: LintRule = {
  id: 'domain-constraint',
  severity: 'error',
  summary: 'a constraint on a domain checks every column of that domain, under lock',
  why: 'ALTER DOMAIN … ADD CONSTRAINT validates every column of every table that uses the domain, locking them all; a domain created with a constraint can only be changed that way later.',
  safe: 'Put the CHECK on the columns (ADD CONSTRAINT … NOT VALID, then VALIDATE); or ALTER DOMAIN … ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT.',
  examples: [
    {
      bad: 'alter domain positive add constraint gt0 check (value > 0);',
      at: [1, 1],
      good: 'alter domain positive add constraint gt0 check (value > 0) not valid;',
    },
    {
      bad: 'create domain positive as bigint check (value > 0);',
      at: [1, 1],
      good: 'create domain positive as bigint;',
    },
  ],
  statement({ type, body, offset }, ctx) {
    if (type === 'AlterDomainStmt' && body.subtype === 'C') {
      const constraint = (body.def as Node | undefined)?.Constraint as Node | undefined;
      if (constraint && !constraint.skip_validation)
        ctx.report(
          offset,
          'Unexpected ALTER DOMAIN … ADD CONSTRAINT without NOT VALID: every column of the domain is checked under lock',
        );
    }
    if (
      type === 'CreateDomainStmt' &&
      ((body.constraints as Node[] | undefined) ?? []).some((c) => (c.Constraint as Node).contype === 'CONSTR_CHECK')
    ) {
      ctx.report(
        offset,
        'Unexpected CREATE DOMAIN with a CHECK: changing that check later validates every column of the domain under lock',
      );
    }
  },
};
