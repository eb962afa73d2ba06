// Runme documents run unchanged: the fixtures in test/fixtures/runme exercise each attribute and
// document option as Runme's documentation describes it, through the real command line and real
// processes (bash, perl, cat, a background sleep, piped standard input).
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, cli, captureIo, cliInProcess, extract, tempDir } from '../helpers.js';
import { loadDocument } from '../../src/documents/load.js';
import { main } from '../../src/cli/main.js';
import type { RunRecord } from '../../src/results/record.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'runme');

/** The fixtures copied to a fresh folder, with a state folder of its own. */
function workspace(): { dir: string; env: Record<string, string> } {
  const dir = tempDir('exec-doc-runme-');
  cpSync(FIXTURES, dir, { recursive: true });
  return { dir, env: { EXEC_DOC_STATE_DIR: path.join(dir, '.state'), PATH: process.env.PATH ?? '' } };
}

function lastRecord(dir: string): RunRecord {
  // The newest record (run ids of one second sort by their random part, not by time).
  const runs = path.join(dir, '.state', 'runs');
  const files = readdirSync(runs)
    .map((id) => path.join(runs, id, 'result.json'))
    .filter((f) => existsSync(f))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  return JSON.parse(readFileSync(files.at(-1)!, 'utf8')) as RunRecord;
}

