// Point-in-time recovery with real WAL archiving on the embedded PostgreSQL's binaries: the
// emergency guide's drill end to end and under an injected failure, and the recovery script
// itself honouring recovery_target_time (two targets, two different results) and refusing to
// recover over anything that exists.
import { spawnSync } from 'node:child_process';
import { tempDir } from '../temp.js';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, runGuideSection } from '../helpers.js';
import { queryAt } from './pg-helpers.js';

const SCRIPT = path.join(ROOT, 'scripts', 'procedures', 'database', 'pitr.sh');
const pitr = (...args: string[]) => spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8' });
const leftovers = () => readdirSync(os.tmpdir()).filter((f) => f.startsWith('exec-doc-pitr-'));
const query = (port: number, sql: string) => queryAt(`postgresql://postgres@127.0.0.1:${port}/postgres`, sql);

const started: string[] = [];
const folders: string[] = [];
afterAll(() => {
  for (const dir of started) pitr('stop', dir);
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

describe('point-in-time recovery', () => {
  it('the drill recovers the dropped table with the orders only the WAL held, and leaves nothing running', async () => {
    const before = leftovers();
    const outcome = await runGuideSection('emergency-procedures/point-in-time-recovery');
    expect(outcome.exitCode, outcome.record.failureReason ?? '').toBe(0);
    const recover = outcome.record.steps.find((s) => s.stepId === 'pitr-recover');
    expect(recover?.outputExcerpt).toMatch(/recovery stopping before commit of transaction \d+/);
    expect(outcome.record.steps.find((s) => s.stepId === 'pitr-recovered')).toMatchObject({ status: 'passed' });
    expect(leftovers()).toEqual(before);
  }, 120_000);

  it('a failure after the recovery throws the recovered server away and keeps the evidence until the drill ends', async () => {
    const before = leftovers();
    const outcome = await runGuideSection('emergency-procedures/point-in-time-recovery', {
      env: { EXEC_DOC_FAIL_BEFORE: 'pitr-switch' },
    });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.record.rollback).toMatchObject({ complete: true, undone: expect.arrayContaining(['pitr-recover']) });
    expect(outcome.record.steps.find((s) => s.stepId === 'pitr-nothing-left')).toMatchObject({ status: 'passed' });
    expect(leftovers()).toEqual(before);
  }, 120_000);

  it('stops exactly at the target time: before the later writes, or after them and before the drop', async () => {
    const primary = tempDir('exec-doc-pitr-test-');
    started.push(primary);
    const port = await freePort();
    expect(pitr('primary', primary, String(port)).status).toBe(0);
    await query(port, 'create table notes (id int primary key); insert into notes select generate_series(1, 100)');
    const base = path.join(tempDir('exec-doc-pitr-test-base-'), 'base');
    folders.push(path.dirname(base));
    const backup = pitr(
      'base-backup',
      `postgresql://postgres@127.0.0.1:${port}/postgres`,
      path.join(primary, 'data'),
      base,
    );
    expect(backup.status, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/^base backup in .*: WAL from [0-9A-F/]+ to [0-9A-F/]+, archived\n$/);
    await new Promise((r) => setTimeout(r, 1100));
    const early = (await query(port, 'select now()::text as t')).rows[0].t as string;
    await new Promise((r) => setTimeout(r, 1100));
    await query(port, 'insert into notes select generate_series(101, 150)');
    await new Promise((r) => setTimeout(r, 1100));
    const late = (await query(port, 'select now()::text as t')).rows[0].t as string;
    await new Promise((r) => setTimeout(r, 1100));
    await query(port, 'drop table notes');
    await query(port, 'select pg_switch_wal()');
    // The drop's segment reaches the archive.
    for (let i = 0; i < 60; i++) {
      const done = await query(
        port,
        'select last_archived_wal >= pg_walfile_name(pg_current_wal_lsn() - 1) as ok from pg_stat_archiver',
      );
      if (done.rows[0].ok) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const recoverTo = async (target: string) => {
      // Not created: the script makes it (as root, for the postgres user, whose parents must let it in).
      const dir = path.join(os.tmpdir(), `exec-doc-pitr-test-r-${process.pid}-${started.length}`);
      started.push(dir);
      const p = await freePort();
      const r = pitr('recover', base, path.join(primary, 'archive'), target, dir, String(p));
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`recovered server on 127.0.0.1:${p}`);
      const rows = (await query(p, 'select count(*)::int as n from notes')).rows[0].n as number;
      return { dir, rows };
    };
    expect((await recoverTo(early)).rows).toBe(100);
    const after = await recoverTo(late);
    expect(after.rows).toBe(150);
    // The damaged server is as the accident left it.
    expect((await query(port, `select to_regclass('notes') is null as dropped`)).rows[0].dropped).toBe(true);

    // Never over something that exists, never from something that is not a base backup.
    const over = pitr('recover', base, path.join(primary, 'archive'), late, after.dir, '1');
    expect(over.status).toBe(1);
    expect(over.stderr).toContain('exists: recovery goes into a new folder, never over a server');
    const notBase = pitr('recover', primary, path.join(primary, 'archive'), late, path.join(primary, 'x'), '1');
    expect(notBase.stderr).toContain('holds no backup_label: not a base backup');
    expect(pitr('recover').status).toBe(64);
    if (process.getuid?.() === 0) {
      const closed = path.join(tempDir('exec-doc-pitr-test-closed-'), 'r');
      folders.push(path.dirname(closed));
      const shut = pitr('recover', base, path.join(primary, 'archive'), late, closed, '1');
      expect(shut.stderr).toContain('the postgres user cannot enter');
    }
    expect(existsSync(path.join(primary, 'x'))).toBe(false);
  }, 120_000);
});
