// The database procedures on a user's own server: a PostgreSQL of its own (not the run's embedded
// one) holding the user's table under the user's names. Nothing of the rehearsal's sample is
// created there, the change works on the tables the parameters name, and a rollback leaves the
// user's rows exactly as they were, proven over the tables the procedure changes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInProcess, ROOT, runGuideSection, tempDir } from '../helpers.js';
import { queryAt, startPg15, useEmbeddedServer } from './pg-helpers.js';
import { readSnapshot } from '../../src/db/snapshot.js';
import { ExecDocError } from '../../src/errors/exec-doc-error.js';

const server = useEmbeddedServer('real-target');

// The user's schema: their invoices (5,000 rows) and a table no procedure here should touch.
const USER_SCHEMA = `
  create table invoices (id bigint primary key, total numeric(12, 2) not null, issued_on date not null);
  insert into invoices select g, (g % 911) * 0.75, date '2026-01-01' + g % 300 from generate_series(1, 5000) g;
  create table payments (id bigint primary key, invoice_id bigint references invoices, paid numeric(12, 2));
  insert into payments select g, g, (g % 911) * 0.75 from generate_series(1, 1000) g;`;

/** What the user sees of their data: every table's rows, hashed in a fixed order, and the columns. */
async function fingerprint(query: (sql: string) => Promise<{ rows: unknown[] }>) {
  const rows = await query(
    `select (select md5(string_agg(i::text, ',' order by id)) from invoices i) as invoices,
            (select md5(string_agg(p::text, ',' order by id)) from payments p) as payments`,
  );
  const columns = await query(
    `select table_name, column_name, data_type, is_nullable from information_schema.columns
      where table_schema = 'public' order by table_name, ordinal_position`,
  );
  const tables = await query(`select tablename from pg_tables where schemaname = 'public' order by 1`);
  return { rows: rows.rows[0], columns: columns.rows, tables: tables.rows };
}

const ZD_SETS = { table: 'invoices', column: 'total_cents', source: 'total', batch: '700' };

