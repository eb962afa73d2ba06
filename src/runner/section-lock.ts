// One run of a section against a target at a time. On this machine, a lock file in the state
// folder (its holder's death frees it); on a shared PostgreSQL target, also a session advisory
// lock held by a connection of its own for the whole run, so that runners on other machines
// wait too (PostgreSQL frees it when the connection goes, whatever happens to the runner).
import { createHash } from 'node:crypto';
import path from 'node:path';
import type pg from 'pg';
import { ExecDocError } from '../errors/exec-doc-error.js';
import { releaseLockFile, tryLockFile, type LockHolder } from '../util/lock-file.js';
import { describeUrl } from '../targets/url.js';

// The first key of exec-doc's advisory locks (the second is the section's hash): 'EXDC'.
const ADVISORY_NAMESPACE = 0x45584443;
const POLL_MS = 200;

export interface SectionLockOptions {
  stateDir: string;
  address: string;
  runId: string;
  /** The user's PostgreSQL server, when the section uses one (the embedded one is the run's own). */
  sharedUrl?: string;
  /** How long to wait for the holder to finish (0: not at all). */
  waitMs: number;
  signal?: AbortSignal;
}

export async function lockSection(options: SectionLockOptions): Promise<() => Promise<void>> {
  const target = options.sharedUrl ? describeUrl(options.sharedUrl) : 'local';
  const key = createHash('sha256').update(`${options.address}\n${target}`).digest('hex').slice(0, 16);
  const file = path.join(options.stateDir, 'locks', `${options.address.replace(/[^A-Za-z0-9_.-]+/g, '_')}.${key}.lock`);
  const deadline = Date.now() + options.waitMs;
  let holder: LockHolder | undefined;
  for (;;) {
    const taken = tryLockFile(file, { runId: options.runId, section: options.address, target });
    if (taken.acquired) break;
    holder = taken.holder;
    if (Date.now() >= deadline || options.signal?.aborted)
      throw lockedError(options, `run ${String(holder.runId ?? '?')} (process ${holder.pid} on this machine)`);
    await sleep(POLL_MS);
  }
  let client: pg.Client | undefined;
  try {
    if (options.sharedUrl) client = await advisoryLock(options, deadline);
  } catch (error) {
    releaseLockFile(file);
    throw error;
  }
  return async () => {
    await client?.end().catch(() => undefined);
    releaseLockFile(file);
  };
}

async function advisoryLock(options: SectionLockOptions, deadline: number): Promise<pg.Client | undefined> {
  // Loaded only for a shared server: a run on the embedded default (or none) does not load pg here.
  const { default: pgModule } = await import('pg');
  const { withDatabase } = await import('../db/backup.js');
  // Held from the server's maintenance database, keyed by the target database: a session in the
  // target itself would keep a restore (DROP DATABASE, CREATE … TEMPLATE) from ever running there.
  const database = targetDatabase(options.sharedUrl!);
  const open = async (url: string): Promise<pg.Client | undefined> => {
    const c = new pgModule.Client({
      connectionString: url,
      connectionTimeoutMillis: 10_000,
      application_name: `exec-doc ${options.runId}`,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return c;
    } catch {
      return undefined;
    }
  };
  // Not allowed into `postgres`: the target database itself. Unreachable: the run's requirement check says so.
  const client =
    (database !== 'postgres' ? await open(withDatabase(options.sharedUrl!, 'postgres')) : undefined) ??
    (await open(options.sharedUrl!));
  if (!client) return undefined;
  const sectionKey = `exec-doc:${options.address}@${database}`;
  for (;;) {
    const got = (
      await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as ok', [
        ADVISORY_NAMESPACE,
        sectionKey,
      ])
    ).rows[0]!.ok;
    if (got) return client;
    if (Date.now() >= deadline || options.signal?.aborted) {
      const holder = await client
        .query<{ name: string }>(
          `select a.application_name as name from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where l.locktype = 'advisory' and l.granted and l.objsubid = 2 and l.classid = $1::bigint::oid
              and l.objid::bigint = (hashtext($2)::bigint + 4294967296) % 4294967296`,
          [ADVISORY_NAMESPACE, sectionKey],
        )
        .then((r) => r.rows[0]?.name)
        .catch(() => undefined);
      await client.end().catch(() => undefined);
      throw lockedError(
        options,
        holder?.startsWith('exec-doc ')
          ? `run ${holder.slice('exec-doc '.length)} (on the database ${describeUrl(options.sharedUrl!)})`
          : `another session of the database ${describeUrl(options.sharedUrl!)}`,
      );
    }
    await sleep(POLL_MS);
  }
}

/** The database a connection string names (as the server resolves it when absent: the user's name). */
function targetDatabase(url: string): string {
  try {
    const u = new URL(url);
    return decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
  } catch {
    return '';
  }
}

function lockedError(options: SectionLockOptions, holder: string): ExecDocError {
  return new ExecDocError('E_SECTION_LOCKED', `${options.address} is already being run by ${holder}`, {
    details: [
      options.waitMs > 0
        ? `Waited ${Math.round(options.waitMs / 1000)} s for it to finish.`
        : 'Wait for it to finish, or pass --lock-wait <duration> to wait for it.',
      'Two runs of one procedure against one target at once would interleave their steps.',
    ],
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
