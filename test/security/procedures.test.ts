// The security guide's procedures, failed on purpose before each step: the rotation must leave
// the application on its old credentials without one failed connection, the migration role must
// leave no role and no column behind. And a password given as a secret file reaches PostgreSQL as
// a SCRAM verifier, and no file of the run holds it.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, runGuideSection, tempDir } from '../helpers.js';

const ROTATION = 'security/rotate-a-database-password';
const MIGRATION = 'security/grant-and-revoke-a-least-privilege-migration-role';

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesBelow(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : [],
  );
}

describe('security procedures: failure matrix', () => {
  for (const step of ['rot-new-password', 'rot-move-app', 'rot-moved', 'rot-retire-old']) {
    it(`rotation failing before ${step}: the application is back on app_blue, never failed, and app_blue logs in`, async () => {
      const outcome = await runGuideSection(ROTATION, { env: { EXEC_DOC_FAIL_BEFORE: step } });
      const results = outcome.record.steps;
      expect(outcome.exitCode, JSON.stringify(results.map((r) => [r.stepId, r.phase, r.status, r.reason]))).toBe(1);
      expect(outcome.status).toBe('rolled-back');
      // The pre check ran again after the rollback and passed: app_blue, zero failures, password login.
      const verify = results.filter((r) => r.stepId === 'rot-healthy');
      expect(verify.map((r) => [r.phase, r.status])).toEqual([
        ['forward', 'passed'],
        ['verify', 'passed'],
      ]);
    }, 120_000);
  }

  for (const step of ['mig-grant', 'mig-limits', 'mig-migrate', 'mig-revoke']) {
    it(`migration role failing before ${step}: rolled back completely`, async () => {
      const outcome = await runGuideSection(MIGRATION, { env: { EXEC_DOC_FAIL_BEFORE: step } });
      expect(outcome.exitCode).toBe(1);
      expect(outcome.record.steps.filter((r) => r.phase === 'rollback').every((r) => r.status === 'passed')).toBe(true);
      // No role and no column are left: the pre check, run again after the rollback, says so.
      expect(outcome.record.steps.filter((r) => r.stepId === 'mig-before').map((r) => [r.phase, r.status])).toEqual([
        ['forward', 'passed'],
        ['verify', 'passed'],
      ]);
    }, 120_000);
  }

  it('a password given as a file is never in the run: not in output, events, logs, state or records', async () => {
    const dir = tempDir('exec-doc-rot-');
    const secret = 'correct-horse-battery-staple-42';
    writeFileSync(path.join(dir, 'pw'), `${secret}\n`, { mode: 0o600 });
    const stateDir = path.join(dir, 'state');
    const r = await cli([
      'run',
      ROTATION,
      '--secret-file',
      `new_password=${path.join(dir, 'pw')}`,
      '--state-dir',
      stateDir,
    ]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(secret);
    const files = filesBelow(stateDir);
    expect(files.some((f) => f.endsWith('events.ndjson'))).toBe(true);
    for (const file of files) expect(readFileSync(file, 'utf8'), file).not.toContain(secret);
    for (const file of files) expect(statSync(file).mode & 0o077, file).toBe(0);
    // Too short a password is refused before anything runs.
    writeFileSync(path.join(dir, 'short'), 'short', { mode: 0o600 });
    const short = await cli([
      'run',
      ROTATION,
      '--secret-file',
      `new_password=${path.join(dir, 'short')}`,
      '--state-dir',
      stateDir,
    ]);
    expect(short.exitCode).toBe(64);
    expect(short.stderr).toMatch(/parameter `new_password` .*\^\.\{16,\}\$/);
  }, 120_000);
});
