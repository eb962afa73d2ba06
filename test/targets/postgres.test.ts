import { describe, expect, it } from 'vitest';
import { checkPostgres, configuredUrl, describeUrl } from '../../src/targets/postgres.js';
import { connectionStringSecrets } from '../../src/secrets/masker.js';

const target = { kind: 'postgres' as const, urlEnv: 'DATABASE_URL', database: 'postgres' };

describe('the configured target', () => {
  it('prefers the URL variable, then PG* variables, else the embedded server', () => {
    expect(configuredUrl(target, { DATABASE_URL: 'postgresql://a@b/c' })).toBe('postgresql://a@b/c');
    expect(
      configuredUrl(target, {
        PGHOST: 'db.internal',
        PGUSER: 'ops',
        PGPASSWORD: 'p@ss',
        PGDATABASE: 'app',
        PGPORT: '6432',
      }),
    ).toBe('postgresql://ops:p%40ss@db.internal:6432/app');
    expect(configuredUrl(target, {})).toBeUndefined();
  });

  it('never shows a password', () => {
    expect(describeUrl('postgresql://ops:hunter2@db:5432/app?password=x')).toBe('postgresql://ops:***@db:5432/app');
    expect(connectionStringSecrets('postgresql://ops:p%40ss@db/app')).toEqual(['p%40ss', 'p@ss']);
  });

  it('reports an unreachable server as a missing requirement, with the URL masked', async () => {
    const r = await checkPostgres(target, { DATABASE_URL: 'postgresql://ops:hunter2@127.0.0.1:1/app' });
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(
      /^cannot connect to postgresql:\/\/ops:\*\*\*@127\.0\.0\.1:1\/app: .*; check DATABASE_URL, or unset it to use the embedded server$/,
    );
    expect(r.detail).not.toContain('hunter2');
  });
});
