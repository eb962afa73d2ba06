// The standalone gated upgrade script (scripts/procedures/database/upgrade.sh) against a real
// PostgreSQL 15 server from the machine's binaries: it upgrades and verifies, refuses to start
// when a pre-upgrade check fails, and rolls a failed upgrade back to a database proven identical.
import path from 'node:path';
import { cpSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, tempDir } from '../helpers.js';

const PG15 = path.join(ROOT, 'scripts', 'procedures', 'database', 'pg15.sh');
const SCRIPT = path.join(ROOT, 'scripts', 'procedures', 'database', 'upgrade.sh');
let serverDir: string;
let port: number;

beforeAll(async () => {
  serverDir = tempDir('exec-doc-upgrade-sh-');
  port = await freePort();
  await execa('bash', [PG15, 'start', serverDir, String(port)]);
}, 60_000);
afterAll(async () => {
  await execa('bash', [PG15, 'stop', serverDir]).catch(() => undefined);
});

async function database(): Promise<string> {
  const name = `upg_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return `postgresql://postgres@127.0.0.1:${port}/${name}`;
}

function setup(extra?: { up: string; down: string }): { migrations: string; config: string; state: string } {
  const dir = tempDir();
  const migrations = path.join(dir, 'migrations');
  cpSync(path.join(ROOT, 'scripts', 'procedures', 'database', 'orders'), migrations, { recursive: true });
  if (extra) {
    writeFileSync(path.join(migrations, '0004_extra.up.sql'), extra.up);
    writeFileSync(path.join(migrations, '0004_extra.down.sql'), extra.down);
  }
  const config = path.join(dir, 'exec-doc.checks.yaml');
  writeFileSync(
    config,
    [
      'checks:',
      '  postgres.long-transactions: { warnSeconds: 1, failSeconds: 2 }',
      '  ledger.applied: { type: ledger.consistent, migrations: migrations, allowPending: false }',
      'phases:',
      '  pre-upgrade: [postgres.reachable, postgres.long-transactions, snapshot.baseline]',
      '  post-upgrade: [postgres.integrity, ledger.applied]',
      '  post-rollback: [postgres.integrity, snapshot.identical]',
      '',
    ].join('\n'),
  );
  return { migrations, config, state: path.join(dir, 'state') };
}

const run = (url: string, s: ReturnType<typeof setup>) =>
  execa('bash', [SCRIPT, s.migrations], {
    env: { DATABASE_URL: url, CHECKS_CONFIG: s.config, EXEC_DOC_STATE_DIR: s.state, NO_COLOR: '1' },
    reject: false,
    cwd: tempDir(),
  });

const tables = async (url: string): Promise<string[]> => {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (
      await c.query("select table_name from information_schema.tables where table_schema = 'public' order by 1")
    ).rows.map((r) => r.table_name as string);
  } finally {
    await c.end();
  }
};

describe('upgrade.sh', () => {
  it('upgrades and verifies (exit 0)', async () => {
    const url = await database();
    const r = await run(url, setup());
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/post-upgrade: 2 checks .*\n[\s\S]*PASS    ledger\.applied +3 applied, 0 pending/);
    expect(r.stderr).toContain('upgrade.sh: upgraded from version 0 and verified');
    expect(await tables(url)).toEqual(['customers', 'orders']);
  }, 120_000);

  it('rolls a failed upgrade back and proves the database identical (exit 2)', async () => {
    const url = await database();
    const r = await run(
      url,
      setup({ up: 'create table half_done (id int);\nselect 1/0;\n', down: 'drop table if exists half_done;\n' }),
    );
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(2);
    expect(r.stderr).toContain('Migration 0004_extra (up) failed');
    expect(r.stdout).toMatch(/PASS    snapshot\.identical +0 differences/);
    expect(r.stderr).toContain('upgrade.sh: rolled back to version 0; the database is identical to the baseline');
    expect(await tables(url)).toEqual([]);
  }, 120_000);

  it('changes nothing when a pre-upgrade check fails (exit 1)', async () => {
    const url = await database();
    const holder = new pg.Client({ connectionString: url, application_name: 'nightly-report' });
    await holder.connect();
    await holder.query('begin');
    await holder.query('select 1');
    await new Promise((resolve) => setTimeout(resolve, 2200));
    try {
      const r = await run(url, setup());
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(1);
      expect(r.stdout).toMatch(/FAIL    postgres\.long-transactions/);
      expect(r.stdout).toContain('nightly-report');
      expect(r.stderr).toContain('upgrade.sh: the pre-upgrade checks did not pass; nothing was changed');
      expect(await tables(url)).toEqual([]);
    } finally {
      await holder.end();
    }
  }, 120_000);
});
