// Backup and restore on the embedded PostgreSQL 18 (the machine's pg_dump is older, so the
// clone method is used and says why), each restore proven by snapshot comparison.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { startPg15, useEmbeddedServer } from './pg-helpers.js';
import { backup, restore, verifyBackup, findPgDumps, BackupError, withDatabase } from '../../src/db/backup.js';
import { writeFileSync } from 'node:fs';
import { dbMain } from '../../src/cli/db/index.js';
import { captureIo, tempDir } from '../helpers.js';

const server = useEmbeddedServer('backup', 'shop');
beforeAll(async () => {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  await c.query(
    "create table products (id int primary key, name text); insert into products select g, 'p' || g from generate_series(1, 500) g;",
  );
  await c.end();
});

async function sql(database: string, text: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: withDatabase(server.url, database) });
  await c.connect();
  try {
    return await c.query(text);
  } finally {
    await c.end();
  }
}

describe('backup and restore', () => {
  it('clones when pg_dump is too old, says so, and restores over a damaged database, verified', async () => {
    const dumps = await findPgDumps();
    const major = Number(server.handle.serverVersion.split('.')[0]);
    expect(dumps.every((d) => d.major < major)).toBe(true);
    const manifestFile = path.join(tempDir(), 'shop-backup.json');
    const log: string[] = [];
    const manifest = await backup({ connectionString: server.url, manifest: manifestFile, log: (l) => log.push(l) });
    expect(manifest).toMatchObject({ method: 'clone', sourceDatabase: 'shop' });
    expect(log[0]).toMatch(
      dumps.length
        ? new RegExp(
            `^pg_dump ${dumps[0]!.major} \\(.*\\) cannot dump a PostgreSQL ${major} server: pg_dump must be at least the server's major; making a clone`,
          )
        : /^no pg_dump on this machine/,
    );
    expect(JSON.parse(readFileSync(manifestFile, 'utf8')).snapshot.tables['public.products'].rows).toBe(500);

    await sql('shop', 'delete from products where id > 100; alter table products add column oops int');
    const restored = await restore({ connectionString: server.url, manifest: manifestFile });
    expect(restored).toEqual({ database: 'shop', verified: true });
    expect((await sql('shop', 'select count(*)::int as n from products')).rows[0].n).toBe(500);
    expect(
      (
        await sql(
          'shop',
          "select count(*)::int as n from information_schema.columns where table_name = 'products' and column_name = 'oops'",
        )
      ).rows[0].n,
    ).toBe(0);

    await restore({ connectionString: server.url, manifest: manifestFile, into: 'shop_copy' });
    expect((await sql('shop_copy', 'select count(*)::int as n from products')).rows[0].n).toBe(500);
  });

  it('refuses, naming the sessions, when the database is in use', async () => {
    const holder = new pg.Client({ connectionString: server.url, application_name: 'busy-app' });
    await holder.connect();
    try {
      const error = await backup({ connectionString: server.url, manifest: path.join(tempDir(), 'b.json') }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BackupError);
      expect((error as BackupError).message).toBe(
        'a clone backup needs shop without other connections; 1 session(s) are connected',
      );
      expect((error as BackupError).details[0]).toMatch(/^pid \d+ \(busy-app\)$/);
    } finally {
      await holder.end();
    }
  });

  it('through the CLI: backup, restore, and a clear error for a bad manifest', async () => {
    const streams = () => {
      const io = captureIo({ ...process.env, DATABASE_URL: server.url });
      return { io, out: io.out, err: io.err };
    };
    const file = path.join(tempDir(), 'cli-backup.json');
    const b = streams();
    expect(await dbMain(['backup', '--out', file], b.io)).toBe(0);
    expect(b.out()).toMatch(/^backed up shop \(clone database shop_backup_\w+\); manifest /);
    const r = streams();
    expect(await dbMain(['restore', '--from', file, '--into', 'shop_cli'], r.io)).toBe(0);
    expect(r.out()).toBe('restored shop_cli; identical to the backup (schema, row counts, contents)\n');
    const bad = streams();
    // Checked before the database is touched: a usage error.
    expect(await dbMain(['restore', '--from', path.join(tempDir(), 'missing.json')], bad.io)).toBe(64);
    expect(bad.err()).toMatch(
      /^db: .*missing\.json: no such file \(--from: the backup manifest written by `db backup`\)/,
    );
  });
});

