// One embedded PostgreSQL per test file, and a fresh database per test on it.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openPostgres, type PostgresHandle } from '../../src/targets/postgres.js';
import { withDatabase } from '../../src/db/backup.js';
import { freePort, ROOT, tempDir } from '../helpers.js';

/** One query on a connection of its own, to any database. */
export async function queryAt(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  // The server stops after the tests: a connection still open then is not a test failure.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A PostgreSQL 15 from the machine's binaries (scripts/procedures/database/pg15.sh), in a folder
 * of its own (the script hands it to the postgres user; a root-only parent would block it).
 */
export async function startPg15(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const dir = tempDir('exec-doc-pg15-');
  const script = path.join(ROOT, 'scripts', 'procedures', 'database', 'pg15.sh');
  execFileSync('bash', [script, 'start', dir, String(port)], { stdio: 'ignore' });
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    stop: () => execFileSync('bash', [script, 'stop', dir], { stdio: 'ignore' }),
  };
}

export interface TestServer {
  readonly url: string;
  readonly handle: PostgresHandle;
  /** A new empty database (optionally set up with `setupSql`), and a helper to query it. */
  database(setupSql?: string): Promise<{ url: string; query: (sql: string) => Promise<pg.QueryResult> }>;
}

export function useEmbeddedServer(name: string, database = 'postgres'): TestServer {
  let handle: PostgresHandle | undefined;
  let count = 0;
  beforeAll(async () => {
    handle = await openPostgres(
      { kind: 'postgres', urlEnv: 'EXEC_DOC_TEST_NO_URL', database },
      { runId: `${name}-${process.pid}`, env: {} },
    );
  }, 60_000);
  afterAll(async () => handle?.release());
  const query = queryAt;
  return {
    get url() {
      return handle!.url;
    },
    get handle() {
      return handle!;
    },
    async database(setupSql) {
      const dbName = `${name.replace(/\W/g, '_')}_${process.pid}_${++count}`;
      await query(handle!.url, `create database ${dbName}`);
      const url = withDatabase(handle!.url, dbName);
      if (setupSql) await query(url, setupSql);
      return { url, query: (sql: string) => query(url, sql) };
    },
  };
}
