// The migration engine against a real PostgreSQL (the embedded server), one database per test.
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { useEmbeddedServer } from './pg-helpers.js';
import { loadMigrations, MigrationFilesError } from '../../src/db/migration-files.js';
import { up, down, status, verify, baseline, DbError } from '../../src/db/migrate.js';
import { LockTimeoutError } from '../../src/db/lock.js';
import { tempDir } from '../helpers.js';

const server = useEmbeddedServer('migrate');

/** A fresh database and a migrations folder with the given files. */
async function fixture(
  files: Record<string, string>,
): Promise<{ url: string; dir: string; query: (sql: string) => Promise<pg.QueryResult> }> {
  const { url, query } = await server.database();
  const dir = path.join(tempDir(), 'migrations');
  mkdirSync(dir);
  for (const [file, sql] of Object.entries(files)) writeFileSync(path.join(dir, file), sql);
  return { url, dir, query };
}

/** Holds a lock on `table` (access share) in an open transaction until `release()`. */
async function holdLock(url: string, table: string) {
  const holder = new pg.Client({ connectionString: url });
  holder.on('error', () => undefined);
  await holder.connect();
  await holder.query('begin');
  await holder.query(`lock table ${table} in access share mode`);
  return { release: async () => (await holder.query('rollback'), await holder.end()) };
}

/** Table `busy` created by 0001, 0002 (an ALTER of it) pending, and a lock on it held until `holder.release()`. */
async function busyTable() {
  const made = await fixture({
    '0001_t.up.sql': 'create table busy (id int);',
    '0002_alter.up.sql': 'alter table busy add column note text;',
  });
  await up({ connectionString: made.url, migrations: loadMigrations(made.dir), to: '0001' });
  return { ...made, holder: await holdLock(made.url, 'busy') };
}

const BASIC = {
  '0001_create_orders.up.sql':
    'create table orders (id int primary key, total numeric not null);\ninsert into orders select g, g from generate_series(1, 100) g;',
  '0001_create_orders.down.sql': 'drop table orders;',
  '0001_create_orders.verify.sql': 'select count(*) = 100 from orders;',
  '0002_add_status.up.sql': "alter table orders add column status text not null default 'new';",
  '0002_add_status.down.sql': 'alter table orders drop column status;',
};

