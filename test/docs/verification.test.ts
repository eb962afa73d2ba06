// The repository carries the last verification of every procedure (verification/, written by
// `exec-doc verify-guide`): each record must match its procedure as it is now, or this fails and
// says how to verify again. verify-guide itself runs here on documents of its own.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { BIN, cliInProcess, ROOT, tempDir, writeDoc } from '../helpers.js';
import { loadCorpus } from '../../src/documents/corpus.js';
import { recordPathIn, type RunRecord } from '../../src/results/record.js';
import { readLatestRuns } from '../../src/agents/last-runs.js';
import { couldNotStart, verdictOf } from '../../src/cli/verify-guide.js';
import { walkFiles } from '../../src/util/walk-files.js';

const VERIFICATION = path.join(ROOT, 'verification');
const docs = await loadCorpus({ docsRoot: path.join(ROOT, 'docs'), displayRoot: ROOT });
const sections = docs.flatMap((d) => d.sections);

describe('the published verification records', () => {
  it('cover every procedure as it is now (a changed procedure must be verified again)', () => {
    const problems: string[] = [];
    for (const section of sections) {
      const file = recordPathIn(VERIFICATION, section.address);
      if (!existsSync(file)) {
        problems.push(`${section.address}: never verified`);
        continue;
      }
      const record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
      if (record.section.contentHash !== section.contentHash)
        problems.push(`${section.address}: changed since its verification at ${record.finishedAt}`);
      else if (verdictOf(section, record.exitCode, record) === 'unexpected')
        problems.push(`${section.address}: its last verification ended ${record.status} (exit ${record.exitCode})`);
      else if (!record.verification?.commit) problems.push(`${section.address}: the record names no commit`);
    }
    expect(
      problems,
      `run \`npm run exec-doc -- verify-guide ${problems.map((p) => p.split(':')[0]).join(' ')}\` and commit verification/`,
    ).toEqual([]);
  });

  it('hold no record of a procedure that no longer exists', () => {
    const known = new Set(sections.map((s) => recordPathIn(VERIFICATION, s.address)));
    const orphans = walkFiles(VERIFICATION, (e) => e.name.endsWith('.json')).filter((f) => !known.has(f));
    expect(orphans.map((f) => path.relative(ROOT, f)), 'delete these files').toEqual([]);
  });
});

const DOC = `# Verify

## Passes

\`\`\`bash {id=ok}
echo fine
\`\`\`

## Shows-failing

\`\`\`bash {id=change rollback=undo}
echo change
\`\`\`

\`\`\`bash {id=breaks}
exit 3
\`\`\`

\`\`\`bash {id=undo kind=rollback}
echo undone
\`\`\`

## Needs a program

\`\`\`bash {id=needs requires=cmd:no-such-program-exec-doc}
no-such-program-exec-doc
\`\`\`

## Breaks

\`\`\`bash {id=oops}
echo "something broke" >&2; exit 1
\`\`\`
`;