describe('Runme documents', () => {
  it('reads every attribute: names as ids (renamed and numbered as Runme does), ignored blocks, tags, exclusions', async () => {
    const doc = await loadDocument(path.join(FIXTURES, 'attributes.md'), { docsRoot: FIXTURES, displayRoot: FIXTURES });
    expect(doc.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(doc.diagnostics.map((d) => [d.line, d.column, d.ruleId])).toEqual([
      [15, 10, 'name-as-id'],
      [25, 7, 'duplicate-name'],
      [75, 35, 'unknown-field'],
    ]);
    const [section] = doc.sections;
    expect(doc.sections).toHaveLength(1);
    const steps = Object.fromEntries(section!.steps.map((s) => [s.id, s]));
    expect(Object.keys(steps)).toEqual([
      'prompted',
      'no-language',
      'say-hello',
      'twice',
      'twice-2',
      'perl-block',
      'yaml-shown',
      'js-by-cat',
      'where',
      'tagged-a',
      'tagged-b',
      'only-by-name',
      'unknown-attribute',
    ]);
    expect(steps['no-language']).toMatchObject({ lang: 'sh', languageId: '' });
    expect(steps['perl-block']).toMatchObject({ lang: 'program', languageId: 'perl' });
    expect(steps['js-by-cat']).toMatchObject({ lang: 'js', interpreter: 'cat' });
    expect(steps['tagged-b']!.tags).toEqual(['beta', 'alpha']);
    expect(steps['only-by-name']!.excludeFromRunAll).toBe(true);
    expect(steps.where!.cwd).toBe('sub');
    // A plain runbook: no rollback anywhere, so no warning per step either.
    expect(section!.noRollbacks).toBe(true);
  });

  it('runs a whole Runme document: prompts stripped, interpreters found, cat for what has none, excluded blocks left out', async () => {
    const { dir, env } = workspace();
    const r = await cli(['run', path.join(dir, 'attributes.md')], { env });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('│ from a prompt');
    expect(r.stdout).toContain('│ no language given');
    expect(r.stdout).toContain('│ perl says 42');
    expect(r.stdout).toContain('│ key: value');
    expect(r.stdout).toContain('│ console.log("not run by node");');
    expect(r.stdout).toMatch(/→ (\[[^\]]*\] )?where[^\n]*\n {2}│ sub\n/);
    expect(r.stdout).toContain('│ still runs');
    expect(r.stdout).not.toContain('excluded from run all');
    expect(r.stdout).not.toContain('graph TD');
    expect(lastRecord(dir).steps.map((s) => s.stepId)).not.toContain('only-by-name');
  });

  it('runs one named block, even one excluded from its section, and the blocks of a tag', async () => {
    const { dir, env } = workspace();
    const file = path.join(dir, 'attributes.md');
    const one = await cliInProcess(['run', `${file}#only-by-name`], { env });
    expect(one.exitCode).toBe(0);
    expect(one.stdout).toContain('│ excluded from run all');
    let record = lastRecord(dir);
    expect(record.section.address).toMatch(/attributes\/every-runme-attribute#only-by-name$/);
    expect(record.steps.map((s) => s.stepId)).toEqual(['only-by-name']);

    const tagged = await cliInProcess(['run', file, '--tag', 'alpha'], { env });
    expect(tagged.exitCode).toBe(0);
    record = lastRecord(dir);
    expect(record.steps.map((s) => s.stepId)).toEqual(['tagged-a', 'tagged-b']);
    const beta = await cliInProcess(['run', file, '--tag', 'beta'], { env });
    expect(beta.exitCode).toBe(0);
    expect(lastRecord(dir).steps.map((s) => s.stepId)).toEqual(['tagged-b']);

    const none = await cliInProcess(['run', file, '--tag', 'gamma'], { env });
    expect(none.exitCode).toBe(64);
    expect(none.stderr).toContain('No block in');
    expect(none.stderr).toContain('Tags in');
    expect(none.stderr).toContain('alpha, beta');
    const unknown = await cliInProcess(['run', `${file}#only-by-nam`], { env });
    expect(unknown.exitCode).toBe(64);
    expect(unknown.stderr).toContain(`${file}#only-by-name`);
  });

  it('runs a document without headings as one section, and lists a file with the names run takes', async () => {
    const { dir, env } = workspace();
    const file = path.join(dir, 'no-headings.md');
    const target = tempDir();
    const r = await cliInProcess(['run', file], { env: { ...env, TMPDIR_FOR_TEST: target } });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(path.join(target, 'out', 'file.txt'), 'utf8')).toBe('written\n');
    expect(r.stdout).toContain('│ written');
    const listed = await cliInProcess(['list', '--json', file], { env });
    expect(listed.exitCode).toBe(0);
    const json = JSON.parse(listed.stdout) as {
      sections: Array<{ run: string; blocks: Array<{ id: string; run: string }> }>;
    };
    expect(json.sections.map((s) => s.run)).toEqual([`${file}#no-headings`]);
    expect(json.sections[0]!.blocks.map((b) => b.run)).toEqual([
      `${file}#make-dir`,
      `${file}#write-file`,
      `${file}#read-file`,
    ]);
    const text = await cliInProcess(['list', file], { env });
    expect(text.stdout).toContain('make-dir');
    expect(text.stdout).toContain('1 section, 3 blocks');
  });

  it('leaves a background block running while the next blocks run, and stops it when the run ends', async () => {
    const { dir, env } = workspace();
    const marker = path.join(dir, 'marker');
    const r = await cliInProcess(['run', path.join(dir, 'background.md')], { env: { ...env, MARKER: marker } });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('│ server marker present');
    expect(existsSync(marker)).toBe(true);
    const left = await execa('pgrep', ['-f', 'sleep 300'], { reject: false });
    // Other runs of this suite may have their own; none of ours survives (its run id is in its environment).
    for (const pid of String(left.stdout).split('\n').filter(Boolean)) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      expect(environ).not.toContain(marker);
    }
    // A background block that fails at once fails its step.
    writeFileSync(path.join(dir, 'bad-bg.md'), '# B\n\n```sh {"name":"crash","background":"true"}\nexit 4\n```\n');
    const bad = await cliInProcess(['run', path.join(dir, 'bad-bg.md')], { env });
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain('the background block stopped right after it started (exit code 4)');
  });

  it('gives an interactive block exec-doc’s standard input, and no other block', async () => {
    const { dir, env } = workspace();
    const r = await execa(process.execPath, [BIN, 'run', path.join(dir, 'interactive.md')], {
      env: { NO_COLOR: '1', ...env },
      input: 'Ada\nnot for the second block\n',
      reject: false,
    });
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toContain('│ hello Ada');
    expect(String(r.stdout)).toContain('│ no input');
  });

  it('carries exported variables from block to block in a document Runme saved, and asks for a message prompt', async () => {
    const { dir, env } = workspace();
    const file = path.join(dir, 'session.md');
    const missing = await cliInProcess(['run', file], { env });
    expect(missing.exitCode).toBe(1);
    // Exported variables carry; a variable that was only set (not exported) does not, as in a shell.
    expect(missing.stdout).toContain('│ hello from the first block in eu-west; count=unset');
    expect(missing.stdout).toContain(
      '`PROJECT_ID` has no value: the block asks for it (promptEnv) and nobody could be asked; set it in the environment',
    );
    const given = await cliInProcess(['run', file], {
      env: { ...env, PROJECT_ID: 'p-123', GREETING: 'from the environment' },
    });
    expect(given.exitCode).toBe(0);
    // promptEnv auto: a value already in the environment wins over the one written.
    expect(given.stdout).toContain('│ from the environment in eu-west; count=unset');
    expect(given.stdout).toContain('│ project: p-123');
    const isolated = await cliInProcess(['run', file, '--session', 'isolated'], { env: { ...env, PROJECT_ID: 'p-1' } });
    expect(isolated.exitCode).toBe(0);
    expect(isolated.stdout).toContain('│  in ; count=unset');
  });

  it('asks for a prompted value at a terminal, with the written value as the default', async () => {
    const { dir } = workspace();
    const io = captureIo({ EXEC_DOC_STATE_DIR: path.join(dir, '.state'), PATH: process.env.PATH }, { tty: true });
    const { Readable } = await import('node:stream');
    io.stdin = Object.assign(Readable.from(['p-from-terminal\n']), { isTTY: true }) as unknown as NodeJS.ReadStream;
    writeFileSync(
      path.join(dir, 'ask.md'),
      '# A\n\n```sh {"name":"ask","promptEnv":"auto"}\nexport PROJECT_ID="default-project"\necho "project: $PROJECT_ID"\n```\n',
    );
    const code = await main(['run', path.join(dir, 'ask.md'), '--no-color'], io);
    expect(code).toBe(0);
    expect(io.out()).toContain('? PROJECT_ID (default: default-project): ');
    expect(lastRecord(dir).steps[0]!.outputExcerpt).toBe('project: p-from-terminal');
  });

  it('applies the front matter: shell, cwd and skipPrompts; bash with pipefail as Runme runs it', async () => {
    const { dir, env } = workspace();
    const r = await cliInProcess(['run', path.join(dir, 'frontmatter.md')], { env });
    expect(r.stdout).toContain('│ bash\n  │ sub');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).not.toContain('not reached under pipefail');
  });

  it('reports the steps of a plain runbook that stayed done after a failure (exit 1), and exit 2 when the author asks for strictness', async () => {
    const { dir, env } = workspace();
    const out = tempDir();
    const r = await cliInProcess(['run', path.join(dir, 'failing.md')], { env: { ...env, OUT: out } });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('failed; the document declares no rollbacks, so nothing was undone (exit 1)');
    expect(r.stdout).toContain('stayed done (no rollback declared): first, second');
    const record = lastRecord(dir);
    expect(record.status).toBe('failed');
    expect(record.rollback.notUndoable.sort()).toEqual(['first', 'second']);
    expect(record.rollback.notUndone).toEqual([]);

    // Failing at its first block: nothing stayed done, and still nothing was rolled back.
    writeFileSync(path.join(dir, 'first.md'), '# F\n\n```sh {"name":"only"}\nexit 5\n```\n');
    const first = await cliInProcess(['run', path.join(dir, 'first.md')], { env });
    expect(first.exitCode).toBe(1);
    expect(lastRecord(dir).status).toBe('failed');
    expect(lastRecord(dir).rollback.notUndoable).toEqual([]);

    const strict = path.join(dir, 'strict.md');
    writeFileSync(
      strict,
      `---\nexec-doc:\n  strictRollback: true\n---\n${readFileSync(path.join(dir, 'failing.md'), 'utf8')}`,
    );
    const s = await cliInProcess(['run', strict], { env: { ...env, OUT: out } });
    expect(s.exitCode).toBe(2);
    expect(lastRecord(dir).rollback.notUndone.sort()).toEqual(['first', 'second']);
  });

  it('refuses before anything runs when a block’s interpreter is not installed (exit 3, naming it)', async () => {
    const { dir, env } = workspace();
    const bin = tempDir();
    const { symlinkSync } = await import('node:fs');
    for (const program of ['bash', 'sh', 'cat']) {
      const found = (await execa('which', [program])).stdout.trim();
      symlinkSync(found, path.join(bin, program));
    }
    const file = path.join(dir, 'zsh.md');
    writeFileSync(file, '# Z\n\n```sh {"name":"first"}\ntouch "$OUT_FILE"\n```\n\n```zsh {"name":"z"}\necho hi\n```\n');
    const outFile = path.join(dir, 'touched');
    const r = await cli(['run', file], { env: { ...env, PATH: bin, OUT_FILE: outFile } });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain('`zsh` is not on PATH');
    expect(existsSync(outFile)).toBe(false);
  });

  it('names a working directory that does not exist, instead of the program Node says is missing', async () => {
    const { dir, env } = workspace();
    writeFileSync(path.join(dir, 'cwd.md'), '# C\n\n```sh {"name":"in-nowhere","cwd":"no/such/folder"}\ntrue\n```\n');
    const r = await cliInProcess(['run', path.join(dir, 'cwd.md')], { env });
    expect(r.exitCode).toBe(1);
    expect(lastRecord(dir).failureReason).toBe(
      `could not start: its working directory ${path.join(dir, 'no/such/folder')} does not exist (see \`cwd\`)`,
    );
  });

  it('warns about the annotations of other tools instead of ignoring them without a word', async () => {
    const doc = await extract(readFileSync(path.join(FIXTURES, 'foreign.md'), 'utf8'));
    expect(doc.diagnostics.map((d) => [d.line, d.column, d.ruleId])).toEqual([
      [3, 1, 'foreign-annotation'],
      [5, 1, 'foreign-annotation'],
      [11, 1, 'foreign-annotation'],
    ]);
    expect(doc.diagnostics[0]!.message).toContain('txm');
    expect(doc.diagnostics[2]!.message).toContain('Doc Detective');
    expect(doc.sections[0]!.steps.map((s) => s.id)).toEqual(['ours']);
  });
});
