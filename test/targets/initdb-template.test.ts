// The embedded server's cluster comes from a template initdb made once per binaries and OS user:
// shared by later servers, made whole or not at all, and never taken from a folder that is not
// the server owner's own.
import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openPostgres } from '../../src/targets/postgres.js';
import { tempDir } from '../helpers.js';

const saved = process.env.TMPDIR;
afterEach(() => {
  if (saved === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = saved;
});

/** A TMPDIR of its own that the postgres user (the server's owner as root) can use. */
function ownTmp(): string {
  const dir = tempDir('exec-doc-tmpl-');
  chmodSync(dir, 0o1777);
  process.env.TMPDIR = dir;
  return dir;
}

async function serve(runId: string): Promise<string> {
  const server = await openPostgres(
    { kind: 'postgres', urlEnv: 'EXEC_DOC_TEST_NO_URL', database: 'app' },
    { runId, env: {} },
  );
  try {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    const r = await client.query<{ db: string }>('select current_database() as db');
    await client.end();
    return r.rows[0]!.db;
  } finally {
    await server.release({ keep: false, forResume: false });
  }
}

describe('the initdb template', () => {
  it('is made by the first server and copied by the next; nothing half-made is left', async () => {
    const tmp = ownTmp();
    expect(await serve(`tmpl-a-${process.pid}`)).toBe('app');
    const templates = () => readdirSync(tmp).filter((n) => n.startsWith('exec-doc-initdb-'));
    expect(templates()).toHaveLength(1);
    expect(templates()[0]).toMatch(/^exec-doc-initdb-\d+-\d+-\d+$/);
    expect(existsSync(path.join(tmp, templates()[0]!, 'PG_VERSION'))).toBe(true);
    expect(await serve(`tmpl-b-${process.pid}`)).toBe('app');
    expect(templates()).toHaveLength(1);
    // The servers' own folders are gone.
    expect(readdirSync(tmp).filter((n) => n.startsWith('exec-doc-pg-'))).toEqual([]);
  }, 60_000);

  it('ignores a folder at its path that others can read (someone else may have put it there)', async () => {
    const tmp = ownTmp();
    expect(await serve(`tmpl-c-${process.pid}`)).toBe('app');
    const name = readdirSync(tmp).find((n) => n.startsWith('exec-doc-initdb-'))!;
    const fresh = ownTmp();
    const planted = path.join(fresh, name);
    mkdirSync(planted, { mode: 0o755 });
    chmodSync(planted, 0o755);
    // Still a working server (initdb into its own folder); the planted folder is left as it was.
    expect(await serve(`tmpl-d-${process.pid}`)).toBe('app');
    expect(readdirSync(planted)).toEqual([]);
  }, 60_000);
});
