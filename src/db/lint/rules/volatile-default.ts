import { newColumns, columnConstraints, functionCalls, relationName, typeNameOf } from '../ast.js';
import type { LintRule } from '../types.js';

// Defaults that call these make ADD COLUMN rewrite every row (a non-volatile default is free since PostgreSQL 11).
const VOLATILE = new Set([
  'random',
  'gen_random_uuid',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'clock_timestamp',
  'timeofday',
  'nextval',
  'txid_current',
  'pg_current_xact_id',
]);
export const SERIAL_TYPES = new Set(['serial', 'serial4', 'serial8', 'bigserial', 'smallserial', 'serial2']);

export const volatileDefault: LintRule = {
  id: 'volatile-default',
  severity: 'error',
  summary: 'ADD COLUMN with a volatile default rewrites the table under an exclusive lock',
  why: 'Since PostgreSQL 11 a constant default costs nothing, but a volatile one (random(), gen_random_uuid(), clock_timestamp(), a serial) is computed for every row: the table is rewritten under ACCESS EXCLUSIVE.',
  safe: 'Add the column without a default (or with a constant one), backfill it in batches (`db backfill`), then SET DEFAULT for new rows.',
  examples: [
    {
      bad: 'alter table orders add column token uuid default gen_random_uuid();',
      at: [1, 31],
      good: 'alter table orders add column created timestamptz default now();',
    },
    { bad: 'alter table orders add column n bigserial;', at: [1, 31], good: 'alter table orders add column n bigint;' },
  ],
  statement({ type, body }, ctx) {
    if (type !== 'AlterTableStmt' || ctx.facts.createdBefore.has(relationName(body.relation))) return;
    // The columns ALTER TABLE … ADD COLUMN adds.
    for (const column of newColumns(type, body)) {
      const dflt = columnConstraints(column).find((c) => c.contype === 'CONSTR_DEFAULT');
      const type = typeNameOf(column.typeName);
      const volatile = dflt ? functionCalls(dflt.raw_expr).find((f) => VOLATILE.has(f)) : undefined;
      if (volatile || SERIAL_TYPES.has(type)) {
        ctx.report(
          ctx.at(column),
          `Unexpected ADD COLUMN ${String(column.colname)} with ${volatile ? `volatile default ${volatile}()` : `type ${type} (a nextval() default)`}: every row of ${relationName(body.relation)} is rewritten under ACCESS EXCLUSIVE`,
        );
      }
    }
  },
};