describe('exec-doc verify-guide', () => {
  it('runs each section, publishes every record (with the commit, without passed output) and says which ended unexpectedly', async () => {
    const { dir } = writeDoc(DOC, 'verify.md');
    const out = path.join(tempDir(), 'published');
    const r = await cliInProcess(['verify-guide', '--docs', dir, '--out', out, '--jobs', '2'], {
      env: { ...process.env } as Record<string, string>,
    });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout).toContain('Verifying 4 section(s), 2 at a time');
    expect(r.stdout).toMatch(/✔ verify\/passes: succeeded \(exit 0\)/);
    expect(r.stdout).toMatch(/✔ verify\/shows-failing: rolled-back \(exit 1\)/);
    expect(r.stdout).toMatch(/– verify\/needs-a-program: cannot run here: cmd:no-such-program-exec-doc/);
    expect(r.stdout).toMatch(/✖ verify\/breaks: rolled-back \(exit 1\)/);
    expect(r.stdout).toContain('2 verified, 1 cannot run here, 1 unexpected');
    expect(r.stderr).toContain('exec-doc: verify/breaks ended');
    const record = (slug: string) =>
      JSON.parse(readFileSync(recordPathIn(out, `verify/${slug}`), 'utf8')) as RunRecord;
    const passes = record('passes');
    expect(passes.verification?.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(passes.steps[0]!.outputExcerpt).toBe('');
    // A failed step keeps what it printed.
    expect(record('breaks').steps.find((s) => s.stepId === 'oops')!.outputExcerpt).toContain('something broke');
    expect(record('needs-a-program').requirements?.find((q) => !q.ok)?.requirement).toBe('cmd:no-such-program-exec-doc');
    // The site shows them: the cannot-run-here one says what is missing.
    const runs = readLatestRuns(out);
    expect(runs['verify/needs-a-program']?.missing?.[0]).toMatch(/^cmd:no-such-program-exec-doc: /);
    expect(runs['verify/passes']?.commit).toBe(passes.verification?.commit);
  }, 60_000);

  it('a run that stopped before it began (no record of its own) gets one saying it could not run here', () => {
    const rolling = sections.find((s) => s.hosts !== undefined)!;
    const record = couldNotStart(rolling, 3, 'the inventory /x does not exist', new Date('2026-11-24T12:00:00Z'));
    expect(verdictOf(rolling, 3, record)).toBe('cannot-run-here');
    expect(record.section.contentHash).toBe(rolling.contentHash);
    expect(record.requirements).toEqual([{ requirement: 'hosts', ok: false, detail: 'the inventory /x does not exist' }]);
    // What verdictOf makes of each ending.
    const passes = { slug: 'passes' };
    const failing = { slug: 'shows-failing' };
    const as = (status: RunRecord['status']) => ({ ...record, status });
    expect(verdictOf(passes, 0, as('succeeded'))).toBe('verified');
    expect(verdictOf(passes, 1, as('rolled-back'))).toBe('unexpected');
    expect(verdictOf(failing, 1, as('rolled-back'))).toBe('verified');
    expect(verdictOf(failing, 0, as('succeeded'))).toBe('unexpected');
    expect(verdictOf(failing, 2, as('rollback-incomplete'))).toBe('unexpected');
    expect(verdictOf(passes, 70, undefined)).toBe('unexpected');
  });

  it('on SIGTERM stops the run under way (rolled back; not published, the earlier record stays) and starts no other: exit 130', async () => {
    const { dir } = writeDoc(
      `# Slow\n\n## First\n\n\`\`\`bash {id=mark rollback=unmark}\necho marked\n\`\`\`\n\n\`\`\`bash {id=wait rollback=none}\nsleep 60\n\`\`\`\n\n\`\`\`bash {id=unmark kind=rollback}\necho undone\n\`\`\`\n\n## Second\n\n\`\`\`bash {id=never}\necho never\n\`\`\`\n`,
      'slow.md',
    );
    const out = path.join(tempDir(), 'published');
    const child = execa(process.execPath, [BIN, 'verify-guide', '--docs', dir, '--out', out, '--jobs', '1'], {
      reject: false,
      env: { NO_COLOR: '1' },
    });
    // Until the first section's long step is under way.
    const started = Date.now();
    while (Date.now() - started < 20_000) {
      const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
      if (ps.split('\n').some((l) => l.startsWith('sleep 60'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const stopped = Date.now();
    child.kill('SIGTERM');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(Date.now() - stopped).toBeLessThan(10_000);
    expect(String(r.stderr)).toContain('verify-guide stopped: 0 of 2 section(s) verified and published');
    expect(String(r.stdout)).toContain('– slow/first: stopped, rolled back; its published record is left as it was');
    expect(existsSync(recordPathIn(out, 'slow/first'))).toBe(false);
    expect(existsSync(recordPathIn(out, 'slow/second'))).toBe(false);
    // The run was stopped with its step's process tree: nothing of it is left running.
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(ps.split('\n').some((l) => l.startsWith('sleep 60'))).toBe(false);
  }, 60_000);

  it('refuses an unknown section and a bad --jobs before anything runs', async () => {
    const { dir } = writeDoc(DOC, 'verify.md');
    const out = path.join(tempDir(), 'published');
    const unknown = await cliInProcess(['verify-guide', 'verify/nope', '--docs', dir, '--out', out]);
    expect(unknown.exitCode).toBe(64);
    expect(unknown.stderr).toContain('verify-guide: no section `verify/nope`');
    const jobs = await cliInProcess(['verify-guide', '--jobs', '0', '--docs', dir, '--out', out]);
    expect(jobs.exitCode).toBe(64);
    expect(jobs.stderr).toContain("--jobs takes a whole number from 1 to 32, not '0'");
    expect(existsSync(path.join(out, 'verify'))).toBe(false);
  });

  it('the site takes the later of a published record and a local run', async () => {
    const { dir } = writeDoc(DOC, 'verify.md');
    const published = path.join(tempDir(), 'published');
    const local = path.join(tempDir(), 'local');
    const first = await cliInProcess(['verify-guide', 'verify/passes', '--docs', dir, '--out', published], {
      env: { ...process.env } as Record<string, string>,
    });
    expect(first.exitCode, first.stderr).toBe(0);
    const second = await cliInProcess(['verify-guide', 'verify/passes', '--docs', dir, '--out', local], {
      env: { ...process.env } as Record<string, string>,
    });
    expect(second.exitCode).toBe(0);
    const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
    const a = read(recordPathIn(published, 'verify/passes'));
    const b = read(recordPathIn(local, 'verify/passes'));
    expect(b.finishedAt > a.finishedAt).toBe(true);
    expect(readLatestRuns(published, local)['verify/passes']?.runId).toBe(b.runId);
    expect(readLatestRuns(local, published)['verify/passes']?.runId).toBe(b.runId);
  }, 60_000);
});
