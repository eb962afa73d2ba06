// The real CLI in a real process: exit codes, resume after SIGKILL, Ctrl-C, secrets,
// the NDJSON stream against its published schema, JUnit reports, help.
import { spawn, type ChildProcess } from 'node:child_process';
import type { RunEvent } from '../../src/events/types.js';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Ajv2020 from 'ajv/dist/2020.js';
import { BIN, cli, parseEvents, ROOT, tempDir, writeDoc } from '../helpers.js';
import { isProcessOfRun } from '../../src/process/kill-tree.js';
import { RunStore } from '../../src/runner/state.js';

const SCHEMA = JSON.parse(readFileSync(path.join(ROOT, 'static', 'schemas', 'exec-doc-events.schema.json'), 'utf8'));

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? allFiles(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

const waitFor = async (check: () => boolean, timeoutMs = 15_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Starts the CLI with --json in the background; events() parses what it printed so far. */
function startRun(
  args: string[],
  cwd: string,
): { child: ChildProcess; events: () => RunEvent[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args, '--json'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, events: () => parseEvents(out), exited };
}

const started = (run: { events: () => RunEvent[] }, stepId: string) => () =>
  run.events().some((e) => e.type === 'step.start' && e.stepId === stepId);

describe('exec-doc CLI', () => {
  it('exits 64 for an unknown section and lists the closest matches', async () => {
    const { dir } = writeDoc(
      '# G\n\n## Upgrade database\n\n```bash {id=a rollback=none}\ntrue\n```\n\n## Upgrade app\n\n```bash {id=b rollback=none}\ntrue\n```\n',
      'guide.md',
    );
    const r = await cli(['run', 'guide/upgrade-databse', '--docs', '.'], { cwd: dir });
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toBe(
      'exec-doc: No section `guide/upgrade-databse` in .\n  Closest matches:\n    guide/upgrade-database\n    guide/upgrade-app',
    );
  });

  it('exits 64 with file:line:column messages for a document with errors, and runs nothing', async () => {
    const { dir } = writeDoc(
      '# G\n\n## Proc\n\n```bash {id=a rollback=none}\ntouch ran\n```\n\n```bash {id=b timeout=soon}\ntrue\n```\n',
      'guide.md',
    );
    const r = await cli(['guide/proc', '--docs', '.'], { cwd: dir });
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain('guide.md:9:23: error: Unexpected value for `timeout`: expected a duration');
    expect(existsSync(path.join(dir, 'ran'))).toBe(false);
  });

  it('exits 64 for malformed usage and explains --report', async () => {
    expect((await cli(['run'])).exitCode).toBe(64);
    const report = await cli(['run', 'x', '--report', 'xml']);
    expect(report.exitCode).toBe(64);
    expect(report.stderr).toContain('--report takes a format and a file, e.g. `--report junit results.xml`');
    expect((await cli(['run', 'x', '--no-such-flag'])).exitCode).toBe(64);
  });

  it('prints help for every command, each with its own exit codes', async () => {
    for (const command of [
      'list',
      'plan',
      'run',
      'resume',
      'validate',
      'check',
      'approve',
      'audit',
      'keygen',
      'token',
    ]) {
      const r = await cli([command, '--help']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain(`Usage: exec-doc ${command}`);
      expect(r.stdout, command).toMatch(/\nExit codes:\n {2}0 {3}\S[\s\S]*\n {2}64 {2}/);
      // A run's exit codes belong to the commands that run sections.
      expect(r.stdout.includes('a step failed and the rollback completed'), command).toBe(
        ['plan', 'run', 'resume'].includes(command),
      );
    }
    expect((await cli(['check', '--help'])).stdout).toContain('130 interrupted (Ctrl-C)');
    expect((await cli(['audit', '--help'])).stdout).toContain('1   verify: an entry was changed');
  });

  it('resumes after the runner is killed with SIGKILL mid-step, without redoing completed steps', async () => {
    const { dir } = writeDoc(
      // Step two sleeps only the first time: its process is still there when resume looks, however
      // slow the machine, and the rerun does not wait again.
      '# G\n\n## Proc\n\n```bash {id=one rollback=none}\necho one >> marks\n```\n\n```bash {id=two rollback=none}\necho two-start >> marks\ntest -e .slept || { touch .slept; sleep 30; }\necho two >> marks\n```\n\n```bash {id=three rollback=none}\necho three >> marks\n```\n',
      'guide.md',
    );
    const run = startRun(['run', 'guide/proc', '--docs', '.'], dir);
    await waitFor(
      () => existsSync(path.join(dir, 'marks')) && readFileSync(path.join(dir, 'marks'), 'utf8').includes('two-start'),
    );
    run.child.kill('SIGKILL');
    await run.exited;
    const runId = run.events()[0]!.runId;
    const state = new RunStore(path.join(dir, '.exec-doc'), runId).load();
    expect(state.completed).toEqual(['one']);
    const orphan = state.current!.pid!;
    expect(isProcessOfRun(orphan, runId)).toBe(true);

    // The step the runner died in may have done its work: resume stops and explains, and changes nothing.
    const refused = await cli(['resume', runId, '--docs', '.'], { cwd: dir });
    expect(refused.exitCode).toBe(64);
    expect(refused.stdout + refused.stderr).toContain(
      `exec-doc: stopping process ${orphan} left running by the killed runner (step two)`,
    );
    expect(refused.stderr).toContain('stopped while step `two` was running; it may have done part or all of its work');
    expect(refused.stderr).toContain(`exec-doc resume ${runId} --rerun-interrupted`);
    expect(refused.stderr).toContain(`exec-doc resume ${runId} --rollback`);
    expect(readFileSync(path.join(dir, 'marks'), 'utf8').trim().split('\n')).toEqual(['one', 'two-start']);
    const resumed = await cli(['resume', runId, '--docs', '.', '--rerun-interrupted'], { cwd: dir });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'marks'), 'utf8').trim().split('\n')).toEqual([
      'one',
      'two-start',
      'two-start',
      'two',
      'three',
    ]);
    const events = readFileSync(path.join(dir, '.exec-doc', 'runs', runId, 'events.ndjson'), 'utf8');
    const seqs = parseEvents(events).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const again = await cli(['resume', runId, '--docs', '.'], { cwd: dir });
    expect(again.exitCode).toBe(64);
    expect(again.stderr).toContain('already finished (succeeded, exit 0)');
  });

  it('resume --rollback undoes the interrupted step (its rollback first) and the completed ones; an idempotent step is simply run again', async () => {
    const { dir } = writeDoc(
      '# G\n\n## Proc\n\n```bash {id=one rollback=undo-one}\necho one >> marks\n```\n\n```bash {id=two rollback=undo-two}\necho two-start >> marks\nsleep 30\n```\n\n```bash {id=undo-two kind=rollback}\necho undo-two >> marks\n```\n\n```bash {id=undo-one kind=rollback}\necho undo-one >> marks\n```\n',
      'guide.md',
    );
    const run = startRun(['run', 'guide/proc', '--docs', '.'], dir);
    await waitFor(
      () => existsSync(path.join(dir, 'marks')) && readFileSync(path.join(dir, 'marks'), 'utf8').includes('two-start'),
    );
    run.child.kill('SIGKILL');
    await run.exited;
    const runId = run.events()[0]!.runId;
    const rolled = await cli(['resume', runId, '--docs', '.', '--rollback'], { cwd: dir });
    expect(rolled.exitCode, rolled.stderr).toBe(1);
    expect(readFileSync(path.join(dir, 'marks'), 'utf8').trim().split('\n')).toEqual([
      'one',
      'two-start',
      'undo-two',
      'undo-one',
    ]);
    expect(JSON.parse(readFileSync(path.join(dir, '.exec-doc', 'runs', runId, 'result.json'), 'utf8'))).toMatchObject({
      status: 'rolled-back',
      failedStep: 'two',
    });

    const { dir: dir2 } = writeDoc(
      '# G\n\n## Proc\n\n```bash {id=wait rollback=none idempotent}\necho wait >> marks\nsleep 3\n```\n',
      'guide.md',
    );
    const again = startRun(['run', 'guide/proc', '--docs', '.'], dir2);
    await waitFor(started(again, 'wait'));
    again.child.kill('SIGKILL');
    await again.exited;
    const resumed = await cli(['resume', again.events()[0]!.runId, '--docs', '.'], { cwd: dir2 });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
  });

  it('refuses to resume when the section changed since the run started', async () => {
    const { dir, file } = writeDoc(
      '# G\n\n## Proc\n\n```bash {id=one rollback=none}\necho one >> marks\n```\n\n```bash {id=two rollback=none}\nsleep 30\n```\n',
      'guide.md',
    );
    const run = startRun(['run', 'guide/proc', '--docs', '.'], dir);
    await waitFor(started(run, 'two'));
    run.child.kill('SIGKILL');
    await run.exited;
    writeFileSync(file, readFileSync(file, 'utf8').replace('sleep 30', 'sleep 1'));
    const r = await cli(['resume', run.events()[0]!.runId, '--docs', '.'], { cwd: dir });
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain('changed since run');
  });

  it('Ctrl-C (SIGINT) stops the running step, rolls back and exits 1', async () => {
    const { dir } = writeDoc(
      '# G\n\n## Proc\n\n```bash {id=a rollback=undo-a}\necho a >> marks\n```\n\n```bash {id=slow rollback=none}\nsleep 30\n```\n\n```bash {id=undo-a kind=rollback}\necho undo-a >> marks\n```\n',
      'guide.md',
    );
    const run = startRun(['run', 'guide/proc', '--docs', '.'], dir);
    await waitFor(started(run, 'slow'));
    const interruptedAt = Date.now();
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(1);
    expect(Date.now() - interruptedAt).toBeLessThan(10_000);
    expect(readFileSync(path.join(dir, 'marks'), 'utf8').trim().split('\n')).toEqual(['a', 'undo-a']);
    const end = run.events().find((e) => e.type === 'run.end');
    expect(end).toMatchObject({ status: 'rolled-back', exitCode: 1, failedStep: 'slow' });
  });

  it('never lets a secret value reach output, events, logs, state or results', async () => {
    const secret = 'S3cr3t-Value-9f2b';
    const doc = `---\nexec-doc:\n  params:\n    token: { type: string, secret: true }\n    url: { type: string, secret: true }\n---\n# G\n\n## Proc\n\n\`\`\`bash {id=leak rollback=none}\necho "token is $token"; echo "to stderr: $token" >&2\necho "SAVED=$token" >> "$EXEC_DOC_ENV"\n\`\`\`\n\n\`\`\`python {id=py rollback=none}\nimport os; print("py sees", os.environ["SAVED"])\n\`\`\`\n\n\`\`\`bash {id=mismatch rollback=none output="something else"}\necho "mismatch shows $token"\n\`\`\`\n`;
    const { dir } = writeDoc(doc, 'guide.md');
    const junit = path.join(dir, 'junit.xml');
    const env = { EXEC_DOC_PARAM_token: secret, EXEC_DOC_PARAM_url: `postgresql://u:${secret}x@h/db` };
    const json = await cli(['run', 'guide/proc', '--docs', '.', '--json'], { cwd: dir, env });
    const human = await cli(['run', 'guide/proc', '--docs', '.', '--report', 'junit', junit], { cwd: dir, env });
    expect(json.exitCode).toBe(1);
    expect(human.exitCode).toBe(1);
    expect(json.stdout).toContain('token is ***');
    expect(human.stdout).toContain('py sees ***');
    const written = allFiles(path.join(dir, '.exec-doc')).concat(junit);
    expect(written.length).toBeGreaterThan(8);
    for (const text of [
      json.stdout,
      json.stderr,
      human.stdout,
      human.stderr,
      ...written.map((f) => readFileSync(f, 'utf8')),
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('emits NDJSON events that validate against the published JSON Schema', async () => {
    const { dir } = writeDoc(
      '# G\n\n## Proc\n\n```bash {id=a rollback=undo-a}\necho out; echo err >&2\n```\n\n```bash {id=b retries=1 backoff=10ms rollback=none}\nexit 1\n```\n\n```bash {id=undo-a kind=rollback}\ntrue\n```\n\n```bash {id=pre kind=check phase=rollback}\ntrue\n```\n',
      'guide.md',
    );
    const r = await cli(['run', 'guide/proc', '--docs', '.', '--json'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const ajv = new Ajv2020.default({ allErrors: true, strict: true, validateFormats: false });
    const validate = ajv.compile(SCHEMA);
    const events = parseEvents(r.stdout);
    expect(r.stdout.trim().split('\n').length).toBe(events.length);
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set([
        'run.start',
        'requirements',
        'progress',
        'step.start',
        'step.output',
        'step.retry',
        'step.end',
        'rollback.start',
        'rollback.end',
        'run.end',
      ]),
    );
    for (const event of events) expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
  });

  it('writes a JUnit report with one test case per executed block', async () => {
    const { dir } = writeDoc(
      '# G\n\n## Proc\n\n```bash {id=a rollback=undo-a}\ntrue\n```\n\n```bash {id=b rollback=none}\necho "<boom> & \\"quotes\\""; exit 2\n```\n\n```bash {id=undo-a kind=rollback}\ntrue\n```\n',
      'guide.md',
    );
    const file = path.join(dir, 'out', 'junit.xml');
    await import('node:fs').then((fs) => fs.mkdirSync(path.dirname(file), { recursive: true }));
    const r = await cli(['run', 'guide/proc', '--docs', '.', '--report', 'junit', file], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const xml = readFileSync(file, 'utf8');
    expect(xml).toMatch(/<testsuite name="guide\/proc" tests="3" failures="1"/);
    expect(xml).toContain('<testcase classname="guide/proc" name="a"');
    expect(xml).toContain('name="rollback: undo-a"');
    expect(xml).toContain('<failure message="exited with code 2, expected 0" type="failed">');
    expect(xml).toContain('&lt;boom&gt; &amp; &quot;quotes&quot;');
    expect(statSync(file).size).toBeGreaterThan(200);
  });

  it('runs any markdown file on disk by path#slug, and lists and plans sections', async () => {
    const { dir } = writeDoc(
      '# G\n\n## Only one\n\n```bash {id=a rollback=none output="hi"}\necho hi\n```\n',
      'elsewhere/readme.md',
    );
    const r = await cli(['run', path.join(dir, 'elsewhere', 'readme.md#only-one')], { cwd: tempDir() });
    expect(r.exitCode).toBe(0);
    const list = await cli(['list', '--docs', 'elsewhere', '--json'], { cwd: dir });
    expect(JSON.parse(list.stdout).sections.map((s: { address: string }) => s.address)).toEqual(['readme/only-one']);
    const plan = await cli(['plan', 'readme/only-one', '--docs', 'elsewhere'], { cwd: dir });
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toContain('Runs, in order:');
    expect(plan.stdout).not.toContain('marks');
  });

  it('plan --preview runs only the read-only preview blocks and shows what they print; a run shows them first', async () => {
    const dir = tempDir();
    const state = path.join(dir, 'version');
    writeFileSync(state, '1.0\n');
    const doc = path.join(ROOT, 'test', 'cli', 'fixtures', 'preview.md');
    const env = { STATE_FILE: state };
    const plain = await cli(['plan', `${doc}#bump-the-version`], { env });
    expect(plain.stdout).toContain('--preview (runs show-change, which only read)');
    expect(plain.stdout).not.toContain('version: 1.0');
    const preview = await cli(
      ['plan', `${doc}#bump-the-version`, '--preview', '--set', 'target=3.1', '--state-dir', dir],
      {
        env,
      },
    );
    expect(preview.exitCode, preview.stderr).toBe(0);
    expect(preview.stdout).toContain('What it would change (preview blocks; nothing was changed):');
    expect(preview.stdout).toContain('    version: 1.0 → 3.1');
    expect(readFileSync(state, 'utf8')).toBe('1.0\n');
    const run = await cli(['run', `${doc}#bump-the-version`, '--json', '--state-dir', dir], { env });
    expect(run.exitCode).toBe(0);
    expect(
      parseEvents(run.stdout)
        .filter((e) => e.type === 'step.end')
        .map((e) => e.stepId),
    ).toEqual(['show-change', 'bump']);
    expect(readFileSync(state, 'utf8')).toBe('2.0\n');
    const none = await cli([
      'plan',
      path.join(ROOT, 'test', 'runner', 'fixtures', 'reports-metrics.md#proc'),
      '--preview',
    ]);
    expect(none.exitCode).toBe(64);
    expect(none.stderr).toContain('has no preview blocks');
  });

  it('list reflects an edited document although its results are cached', async () => {
    const { dir, file } = writeDoc('# G\n\n## First\n\n```bash {id=a rollback=none}\ntrue\n```\n', 'guide.md');
    const first = await cli(['list', '--docs', '.'], { cwd: dir });
    expect(first.stdout).toContain('guide/first');
    expect((await cli(['list', '--docs', '.'], { cwd: dir })).stdout).toBe(first.stdout);
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n## Second\n\n\`\`\`bash {id=b kind=check}\ntrue\n\`\`\`\n`);
    const second = await cli(['list', '--docs', '.'], { cwd: dir });
    expect(second.stdout).toContain('guide/second');
    expect(second.stdout).toContain('2 sections');
    const json = JSON.parse((await cli(['list', '--docs', '.', '--json'], { cwd: dir })).stdout);
    expect(json.sections.map((s: { address: string; checks: number }) => [s.address, s.checks])).toEqual([
      ['guide/first', 0],
      ['guide/second', 1],
    ]);
  });

  it('resumes a SQL section on the same embedded PostgreSQL after the runner was killed, then removes it', async () => {
    const doc =
      '# G\n\n## Db\n\n```sql {id=make rollback=none}\ncreate table kept (id int); insert into kept values (1), (2);\n```\n\n```bash {id=wait rollback=none idempotent}\nsleep 2\n```\n\n```sql {id=count rollback=none}\nselect count(*) as n from kept;\n```\n\n```output\n n\n---\n 2\n(1 row)\n```\n';
    const { dir } = writeDoc(doc, 'guide.md');
    const run = startRun(['run', 'guide/db', '--docs', '.'], dir);
    await waitFor(started(run, 'wait'), 60_000);
    run.child.kill('SIGKILL');
    await run.exited;
    const runId = run.events()[0]!.runId;
    const dataDir = new RunStore(path.join(dir, '.exec-doc'), runId).load().postgres!.embedded!.dataDir;
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
    const resumed = await cli(['resume', runId, '--docs', '.'], { cwd: dir });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('✔ count');
    expect(existsSync(dataDir)).toBe(false);
  });
});
