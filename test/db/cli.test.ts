// `npm run db` in a real runbook on the embedded PostgreSQL, and in-process for its messages.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbMain } from '../../src/cli/db/index.js';
import { captureIo, ROOT, runDoc, tempDir } from '../helpers.js';

function migrationsDir(): string {
  const dir = path.join(tempDir(), 'migrations');
  mkdirSync(dir);
  writeFileSync(
    path.join(dir, '0001_accounts.up.sql'),
    'create table accounts (id int primary key, balance numeric not null);\ninsert into accounts select g, 100 from generate_series(1, 50) g;',
  );
  writeFileSync(path.join(dir, '0001_accounts.down.sql'), 'drop table accounts;');
  writeFileSync(
    path.join(dir, '0002_limit.up.sql'),
    'alter table accounts add column credit_limit numeric not null default 0;',
  );
  writeFileSync(path.join(dir, '0002_limit.down.sql'), 'alter table accounts drop column credit_limit;');
  return dir;
}

const RUNBOOK = (failing: boolean) => `# Db

## Migrate

\`\`\`sql {id=start kind=check}
select to_regclass('accounts') is null as empty;
\`\`\`

\`\`\`output
 empty
-------
 t
(1 row)
\`\`\`

\`\`\`bash {id=migrate rollback=unmigrate timeout=60s}
node "$DB_BIN" up --dir "$MIGRATIONS"
\`\`\`

\`\`\`sql {id=check-ledger kind=check}
select string_agg(version, ',' order by version) as applied from exec_doc.schema_migrations;
\`\`\`

\`\`\`output
  applied
-----------
 0001,0002
(1 row)
\`\`\`

\`\`\`sql {id=use-it rollback=none}
${failing ? 'update accounts set credit_limit = -1 where balance > nonexistent_column;' : 'update accounts set credit_limit = 10;'}
\`\`\`

\`\`\`bash {id=unmigrate kind=rollback}
node "$DB_BIN" down --to 0 --dir "$MIGRATIONS"
\`\`\`
`;

describe('npm run db in a runbook', () => {
  it("migrates the run's embedded database; a later failure rolls the migrations back", async () => {
    const env = { ...process.env, DB_BIN: path.join(ROOT, 'bin', 'db.js'), MIGRATIONS: migrationsDir() };
    const ok = await runDoc(RUNBOOK(false), 'migrate', { env });
    expect(ok.record.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['start', 'passed'],
      ['migrate', 'passed'],
      ['check-ledger', 'passed'],
      ['use-it', 'passed'],
    ]);
    const failed = await runDoc(RUNBOOK(true), 'migrate', { env });
    expect(failed.exitCode).toBe(1);
    expect(failed.record.rollback).toEqual({
      ran: true,
      complete: true,
      undone: ['migrate'],
      notUndone: [],
      notUndoable: [],
      remaining: [],
    });
    // The starting-point check ran again after the rollback and passed: the table is gone.
    expect(failed.record.steps.find((s) => s.phase === 'verify')).toMatchObject({ stepId: 'start', status: 'passed' });
  }, 60_000);
});

const io = (env: NodeJS.ProcessEnv = {}) => captureIo(env);