describe('database procedures on a real server with the user’s own table', () => {
  it('zero-downtime: skips the fixtures, makes invoices.total_cents NOT NULL from total × 100, leaves nothing of the sample', async () => {
    const db = await server.database(USER_SCHEMA);
    const outcome = await runGuideSection('database-migrations/zero-downtime', {
      env: { DATABASE_URL: db.url },
      sets: ZD_SETS,
    });
    expect(outcome.exitCode, outcome.record.failureReason ?? '').toBe(0);
    expect(outcome.record.target).toEqual({
      disposable: false,
      skippedFixtures: ['zd-schema', 'zd-seed'],
      provenOver: ['invoices'],
    });
    expect(outcome.record.steps.map((s) => s.stepId)).not.toContain('zd-seed');
    const after = await fingerprint(db.query);
    expect(after.tables).toEqual([{ tablename: 'invoices' }, { tablename: 'payments' }]);
    expect(after.columns).toContainEqual({
      table_name: 'invoices',
      column_name: 'total_cents',
      data_type: 'bigint',
      is_nullable: 'NO',
    });
    const wrong = await db.query('select count(*)::int as n from invoices where total_cents <> (total * 100)::bigint');
    expect(wrong.rows[0]).toEqual({ n: 0 });
    const left = await db.query(
      `select conname from pg_constraint where conrelid = 'invoices'::regclass and contype = 'c'`,
    );
    expect(left.rows).toEqual([]);
  }, 120_000);

  it('zero-downtime: a failure at the end rolls back to the user’s rows exactly, proven over invoices only', async () => {
    const db = await server.database(USER_SCHEMA);
    const before = await fingerprint(db.query);
    const outcome = await runGuideSection('database-migrations/zero-downtime', {
      env: { DATABASE_URL: db.url, EXEC_DOC_FAIL_BEFORE: 'zd-not-null' },
      sets: ZD_SETS,
    });
    expect(outcome.exitCode, outcome.record.failureReason ?? '').toBe(1);
    expect(outcome.record.rollback).toMatchObject({ ran: true, complete: true });
    expect(outcome.record.steps.find((s) => s.stepId === 'zd-identical' && s.phase === 'verify')).toMatchObject({
      status: 'passed',
    });
    expect(await fingerprint(db.query)).toEqual(before);
    // The baseline covered the table the procedure changes, not the database.
    const baseline = readSnapshot(path.join(outcome.runDir, 'baseline.snapshot.json'));
    expect(baseline.scope).toEqual(['public.invoices']);
    expect(Object.keys(baseline.tables)).toEqual(['public.invoices']);
  }, 120_000);

  it('schema migration: applies only the pending migrations of the user’s set, and its rollback stops at where the set stood', async () => {
    const db = await server.database(USER_SCHEMA);
    const set = tempDir('user-migrations-');
    writeFileSync(path.join(set, '0001_invoice_note.up.sql'), 'alter table invoices add column note text;\n');
    writeFileSync(path.join(set, '0001_invoice_note.down.sql'), 'alter table invoices drop column note;\n');
    writeFileSync(
      path.join(set, '0002_invoice_issued_index.up.sql'),
      'create index concurrently if not exists invoices_issued_on on invoices (issued_on);\n',
    );
    writeFileSync(
      path.join(set, '0002_invoice_issued_index.down.sql'),
      'drop index concurrently if exists invoices_issued_on;\n',
    );
    // 0001 went live earlier, and the user wrote notes since.
    const first = await runGuideSection('database-migrations/schema-migration', {
      env: { DATABASE_URL: db.url, EXEC_DOC_FAIL_BEFORE: '' },
      sets: { migrations: set },
    });
    expect(first.exitCode, first.record.failureReason ?? '').toBe(0);
    await db.query('drop index invoices_issued_on');
    await db.query(`delete from exec_doc.schema_migrations where version = '0002'`);
    await db.query(`update invoices set note = 'paid late' where id % 7 = 0`);
    const before = await fingerprint(db.query);
    const outcome = await runGuideSection('database-migrations/schema-migration', {
      env: { DATABASE_URL: db.url, EXEC_DOC_FAIL_BEFORE: 'schema-all-applied' },
      sets: { migrations: set },
    });
    expect(outcome.exitCode, outcome.record.failureReason ?? '').toBe(1);
    expect(outcome.record.target).toEqual({
      disposable: false,
      skippedFixtures: ['schema-sample-pending', 'schema-shape'],
      provenOver: 'database',
    });
    expect(outcome.record.steps.find((s) => s.stepId === 'schema-identical')).toMatchObject({ status: 'passed' });
    // The note column (0001, applied before this run) and its values are still there.
    expect(await fingerprint(db.query)).toEqual(before);
    const ledger = await db.query('select version from exec_doc.schema_migrations order by version');
    expect(ledger.rows).toEqual([{ version: '0001' }]);
  }, 180_000);

  it('release rollback: backs up, runs the destructive down migration, and a failure restores the user’s data', async () => {
    const db = await server.database(USER_SCHEMA);
    const set = tempDir('user-release-');
    mkdirSync(set, { recursive: true });
    writeFileSync(path.join(set, '0001_invoice_note.up.sql'), 'alter table invoices add column note text;\n');
    writeFileSync(path.join(set, '0001_invoice_note.down.sql'), 'alter table invoices drop column note;\n');
    const release = await runGuideSection('database-migrations/schema-migration', {
      env: { DATABASE_URL: db.url },
      sets: { migrations: set },
    });
    expect(release.exitCode, release.record.failureReason ?? '').toBe(0);
    await db.query(`update invoices set note = 'disputed' where id % 5 = 0`);
    const before = await fingerprint(db.query);

    const outcome = await runGuideSection('database-migrations/rollback', {
      env: { DATABASE_URL: db.url, EXEC_DOC_FAIL_BEFORE: 'rb-at-version' },
      sets: { migrations: set, to: '0' },
    });
    expect(outcome.exitCode, outcome.record.failureReason ?? '').toBe(1);
    expect(outcome.record.steps.filter((s) => s.phase === 'forward').map((s) => s.stepId)).toEqual([
      'rb-snapshot',
      'rb-what-runs',
      'rb-backup',
      'rb-down',
      'rb-at-version',
    ]);
    expect(outcome.record.rollback).toMatchObject({ complete: true, undone: expect.arrayContaining(['rb-down']) });
    expect(await fingerprint(db.query)).toEqual(before);

    // Gone through, the column and its notes are gone: that is what the confirmation was about.
    const through = await runGuideSection('database-migrations/rollback', {
      env: { DATABASE_URL: db.url },
      sets: { migrations: set, to: '0' },
    });
    expect(through.exitCode, through.record.failureReason ?? '').toBe(0);
    const cols = await db.query(`select column_name from information_schema.columns where table_name = 'invoices'`);
    expect(cols.rows.map((r: { column_name: string }) => r.column_name).sort()).toEqual(['id', 'issued_on', 'total']);
  }, 180_000);

  it('data migration: fills only the empty rows of the user’s column, and its rollback (now or later) empties exactly those', async () => {
    const db = await server.database(
      `${USER_SCHEMA}
       alter table invoices add column size text;
       update invoices set size = 'custom' where id % 10 = 0;`,
    );
    const sets = { table: 'invoices', column: 'size', source: 'total', threshold: '500', above: 'big', below: 'small' };
    const before = await fingerprint(db.query);
    const failed = await runGuideSection('database-migrations/data-migration', {
      env: { DATABASE_URL: db.url, EXEC_DOC_FAIL_BEFORE: 'data-filled' },
      sets,
    });
    expect(failed.exitCode, failed.record.failureReason ?? '').toBe(1);
    expect(failed.record.target).toEqual({
      disposable: false,
      skippedFixtures: ['data-schema', 'data-seed', 'data-empty', 'data-labels'],
      provenOver: ['invoices'],
    });
    expect(failed.record.rollback).toMatchObject({
      complete: true,
      undone: ['data-backfill', 'data-remember', 'data-snapshot'],
    });
    expect(await fingerprint(db.query)).toEqual(before);

    const outcome = await runGuideSection('database-migrations/data-migration', {
      env: { DATABASE_URL: db.url },
      sets,
    });
    expect(outcome.exitCode, outcome.record.failureReason ?? '').toBe(0);
    const labels = await db.query(
      `select size, count(*)::int as n, bool_and(case size when 'big' then total >= 500 when 'small' then total < 500 else id % 10 = 0 end) as right
         from invoices group by size order by size`,
    );
    expect(labels.rows).toEqual([
      { size: 'big', n: expect.any(Number), right: true },
      { size: 'custom', n: 500, right: true },
      { size: 'small', n: expect.any(Number), right: true },
    ]);
    expect((await fingerprint(db.query)).tables).toEqual(before.tables);

    // Later, the whole run is undone: the rows it filled are empty again, the application's stay.
    const runId = path.basename(outcome.runDir);
    const undone = await cliInProcess(['rollback', runId, '--docs', path.join(ROOT, 'docs')], {
      env: { ...process.env, DATABASE_URL: db.url, EXEC_DOC_STATE_DIR: outcome.stateDir } as Record<string, string>,
    });
    expect(undone.exitCode, undone.stderr).toBe(0);
    expect(await fingerprint(db.query)).toEqual(before);
    const left = await db.query(`select to_regclass('exec_doc.invoices_size_unfilled') as t`);
    expect(left.rows).toEqual([{ t: null }]);
  }, 180_000);

  it('integrity validation: amcheck and a kept snapshot of the user’s table, changing nothing; an invalid index fails it', async () => {
    const db = await server.database(USER_SCHEMA);
    const before = await fingerprint(db.query);
    const outcome = await runGuideSection('database-migrations/integrity-validation', {
      env: { DATABASE_URL: db.url },
      sets: { table: 'invoices' },
    });
    expect(outcome.exitCode, outcome.record.failureReason ?? '').toBe(0);
    expect(outcome.record.target).toEqual({
      disposable: false,
      skippedFixtures: ['iv-schema', 'iv-seed', 'iv-change', 'iv-detected', 'iv-change-back', 'iv-same-again'],
      provenOver: ['invoices'],
    });
    expect(outcome.record.steps.filter((s) => s.status === 'passed').map((s) => s.stepId)).toEqual(
      expect.arrayContaining(['iv-heap', 'iv-indexes', 'iv-nothing-half-done', 'iv-same', 'iv-amcheck-done']),
    );
    expect(Object.keys(readSnapshot(path.join(outcome.runDir, 'integrity.json')).tables)).toEqual(['public.invoices']);
    expect(await fingerprint(db.query)).toEqual(before);
    // amcheck was installed for the run only.
    expect((await db.query(`select count(*)::int as n from pg_extension where extname = 'amcheck'`)).rows).toEqual([
      { n: 0 },
    ]);

    // An index left invalid (as an interrupted CREATE INDEX CONCURRENTLY leaves it) is found.
    await db.query('create index invoices_issued on invoices (issued_on)');
    await db.query(`update pg_index set indisvalid = false where indexrelid = 'invoices_issued'::regclass`);
    const broken = await runGuideSection('database-migrations/integrity-validation', {
      env: { DATABASE_URL: db.url },
      sets: { table: 'invoices' },
    });
    expect(broken.exitCode).toBe(1);
    expect(broken.record.failedStep).toBe('iv-nothing-half-done');
  }, 180_000);

  it('backup and restore: backs up the user’s database and proves the backup restorable, deleting and restoring nothing', async () => {
    const db = await server.database(USER_SCHEMA);
    const before = await fingerprint(db.query);
    const outcome = await runGuideSection('database-migrations/backup-and-restore', { env: { DATABASE_URL: db.url } });
    expect(outcome.exitCode, outcome.record.failureReason ?? '').toBe(0);
    expect(outcome.record.target).toMatchObject({
      disposable: false,
      skippedFixtures: ['br-schema', 'br-seed', 'br-damage', 'br-restore-step', 'br-count'],
    });
    expect(await fingerprint(db.query)).toEqual(before);
    const manifest = JSON.parse(readFileSync(path.join(outcome.runDir, 'backup.json'), 'utf8')) as {
      method: string;
      location: string;
      snapshot: { tables: Record<string, unknown> };
    };
    expect(Object.keys(manifest.snapshot.tables).sort()).toEqual(['public.invoices', 'public.payments']);
    const databases = await server.database();
    const names = (await databases.query(`select datname from pg_database order by 1`)).rows.map(
      (r: { datname: string }) => r.datname,
    );
    // The backup is there (a clone: this machine's pg_dump is older than the server); no scratch database is left.
    expect(manifest.method).toBe('clone');
    expect(names).toContain(manifest.location);
    expect(names.filter((n: string) => n.includes('_verify_'))).toEqual([]);
  }, 120_000);

  it('major-version upgrade: the user’s PostgreSQL 15 database into a new database on the new server, and back on failure', async () => {
    const pg15 = await startPg15();
    try {
      const sourceUrl = pg15.url;
      const source = (sql: string) => queryAt(sourceUrl, sql);
      await source(USER_SCHEMA);
      const sourceBefore = await fingerprint(source);
      // The new server: nothing of the user's yet.
      const target = await server.database();
      const env = { DATABASE_URL: target.url, EXEC_DOC_PARAM_source: sourceUrl };

      const failed = await runGuideSection('database-migrations/major-version-upgrade', {
        env: { ...env, EXEC_DOC_FAIL_BEFORE: 'mv-cutover' },
        sets: { database: 'billing' },
      });
      expect(failed.exitCode, failed.record.failureReason ?? '').toBe(1);
      expect(failed.record.rollback).toMatchObject({ complete: true, undone: expect.arrayContaining(['mv-create']) });
      const exists = async () =>
        (await target.query(`select count(*)::int as n from pg_database where datname = 'billing'`)).rows[0];
      expect(await exists()).toEqual({ n: 0 });

      const outcome = await runGuideSection('database-migrations/major-version-upgrade', {
        env,
        sets: { database: 'billing' },
      });
      expect(outcome.exitCode, outcome.record.failureReason ?? '').toBe(0);
      expect(outcome.record.target).toMatchObject({
        disposable: false,
        skippedFixtures: ['mv-place', 'mv-source', 'mv-source-data', 'mv-serving'],
      });
      expect(await exists()).toEqual({ n: 1 });
      const billingUrl = target.url.replace(/\/[^/?]+(\?|$)/, '/billing$1');
      const copy = (sql: string) => queryAt(billingUrl, sql);
      expect(await fingerprint(copy)).toEqual(sourceBefore);
      expect(await fingerprint(source)).toEqual(sourceBefore);
      expect(readFileSync(path.join(outcome.runDir, 'app.env'), 'utf8')).toBe(`DATABASE_URL=${billingUrl}\n`);
      // The source URL was a secret: it is in no file of the run.
      for (const file of ['state.ndjson', 'events.ndjson', 'output.log', 'result.json'])
        if (existsSync(path.join(outcome.runDir, file)))
          expect(readFileSync(path.join(outcome.runDir, file), 'utf8')).not.toContain(`:${new URL(sourceUrl).port}/`);

      // A second run refuses to restore over the database the first one made.
      const again = await runGuideSection('database-migrations/major-version-upgrade', {
        env,
        sets: { database: 'billing' },
      });
      expect(again.exitCode).toBe(1);
      expect(again.record.failedStep).toBe('mv-target-free');
    } finally {
      pg15.stop();
    }
  }, 240_000);

  it('a rehearsal-only procedure is refused on a real server before anything runs, and runs with --disposable', async () => {
    const db = await server.database(USER_SCHEMA);
    const before = await fingerprint(db.query);
    const refused = runGuideSection('security/grant-and-revoke-a-least-privilege-migration-role', {
      env: { DATABASE_URL: db.url },
    });
    await expect(refused).rejects.toThrow(ExecDocError);
    await expect(refused).rejects.toMatchObject({ code: 'E_REHEARSAL_ONLY' });
    await expect(refused).rejects.toThrow(/runs only on a disposable target/);
    expect(await fingerprint(db.query)).toEqual(before);

    const scratch = await server.database();
    const outcome = await runGuideSection('security/grant-and-revoke-a-least-privilege-migration-role', {
      env: { DATABASE_URL: scratch.url },
      disposable: true,
    });
    expect(outcome.exitCode, outcome.record.failureReason ?? '').toBe(0);
    expect(outcome.record.target).toMatchObject({ disposable: true, skippedFixtures: [] });
  }, 120_000);
});
