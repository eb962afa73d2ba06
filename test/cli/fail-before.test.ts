// --fail-before: a rollback drill from the command line; a step id the section lacks is refused
// before anything runs, so a typo never turns a drill into a real run.
import { describe, expect, it } from 'vitest';
import { tempDir } from '../temp.js';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../helpers.js';

describe('--fail-before', () => {
  const dir = tempDir('exec-doc-failbefore-');
  writeFileSync(
    path.join(dir, 'doc.md'),
    '# D\n\n## Two\n\n```bash {id=one rollback=undo-one}\ntouch "$EXEC_DOC_RUN_DIR/../../../one"\n```\n\n```bash {id=undo-one kind=rollback}\nrm "$EXEC_DOC_RUN_DIR/../../../one"\n```\n\n```bash {id=two}\ntouch "$EXEC_DOC_RUN_DIR/../../../two"\n```\n',
  );
  const run = async (...extra: string[]) => {
    const io = captureIo({ ...process.env, NO_COLOR: '1', EXEC_DOC_FAIL_BEFORE: '' });
    const code = await main(
      ['run', `${path.join(dir, 'doc.md')}#two`, '--state-dir', path.join(dir, 'state'), ...extra],
      io,
    );
    return { code, out: io.out(), err: io.err() };
  };

  it('fails the named step before it runs and rolls back the steps before it', async () => {
    const r = await run('--fail-before', 'two');
    expect(r.code).toBe(1);
    expect(r.out).toContain('failed on purpose before it ran (--fail-before): a rollback drill');
    expect(existsSync(path.join(dir, 'one'))).toBe(false);
    expect(existsSync(path.join(dir, 'two'))).toBe(false);
  });

  it('refuses a step the section does not have, before anything runs', async () => {
    const r = await run('--fail-before', 'tow');
    expect(r.code).toBe(64);
    expect(r.err).toMatch(/--fail-before tow: no such step in \S*doc\/two\n {2}Its forward steps: one, two/);
    expect(existsSync(path.join(dir, 'one'))).toBe(false);
  });

  it('refuses a rollback block (it would never be failed), from the option and from EXEC_DOC_FAIL_BEFORE', async () => {
    const r = await run('--fail-before', 'undo-one');
    expect(r.code).toBe(64);
    expect(r.err).toMatch(
      /--fail-before undo-one: not a forward step of \S*doc\/two \(a rollback, verification or teardown block is never failed on purpose\)\n {2}Its forward steps: one, two/,
    );
    const io = captureIo({ ...process.env, NO_COLOR: '1', EXEC_DOC_FAIL_BEFORE: 'two, undo-one' });
    const code = await main(['run', `${path.join(dir, 'doc.md')}#two`, '--state-dir', path.join(dir, 'state')], io);
    expect(code).toBe(64);
    expect(io.err()).toContain('--fail-before undo-one: not a forward step');
    expect(existsSync(path.join(dir, 'one'))).toBe(false);
  });
});