describe('verify-backup', () => {
  const scratchDatabases = async () =>
    (await sql('postgres', `select datname from pg_database where datname like '%\\_verify\\_%' order by 1`)).rows;

  it('restores into a scratch database, proves it equal to the snapshot, drops it, and leaves the source alone', async () => {
    const manifestFile = path.join(tempDir(), 'verify.json');
    await backup({ connectionString: server.url, manifest: manifestFile });
    const before = (await sql('shop', 'select count(*)::int as n, sum(id)::int as s from products')).rows[0];
    const io = captureIo({ ...process.env, DATABASE_URL: server.url });
    expect(await dbMain(['verify-backup', '--from', manifestFile], io)).toBe(0);
    expect(io.out()).toMatch(
      /^backup .*verify\.json restores: 1 table\(s\) identical to its snapshot \(schema, row counts, contents\); scratch database shop_verify_\w+ dropped\n$/,
    );
    expect(await scratchDatabases()).toEqual([]);
    expect((await sql('shop', 'select count(*)::int as n, sum(id)::int as s from products')).rows[0]).toEqual(before);
  });

  it('fails on a backup that does not restore to its snapshot, and still drops the scratch database', async () => {
    const manifestFile = path.join(tempDir(), 'verify-bad.json');
    const manifest = await backup({ connectionString: server.url, manifest: manifestFile });
    // The clone loses rows after the backup was taken: the backup no longer holds what it claims.
    await sql(manifest.location, 'delete from products where id > 490');
    const failed = verifyBackup({ connectionString: server.url, manifest: manifestFile });
    await expect(failed).rejects.toThrow(BackupError);
    await expect(failed).rejects.toThrow(/does not match the backup/);
    expect(await scratchDatabases()).toEqual([]);
  });

  it('refuses what it cannot do before touching the server', async () => {
    const run = async (args: string[]) => {
      const io = captureIo({ ...process.env, DATABASE_URL: server.url });
      return { code: await dbMain(args, io), err: io.err() };
    };
    expect(await run(['verify-backup'])).toMatchObject({
      code: 64,
      err: expect.stringContaining('verify-backup needs --from <manifest.json>'),
    });
    const notManifest = path.join(tempDir(), 'not-a-manifest.json');
    writeFileSync(notManifest, '{"format": 2}');
    expect(await run(['verify-backup', '--from', notManifest])).toMatchObject({
      code: 1,
      err: expect.stringContaining('is not a backup manifest written by `db backup`'),
    });
    expect(await run(['verify-backup', '--from', notManifest, '--into', 'x'])).toMatchObject({
      code: 64,
      err: expect.stringContaining('--into is for restore, not verify-backup'),
    });
    expect(await run(['backup', '--out', notManifest, '--table', 'products'])).toMatchObject({
      code: 64,
      err: expect.stringContaining(
        '--table is for backfill and snapshot, not backup (a backup holds the whole database',
      ),
    });
  });
});

describe('backup with pg_dump', () => {
  it('uses pg_dump and pg_restore when the server is not newer than pg_dump (PostgreSQL 15 here)', async () => {
    const pg15 = await startPg15();
    try {
      const url = pg15.url;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(
        "create table notes (id int primary key, body text); insert into notes select g, repeat('x', g % 50) from generate_series(1, 1000) g;",
      );
      await c.end();
      const manifestFile = path.join(tempDir(), 'pg15.json');
      const manifest = await backup({ connectionString: url, manifest: manifestFile });
      expect(manifest).toMatchObject({ method: 'pg_dump', location: 'pg15.dump', pgDump: { major: 15 } });
      const restored = await restore({ connectionString: url, manifest: manifestFile, into: 'notes_copy' });
      expect(restored).toEqual({ database: 'notes_copy', verified: true });
      const copy = new pg.Client({ connectionString: withDatabase(url, 'notes_copy') });
      await copy.connect();
      expect((await copy.query('select count(*)::int as n from notes')).rows[0].n).toBe(1000);
      await copy.end();
    } finally {
      pg15.stop();
    }
  }, 60_000);
});
