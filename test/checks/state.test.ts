// Checks on what a procedure leaves: the migration ledger, the baseline snapshot and its
// comparison, and the backups — a real PostgreSQL, real files, damaged files.
import path from 'node:path';
import { appendFileSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useEmbeddedServer } from '../db/pg-helpers.js';
import { ROOT, tempDir } from '../helpers.js';
import { loadMigrations } from '../../src/db/migration-files.js';
import { up } from '../../src/db/migrate.js';
import { backup } from '../../src/db/backup.js';
import { pgContext, runCheck } from './helpers.js';

const server = useEmbeddedServer('checks-state');
const ORDERS = path.join(ROOT, 'scripts', 'procedures', 'database', 'orders');

function copyMigrations(): string {
  const dir = path.join(tempDir(), 'migrations');
  cpSync(ORDERS, dir, { recursive: true });
  return dir;
}

describe('ledger.consistent', () => {
  it('passes with pending migrations before an upgrade, fails on pending after, on drift and on unknown', async () => {
    const db = await server.database();
    const dir = copyMigrations();
    const before = await runCheck('ledger.consistent', { migrations: dir }, pgContext(db.url));
    expect(before).toMatchObject({ status: 'pass', value: '0 applied, 3 pending, 0 drifted, 0 unknown' });
    expect(
      (await runCheck('ledger.consistent', { migrations: dir, allowPending: false }, pgContext(db.url))).status,
    ).toBe('fail');

    await up({ connectionString: db.url, migrations: loadMigrations(dir) });
    expect(
      (await runCheck('ledger.consistent', { migrations: dir, allowPending: false }, pgContext(db.url))).status,
    ).toBe('pass');

    appendFileSync(path.join(dir, '0002_orders_status.up.sql'), '\n-- edited after it was applied\n');
    const drift = await runCheck('ledger.consistent', { migrations: dir }, pgContext(db.url));
    expect(drift).toMatchObject({ status: 'fail', value: '3 applied, 0 pending, 1 drifted, 0 unknown', metric: 1 });
    expect(drift.detail).toMatch(
      /^0002_orders_status was edited after it was applied \(checksum [0-9a-f]{12} in the ledger, [0-9a-f]{12} on disk\)/,
    );

    const older = copyMigrations();
    for (const f of [
      '0003_orders_customer_index.up.sql',
      '0003_orders_customer_index.down.sql',
      '0003_orders_customer_index.verify.sql',
    ])
      rmSync(path.join(older, f));
    const unknown = await runCheck('ledger.consistent', { migrations: older }, pgContext(db.url));
    expect(unknown.status).toBe('fail');
    expect(unknown.detail).toContain('0003_orders_customer_index is applied but has no file');
  });

  it('reports error when the migrations cannot be read, and warns when none are configured', async () => {
    expect(
      (await runCheck('ledger.consistent', { migrations: '/nonexistent/migrations' }, pgContext(server.url))).status,
    ).toBe('error');
    expect((await runCheck('ledger.consistent', {}, pgContext(server.url))).status).toBe('warn');
  });
});

