// Exit 70 means a bug in exec-doc, never a user's mistake: every command, given missing files and
// folders, a folder where a file belongs, a file where a folder belongs, bad flags and outputs
// that cannot be written, exits 64 (or 3) with a short message naming the problem, no stack
// trace, and nothing run.
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, tempDir } from '../helpers.js';

const DB = path.join(ROOT, 'bin', 'db.js');
const dir = tempDir('exec-doc-bad-input-');
const file = path.join(dir, 'ok.md');
const folder = path.join(dir, 'folder');
mkdirSync(folder);
writeFileSync(file, '# G\n\n## S\n\n```bash {id=a rollback=none}\ntouch ran\n```\n');
const missing = path.join(dir, 'missing');

const EXEC_DOC_CASES: Array<[string, string[]]> = [
  ['validate a missing file', ['validate', `${missing}.md`]],
  ['validate a folder', ['validate', folder]],
  ['validate with a missing docs folder', ['validate', '--docs', missing]],
  ['list with a missing docs folder', ['list', '--docs', missing]],
  ['list with a file as docs folder', ['list', '--docs', file]],
  ['check-docs with a missing docs folder', ['check-docs', '--docs', missing]],
  ['plan with a missing docs folder', ['plan', 'g/s', '--docs', missing]],
  ['plan a folder', ['plan', `${folder}#s`]],
  ['run a folder', ['run', `${folder}#s`]],
  ['run a missing file', ['run', `${missing}.md#s`]],
  ['run a missing section', ['run', `${file}#nope`]],
  ['run with a report in a folder that is a file', ['run', `${file}#s`, '--report', 'junit', path.join(file, 'x.xml')]],
  ['run with a report that is a folder', ['run', `${file}#s`, '--report', 'junit', folder]],
  ['run with a state folder that is a file', ['run', `${file}#s`, '--state-dir', file]],
  ['run with a bad flag', ['run', `${file}#s`, '--bogus']],
  ['run with a malformed --set', ['run', `${file}#s`, '--set', 'novalue']],
  ['run with a missing argument', ['run']],
  ['resume an unknown run', ['resume', 'no-such-run', '--state-dir', path.join(dir, 'state')]],
  ['resume with contradicting flags', ['resume', 'x', '--rollback', '--rerun-interrupted']],
  ['check with a missing configuration', ['check', 'pre-upgrade', '--config', `${missing}.yaml`]],
  ['check with a configuration that is a folder', ['check', 'pre-upgrade', '--config', folder]],
  [
    'check with an unwritable Prometheus file',
    ['check', 'pre-upgrade', '--prometheus-file', path.join(file, 'last.prom')],
  ],
  ['check with a bad format', ['check', 'pre-upgrade', '--format', 'xml']],
  ['check a missing section', ['check', `${missing}.md#s`]],
];

const DB_CASES: Array<[string, string[]]> = [
  ['status with a missing folder', ['status', '--dir', missing]],
  ['lint a file as folder', ['lint', '--dir', file]],
  ['lint a missing file', ['lint', `${missing}.sql`]],
  ['compare a missing snapshot', ['compare', `${missing}.json`]],
  ['compare a document that is no snapshot', ['compare', file, file]],
  ['restore from a missing manifest', ['restore', '--from', `${missing}.json`]],
  ['snapshot into a folder that is a file', ['snapshot', '--out', path.join(file, 'x.json')]],
  ['backup into a folder that is a file', ['backup', '--out', path.join(file, 'm.json')]],
  ['backfill without its options', ['backfill']],
  ['a bad flag', ['up', '--bogus']],
  ['an unknown command', ['frobnicate']],
];

async function attempt(bin: string, args: string[]) {
  // A database that does not answer: nothing here may get as far as needing one.
  const r = await execa(process.execPath, [bin, ...args], {
    cwd: dir,
    reject: false,
    stdin: 'ignore',
    timeout: 60_000,
    env: { NO_COLOR: '1', DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none', TMPDIR: dir },
  });
  return { exitCode: r.exitCode, stderr: String(r.stderr), stdout: String(r.stdout) };
}

function expectRefused(r: { exitCode?: number; stderr: string; stdout: string }, prefix: string): void {
  expect([64, 3], r.stderr).toContain(r.exitCode);
  expect(r.stderr).toMatch(new RegExp(`^${prefix}: \\S`));
  expect(r.stderr).not.toMatch(/internal error|\n\s+at .+:\d+:\d+\)?/);
  expect(r.stderr.trim().split('\n').length, r.stderr).toBeLessThanOrEqual(8);
}

describe('bad input is refused, never an internal error', () => {
  it.each(EXEC_DOC_CASES)('exec-doc: %s', async (_name, args) => {
    expectRefused(await attempt(BIN, args), 'exec-doc');
    expect(existsSync(path.join(dir, 'ran'))).toBe(false);
  });

  it.each(DB_CASES)('db: %s', async (_name, args) => {
    expectRefused(await attempt(DB, args), 'db');
  });

  it('a section of a document with annotation errors: the errors with their positions, not "no section"', async () => {
    const docs = path.join(dir, 'docs-with-errors');
    mkdirSync(docs, { recursive: true });
    writeFileSync(
      path.join(docs, 'g.md'),
      '# G\n\n## Only {#only}\n\n```bash {id=a rollback=none retries=many}\ntouch ran\n```\n',
    );
    for (const address of ['g/only', path.join(docs, 'g.md#only')]) {
      const r = await attempt(BIN, ['run', address, '--docs', docs]);
      expectRefused(r, 'exec-doc');
      expect(r.stderr).toContain('g.md has 1 error; nothing ran');
      expect(r.stderr).toContain('g.md:5:37: error: Unexpected value for `retries`');
    }
  });

  it.skipIf(process.getuid?.() === 0)(
    'an unreadable document (not testable as root, who reads everything)',
    async () => {
      const { chmodSync } = await import('node:fs');
      const locked = path.join(dir, 'locked.md');
      writeFileSync(locked, '# G\n');
      chmodSync(locked, 0o000);
      expectRefused(await attempt(BIN, ['validate', locked]), 'exec-doc');
    },
  );
});
