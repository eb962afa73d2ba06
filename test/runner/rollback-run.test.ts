// `exec-doc rollback <run-id>`: a run that succeeded is undone later, through the real CLI:
// the steps' rollbacks in reverse, the checks that prove the system is back, the same run's record.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliInProcess, parseEvents, tempDir, writeDoc } from '../helpers.js';
import type { RunRecord } from '../../src/results/record.js';

const DOC = (fail: string) => `# Release

## Ship {#ship}

\`\`\`bash {id=absent kind=check}
test ! -e "$WORK/a" && test ! -e "$WORK/b"
\`\`\`

\`\`\`bash {id=make-a rollback=undo-a}
echo a > "$WORK/a"
\`\`\`

\`\`\`bash {id=undo-a kind=rollback}
rm "$WORK/a"
\`\`\`

\`\`\`bash {id=make-b rollback=undo-b}
echo b > "$WORK/b"
\`\`\`

\`\`\`bash {id=undo-b kind=rollback}
${fail}rm "$WORK/b"
\`\`\`

\`\`\`bash {id=present kind=check}
test -e "$WORK/a" && test -e "$WORK/b"
\`\`\`
`;

async function succeededRun(source: string) {
  const { file, dir } = writeDoc(source);
  const work = tempDir();
  const env = { WORK: work, EXEC_DOC_STATE_DIR: path.join(dir, '.state'), PATH: process.env.PATH ?? '' };
  const run = await cli(['run', `${file}#ship`, '--json'], { env });
  expect(run.exitCode).toBe(0);
  const runId = parseEvents(run.stdout)[0]!.runId;
  return { file, dir, work, env, runId };
}

const record = (dir: string, runId: string) =>
  JSON.parse(readFileSync(path.join(dir, '.state', 'runs', runId, 'result.json'), 'utf8')) as RunRecord;

describe('exec-doc rollback <run-id>', () => {
  it('undoes a run that succeeded, proves it with the pre checks, and refuses a second time', async () => {
    const { dir, work, env, runId } = await succeededRun(DOC(''));
    expect(existsSync(path.join(work, 'a')) && existsSync(path.join(work, 'b'))).toBe(true);
    const r = await cliInProcess(['rollback', runId], { env });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(existsSync(path.join(work, 'a')) || existsSync(path.join(work, 'b'))).toBe(false);
    const rec = record(dir, runId);
    expect(rec.status).toBe('rolled-back');
    expect(rec.exitCode).toBe(0);
    expect(rec.rollback).toMatchObject({ ran: true, complete: true, undone: ['make-b', 'make-a'], notUndone: [] });
    // The pre check ran again after the rollback, and passed: the files are gone.
    expect(rec.steps.filter((s) => s.phase === 'verify').map((s) => [s.stepId, s.status])).toEqual([
      ['absent', 'passed'],
    ]);
    expect(r.stdout).toContain("rolled back at the operator's request, and verified (exit 0)");

    const twice = await cliInProcess(['rollback', runId], { env });
    expect(twice.exitCode).toBe(64);
    expect(twice.stderr).toContain(`Run \`${runId}\` ended rolled-back (exit 0)`);
  });

  it('rolls back from a damaged journal, saying which line was damaged', async () => {
    const { dir, work, env, runId } = await succeededRun(DOC(''));
    const journal = path.join(dir, '.state', 'runs', runId, 'state.ndjson');
    const lines = readFileSync(journal, 'utf8').split('\n');
    writeFileSync(journal, [lines[0], lines[1]!.slice(0, 20) + '\u0000garbled', ...lines.slice(2)].join('\n'));
    const r = await cliInProcess(['rollback', runId], { env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/the state journal's line 2 \(column \d+\) is damaged/);
    expect(existsSync(path.join(work, 'a')) || existsSync(path.join(work, 'b'))).toBe(false);
  });

  it('a rollback step that fails (its target is down): exit 2 and what is left; once it is back, rollback finishes it', async () => {
    const { dir, work, env, runId } = await succeededRun(
      DOC('test ! -e "$WORK/down" || { echo "the target is down" >&2; exit 1; }\n'),
    );
    writeFileSync(path.join(work, 'down'), '');
    const r = await cliInProcess(['rollback', runId], { env });
    expect(r.exitCode).toBe(2);
    let rec = record(dir, runId);
    expect(rec.status).toBe('rollback-incomplete');
    // Earlier steps' rollbacks may depend on the one that failed: none runs after it.
    expect(rec.rollback.notUndone).toEqual(['make-b', 'make-a']);
    expect(rec.rollback.remaining.map((x) => `${x.rollback}@${x.line}`)).toEqual(['undo-b@21', 'undo-a@13']);
    expect(r.stdout).toContain('undo-b (line 21) undoes make-b');
    expect(existsSync(path.join(work, 'a'))).toBe(true);

    rmSync(path.join(work, 'down'));
    const again = await cliInProcess(['rollback', runId], { env });
    expect(again.exitCode).toBe(0);
    rec = record(dir, runId);
    expect(rec.status).toBe('rolled-back');
    expect(rec.rollback).toMatchObject({ complete: true, undone: ['make-b', 'make-a'], notUndone: [], remaining: [] });
    expect(existsSync(path.join(work, 'a')) || existsSync(path.join(work, 'b'))).toBe(false);
  });

  it('refuses a run whose section changed since, and one that did not succeed', async () => {
    const { file, env, runId } = await succeededRun(DOC(''));
    writeFileSync(file, DOC('echo changed\n'));
    const changed = await cliInProcess(['rollback', runId], { env });
    expect(changed.exitCode).toBe(64);
    expect(changed.stderr).toContain('changed since run');

    const failing = writeDoc('# F\n\n## Ship {#ship}\n\n```bash {id=x rollback=none}\nexit 1\n```\n');
    const failedEnv = { ...env, EXEC_DOC_STATE_DIR: path.join(failing.dir, '.state') };
    const failed = await cli(['run', `${failing.file}#ship`, '--json'], { env: failedEnv });
    expect(failed.exitCode).toBe(1);
    const r = await cli(['rollback', parseEvents(failed.stdout)[0]!.runId], { env: failedEnv });
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain('only a run that succeeded, or one whose rollback did not finish, is rolled back');

    // A plain runbook (no rollback anywhere) that succeeded: nothing exec-doc could undo.
    const plain = writeDoc('# P\n\n## Ship {#ship}\n\n```bash {id=x}\ntrue\n```\n');
    const plainEnv = { ...env, EXEC_DOC_STATE_DIR: path.join(plain.dir, '.state') };
    const ok = await cli(['run', `${plain.file}#ship`, '--json'], { env: plainEnv });
    const none = await cliInProcess(['rollback', parseEvents(ok.stdout)[0]!.runId], { env: plainEnv });
    expect(none.exitCode).toBe(64);
    expect(none.stderr).toContain('declares no rollback: exec-doc cannot undo what run');
  });

  it('refuses a run on the embedded PostgreSQL that is gone', async () => {
    const stateDir = tempDir();
    const run = await cli(['run', 'quick-start/demo-migration', '--json', '--state-dir', stateDir]);
    expect(run.exitCode).toBe(0);
    const r = await cli(['rollback', parseEvents(run.stdout)[0]!.runId, '--state-dir', stateDir]);
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain('which was removed when the run ended');
    expect(r.stderr).toContain('--keep-db');
  }, 60_000);
});
