// `exec-doc doctor` on a machine where a runner was killed mid-step (SIGKILL, as by the OOM
// killer): it finds the unfinished run, the process left running and the stale lock, says how to
// fix each; --fix removes the lock; after `resume --rollback` it finds nothing.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, cliInProcess, tempDir } from '../helpers.js';

async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('exec-doc doctor', () => {
  it('finds what a killed runner left, says how to fix it, and is clean once it is fixed', async () => {
    const dir = tempDir('exec-doc-doctor-');
    const docs = path.join(dir, 'docs');
    mkdirSync(docs);
    const marker = path.join(dir, 'started');
    writeFileSync(
      path.join(docs, 'g.md'),
      `# G\n\n## Slow {#slow}\n\n\`\`\`bash {id=first rollback=undo-first}\ntrue\n\`\`\`\n\n\`\`\`bash {id=undo-first kind=rollback}\ntrue\n\`\`\`\n\n\`\`\`bash {id=wait rollback=none}\ntouch "${marker}"\nsleep 60\n\`\`\`\n`,
    );
    const stateDir = path.join(dir, 'state');
    const env = { PATH: process.env.PATH ?? '', NO_COLOR: '1' };
    const runner = execa(process.execPath, [BIN, 'run', 'g/slow', '--docs', docs, '--state-dir', stateDir, '--json'], {
      env,
      reject: false,
    });
    await waitFor(() => existsSync(marker));
    runner.kill('SIGKILL');
    await runner;
    const runId = JSON.parse(String((await runner).stdout).split('\n')[0]!).runId as string;

    const args = ['doctor', '--docs', docs, '--state-dir', stateDir];
    const found = await cliInProcess([...args, '--json'], { env });
    expect(found.exitCode).toBe(1);
    const report = JSON.parse(found.stdout) as {
      problems: number;
      findings: Array<{ severity: string; subject: string; detail: string; fix?: string }>;
    };
    const about = (subject: string) => report.findings.filter((f) => f.subject.includes(subject));
    expect(about(`run ${runId}`)).toContainEqual(
      expect.objectContaining({
        severity: 'problem',
        detail: 'g/slow did not finish: its runner died during step wait; what it changed is still changed',
        fix: `exec-doc resume ${runId}   (go on)  or  exec-doc resume ${runId} --rollback   (undo it)`,
      }),
    );
    const leftover = report.findings.find((f) => f.subject.startsWith('process '));
    expect(leftover).toMatchObject({
      severity: 'problem',
      detail: `step wait of run ${runId} is still running, though its runner is gone`,
    });
    expect(report.findings.filter((f) => f.detail.includes('which is gone')).length).toBeGreaterThan(0);

    const fixed = await cliInProcess([...args, '--fix'], { env });
    expect(fixed.stdout).toContain('fixed: removed');
    // Stale locks go; the unfinished run and its process are the operator's decision.
    expect(fixed.exitCode).toBe(1);

    const resumed = await cliInProcess(['resume', runId, '--rollback', '--docs', docs, '--state-dir', stateDir], {
      env,
    });
    expect(resumed.exitCode).toBe(1);
    const clean = await cliInProcess([...args, '--json'], { env });
    // (Embedded servers are machine-wide: another test's may come and go meanwhile.)
    const left = (JSON.parse(clean.stdout) as typeof report).findings.filter(
      (f) => f.severity !== 'ok' && !f.subject.includes('exec-doc-pg-'),
    );
    expect(left).toEqual([]);
    expect(readFileSync(path.join(stateDir, 'runs', runId, 'result.json'), 'utf8')).toContain('"rolled-back"');
  }, 60_000);

  it('reports a guide with errors, and a requirement the machine lacks, with the sections that need it', async () => {
    const dir = tempDir('exec-doc-doctor-');
    const docs = path.join(dir, 'docs');
    mkdirSync(docs);
    writeFileSync(path.join(docs, 'bad.md'), '# B\n\n## S\n\n```bash {id=a retries=many}\ntrue\n```\n');
    writeFileSync(path.join(docs, 'needs.md'), '# N\n\n## Fish {#fish}\n\n```fish {name=f}\necho hi\n```\n');
    const r = await cliInProcess(['doctor', '--docs', docs, '--state-dir', path.join(dir, 's'), '--json'], {
      env: { PATH: path.dirname(process.execPath) + ':/usr/bin:/bin' },
    });
    expect(r.exitCode).toBe(1);
    const report = JSON.parse(r.stdout) as {
      findings: Array<{ severity: string; subject: string; detail: string; fix?: string }>;
    };
    expect(report.findings).toContainEqual(
      expect.objectContaining({ severity: 'problem', fix: 'exec-doc validate lists them all' }),
    );
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        subject: 'requires cmd:fish',
        detail: expect.stringContaining('needs/fish'),
      }),
    );
  });
});
