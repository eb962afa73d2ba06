// The migration ledger and the migration lock, on their own, against a real PostgreSQL: what the
// ledger table accepts, how it is read back, what drift and pending mean, and who is named when
// the lock is held by someone else.
import { afterEach, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { connect } from '../../src/db/connect.js';
import {
  compareLedger,
  DEFAULT_LEDGER,
  ensureLedger,
  ledgerDelete,
  ledgerInsert,
  LEDGER_TABLE,
  readLedger,
  type LedgerRow,
} from '../../src/db/ledger.js';
import { acquireMigrationLock, LockTimeoutError, releaseMigrationLock } from '../../src/db/lock.js';
import type { Migration } from '../../src/db/migration-files.js';
import { useEmbeddedServer } from './pg-helpers.js';

const server = useEmbeddedServer('ledger');
const clients: pg.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
});

async function client(url: string, name = 'ledger-test'): Promise<pg.Client> {
  const c = await connect(url, name);
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

function migration(version: string, checksum = `sum-${version}`, repeatable = false): Migration {
  return {
    version,
    name: `m${version.replace(/\W/g, '_')}`,
    up: 'select 1',
    checksum,
    transactional: true,
    files: { up: `${version}.up.sql` },
    format: 'flyway',
    ...(repeatable ? { repeatable: true as const } : {}),
  };
}

const row = (version: string, checksum = `sum-${version}`): LedgerRow => ({
  version,
  name: `m${version}`,
  checksum,
  appliedAt: '2026-11-24T00:00:00Z',
  durationMs: 1,
  appliedBy: 'postgres',
  baseline: false,
});

describe('the ledger table', () => {
  it('is made once, accepts digits, dotted versions and R:<name>, and refuses anything else', async () => {
    const db = await server.database();
    const c = await client(db.url);
    expect(await readLedger(c)).toEqual([]);
    await ensureLedger(c);
    await ensureLedger(c);
    for (const version of ['1', '1.1', '20261124', 'R:views'])
      await c.query(ledgerInsert(migration(version), 0).text, ledgerInsert(migration(version), 0).values);
    for (const version of ['abc', '1.', '.1', 'R:', '1a']) {
      const insert = ledgerInsert(migration(version), 0);
      await expect(c.query(insert.text, insert.values), version).rejects.toThrow(/schema_migrations_version_check/);
    }
    expect((await readLedger(c)).map((r) => r.version)).toEqual(['1', '1.1', '20261124', 'R:views']);
  });

  it('made by an earlier exec-doc (digits only), is widened to the versions of today, keeping its rows', async () => {
    const db = await server.database();
    const c = await client(db.url);
    await c.query(`create schema exec_doc`);
    await c.query(`create table ${LEDGER_TABLE} (
      ledger text not null default 'default',
      version text not null constraint old_version_digits check (version ~ '^[0-9]+$'),
      primary key (ledger, version), name text not null, checksum text not null,
      applied_at timestamptz not null default now(), duration_ms integer not null,
      applied_by text not null default current_user, baseline boolean not null default false)`);
    await c.query(`insert into ${LEDGER_TABLE} (version, name, checksum, duration_ms) values ('7', 'old', 'x', 3)`);
    await ensureLedger(c);
    const constraints = await c.query<{ conname: string; def: string }>(
      `select conname, pg_get_constraintdef(oid) as def from pg_constraint where conrelid = to_regclass($1) and contype = 'c'`,
      [LEDGER_TABLE],
    );
    expect(constraints.rows.map((r) => r.conname)).toEqual(['schema_migrations_version_check']);
    expect(constraints.rows[0]!.def).toContain('R:');
    const insert = ledgerInsert(migration('R:views'), 0);
    await c.query(insert.text, insert.values);
    const bad = ledgerInsert(migration('x1'), 0);
    await expect(c.query(bad.text, bad.values)).rejects.toThrow(/schema_migrations_version_check/);
    expect((await readLedger(c)).map((r) => [r.version, r.name, r.durationMs])).toEqual([
      ['7', 'old', 3],
      ['R:views', 'mR_views', 0],
    ]);
  });

  it('made by this exec-doc, is left as it is: no lock that would wait for its readers', async () => {
    const db = await server.database();
    const c = await client(db.url);
    await ensureLedger(c);
    // Another runner reading the ledger, in a transaction still open.
    const reader = await client(db.url, 'reader');
    await reader.query('begin');
    await reader.query(`select * from ${LEDGER_TABLE}`);
    const again = await client(db.url);
    await again.query(`set lock_timeout = '2s'`);
    await ensureLedger(again);
    await reader.query('rollback');
  });

  it('is read back in version order, per ledger, with every field', async () => {
    const db = await server.database();
    const c = await client(db.url);
    await ensureLedger(c);
    const add = async (m: Migration, durationMs: number, baseline = false, ledger = DEFAULT_LEDGER) => {
      const q = ledgerInsert(m, durationMs, baseline, ledger);
      await c.query(q.text, q.values);
    };
    await add(migration('10'), 12.6);
    await add(migration('2'), 0.4, true);
    // Without the flag, a row is not a baseline one.
    const plain = ledgerInsert(migration('R:a'), 1);
    await c.query(plain.text, plain.values);
    await add(migration('1.10'), 1);
    await add(migration('1.9'), 1);
    await add(migration('3'), 5, false, 'other');
    const rows = await readLedger(c);
    expect(rows.map((r) => r.version)).toEqual(['1.9', '1.10', '2', '10', 'R:a']);
    const ten = rows.find((r) => r.version === '10')!;
    expect(ten).toMatchObject({
      name: 'm10',
      checksum: 'sum-10',
      durationMs: 13,
      appliedBy: 'postgres',
      baseline: false,
    });
    expect(ten.appliedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Math.abs(Date.parse(ten.appliedAt) - Date.now())).toBeLessThan(60_000);
    expect(rows.find((r) => r.version === '2')).toMatchObject({ durationMs: 0, baseline: true });
    expect(rows.find((r) => r.version === 'R:a')).toMatchObject({ baseline: false });
    expect((await readLedger(c, 'other')).map((r) => r.version)).toEqual(['3']);

    // A delete removes that version of that ledger only.
    await c.query(
      `insert into ${LEDGER_TABLE} (ledger, version, name, checksum, duration_ms) values ('other', '10', 'x', 'y', 1)`,
    );
    const del = ledgerDelete('10');
    await c.query(del.text, del.values);
    expect((await readLedger(c)).map((r) => r.version)).toEqual(['1.9', '1.10', '2', 'R:a']);
    expect((await readLedger(c, 'other')).map((r) => r.version)).toEqual(['3', '10']);
    const delOther = ledgerDelete('3', 'other');
    await c.query(delOther.text, delOther.values);
    expect((await readLedger(c, 'other')).map((r) => r.version)).toEqual(['10']);
  });
});

describe('comparing files with the ledger', () => {
  it('pending, drift (an edited applied file), unknown (a row without a file) and a changed repeatable', () => {
    const files = [
      migration('1'),
      migration('2', 'edited'),
      migration('3'),
      migration('R:v', 'new', true),
      migration('R:w', 'same', true),
    ];
    const state = compareLedger(files, [row('1'), row('2'), row('R:v', 'old'), row('R:w', 'same'), row('9')]);
    expect(state.pending.map((m) => m.version)).toEqual(['3', 'R:v']);
    expect(state.drift.map((d) => [d.migration.version, d.migration.checksum, d.row.checksum])).toEqual([
      ['2', 'edited', 'sum-2'],
    ]);
    expect(state.unknown.map((r) => r.version)).toEqual(['9']);
    expect(state.applied.map((r) => r.version)).toEqual(['1', '2', 'R:v', 'R:w', '9']);
    expect(compareLedger([], [])).toEqual({ applied: [], pending: [], drift: [], unknown: [] });
  });
});

describe('the migration lock', () => {
  it('a second runner waits, then is told who holds it: pid, application and since when', async () => {
    const first = await client(server.url, 'runner-one');
    const second = await client(server.url, 'runner-two');
    await acquireMigrationLock(first, 1000);
    const pid = (await first.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    const started = Date.now();
    const error = await acquireMigrationLock(second, 350).catch((e: unknown) => e);
    const waitedMs = Date.now() - started;
    expect(error).toBeInstanceOf(LockTimeoutError);
    const timeout = error as LockTimeoutError;
    expect(timeout.code).toBe('E_LOCK_TIMEOUT');
    expect(timeout.waitedMs).toBeGreaterThanOrEqual(350);
    expect(waitedMs).toBeLessThan(2000);
    expect(timeout.holders).toEqual([
      { pid, application: 'runner-one', since: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) },
    ]);
    expect(timeout.message).toMatch(
      new RegExp(
        `^Another runner holds the migration lock \\(waited \\d+ ms\\): pid ${pid} \\(runner-one\\) since \\S+Z; wait for it`,
      ),
    );
    // Released, the next one takes it at once.
    await releaseMigrationLock(first);
    await acquireMigrationLock(second, 0);
    const held = await first.query(`select count(*)::int as n from pg_locks where locktype = 'advisory' and granted`);
    expect(held.rows[0].n).toBe(1);
    await releaseMigrationLock(second);
  });

  it('a waiter gives up when its time is up: the last poll is cut short, not a whole interval', async () => {
    const first = await client(server.url, 'runner-one');
    const second = await client(server.url, 'runner-two');
    await acquireMigrationLock(first, 0);
    // Polls every 100 ms: after the first interval only 10 ms are left, so it waits 10 ms, not 100.
    const error = (await acquireMigrationLock(second, 110).catch((e: unknown) => e)) as LockTimeoutError;
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error.waitedMs).toBeGreaterThanOrEqual(110);
    expect(error.waitedMs).toBeLessThan(180);
    await releaseMigrationLock(first);
  });

  it('a waiter gets the lock as soon as it is released, well before its limit', async () => {
    const first = await client(server.url, 'runner-one');
    const second = await client(server.url, 'runner-two');
    await acquireMigrationLock(first, 0);
    const started = Date.now();
    setTimeout(() => void releaseMigrationLock(first), 250);
    await acquireMigrationLock(second, 10_000);
    const waitedMs = Date.now() - started;
    expect(waitedMs).toBeGreaterThanOrEqual(240);
    expect(waitedMs).toBeLessThan(3000);
    await releaseMigrationLock(second);
  });

  it('with no wait allowed, a held lock is refused at once; no holder named when it has just gone', async () => {
    const first = await client(server.url, 'runner-one');
    const second = await client(server.url);
    await acquireMigrationLock(first, 0);
    const error = (await acquireMigrationLock(second, 0).catch((e: unknown) => e)) as LockTimeoutError;
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error.waitedMs).toBeLessThan(1000);
    expect(error.holders.map((h) => h.application)).toEqual(['runner-one']);
    await releaseMigrationLock(first);
    // A holder that gave no application name is named by its pid alone.
    const nameless = await client(server.url, '');
    await acquireMigrationLock(nameless, 0);
    const npid = (await nameless.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    const unnamed = (await acquireMigrationLock(second, 0).catch((e: unknown) => e)) as LockTimeoutError;
    expect(unnamed.message).toMatch(new RegExp(`\\): pid ${npid} since \\S+Z; wait for it to finish`));
    await releaseMigrationLock(nameless);
    expect(new LockTimeoutError(5, []).message).toBe(
      'Another runner holds the migration lock (waited 5 ms); wait for it to finish, raise --lock-wait, or stop it (select pg_terminate_backend(pid))',
    );
  });
});
