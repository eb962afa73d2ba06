// The migration layouts teams already have, read as they are and run against a real PostgreSQL:
// golang-migrate/morph (names with dots, morph's nontransactional marker), Flyway (V, U, R files,
// dotted versions) and sqitch (sqitch.plan, deploy/revert/verify, scripts in their own BEGIN … COMMIT).
// The fixtures are sets written here in each tool's documented layout.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useEmbeddedServer } from './pg-helpers.js';
import { loadMigrations, MigrationFilesError } from '../../src/db/migration-files.js';
import { up, down, status, verify } from '../../src/db/migrate.js';
import { dbMain } from '../../src/cli/db/index.js';
import { captureIo, ROOT, tempDir } from '../helpers.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'migrations');
const server = useEmbeddedServer('layouts');

/** A copy of a fixture set (tests may edit it). */
function set(name: string): string {
  const dir = path.join(tempDir(), name);
  cpSync(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

describe('migration layouts', () => {
  it('golang-migrate and morph: names with dots, the nontransactional marker, up, verify, down', async () => {
    const dir = set('golang-migrate');
    const migrations = loadMigrations(dir);
    expect(migrations.map((m) => [m.version, m.name, m.transactional, m.format])).toEqual([
      ['000001', 'create_teams', true, 'golang-migrate'],
      ['000002', 'create_channels', true, 'golang-migrate'],
      ['000003', 'upgrade_channels_v6.0', true, 'golang-migrate'],
      ['000004', 'channels_team_index', false, 'golang-migrate'],
    ]);
    const { url, query } = await server.database();
    expect((await up({ connectionString: url, migrations })).length).toBe(4);
    expect(await up({ connectionString: url, migrations })).toEqual([]);
    expect((await verify({ connectionString: url, migrations })).map((r) => r.ok)).toEqual([true]);
    expect(
      (
        await query(
          "select count(*)::int as n from information_schema.columns where table_name = 'channels' and column_name in ('purpose', 'last_post_at')",
        )
      ).rows[0].n,
    ).toBe(2);
    await down({ connectionString: url, migrations, to: '0' });
    expect((await status({ connectionString: url, migrations })).pending.length).toBe(4);
    expect((await query("select to_regclass('teams') as t")).rows[0].t).toBeNull();
  });

  it('Flyway: V and U files with dotted versions in numeric order, R__ applied last and again when it changes, never undone', async () => {
    const dir = set('flyway');
    const migrations = loadMigrations(dir);
    expect(migrations.map((m) => [m.version, m.name, Boolean(m.down), m.repeatable ?? false])).toEqual([
      ['1', 'create_customers', true, false],
      ['1.1', 'add_customer_name', true, false],
      ['2', 'create_invoices', true, false],
      ['10', 'invoice_number', true, false],
      ['R:customer_totals_view', 'customer_totals_view', false, true],
    ]);
    const { url, query } = await server.database();
    await up({ connectionString: url, migrations });
    expect((await query('select email, total_cents::int from customer_totals order by email')).rows).toEqual([
      { email: 'ada@example.com', total_cents: 1000 },
      { email: 'linus@example.com', total_cents: 2000 },
    ]);
    expect(await up({ connectionString: url, migrations })).toEqual([]);
    // The view changes: applied again, the ledger row replaced; no "edited" refusal.
    writeFileSync(
      path.join(dir, 'R__customer_totals_view.sql'),
      'create or replace view customer_totals as\nselect c.id, c.email, coalesce(sum(i.total_cents), 0) as total_cents, count(i.id) as invoices\nfrom customer c left join invoice i on i.customer_id = c.id\ngroup by c.id, c.email;\n',
    );
    const changed = loadMigrations(dir);
    expect((await status({ connectionString: url, migrations: changed })).pending.map((m) => m.version)).toEqual([
      'R:customer_totals_view',
    ]);
    expect((await up({ connectionString: url, migrations: changed })).map((r) => r.version)).toEqual([
      'R:customer_totals_view',
    ]);
    expect((await query('select invoices::int from customer_totals order by email')).rows).toEqual([
      { invoices: 1 },
      { invoices: 1 },
    ]);
    // Undo with the U files, newest first, down to 1.1.
    await down({ connectionString: url, migrations: changed, to: '1.1' });
    expect((await status({ connectionString: url, migrations: changed })).applied.map((r) => r.version)).toEqual([
      '1',
      '1.1',
      'R:customer_totals_view',
    ]);
    expect((await query("select to_regclass('invoice') as t")).rows[0].t).toBeNull();
  });

  it('sqitch: the plan orders the changes, scripts run in one transaction with the ledger, verify scripts fail by raising', async () => {
    const dir = set('sqitch');
    const migrations = loadMigrations(dir);
    expect(migrations.map((m) => [m.version, m.name, m.transactional, Boolean(m.down), Boolean(m.verify)])).toEqual([
      ['0001', 'appschema', true, true, true],
      ['0002', 'users', true, true, true],
      ['0003', 'flips', true, true, true],
    ]);
    // Its own BEGIN/COMMIT are blanked, positions kept.
    expect(migrations[0]!.up).not.toMatch(/\bBEGIN\b|\bCOMMIT\b/);
    expect(migrations[0]!.up.split('\n').length).toBe(
      readFileSync(path.join(dir, 'deploy', 'appschema.sql'), 'utf8').split('\n').length,
    );
    const { url, query } = await server.database();
    await up({ connectionString: url, migrations });
    expect((await verify({ connectionString: url, migrations })).map((r) => r.ok)).toEqual([true, true, true]);
    await query('alter table flipr.flips drop column body');
    const broken = await verify({ connectionString: url, migrations });
    expect(broken.map((r) => r.ok)).toEqual([true, true, false]);
    expect(broken[2]!.detail).toContain('column "body" does not exist');
    await query("alter table flipr.flips add column body text not null default ''");
    await down({ connectionString: url, migrations, to: '0' });
    expect((await query("select to_regnamespace('flipr') as s")).rows[0].s).toBeNull();
  });

  it('a failing sqitch change leaves nothing behind (its COMMIT no longer ends the transaction early)', async () => {
    const dir = set('sqitch');
    writeFileSync(
      path.join(dir, 'deploy', 'flips.sql'),
      'BEGIN;\nCREATE TABLE flipr.flips (id bigint);\nSELECT 1 / 0;\nCOMMIT;\n',
    );
    const { url, query } = await server.database();
    await expect(up({ connectionString: url, migrations: loadMigrations(dir) })).rejects.toThrow(
      /rolled back, nothing of it remains/,
    );
    expect((await query("select to_regclass('flipr.flips') as t")).rows[0].t).toBeNull();
    expect(
      (await status({ connectionString: url, migrations: loadMigrations(dir) })).applied.map((r) => r.name),
    ).toEqual(['appschema', 'users']);
  });

  it('status works the same for every layout, detected or chosen with --format; a wrong layout is named', async () => {
    const { url } = await server.database();
    for (const name of ['golang-migrate', 'flyway', 'sqitch']) {
      const io = captureIo({ DATABASE_URL: url });
      expect(await dbMain(['status', '--dir', set(name)], io), io.err()).toBe(0);
      expect(io.out()).toMatch(/^0 applied, \d pending\n$/m);
      const chosen = captureIo({ DATABASE_URL: url });
      expect(await dbMain(['status', '--dir', set(name), '--format', name], chosen)).toBe(0);
    }
    const wrong = captureIo({ DATABASE_URL: url });
    expect(await dbMain(['status', '--dir', set('flyway'), '--format', 'golang-migrate'], wrong)).toBe(64);
    expect(wrong.err()).toContain('V1__create_customers.sql: unexpected file name, expected <digits>_<name>.up.sql');
    expect(() => loadMigrations(set('sqitch'), { format: 'flyway' })).toThrow(MigrationFilesError);
    const bad = captureIo({ DATABASE_URL: url });
    expect(await dbMain(['status', '--format', 'liquibase'], bad)).toBe(64);
  });
});
