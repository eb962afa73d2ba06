// The migration runner. Every command reads like the procedure:
// connect → lock (own connection) → ensure ledger → compare with the files → act → unlock/close.
import { CodedError } from '../util/coded-error.js';
import pg from 'pg';
import { describePgError } from '../languages/sql.js';
import { acquireMigrationLock, releaseMigrationLock } from './lock.js';
import {
  compareLedger,
  ensureLedger,
  ledgerDelete,
  ledgerInsert,
  readLedger,
  type LedgerRow,
  type LedgerState,
} from './ledger.js';
import { compareVersions, mustRunOutsideTransaction, type Migration } from './migration-files.js';
import { splitSql } from './sql-split.js';
import { firstNonSpace } from './lint/ast.js';
import { connect } from './connect.js';

export interface MigrateOptions {
  connectionString: string;
  migrations: Migration[];
  /** Longest wait for another runner's lock. */
  lockWaitMs?: number;
  /** `lock_timeout` of each migration: a migration never waits longer than this for a table lock. */
  lockTimeoutMs?: number;
  /** `statement_timeout` of each statement (0: none). */
  statementTimeoutMs?: number;
  /** Further attempts when a migration hits lock_timeout. */
  retries?: number;
  /** First retry delay; doubles each attempt, with ±50 % jitter. */
  backoffMs?: number;
  /** Progress lines for the operator. */
  log?: (line: string) => void;
  /** Which ledger of the database this migration set uses (default: `default`). */
  ledger?: string;
}

export interface AppliedResult {
  version: string;
  name: string;
  durationMs: number;
  attempts: number;
}

export type DbErrorCode =
  'E_DRIFT' | 'E_UNKNOWN_APPLIED' | 'E_LOCKED' | 'E_MIGRATION_FAILED' | 'E_NO_DOWN' | 'E_VERIFY_FAILED' | 'E_REFUSED';

export class DbError extends CodedError {
  constructor(code: DbErrorCode, message: string, details: string[] = [], options: { cause?: unknown } = {}) {
    super(code, message, { details, ...options });
  }
}

const LOCK_NOT_AVAILABLE = '55P03';
const DEFAULTS = { lockWaitMs: 30_000, lockTimeoutMs: 2_000, statementTimeoutMs: 0, retries: 5, backoffMs: 200 };

const APPLICATION = 'exec-doc migrate';

