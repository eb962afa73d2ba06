// The security checks against real files and a real PostgreSQL: secrets others can read, state
// open to others, a world-writable script, a superuser or CREATEROLE role, a connection without TLS.
import pg from 'pg';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useEmbeddedServer } from '../db/pg-helpers.js';
import { pgContext, runCheck } from './helpers.js';
import { tempDir } from '../helpers.js';

const server = useEmbeddedServer('checks-security');

describe('security.permissions', () => {
  it('passes owner-only secrets and private state, and fails on each kind of exposure', async () => {
    const dir = tempDir('exec-doc-perm-');
    const key = path.join(dir, 'ci.key');
    const state = path.join(dir, 'state');
    const policy = path.join(dir, 'exec-doc.policy.yaml');
    writeFileSync(key, 'k', { mode: 0o600 });
    mkdirSync(state, { mode: 0o700 });
    writeFileSync(policy, 'version: 1\n', { mode: 0o644 });
    chmodSync(policy, 0o644);
    const settings = { secrets: [key], private: [state, path.join(dir, 'not-yet')], governing: [policy] };
    expect(await runCheck('security.permissions', settings)).toMatchObject({ status: 'pass', metric: 0 });
    chmodSync(key, 0o640);
    chmodSync(state, 0o755);
    chmodSync(policy, 0o666);
    const bad = await runCheck('security.permissions', settings);
    expect(bad).toMatchObject({ status: 'fail', metric: 3, value: '3 of 4 path(s)' });
    expect(bad.detail).toContain(`${key}: secret readable or writable by group/others (0640); chmod 600`);
    expect(bad.detail).toContain(`${state}: open to group/others (0755); chmod 700`);
    expect(bad.detail).toMatch(/exec-doc\.policy\.yaml: its permissions are 0666: group or others can change it/);
    expect(await runCheck('security.permissions', {})).toMatchObject({ status: 'warn', value: 'nothing configured' });
  });
});

describe('security.scripts', () => {
  it('fails on a world-writable script and on a group-writable folder, naming them', async () => {
    const dir = tempDir('exec-doc-scripts-');
    mkdirSync(path.join(dir, 'tools'), { mode: 0o755 });
    writeFileSync(path.join(dir, 'tools', 'a.sh'), 'echo a', { mode: 0o755 });
    chmodSync(dir, 0o755);
    expect(await runCheck('security.scripts', { paths: [dir] })).toMatchObject({
      status: 'pass',
      value: '3 file(s) and folder(s)',
    });
    chmodSync(path.join(dir, 'tools', 'a.sh'), 0o757);
    chmodSync(path.join(dir, 'tools'), 0o775);
    const bad = await runCheck('security.scripts', { paths: [dir] });
    expect(bad).toMatchObject({ status: 'fail', metric: 2 });
    expect(bad.detail).toContain('a.sh: writable by everyone (0757)');
    expect(bad.detail).toContain('tools: writable by its group (0775)');
    expect(await runCheck('security.scripts', { paths: [path.join(dir, 'nope')] })).toMatchObject({ status: 'error' });
  });
});

describe('postgres.least-privilege', () => {
  const client = () => new pg.Client({ connectionString: server.url });
  afterAll(async () => {
    const c = client();
    await c.connect();
    await c.query('drop role if exists lp_migrator, lp_admin, lp_owner');
    await c.end();
  });

  it('passes a role with only grants, fails one that holds CREATEROLE through a role it inherits', async () => {
    const c = client();
    await c.connect();
    await c.query(
      'create role lp_owner nologin; create role lp_migrator nologin; grant lp_owner to lp_migrator; create role lp_admin nologin createrole',
    );
    expect(await runCheck('postgres.least-privilege', { role: 'lp_migrator' }, pgContext(server.url))).toMatchObject({
      status: 'pass',
      value: 'no special attributes',
    });
    await c.query('grant lp_admin to lp_migrator');
    const bad = await runCheck('postgres.least-privilege', { role: 'lp_migrator' }, pgContext(server.url));
    expect(bad).toMatchObject({ status: 'fail', value: 'createrole' });
    expect(bad.detail).toContain('CREATEROLE (through lp_admin)');
    expect(
      await runCheck('postgres.least-privilege', { role: 'lp_migrator', allow: ['createrole'] }, pgContext(server.url)),
    ).toMatchObject({ status: 'pass' });
    // The session user of a real target that is a superuser fails; on the embedded server it warns.
    expect(await runCheck('postgres.least-privilege', {}, pgContext(server.url))).toMatchObject({ status: 'fail' });
    expect(
      await runCheck(
        'postgres.least-privilege',
        {},
        { postgres: { url: server.url, description: 'embedded', dataDir: '/tmp/x' } },
      ),
    ).toMatchObject({ status: 'warn' });
    await c.end();
  });
});

describe('postgres.tls', () => {
  it('passes a loopback connection without TLS, and fails it when TLS is required there too', async () => {
    expect(await runCheck('postgres.tls', {}, pgContext(server.url))).toMatchObject({
      status: 'pass',
      value: 'not encrypted (local)',
    });
    expect(await runCheck('postgres.tls', { requireForLocal: true }, pgContext(server.url))).toMatchObject({
      status: 'fail',
      value: 'not encrypted',
    });
  });
});
