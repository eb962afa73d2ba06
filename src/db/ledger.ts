// The migration ledger: one row per applied migration, with the checksum of what was applied.
import type pg from 'pg';
import type { Migration } from './migration-files.js';
import { compareVersions } from './migration-files.js';

export const LEDGER_SCHEMA = 'exec_doc';
export const LEDGER_TABLE = `${LEDGER_SCHEMA}.schema_migrations`;

export interface LedgerRow {
  version: string;
  name: string;
  checksum: string;
  appliedAt: string;
  durationMs: number;
  appliedBy: string;
  /** True for rows written by `baseline`: the database had it before the ledger existed. */
  baseline: boolean;
}

/** Migration sets that share a database keep apart ledgers (`--ledger`); most use `default`. */
export const DEFAULT_LEDGER = 'default';

// Digits, dotted digits (Flyway's 1.1), or R:<name> for a repeatable migration.
const VERSION_PATTERN = '^([0-9]+([.][0-9]+)*|R:.+)$';

export async function ensureLedger(client: pg.Client): Promise<void> {
  await client.query(`create schema if not exists ${LEDGER_SCHEMA}`);
  // A ledger made by an earlier exec-doc accepts digits only: widen its check, once.
  const checks = await client.query<{ name: string; def: string }>(
    `select conname as name, pg_get_constraintdef(oid) as def from pg_constraint where conrelid = to_regclass($1) and contype = 'c'`,
    [LEDGER_TABLE],
  );
  const old = { rows: checks.rows.filter((c) => c.def.includes('version') && !c.def.includes('R:')) };
  for (const { name } of old.rows) {
    await client.query(`alter table ${LEDGER_TABLE} drop constraint ${JSON.stringify(name)}`);
    await client.query(
      `alter table ${LEDGER_TABLE} add constraint schema_migrations_version_check check (version ~ '${VERSION_PATTERN}')`,
    );
  }
  await client.query(`create table if not exists ${LEDGER_TABLE} (
    ledger text not null default '${DEFAULT_LEDGER}',
    version text not null constraint schema_migrations_version_check check (version ~ '${VERSION_PATTERN}'),
    primary key (ledger, version),
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now(),
    duration_ms integer not null,
    applied_by text not null default current_user,
    baseline boolean not null default false
  )`);
}

export async function readLedger(client: pg.Client, ledger = DEFAULT_LEDGER): Promise<LedgerRow[]> {
  const exists = await client.query(`select to_regclass($1) is not null as present`, [LEDGER_TABLE]);
  if (!(exists.rows[0] as { present: boolean }).present) return [];
  const result = await client.query(
    `select version, name, checksum, to_char(applied_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as "appliedAt", duration_ms as "durationMs", applied_by as "appliedBy", baseline from ${LEDGER_TABLE} where ledger = $1`,
    [ledger],
  );
  return (result.rows as LedgerRow[]).sort((a, b) => compareVersions(a.version, b.version));
}

export function ledgerInsert(
  migration: Migration,
  durationMs: number,
  baseline = false,
  ledger = DEFAULT_LEDGER,
): { text: string; values: unknown[] } {
  return {
    text: `insert into ${LEDGER_TABLE} (ledger, version, name, checksum, duration_ms, baseline) values ($1, $2, $3, $4, $5, $6)`,
    values: [ledger, migration.version, migration.name, migration.checksum, Math.round(durationMs), baseline],
  };
}

export function ledgerDelete(version: string, ledger = DEFAULT_LEDGER): { text: string; values: unknown[] } {
  return { text: `delete from ${LEDGER_TABLE} where ledger = $1 and version = $2`, values: [ledger, version] };
}

export interface LedgerState {
  applied: LedgerRow[];
  pending: Migration[];
  /** Applied migrations whose file changed since. */
  drift: Array<{ migration: Migration; row: LedgerRow }>;
  /** Applied versions with no file on disk. */
  unknown: LedgerRow[];
}

export function compareLedger(migrations: Migration[], applied: LedgerRow[]): LedgerState {
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  const appliedVersions = new Set(applied.map((r) => r.version));
  const drift: LedgerState['drift'] = [];
  const unknown: LedgerRow[] = [];
  const changedRepeatables = new Set<string>();
  for (const row of applied) {
    const migration = byVersion.get(row.version);
    if (!migration) unknown.push(row);
    // A repeatable migration that changed is applied again, not an edit of history.
    else if (migration.checksum !== row.checksum && migration.repeatable) changedRepeatables.add(row.version);
    else if (migration.checksum !== row.checksum) drift.push({ migration, row });
  }
  return {
    applied,
    pending: migrations.filter((m) => !appliedVersions.has(m.version) || changedRepeatables.has(m.version)),
    drift,
    unknown,
  };
}