describe('npm run db messages', () => {
  it.each([
    [[], 'db: missing command'],
    [
      ['migrate'],
      'db: unknown command `migrate`, expected one of status, plan, up, down, verify, lint, baseline, backfill, backup, restore, verify-backup, snapshot, compare',
    ],
    [['up', '--lock-timeout', 'soon'], 'db: --lock-timeout takes a duration such as 500ms, 2s or 1m'],
    [['down', '--steps', '0'], 'db: --steps takes a whole number of at least 1'],
    [['baseline'], 'db: baseline needs --to <version>'],
    [['up', '--bogus'], "db: Unknown option '--bogus'"],
  ])('%j → usage error', async (argv, message) => {
    const streams = io({ DATABASE_URL: 'postgresql://x@127.0.0.1:1/x' });
    expect(await dbMain(argv, streams)).toBe(64);
    expect(streams.err().startsWith(message)).toBe(true);
  });

  it('needs a database, and says how to give one', async () => {
    const streams = io({});
    expect(await dbMain(['status'], streams)).toBe(3);
    expect(streams.err()).toContain('set DATABASE_URL');
    const refused = io({ DATABASE_URL: 'postgresql://u:secretpw@127.0.0.1:1/x' });
    expect(await dbMain(['status', '--dir', migrationsDir()], refused)).toBe(3);
    expect(refused.err()).toMatch(/^db: cannot connect to the database: .*; check DATABASE_URL\n$/);
    expect(refused.err()).not.toContain('secretpw');
  });

  it('lists every problem of a malformed migrations folder', async () => {
    const dir = path.join(tempDir(), 'bad');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'oops.sql'), '');
    const streams = io({ DATABASE_URL: 'postgresql://x@127.0.0.1:1/x' });
    expect(await dbMain(['plan', '--dir', dir], streams)).toBe(64);
    expect(streams.err()).toContain('oops.sql: unexpected file name, expected <digits>_<name>.up.sql');
  });
});

describe('npm run db lint', () => {
  it('reports findings with positions and safe patterns, and up refuses on lint errors', async () => {
    const dir = migrationsDir();
    writeFileSync(
      path.join(dir, '0003_index.up.sql'),
      "SET lock_timeout = '2s';\ncreate index accounts_balance on accounts (balance);",
    );
    const lint = io({});
    expect(await dbMain(['lint', '--dir', dir], lint)).toBe(1);
    expect(lint.out()).toContain(
      `${path.join(dir, '0003_index.up.sql')}:2:1: error: Unexpected CREATE INDEX without CONCURRENTLY on accounts, expected CREATE INDEX CONCURRENTLY [index-not-concurrent]\n    safe pattern: CREATE INDEX CONCURRENTLY accounts_balance ON accounts (…);`,
    );
    // Three files without lock_timeout, an int4 key (prefer-bigint), and two down migrations that drop a table and a column.
    expect(lint.out()).toContain('[prefer-bigint]');
    expect(lint.out()).toContain('in a down migration: its rows are lost [destructive-down]');
    expect(lint.out()).toMatch(/lint: 1 error\(s\), 6 warning\(s\)\n$/);
    const json = io({});
    expect(await dbMain(['lint', '--dir', dir, '--json'], json)).toBe(1);
    expect(JSON.parse(json.out())).toMatchObject({ errors: 1, warnings: 6 });

    const { openPostgres } = await import('../../src/targets/postgres.js');
    const server = await openPostgres(
      { kind: 'postgres', urlEnv: 'EXEC_DOC_TEST_NO_URL', database: 'lintdb' },
      { runId: `lint-test-${process.pid}`, env: {} },
    );
    try {
      // Applied together with 0001, the index is built on a new, empty table: nothing to refuse.
      const fresh = io({ DATABASE_URL: server.url });
      expect(await dbMain(['up', '--dir', dir, '--to', '0002'], fresh)).toBe(0);
      // On the table 0001 filled earlier, it blocks writes: refused.
      const blocked = io({ DATABASE_URL: server.url });
      expect(await dbMain(['up', '--dir', dir], blocked)).toBe(1);
      expect(blocked.err()).toMatch(/^db: the linter found 1 error\(s\) in pending migrations; nothing was applied\n/);
      const status = io({ DATABASE_URL: server.url });
      expect(await dbMain(['status', '--dir', dir], status)).toBe(0);
      expect(status.out()).toMatch(/2 applied, 1 pending\n$/);
      const forced = io({ DATABASE_URL: server.url });
      expect(await dbMain(['up', '--dir', dir, '--skip-lint'], forced)).toBe(0);
      expect(forced.out()).toContain('applied 0003_index in');
    } finally {
      await server.release();
    }
  }, 60_000);
});
