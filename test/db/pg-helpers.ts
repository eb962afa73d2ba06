// One embedded PostgreSQL per test file, and a fresh database per test on it.
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openPostgres, type PostgresHandle } from '../../src/targets/postgres.js';
import { withDatabase } from '../../src/db/backup.js';

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
  const query = async (url: string, sql: string): Promise<pg.QueryResult> => {
    const client = new pg.Client({ connectionString: url });
    // The server stops after the tests: a connection still open then is not a test failure.
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  };
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
