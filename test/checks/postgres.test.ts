// The PostgreSQL checks against a real server: a held lock, a long transaction, an invalid
// index, a server that does not answer.
import net from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { useEmbeddedServer } from '../db/pg-helpers.js';
import { pgContext, runCheck } from './helpers.js';
import { freePort } from '../helpers.js';

const server = useEmbeddedServer('checks-pg');
const open: pg.Client[] = [];

async function session(url: string, applicationName = 'app'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  client.on('error', () => undefined);
  await client.connect();
  open.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.end().catch(() => undefined)));
});

describe('postgres.reachable', () => {
  it('passes with the version, and fails on the wrong major or a server that is not there', async () => {
    const ok = await runCheck('postgres.reachable', { minMajor: 15 }, pgContext(server.url));
    expect(ok).toMatchObject({ status: 'pass', metric: 18, unit: 'major' });
    expect(ok.value).toMatch(/^PostgreSQL 18\.\d+ \(\d+ ms\)$/);
    const wrong = await runCheck('postgres.reachable', { expectMajor: 17 }, pgContext(server.url));
    expect(wrong.status).toBe('fail');
    expect(wrong.detail).toContain('runs PostgreSQL 18, expected 17');
    const port = await freePort();
    const down = await runCheck(
      'postgres.reachable',
      {},
      pgContext(`postgresql://postgres@127.0.0.1:${port}/postgres`),
    );
    expect(down).toMatchObject({ status: 'fail', value: 'no answer' });
    expect(down.detail).toMatch(/ECONNREFUSED/);
  });

  it('reports error, not fail, when there is no target or the server never answers in time', async () => {
    expect((await runCheck('postgres.reachable', {})).status).toBe('error');
    // A TCP server that accepts and then says nothing: the check's own timeout ends it.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const r = await runCheck(
        'postgres.connections',
        {},
        { ...pgContext(`postgresql://postgres@127.0.0.1:${port}/postgres`), timeoutMs: 300 },
      );
      expect(r.status).toBe('error');
      expect(r.detail).toMatch(/timed out after 300 ms|cannot connect/);
      expect(r.durationMs).toBeLessThan(3000);
    } finally {
      silent.close();
    }
  });
});

describe('postgres.connections', () => {
  it('counts other sessions against max_connections and fails past the limit', async () => {
    const db = await server.database();
    await Promise.all([1, 2, 3].map(() => session(db.url)));
    const r = await runCheck('postgres.connections', {}, pgContext(db.url));
    expect(r.status).toBe('pass');
    const [open, usable] = /^(\d+) of (\d+)/.exec(r.value!)!.slice(1).map(Number);
    expect(open).toBeGreaterThanOrEqual(3);
    const tight = await runCheck('postgres.connections', { warnPercent: 0.5, failPercent: 1 }, pgContext(db.url));
    expect(tight.status).toBe((open! / usable!) * 100 >= 1 ? 'fail' : 'warn');
    expect(tight.detail).toContain('close idle clients');
  });
});

describe('postgres.long-transactions', () => {
  it('passes with none open, warns and fails on a transaction held open', async () => {
    const db = await server.database();
    expect((await runCheck('postgres.long-transactions', {}, pgContext(db.url))).status).toBe('pass');
    const holder = await session(db.url, 'batch-job');
    await holder.query('begin');
    await holder.query('select 1');
    await new Promise((r) => setTimeout(r, 700));
    const warn = await runCheck('postgres.long-transactions', { warnSeconds: 0.5, failSeconds: 60 }, pgContext(db.url));
    expect(warn.status).toBe('warn');
    const fail = await runCheck(
      'postgres.long-transactions',
      { warnSeconds: 0.2, failSeconds: 0.5 },
      pgContext(db.url),
    );
    expect(fail).toMatchObject({ status: 'fail', unit: 'seconds' });
    expect(fail.metric!).toBeGreaterThanOrEqual(0.5);
    expect(fail.detail).toMatch(/pid \d+ \(postgres, batch-job\) idle in transaction for \d\.\d s/);
    expect(fail.detail).toContain('pg_terminate_backend');
  });
});

describe('postgres.blocking-locks', () => {
  it('fails while a session waits for a lock another holds, naming both', async () => {
    const db = await server.database('create table accounts (id int primary key)');
    const holder = await session(db.url, 'holder');
    await holder.query('begin');
    await holder.query('lock table accounts in access exclusive mode');
    const waiter = await session(db.url, 'waiter');
    const waiting = waiter.query('select count(*) from accounts').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const r = await runCheck('postgres.blocking-locks', {}, pgContext(db.url));
    expect(r).toMatchObject({ status: 'fail', metric: 1, value: '1 blocked' });
    const holderPid = (await holder.query('select pg_backend_pid() as p')).rows[0].p as number;
    expect(r.detail).toMatch(
      new RegExp(`waits \\d+\\.\\d s for AccessShareLock on accounts, blocked by pid ${holderPid}`),
    );
    // A wait shorter than minWaitSeconds is not counted.
    const patient = await runCheck('postgres.blocking-locks', { minWaitSeconds: 30 }, pgContext(db.url));
    expect(patient).toMatchObject({ status: 'pass', metric: 0, value: '0 blocked' });
    expect(patient.threshold).toMatch(/waiting ≥ 30 s$/);
    await holder.query('rollback');
    await waiting;
    expect((await runCheck('postgres.blocking-locks', {}, pgContext(db.url))).status).toBe('pass');
  });
});