describe('migrations', () => {
  it('apply in order with a checksummed ledger, verify, and roll back newest first', async () => {
    const { url, dir, query } = await fixture(BASIC);
    const migrations = loadMigrations(dir);
    const log: string[] = [];
    const applied = await up({ connectionString: url, migrations, log: (l) => log.push(l) });
    expect(applied.map((a) => [a.version, a.name, a.attempts])).toEqual([
      ['0001', 'create_orders', 1],
      ['0002', 'add_status', 1],
    ]);
    expect(log).toContain('applying 0001_create_orders');
    const state = await status({ connectionString: url, migrations });
    expect(state.pending).toEqual([]);
    expect(state.applied.map((r) => [r.version, r.checksum])).toEqual(migrations.map((m) => [m.version, m.checksum]));
    expect(await verify({ connectionString: url, migrations })).toEqual([
      { version: '0001', name: 'create_orders', ok: true, detail: 'verified' },
    ]);
    expect(await up({ connectionString: url, migrations })).toEqual([]);
    await down({ connectionString: url, migrations });
    expect(
      (
        await query(
          "select count(*)::int as n from information_schema.columns where table_name = 'orders' and column_name = 'status'",
        )
      ).rows[0].n,
    ).toBe(0);
    await down({ connectionString: url, migrations, to: '0' });
    expect((await query("select to_regclass('orders') as t")).rows[0].t).toBeNull();
    expect((await status({ connectionString: url, migrations })).pending.length).toBe(2);
  });

  it('refuses to run when an applied migration was edited, naming it', async () => {
    const { url, dir } = await fixture(BASIC);
    await up({ connectionString: url, migrations: loadMigrations(dir), to: '0001' });
    writeFileSync(path.join(dir, '0001_create_orders.up.sql'), `${BASIC['0001_create_orders.up.sql']}\n-- edited`);
    const error = await up({ connectionString: url, migrations: loadMigrations(dir) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbError);
    expect(error).toMatchObject({
      code: 'E_DRIFT',
      message: 'Applied migration was edited after being applied; nothing was run',
    });
    expect((error as DbError).details[0]).toMatch(
      /^0001_create_orders: applied .* with sha256:\w+…, the file now has sha256:\w+… \(.*0001_create_orders\.up\.sql\)$/,
    );
    expect(
      (await status({ connectionString: url, migrations: loadMigrations(dir) })).pending.map((m) => m.version),
    ).toEqual(['0002']);
  });

  it('refuses when the database has a migration no file describes', async () => {
    const { url, dir } = await fixture(BASIC);
    await up({ connectionString: url, migrations: loadMigrations(dir) });
    rmSync(path.join(dir, '0002_add_status.up.sql'));
    rmSync(path.join(dir, '0002_add_status.down.sql'));
    await expect(down({ connectionString: url, migrations: loadMigrations(dir) })).rejects.toMatchObject({
      code: 'E_UNKNOWN_APPLIED',
    });
  });

  it('of two racing runners exactly one applies; a bounded waiter names the holder', async () => {
    const { url, dir, query } = await fixture({
      '0001_slow.up.sql': 'select pg_sleep(1.5); create table raced (id int);\ninsert into raced values (1);',
    });
    const migrations = loadMigrations(dir);
    const [a, b] = await Promise.all([
      up({ connectionString: url, migrations }),
      up({ connectionString: url, migrations }),
    ]);
    expect([a.length, b.length].sort()).toEqual([0, 1]);
    expect((await query('select count(*)::int as n from raced')).rows[0].n).toBe(1);

    const { url: url2, dir: dir2 } = await fixture({ '0001_slow.up.sql': 'select pg_sleep(2);' });
    const slow = up({ connectionString: url2, migrations: loadMigrations(dir2) });
    await new Promise((r) => setTimeout(r, 400));
    const waiter = await up({ connectionString: url2, migrations: loadMigrations(dir2), lockWaitMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(waiter).toBeInstanceOf(LockTimeoutError);
    expect((waiter as Error).message).toMatch(
      /^Another runner holds the migration lock \(waited \d+ ms\): pid \d+ \(exec-doc migrate\) since /,
    );
    await slow;
  });

  it('retries a lock_timeout while another session holds a conflicting lock, then succeeds', async () => {
    const { url, dir, query, holder } = await busyTable();
    setTimeout(() => void holder.release(), 900);
    const log: string[] = [];
    const [result] = await up({
      connectionString: url,
      migrations: loadMigrations(dir),
      lockTimeoutMs: 150,
      retries: 8,
      backoffMs: 100,
      log: (l) => log.push(l),
    });
    expect(result!.attempts).toBeGreaterThan(1);
    expect(
      log.some((l) =>
        /^0002_alter \(up\): lock_timeout \(150 ms\) hit, another session holds a conflicting lock; retry 1\/8 in \d+ ms$/.test(
          l,
        ),
      ),
    ).toBe(true);
    expect(
      (
        await query(
          "select count(*)::int as n from information_schema.columns where table_name = 'busy' and column_name = 'note'",
        )
      ).rows[0].n,
    ).toBe(1);
  });

  it('gives up after its retries without leaving anything half-applied', async () => {
    const { url, dir, query } = await fixture({
      '0001_t.up.sql': 'create table held (id int);',
      '0002_alter.up.sql': 'alter table held add column a int;\nalter table held add column b int;',
    });
    await up({ connectionString: url, migrations: loadMigrations(dir), to: '0001' });
    const holder = await holdLock(url, 'held');
    const error = await up({
      connectionString: url,
      migrations: loadMigrations(dir),
      lockTimeoutMs: 100,
      retries: 2,
      backoffMs: 50,
    }).catch((e: unknown) => e);
    await holder.release();
    expect(error).toMatchObject({
      code: 'E_MIGRATION_FAILED',
      message: 'Migration 0002_alter (up) failed; its transaction was rolled back, nothing of it remains',
    });
    expect((error as DbError).details[1]).toMatch(/^Another session kept a conflicting lock through 3 attempt\(s\)/);
    expect(
      (await query("select count(*)::int as n from information_schema.columns where table_name = 'held'")).rows[0].n,
    ).toBe(1);
  });

  it('runs CONCURRENTLY outside a transaction, with the lock on its own connection (no deadlock)', async () => {
    const { url, dir, query } = await fixture({
      '0001_t.up.sql':
        'create table big (id int, v text);\ninsert into big select g, md5(g::text) from generate_series(1, 20000) g;',
      '0002_index.up.sql': 'create index concurrently big_v on big (v);\ncreate index concurrently big_id on big (id);',
      '0002_index.down.sql': 'drop index concurrently big_v;\ndrop index concurrently big_id;',
    });
    const migrations = loadMigrations(dir);
    expect(migrations.map((m) => m.transactional)).toEqual([true, false]);
    await up({ connectionString: url, migrations });
    expect((await query("select count(*)::int as n from pg_indexes where tablename = 'big'")).rows[0].n).toBe(2);
    await down({ connectionString: url, migrations });
    expect((await query("select count(*)::int as n from pg_indexes where tablename = 'big'")).rows[0].n).toBe(0);
  }, 30_000);

  it('a failing statement points at its line; a failed non-transactional migration says what stayed applied', async () => {
    const { url, dir } = await fixture({ '0001_bad.up.sql': 'create table ok1 (id int);\nselect nope from ok1;' });
    const error = (await up({ connectionString: url, migrations: loadMigrations(dir) }).catch(
      (e: unknown) => e,
    )) as DbError;
    expect(error.details[0]).toBe(
      'column "nope" does not exist (SQLSTATE 42703)\nLINE 2: select nope from ok1;\n               ^',
    );
    const { url: url2, dir: dir2 } = await fixture({
      '0001_t.up.sql': 'create table c (id int);',
      '0002_idx.up.sql':
        'create index concurrently c_id on c (id);\ncreate index concurrently c_x on c (missing_column);',
    });
    const error2 = (await up({ connectionString: url2, migrations: loadMigrations(dir2) }).catch(
      (e: unknown) => e,
    )) as DbError;
    expect(error2.message).toBe(
      'Migration 0002_idx (up) failed at statement 2 of 2, outside a transaction: statements 1–1 were applied and stay applied',
    );
    expect(error2.details[1]).toMatch(/^An index built CONCURRENTLY that failed stays INVALID/);
  });

  it('verify reports false checks; baseline marks an existing database', async () => {
    const { url, dir, query } = await fixture({
      ...BASIC,
      '0001_create_orders.verify.sql': 'select count(*) = 5 from orders;',
    });
    await up({ connectionString: url, migrations: loadMigrations(dir), to: '0001' });
    expect(await verify({ connectionString: url, migrations: loadMigrations(dir) })).toEqual([
      { version: '0001', name: 'create_orders', ok: false, detail: '1 check(s) returned false' },
    ]);

    const existing = await fixture(BASIC);
    await existing.query('create table orders (id int primary key, total numeric not null)');
    expect(
      await baseline({ connectionString: existing.url, migrations: loadMigrations(existing.dir), version: '0001' }),
    ).toEqual(['0001_create_orders']);
    const state = await status({ connectionString: existing.url, migrations: loadMigrations(existing.dir) });
    expect(state.applied.map((r) => [r.version, r.baseline])).toEqual([['0001', true]]);
    expect(state.pending.map((m) => m.version)).toEqual(['0002']);
    await expect(
      baseline({ connectionString: existing.url, migrations: loadMigrations(existing.dir), version: '0002' }),
    ).rejects.toMatchObject({ code: 'E_REFUSED' });
    expect(
      (await up({ connectionString: existing.url, migrations: loadMigrations(existing.dir) })).map((a) => a.version),
    ).toEqual(['0002']);
    expect(
      (
        await existing.query(
          "select count(*)::int as n from information_schema.columns where table_name = 'orders' and column_name = 'status'",
        )
      ).rows[0].n,
    ).toBe(1);
    expect((await query('select count(*)::int as n from orders')).rows[0].n).toBe(100);
  });

  it('rejects a malformed migrations folder with every problem listed', () => {
    const dir = path.join(tempDir(), 'm');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'create.sql'), '');
    writeFileSync(path.join(dir, '0001_a.down.sql'), '');
    writeFileSync(path.join(dir, '0002_b.up.sql'), '');
    writeFileSync(path.join(dir, '0002_c.down.sql'), '');
    const error = (() => {
      try {
        loadMigrations(dir);
      } catch (e) {
        return e as MigrationFilesError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(MigrationFilesError);
    expect(error!.problems.map((p) => p.replace(dir, '<dir>'))).toEqual([
      '<dir>/0002_c.down.sql: version 0002 is already used by `b`; give each migration its own version',
      '<dir>/create.sql: unexpected file name, expected <digits>_<name>.up.sql (or .down.sql, .verify.sql)',
      '<dir>/0001_a: no .up.sql; every migration needs one',
    ]);
  });
});

describe('which migrations leave the transaction', () => {
  it('a word in a comment or a string does not: a later failure rolls the whole migration back', async () => {
    const { url, dir, query } = await fixture({
      '0001_half.up.sql':
        "-- the index is built concurrently in a later migration\ncreate table half (id int, note text default 'concurrently');\nselect 1 / 0;",
    });
    const migrations = loadMigrations(dir);
    expect(migrations[0]!.transactional).toBe(true);
    await expect(up({ connectionString: url, migrations })).rejects.toThrow(
      /its transaction was rolled back, nothing of it remains/,
    );
    expect((await query("select to_regclass('half') as t")).rows[0].t).toBeNull();
  });

  it('the statements do (CONCURRENTLY, VACUUM), and so does the marker; down follows the same rules', async () => {
    const { url, dir, query } = await fixture({
      '0001_t.up.sql': 'create table t (id int);',
      '0001_t.down.sql': 'drop table t;',
      '0002_vacuum.up.sql': 'vacuum t;',
      '0002_vacuum.down.sql': '-- exec-doc:no-transaction\nvacuum t;',
      '0003_index.up.sql': 'create index concurrently t_id on t (id);',
      '0003_index.down.sql': 'drop index concurrently t_id;',
    });
    const migrations = loadMigrations(dir);
    expect(migrations.map((m) => m.transactional)).toEqual([true, false, false]);
    await up({ connectionString: url, migrations, retries: 0 });
    await down({ connectionString: url, migrations, to: '0' });
    expect((await query("select to_regclass('t') as t")).rows[0].t).toBeNull();
  });
});

describe('db verify', () => {
  it('with no .verify.sql says that nothing was verified (a warning), and fails under --strict', async () => {
    const { dbMain } = await import('../../src/cli/db/index.js');
    const { captureIo } = await import('../helpers.js');
    const { url, dir } = await fixture({ '0001_t.up.sql': 'create table t (id int);' });
    await up({ connectionString: url, migrations: loadMigrations(dir) });
    const lenient = captureIo({ DATABASE_URL: url });
    expect(await dbMain(['verify', '--dir', dir], lenient)).toBe(0);
    expect(lenient.err()).toBe(
      'db: nothing verified: no applied migration has a .verify.sql (a warning; --strict makes it a failure)\n',
    );
    expect(lenient.out()).not.toContain('verified');
    const strict = captureIo({ DATABASE_URL: url });
    expect(await dbMain(['verify', '--dir', dir, '--strict'], strict)).toBe(1);
  });
});

describe('empty scripts', () => {
  it('an empty up or down script is a migration that changes nothing, applied and rolled back like any other', async () => {
    const { url, dir } = await fixture({
      '0001_nothing.up.sql': '',
      '0001_nothing.down.sql': '-- nothing to undo\n',
      '0002_t.up.sql': 'create table t (id int);',
      '0002_t.down.sql': '',
    });
    const migrations = loadMigrations(dir);
    expect((await up({ connectionString: url, migrations })).length).toBe(2);
    expect((await down({ connectionString: url, migrations, to: '0' })).length).toBe(2);
    expect((await status({ connectionString: url, migrations })).pending.length).toBe(2);
  });
});

describe('transaction handling, exactly', () => {
  it('a down runs in a transaction when its statements allow it, even if its up could not', async () => {
    const { url, dir, query } = await fixture({
      '0001_t.up.sql': 'create table t (id int);',
      '0002_index.up.sql': 'create index concurrently t_id on t (id);',
      '0002_index.down.sql': 'drop index t_id;\nselect 1 / 0;',
    });
    const migrations = loadMigrations(dir);
    const applied = await up({ connectionString: url, migrations });
    for (const r of applied) {
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
      expect(r.durationMs).toBeLessThan(60_000);
    }
    const ledger = await status({ connectionString: url, migrations });
    for (const row of ledger.applied) expect(row.durationMs).toBeLessThan(60_000);
    const error = (await down({ connectionString: url, migrations }).catch((e: unknown) => e)) as DbError;
    expect(error.message).toBe(
      'Migration 0002_index (down) failed; its transaction was rolled back, nothing of it remains',
    );
    expect(error.details[1]).toBe('Fix the migration and run again.');
    expect((error.cause as { code?: string }).code).toBe('22012');
    expect((await query("select to_regclass('t_id') is not null as kept")).rows[0].kept).toBe(true);
  });

  it('an error that is not a lock timeout is not retried', async () => {
    const { url, dir } = await fixture({ '0001_bad.up.sql': 'create table x (id int);\nselect 1 / 0;' });
    const log: string[] = [];
    await expect(
      up({
        connectionString: url,
        migrations: loadMigrations(dir),
        retries: 3,
        backoffMs: 10,
        log: (l) => log.push(l),
      }),
    ).rejects.toThrow(DbError);
    expect(log.filter((l) => l.includes('lock_timeout'))).toEqual([]);
  });

  it('retries wait longer each time: the backoff doubles, with jitter between half and one and a half', async () => {
    const { url, dir, holder } = await busyTable();
    setTimeout(() => void holder.release(), 1200);
    const log: string[] = [];
    const [result] = await up({
      connectionString: url,
      migrations: loadMigrations(dir),
      lockTimeoutMs: 50,
      retries: 10,
      backoffMs: 80,
      log: (l) => log.push(l),
    });
    const delays = log
      .filter((l) => l.includes('lock_timeout'))
      .map((l) => Number(/retry (\d+)\/10 in (\d+) ms$/.exec(l)![2]));
    expect(delays.length).toBeGreaterThanOrEqual(3);
    expect(result!.attempts).toBe(delays.length + 1);
    delays.forEach((delay, i) => {
      const base = 80 * 2 ** i;
      expect(delay, `retry ${i + 1}`).toBeGreaterThanOrEqual(Math.floor(base * 0.5));
      expect(delay, `retry ${i + 1}`).toBeLessThanOrEqual(Math.ceil(base * 1.5));
    });
  });

  it('the jitter scales the doubled backoff by half plus a random fraction: exact delays for known random draws', async () => {
    const { url, dir, holder } = await busyTable();
    const draws = [0.05, 0.95, 0.3];
    const random = vi.spyOn(Math, 'random').mockImplementation(() => draws[0]!);
    const log: string[] = [];
    try {
      await expect(
        up({
          connectionString: url,
          migrations: loadMigrations(dir),
          lockTimeoutMs: 30,
          retries: 3,
          backoffMs: 40,
          log: (l) => {
            log.push(l);
            if (l.includes('lock_timeout')) draws.push(draws.shift()!);
          },
        }),
      ).rejects.toThrow(DbError);
    } finally {
      random.mockRestore();
      await holder.release();
    }
    const delays = log
      .filter((l) => l.includes('lock_timeout'))
      .map((l) => Number(/retry (\d+)\/3 in (\d+) ms$/.exec(l)![2]));
    // 40 × 2^(n−1) × (0.5 + draw), rounded: 40 × 0.55, 80 × 1.45, 160 × 0.8.
    expect(delays).toEqual([22, 116, 128]);
  });

  it('the statement timeout holds in a transaction and outside one', async () => {
    for (const [file, sql] of [
      ['0001_slow.up.sql', 'select pg_sleep(5);'],
      ['0001_slow.up.sql', '-- exec-doc:no-transaction\nselect pg_sleep(5);'],
    ] as const) {
      const { url, dir } = await fixture({ [file]: sql });
      const started = Date.now();
      const error = (await up({
        connectionString: url,
        migrations: loadMigrations(dir),
        statementTimeoutMs: 200,
      }).catch((e: unknown) => e)) as DbError;
      expect(error, sql).toBeInstanceOf(DbError);
      expect((error.cause as { code?: string }).code, sql).toBe('57014'); // query_canceled
      expect(Date.now() - started, sql).toBeLessThan(4000);
    }
  });

  it('outside a transaction, the failing statement is shown with its own line, and a failed CONCURRENTLY index is named', async () => {
    const { url, dir } = await fixture({
      '0001_t.up.sql': 'create table t (id int, v int);\ninsert into t values (1, 7), (2, 7);',
      '0002_bad.up.sql': '-- exec-doc:no-transaction\nselect 1;\nselect nosuch from t;',
    });
    const error = (await up({ connectionString: url, migrations: loadMigrations(dir) }).catch(
      (e: unknown) => e,
    )) as DbError;
    expect(error.message).toBe(
      'Migration 0002_bad (up) failed at statement 2 of 2, outside a transaction: statements 1–1 were applied and stay applied',
    );
    // The position PostgreSQL gives is within the statement sent, not within the file.
    expect(error.details[0]!.split('\n').slice(1, 3)).toEqual(['LINE 1: select nosuch from t', `${' '.repeat(15)}^`]);
    expect(error.details[1]).toBe('Fix the migration and run again.');

    const { url: url2, dir: dir2 } = await fixture({
      '0001_t.up.sql': 'create table t (id int, v int);\ninsert into t values (1, 7), (2, 7);',
      '0002_unique.up.sql': 'create unique index concurrently t_v on t (v);',
    });
    const failed = (await up({ connectionString: url2, migrations: loadMigrations(dir2) }).catch(
      (e: unknown) => e,
    )) as DbError;
    expect(failed.message).toBe(
      'Migration 0002_unique (up) failed at statement 1 of 1, outside a transaction: statements 1–0 were applied and stay applied',
    );
    expect(failed.details[1]).toBe(
      'An index built CONCURRENTLY that failed stays INVALID: drop it (DROP INDEX CONCURRENTLY …) before running again.',
    );
  });

  it('outside a transaction, a lock timeout is retried only before the first statement applied', async () => {
    const { url, dir, query } = await fixture({
      '0001_t.up.sql': 'create table t (id int);',
      '0002_late.up.sql': '-- exec-doc:no-transaction\ncreate table side (id int);\nalter table t add column z int;',
    });
    await up({ connectionString: url, migrations: loadMigrations(dir), to: '0001' });
    const holder = await holdLock(url, 't');
    const log: string[] = [];
    const error = (await up({
      connectionString: url,
      migrations: loadMigrations(dir),
      lockTimeoutMs: 100,
      retries: 5,
      backoffMs: 20,
      log: (l) => log.push(l),
    }).catch((e: unknown) => e)) as DbError;
    await holder.release();
    expect(error.message).toBe(
      'Migration 0002_late (up) failed at statement 2 of 2, outside a transaction: statements 1–1 were applied and stay applied',
    );
    expect(error.details[1]).toMatch(/^Another session kept a conflicting lock through 1 attempt\(s\)/);
    expect(log.filter((l) => l.includes('lock_timeout'))).toEqual([]);
    expect((await query("select to_regclass('side') is not null as made")).rows[0].made).toBe(true);

    const {
      url: url2,
      dir: dir2,
      query: query2,
    } = await fixture({
      '0001_t.up.sql': 'create table t (id int);',
      '0002_first.up.sql': '-- exec-doc:no-transaction\nalter table t add column z int;\ncreate table side (id int);',
    });
    await up({ connectionString: url2, migrations: loadMigrations(dir2), to: '0001' });
    const holder2 = await holdLock(url2, 't');
    setTimeout(() => void holder2.release(), 500);
    const log2: string[] = [];
    const [applied] = await up({
      connectionString: url2,
      migrations: loadMigrations(dir2),
      lockTimeoutMs: 100,
      retries: 20,
      backoffMs: 20,
      log: (l) => log2.push(l),
    });
    expect(applied!.attempts).toBeGreaterThan(1);
    expect(log2.find((l) => l.includes('lock_timeout'))).toMatch(/^0002_first \(up\): lock_timeout \(100 ms\) hit/);
    expect((await query2("select to_regclass('side') is not null as made")).rows[0].made).toBe(true);
  });
});
