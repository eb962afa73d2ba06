// The migration ledger against the migration files: nothing edited after it was applied,
// nothing applied that has no file, and (after an upgrade) nothing left pending.
import * as z from 'zod';
import { CheckCannotRun, type CheckDefinition } from '../types.js';
import { withPostgres } from '../support.js';

const short = (checksum: string) => checksum.replace(/^sha256:/, '').slice(0, 12);

export const ledgerConsistent: CheckDefinition<{
  migrations?: string | undefined;
  ledger: string;
  allowPending: boolean;
}> = {
  type: 'ledger.consistent',
  title: 'Migration ledger consistent',
  description:
    'Compares the ledger of applied migrations (exec_doc.schema_migrations) with the files in `migrations`: fails on an edited (drifted) or unknown applied migration, and on pending ones unless allowPending.',
  settings: z.strictObject({
    migrations: z.string().min(1).optional(),
    ledger: z.string().min(1).default('default'),
    allowPending: z.boolean().default(true),
  }),
  pathSettings: ['migrations'],
  usesPostgres: true,
  async run(context, s) {
    const threshold = `fail on drift or unknown${s.allowPending ? '' : ' or pending'} migrations`;
    if (!s.migrations)
      return {
        status: 'warn',
        value: 'not configured',
        threshold,
        detail:
          'no migrations folder configured, so nothing was compared: set ledger.consistent.migrations in exec-doc.checks.yaml',
      };
    const { loadMigrations } = await import('../../db/migration-files.js');
    const { compareLedger, readLedger, LEDGER_TABLE } = await import('../../db/ledger.js');
    let migrations;
    try {
      migrations = loadMigrations(s.migrations);
    } catch (error) {
      throw new CheckCannotRun(`cannot read the migrations: ${(error as Error).message}`);
    }
    const applied = await withPostgres(context, async (c) => {
      const exists = (await c.query<{ t: string | null }>('select to_regclass($1)::text as t', [LEDGER_TABLE])).rows[0]!
        .t;
      return exists ? readLedger(c, s.ledger) : [];
    });
    const state = compareLedger(migrations, applied);
    const value = `${state.applied.length} applied, ${state.pending.length} pending, ${state.drift.length} drifted, ${state.unknown.length} unknown`;
    const problems = [
      ...state.drift.map(
        (d) =>
          `${d.migration.version}_${d.migration.name} was edited after it was applied (checksum ${short(d.row.checksum)} in the ledger, ${short(d.migration.checksum)} on disk); restore the file as applied and put the change in a new migration`,
      ),
      ...state.unknown.map(
        (r) =>
          `${r.version}_${r.name} is applied but has no file in ${s.migrations}; deploy the release that has it, or roll it back with that release`,
      ),
      ...(!s.allowPending
        ? state.pending.map((m) => `${m.version}_${m.name} is not applied; run npm run db -- up`)
        : []),
    ];
    const metric = state.drift.length + state.unknown.length + (s.allowPending ? 0 : state.pending.length);
    return {
      status: problems.length > 0 ? 'fail' : 'pass',
      value,
      metric,
      unit: 'count',
      threshold,
      detail: problems.join('; ') || `ledger \`${s.ledger}\` matches ${s.migrations}`,
    };
  },
};