/** Runs `work` holding the migration lock on a dedicated connection, with a second connection for the work. */
async function withLock<T>(
  options: MigrateOptions,
  work: (client: pg.Client, state: LedgerState) => Promise<T>,
): Promise<T> {
  const lock = await connect(options.connectionString, APPLICATION);
  let client: pg.Client | undefined;
  try {
    await acquireMigrationLock(lock, options.lockWaitMs ?? DEFAULTS.lockWaitMs);
    try {
      client = await connect(options.connectionString, APPLICATION);
      await ensureLedger(client);
      const state = compareLedger(options.migrations, await readLedger(client, options.ledger));
      return await work(client, state);
    } finally {
      await releaseMigrationLock(lock).catch(() => undefined);
    }
  } finally {
    await client?.end().catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}

/** Applied, pending, edited and unknown migrations; takes no lock and changes nothing. */
export async function status(options: MigrateOptions): Promise<LedgerState> {
  const client = await connect(options.connectionString, APPLICATION);
  try {
    return compareLedger(options.migrations, await readLedger(client, options.ledger));
  } finally {
    await client.end();
  }
}

/** Refuses to go on when the ledger and the files disagree, saying which migration and what to do. */
export function assertConsistent(state: LedgerState): void {
  if (state.drift.length > 0) {
    throw new DbError(
      'E_DRIFT',
      `Applied migration${state.drift.length > 1 ? 's were' : ' was'} edited after being applied; nothing was run`,
      [
        ...state.drift.map(
          ({ migration, row }) =>
            `${migration.version}_${migration.name}: applied ${row.appliedAt} with ${row.checksum.slice(0, 19)}…, the file now has ${migration.checksum.slice(0, 19)}… (${migration.files.up})`,
        ),
        'Restore the applied version of the file (git checkout), and put the change in a new migration.',
      ],
    );
  }
  if (state.unknown.length > 0) {
    throw new DbError(
      'E_UNKNOWN_APPLIED',
      `The database has migration${state.unknown.length > 1 ? 's' : ''} that no file describes; nothing was run`,
      [
        ...state.unknown.map((row) => `${row.version}_${row.name} (applied ${row.appliedAt})`),
        'Run from the checkout that applied them, or restore the missing files.',
      ],
    );
  }
}

/** Applies pending migrations in order (up to `to`, when given), each in its own transaction where it can be. */
export async function up(options: MigrateOptions & { to?: string }): Promise<AppliedResult[]> {
  return withLock(options, async (client, state) => {
    assertConsistent(state);
    const todo = state.pending.filter((m) => options.to === undefined || compareVersions(m.version, options.to) <= 0);
    const lastVersioned = [...state.applied].reverse().find((r) => !r.version.startsWith('R:'));
    const outOfOrder = lastVersioned
      ? todo.filter((m) => !m.repeatable && compareVersions(m.version, lastVersioned.version) < 0)
      : [];
    if (outOfOrder.length > 0) {
      throw new DbError(
        'E_REFUSED',
        `Pending migration${outOfOrder.length > 1 ? 's are' : ' is'} older than the last applied one (${lastVersioned!.version}); nothing was run`,
        [
          ...outOfOrder.map((m) => `${m.version}_${m.name}`),
          'Give the migration a version after the last applied one.',
        ],
      );
    }
    const results: AppliedResult[] = [];
    for (const migration of todo) {
      options.log?.(
        `applying ${migration.version}_${migration.name}${migration.transactional ? '' : ' (outside a transaction)'}`,
      );
      const again = migration.repeatable && state.applied.some((r) => r.version === migration.version);
      const result = await applyScript(
        client,
        {
          migration,
          direction: 'up',
          record: async (c, durationMs) => {
            if (again) await c.query(ledgerDelete(migration.version, options.ledger));
            return c.query(ledgerInsert(migration, durationMs, false, options.ledger));
          },
        },
        options,
      );
      results.push(result);
      options.log?.(
        `applied ${migration.version}_${migration.name} in ${result.durationMs} ms${result.attempts > 1 ? ` after ${result.attempts} attempts` : ''}`,
      );
    }
    return results;
  });
}

/** Undoes the last `steps` applied migrations (or down to, not including, version `to`), newest first. */
export async function down(options: MigrateOptions & { steps?: number; to?: string }): Promise<AppliedResult[]> {
  return withLock(options, async (client, state) => {
    assertConsistent(state);
    // Repeatable migrations are never undone (as in Flyway): they are applied again when they change.
    const applied = [...state.applied].reverse().filter((r) => !r.version.startsWith('R:'));
    const todo =
      options.to !== undefined
        ? applied.filter((r) => compareVersions(r.version, options.to!) > 0)
        : applied.slice(0, options.steps ?? 1);
    const byVersion = new Map(options.migrations.map((m) => [m.version, m]));
    // An empty .down.sql is a rollback that has nothing to undo, not a missing one.
    const missing = todo.filter((r) => byVersion.get(r.version)?.down === undefined);
    if (missing.length > 0) {
      throw new DbError(
        'E_NO_DOWN',
        `Cannot roll back: ${missing.map((r) => `${r.version}_${r.name}`).join(', ')} ${missing.length > 1 ? 'have' : 'has'} no .down.sql; nothing was run`,
        ['Write the .down.sql, or restore from a backup.'],
      );
    }
    const results: AppliedResult[] = [];
    for (const row of todo) {
      const migration = byVersion.get(row.version)!;
      options.log?.(`rolling back ${migration.version}_${migration.name}`);
      results.push(
        await applyScript(
          client,
          { migration, direction: 'down', record: (c) => c.query(ledgerDelete(migration.version, options.ledger)) },
          options,
        ),
      );
    }
    return results;
  });
}

/** Runs each applied migration's verify script; it passes when it runs cleanly and every boolean it returns is true. */
export async function verify(
  options: MigrateOptions,
): Promise<Array<{ version: string; name: string; ok: boolean; detail: string }>> {
  const client = await connect(options.connectionString, APPLICATION);
  try {
    const state = compareLedger(options.migrations, await readLedger(client, options.ledger));
    assertConsistent(state);
    const out: Array<{ version: string; name: string; ok: boolean; detail: string }> = [];
    for (const row of state.applied) {
      const migration = options.migrations.find((m) => m.version === row.version)!;
      if (!migration.verify) continue;
      // Verification only reads: run it in a transaction that is always rolled back.
      await client.query('begin read only');
      try {
        const result = await client.query({ text: migration.verify, rowMode: 'array' });
        const results = Array.isArray(result) ? (result as pg.QueryResult[]) : [result];
        const falses = results.flatMap((r) => (r.rows as unknown[][]).flat()).filter((v) => v === false).length;
        out.push({
          version: row.version,
          name: row.name,
          ok: falses === 0,
          detail: falses === 0 ? 'verified' : `${falses} check(s) returned false`,
        });
      } catch (error) {
        out.push({ version: row.version, name: row.name, ok: false, detail: describePgError(error, migration.verify) });
      } finally {
        await client.query('rollback');
      }
    }
    return out;
  } finally {
    await client.end();
  }
}

/** Records every migration up to `version` as applied without running it (a database that predates the ledger). */
export async function baseline(options: MigrateOptions & { version: string }): Promise<string[]> {
  return withLock(options, async (client, state) => {
    if (state.applied.length > 0)
      throw new DbError(
        'E_REFUSED',
        `The ledger already has ${state.applied.length} applied migration(s); baseline only starts an empty ledger`,
      );
    const marked = options.migrations.filter((m) => compareVersions(m.version, options.version) <= 0);
    if (marked.length === 0) throw new DbError('E_REFUSED', `No migration has a version up to ${options.version}`);
    await client.query('begin');
    for (const m of marked) await client.query(ledgerInsert(m, 0, true, options.ledger));
    await client.query('commit');
    return marked.map((m) => `${m.version}_${m.name}`);
  });
}

/**
 * Runs one script (`up` or `down`) and its ledger change. In a transaction: all or nothing, with
 * lock_timeout retried (exponential backoff with jitter). Outside one (CONCURRENTLY): statement by
 * statement; a failure says exactly which statements already ran.
 */
async function applyScript(
  client: pg.Client,
  script: {
    migration: Migration;
    direction: 'up' | 'down';
    /** The ledger change, made in the same transaction as the script (or right after it, outside one). */
    record: (c: pg.Client, durationMs: number) => Promise<unknown>;
  },
  options: MigrateOptions,
): Promise<AppliedResult> {
  const { migration, direction, record } = script;
  const sql = direction === 'up' ? migration.up : migration.down!;
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULTS.lockTimeoutMs;
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULTS.statementTimeoutMs;
  const retries = options.retries ?? DEFAULTS.retries;
  const label = `${migration.version}_${migration.name} (${direction})`;
  // `down` follows the same rules as `up` (parsed once, when the files were read): the statements,
  // or the file's marker.
  const transactional = direction === 'up' ? migration.transactional : !mustRunOutsideTransaction(sql);
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const started = performance.now();
    try {
      if (transactional) {
        await client.query('begin');
        await client.query(`set local lock_timeout = ${Math.round(lockTimeoutMs)}`);
        await client.query(`set local statement_timeout = ${Math.round(statementTimeoutMs)}`);
        await client.query(sql);
        await record(client, performance.now() - started);
        await client.query('commit');
      } else {
        await client.query(`set lock_timeout = ${Math.round(lockTimeoutMs)}`);
        await client.query(`set statement_timeout = ${Math.round(statementTimeoutMs)}`);
        const statements = splitSql(sql);
        for (let i = 0; i < statements.length; i++) {
          try {
            await client.query(statements[i]!.text);
          } catch (error) {
            throw Object.assign(error as object, { statementIndex: i, statementCount: statements.length });
          }
        }
        await record(client, performance.now() - started);
        await client.query('reset lock_timeout');
        await client.query('reset statement_timeout');
      }
      return {
        version: migration.version,
        name: migration.name,
        durationMs: Math.round(performance.now() - started),
        attempts,
      };
    } catch (error) {
      if (transactional) await client.query('rollback').catch(() => undefined);
      const e = error as { code?: string; statementIndex?: number; statementCount?: number };
      // Outside a transaction only a failure of the first statement leaves nothing behind to retry over.
      const retryable =
        e.code === LOCK_NOT_AVAILABLE && (transactional || e.statementIndex === 0) && attempts <= retries;
      if (retryable) {
        const delay = Math.round(
          (options.backoffMs ?? DEFAULTS.backoffMs) * 2 ** (attempts - 1) * (0.5 + Math.random()),
        );
        options.log?.(
          `${label}: lock_timeout (${lockTimeoutMs} ms) hit, another session holds a conflicting lock; retry ${attempts}/${retries} in ${delay} ms`,
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      const where =
        !transactional && e.statementIndex !== undefined
          ? ` at statement ${e.statementIndex + 1} of ${e.statementCount}, outside a transaction: statements 1–${e.statementIndex} were applied and stay applied`
          : transactional
            ? '; its transaction was rolled back, nothing of it remains'
            : '';
      const hint =
        e.code === LOCK_NOT_AVAILABLE
          ? `Another session kept a conflicting lock through ${attempts} attempt(s); find it in pg_locks/pg_stat_activity, or raise --lock-timeout/--retries.`
          : !transactional &&
              e.statementIndex !== undefined &&
              failedIndexBuild(splitSql(sql)[e.statementIndex]?.text ?? '')
            ? 'An index built CONCURRENTLY that failed stays INVALID: drop it (DROP INDEX CONCURRENTLY …) before running again.'
            : 'Fix the migration and run again.';
      throw new DbError(
        'E_MIGRATION_FAILED',
        `Migration ${label} failed${where}`,
        [
          describePgError(
            error,
            !transactional && e.statementIndex !== undefined ? splitSql(sql)[e.statementIndex]!.text : sql,
          ),
          hint,
        ],
        { cause: error },
      );
    }
  }
}

export type { LedgerRow, LedgerState };

/** Whether a statement is CREATE INDEX CONCURRENTLY (which leaves an INVALID index when it fails). */
function failedIndexBuild(statement: string): boolean {
  return /^create\s+(?:unique\s+)?index\s+concurrently\b/i.test(statement.slice(firstNonSpace(statement, 0)));
}
