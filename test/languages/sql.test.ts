// SQL blocks against a real PostgreSQL (the embedded server from npm).
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type PostgresHandle } from '../../src/targets/postgres.js';
import { SqlSession, describePgError } from '../../src/languages/sql.js';

let pg: PostgresHandle;
let session: SqlSession;

beforeAll(async () => {
  pg = await openPostgres(
    { kind: 'postgres', urlEnv: 'EXEC_DOC_TEST_UNSET_URL', database: 'postgres' },
    { runId: `sql-test-${process.pid}`, env: {} },
  );
  session = new SqlSession(pg.url);
});

afterAll(async () => {
  await session?.close();
  await pg?.release();
});

describe('SqlSession', () => {
  it('renders results as psql does, statement by statement', async () => {
    const r = await session.run(
      "create temp table t (id int, name text, price numeric(6,2), ok boolean);\ninsert into t values (1, 'alpha', 9.5, true), (22, null, 10, false);\nselect * from t order by id;\nupdate t set ok = true;",
      { timeoutMs: 5000 },
    );
    expect(r.ok).toBe(true);
    expect(r.output).toBe(
      [
        'CREATE',
        'INSERT 0 2',
        ' id | name  | price | ok',
        '----+-------+-------+----',
        '  1 | alpha |  9.50 | t',
        ' 22 |       | 10.00 | f',
        '(2 rows)',
        'UPDATE 2',
        '',
      ].join('\n'),
    );
  });

  it('reports a failing statement with a caret under its position', async () => {
    const r = await session.run('select 1;\nselect nope from pg_class;', { timeoutMs: 5000 });
    expect(r.ok).toBe(false);
    expect(r.error).toBe(
      'column "nope" does not exist (SQLSTATE 42703)\nLINE 2: select nope from pg_class;\n               ^',
    );
  });

  it('cancels a statement on the server when it times out, and the session stays usable', async () => {
    const started = Date.now();
    const r = await session.run('select pg_sleep(20);', { timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, timedOut: true });
    expect(r.error).toContain('canceling statement due to user request');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await session.run('select 41 + 1 as answer;', { timeoutMs: 5000 })).output).toContain('42');
  });

  it('cancels on an abort signal', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const r = await session.run('select pg_sleep(20);', { timeoutMs: 60_000, signal: controller.signal });
    expect(r).toMatchObject({ ok: false, interrupted: true, timedOut: false });
  });

  it('runs the block in one transaction: a failure leaves nothing behind', async () => {
    const r = await session.run('create table tx_probe (id int);\ninsert into tx_probe values (1);\nselect 1/0;', {
      timeoutMs: 5000,
    });
    expect(r.ok).toBe(false);
    const check = await session.run("select count(*) from pg_tables where tablename = 'tx_probe';", {
      timeoutMs: 5000,
    });
    expect(check.output).toContain('     0');
  });
});

describe('describePgError', () => {
  it('keeps detail and hint', () => {
    expect(describePgError({ message: 'm', code: '23505', detail: 'd', hint: 'h' }, '')).toBe(
      'm (SQLSTATE 23505)\nDETAIL: d\nHINT: h',
    );
  });
});

describe('embedded target', () => {
  it('describes itself and lives in a private directory that release removes', async () => {
    const other = await openPostgres(
      { kind: 'postgres', urlEnv: 'EXEC_DOC_TEST_UNSET_URL', database: 'app_db' },
      { runId: `sql-test-b-${process.pid}`, env: {} },
    );
    expect(other.kind).toBe('embedded');
    expect(other.serverVersion).toMatch(/^18\./);
    expect(other.url).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/app_db$/);
    const dir = other.embedded!.dataDir;
    expect(existsSync(`${dir}/PG_VERSION`)).toBe(true);
    await other.release();
    expect(existsSync(dir)).toBe(false);
  });
});