describe('postgres.replication-lag', () => {
  it('passes on a server without replication, and fails when standbys are expected', async () => {
    const r = await runCheck('postgres.replication-lag', {}, pgContext(server.url));
    expect(r).toMatchObject({ status: 'pass', value: 'no replication', metric: 0 });
    const expected = await runCheck('postgres.replication-lag', { expectStandbys: 1 }, pgContext(server.url));
    expect(expected.status).toBe('fail');
    expect(expected.detail).toContain('0 standbys connected, expected 1');
  });
});

describe('postgres.integrity', () => {
  it('fails on an index left INVALID by a failed concurrent build and on NOT VALID constraints', async () => {
    const db = await server.database('create table t (id int, v int); insert into t values (1, 1), (2, 1), (3, -1)');
    expect((await runCheck('postgres.integrity', {}, pgContext(db.url))).status).toBe('pass');
    await expect(db.query('create unique index concurrently t_v_key on t (v)')).rejects.toThrow(
      /could not create unique index/,
    );
    await db.query('alter table t add constraint v_positive check (v > 0) not valid');
    const r = await runCheck('postgres.integrity', {}, pgContext(db.url));
    expect(r).toMatchObject({ status: 'fail', metric: 2, value: '1 invalid, 1 not valid' });
    expect(r.detail).toContain('invalid indexes: t_v_key');
    expect(r.detail).toContain('constraints not validated: t.v_positive');
    await db.query('drop index t_v_key');
    expect((await runCheck('postgres.integrity', { allowNotValid: true }, pgContext(db.url))).status).toBe('pass');
  });
});

describe('postgres.replication-lag with a real standby', () => {
  // PostgreSQL 15 from the machine's binaries: a primary, and a standby made by pg_basebackup.
  const BIN = '/usr/lib/postgresql/15/bin';
  it('passes while the standby keeps up, fails on both sides while its replay is paused', async () => {
    const { execa } = await import('execa');
    const { existsSync } = await import('node:fs');
    const path = await import('node:path');
    const { tempDir, ROOT } = await import('../helpers.js');
    expect(existsSync(`${BIN}/pg_basebackup`), 'PostgreSQL 15 binaries are part of this machine image').toBe(true);
    const dir = tempDir('exec-doc-repl-');
    const [primaryPort, standbyPort] = [await freePort(), await freePort()];
    const script = path.join(ROOT, 'scripts', 'procedures', 'database', 'pg15.sh');
    const asOwner = (args: string[]) =>
      process.getuid?.() === 0 ? execa('runuser', ['-u', 'postgres', '--', ...args]) : execa(args[0]!, args.slice(1));
    await execa('bash', [script, 'start', dir, String(primaryPort)]);
    const standbyDir = path.join(dir, 'standby');
    try {
      await asOwner([
        `${BIN}/pg_basebackup`,
        '-h',
        '127.0.0.1',
        '-p',
        String(primaryPort),
        '-U',
        'postgres',
        '-D',
        standbyDir,
        '-R',
        '-X',
        'stream',
        '--no-sync',
      ]);
      await asOwner([
        `${BIN}/pg_ctl`,
        'start',
        '-D',
        standbyDir,
        '-w',
        '-t',
        '60',
        '-l',
        path.join(dir, 'standby.log'),
        '-o',
        `-p ${standbyPort} -c listen_addresses=127.0.0.1 -k ${dir} -c application_name=replica1`,
      ]);
      const primary = `postgresql://postgres@127.0.0.1:${primaryPort}/postgres`;
      const standby = `postgresql://postgres@127.0.0.1:${standbyPort}/postgres`;
      const q = async (url: string, sql: string) => {
        const c = await session(url);
        try {
          return (await c.query(sql)).rows;
        } finally {
          await c.end();
        }
      };
      await q(primary, 'create table t (id int); insert into t values (1)');
      // Wait until the standby streams.
      for (let i = 0; i < 100 && (await q(primary, 'select count(*)::int as n from pg_stat_replication'))[0].n < 1; i++)
        await new Promise((r) => setTimeout(r, 100));
      // …and until it has replayed a transaction: paused before that, it has no replay time to measure lag from.
      for (
        let i = 0;
        i < 100 && (await q(standby, 'select pg_last_xact_replay_timestamp() is null as none'))[0].none;
        i++
      )
        await new Promise((r) => setTimeout(r, 100));
      const ok = await runCheck(
        'postgres.replication-lag',
        { expectStandbys: 1, failBytes: 64 * 1024 * 1024 },
        pgContext(primary),
      );
      expect(ok.status).toBe('pass');
      expect(ok.value).toMatch(/\(1 standbys\)$/);
      expect((await runCheck('postgres.replication-lag', {}, pgContext(standby))).status).toBe('pass');

      await q(standby, 'select pg_wal_replay_pause()');
      await q(primary, 'insert into t select generate_series(1, 10000)');
      await new Promise((r) => setTimeout(r, 1500));
      const behind = await runCheck(
        'postgres.replication-lag',
        { warnSeconds: 0.5, failSeconds: 1 },
        pgContext(standby),
      );
      expect(behind.status).toBe('fail');
      expect(behind.detail).toContain('replay is paused');
      const primarySide = await runCheck('postgres.replication-lag', { failBytes: 1 }, pgContext(primary));
      expect(primarySide.status).toBe('fail');
      expect(primarySide.detail).toMatch(/standby|replica1|\d+ bytes behind/);
      await q(standby, 'select pg_wal_replay_resume()');
    } finally {
      await asOwner([`${BIN}/pg_ctl`, 'stop', '-D', standbyDir, '-m', 'immediate', '-w']).catch(() => undefined);
      await execa('bash', [script, 'stop', dir]).catch(() => undefined);
    }
  }, 60_000);
});
