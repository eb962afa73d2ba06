// Only one runner migrates a database at a time: a session advisory lock, held on a connection
// of its own (so it never sits inside a migration's transaction, and CREATE INDEX CONCURRENTLY,
// which waits for other transactions, has none to wait for on it).
import { CodedError } from '../util/coded-error.js';
import type pg from 'pg';

/** The advisory lock key of exec-doc migrations (0x420872, for the B-072 guide); a fixed bigint, the same for every runner. */
export const MIGRATION_LOCK_KEY = 4327538n;
const POLL_MS = 100;

export class LockTimeoutError extends CodedError {
  constructor(
    readonly waitedMs: number,
    readonly holders: Array<{ pid: number; application: string; since: string }>,
  ) {
    super(
      'E_LOCK_TIMEOUT',
      `Another runner holds the migration lock (waited ${waitedMs} ms)${holders.length ? `: ${holders.map((h) => `pid ${h.pid}${h.application ? ` (${h.application})` : ''} since ${h.since}`).join(', ')}` : ''}; wait for it to finish, raise --lock-wait, or stop it (select pg_terminate_backend(pid))`,
    );
  }
}

/** Takes the lock within `waitMs` or throws LockTimeoutError naming who holds it. */
export async function acquireMigrationLock(client: pg.Client, waitMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    const result = await client.query('select pg_try_advisory_lock($1::bigint) as locked', [
      MIGRATION_LOCK_KEY.toString(),
    ]);
    if ((result.rows[0] as { locked: boolean }).locked) return;
    const waited = Date.now() - started;
    if (waited >= waitMs) throw new LockTimeoutError(waited, await lockHolders(client));
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, waitMs - waited)));
  }
}

export async function releaseMigrationLock(client: pg.Client): Promise<void> {
  await client.query('select pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY.toString()]);
}

async function lockHolders(client: pg.Client): Promise<Array<{ pid: number; application: string; since: string }>> {
  // A bigint advisory key shows in pg_locks as classid (high 32 bits) and objid (low 32 bits).
  const high = Number(MIGRATION_LOCK_KEY >> 32n);
  const low = Number(MIGRATION_LOCK_KEY & 0xffffffffn);
  const result = await client.query(
    `select l.pid, coalesce(a.application_name, '') as application, to_char(a.backend_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as since
       from pg_locks l left join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.classid = $1 and l.objid = $2 and l.objsubid = 1`,
    [high, low],
  );
  return result.rows as Array<{ pid: number; application: string; since: string }>;
}