describe('snapshot.baseline and snapshot.identical', () => {
  it('takes a baseline, passes when nothing changed, fails naming each difference', async () => {
    const db = await server.database(
      'create table items (id int primary key, name text); insert into items select g, g::text from generate_series(1, 100) g',
    );
    const workDir = tempDir();
    const base = await runCheck('snapshot.baseline', {}, { ...pgContext(db.url), workDir });
    expect(base).toMatchObject({ status: 'pass', value: '1 tables, 100 rows' });
    expect((await runCheck('snapshot.identical', {}, { ...pgContext(db.url), workDir })).status).toBe('pass');
    await db.query("update items set name = 'changed' where id = 7; alter table items add column extra int");
    const r = await runCheck('snapshot.identical', {}, { ...pgContext(db.url), workDir });
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('public.items');
    expect(r.detail).toContain('extra');
    expect(r.metric).toBeGreaterThanOrEqual(2);
  });

  it('keeps the first baseline inside a run, and replaces it for a new pre-upgrade', async () => {
    const db = await server.database('create table a (id int)');
    const workDir = tempDir();
    await runCheck('snapshot.baseline', {}, { ...pgContext(db.url), workDir });
    await db.query('insert into a values (1)');
    const kept = await runCheck('snapshot.baseline', {}, { ...pgContext(db.url), workDir, keepBaseline: true });
    expect(kept.value).toBe('1 tables (kept)');
    expect((await runCheck('snapshot.identical', {}, { ...pgContext(db.url), workDir })).status).toBe('fail');
    await runCheck('snapshot.baseline', {}, { ...pgContext(db.url), workDir, keepBaseline: false });
    expect((await runCheck('snapshot.identical', {}, { ...pgContext(db.url), workDir })).status).toBe('pass');
  });

  it('reports a truncated or missing baseline as error with its position', async () => {
    const db = await server.database('create table a (id int)');
    const workDir = tempDir();
    await runCheck('snapshot.baseline', {}, { ...pgContext(db.url), workDir });
    const file = path.join(workDir, 'baseline.snapshot.json');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, Math.floor(text.length / 2)));
    const r = await runCheck('snapshot.identical', {}, { ...pgContext(db.url), workDir });
    expect(r.status).toBe('error');
    expect(r.detail).toMatch(
      /baseline\.snapshot\.json:\d+:\d+: Unexpected end of the snapshot \(truncated\?\), expected complete JSON; take the snapshot again$/,
    );
    const kept = await runCheck('snapshot.baseline', {}, { ...pgContext(db.url), workDir, keepBaseline: true });
    expect(kept.status).toBe('error');
    expect(kept.detail).toMatch(/baseline\.snapshot\.json:\d+:\d+: Unexpected end of the snapshot/);
    const missing = await runCheck('snapshot.identical', {}, { ...pgContext(db.url), workDir: tempDir() });
    expect(missing.status).toBe('error');
    expect(missing.detail).toContain('run the pre-upgrade phase (snapshot.baseline) first');
  });
});

describe('backup.fresh', () => {
  it('passes on a fresh backup, warns and fails as it ages, fails when its clone is gone', async () => {
    const db = await server.database('create table a (id int); insert into a values (1)');
    const dir = tempDir();
    const manifest = path.join(dir, 'before-upgrade.json');
    const made = await backup({ connectionString: db.url, manifest });
    const fresh = await runCheck('backup.fresh', { dir }, pgContext(db.url));
    expect(fresh.status).toBe('pass');
    expect(fresh.value).toMatch(/^0\.0 h old \((clone|pg_dump)\)$/);
    // Age the manifest's own record of when it was taken.
    const old = JSON.parse(readFileSync(manifest, 'utf8'));
    old.createdAt = new Date(Date.now() - 13 * 3_600_000).toISOString();
    writeFileSync(manifest, JSON.stringify(old));
    expect((await runCheck('backup.fresh', { dir }, pgContext(db.url))).status).toBe('warn');
    const stale = await runCheck('backup.fresh', { dir, maxAgeHours: 12.5 }, pgContext(db.url));
    expect(stale.status).toBe('fail');
    expect(stale.detail).toMatch(/is 13\.0 h old; take a new one before starting/);
    old.createdAt = new Date().toISOString();
    writeFileSync(manifest, JSON.stringify(old));
    if (made.method === 'clone') {
      const { default: pg } = await import('pg');
      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      await c.query(`drop database "${made.location}"`);
      await c.end();
      const gone = await runCheck('backup.fresh', { dir }, pgContext(db.url));
      expect(gone.status).toBe('fail');
      expect(gone.detail).toContain('which no longer exists');
    }
  });

  it('fails without a backup, reports a damaged manifest as error with its position, and warns when not configured', async () => {
    const db = await server.database();
    const empty = tempDir();
    const none = await runCheck('backup.fresh', { dir: empty }, pgContext(db.url));
    expect(none).toMatchObject({ status: 'fail', value: 'no backup' });
    expect(none.detail).toContain('npm run db -- backup');
    expect((await runCheck('backup.fresh', { dir: path.join(empty, 'missing') }, pgContext(db.url))).status).toBe(
      'fail',
    );
    writeFileSync(path.join(empty, 'broken.json'), '{\n  "format": 1,\n  "method": "clone",\n  "createdAt": "2026-');
    const damaged = await runCheck('backup.fresh', { dir: empty }, pgContext(db.url));
    expect(damaged.status).toBe('error');
    expect(damaged.detail).toMatch(
      /broken\.json:4:\d+: Unexpected end of the backup manifest \(truncated\?\), expected complete JSON/,
    );
    expect((await runCheck('backup.fresh', {}, pgContext(db.url))).status).toBe('warn');
  });
});
