// Every exit path cleans up, tested with real processes: for `run` and `check`, and for SIGINT,
// SIGTERM, SIGHUP and a closed stdout, no PostgreSQL process and no temporary folder survives;
// after SIGKILL, the next command stops what the dead one left (keeping a resumable run's data
// until `resume` finishes it).
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, parseEvents, tempDir, writeDoc } from '../helpers.js';
import type { RunEvent } from '../../src/events/types.js';

const DOC = `# G

## Slow {#slow}

\`\`\`sql {id=make rollback=unmake}
create table t (id int);
\`\`\`

\`\`\`sql {id=wait rollback=none}
select pg_sleep(60);
\`\`\`

\`\`\`sql {id=unmake kind=rollback}
drop table t;
\`\`\`
`;

/** A private temporary folder (the server's data lives there) that the postgres user can enter. */
function privateTmp(): string {
  const dir = tempDir('exec-doc-cleanup-');
  chmodSync(dir, 0o1777);
  return dir;
}

/**
 * What survives in `tmp`: its exec-doc entries, and processes that name it (postgres -D …). The
 * cluster template initdb made once (`exec-doc-initdb-<binaries>-<uid>`) is a cache kept on
 * purpose; one half-made (`….<pid>.<time>`) is a leftover. The user's folder of hand-off folders
 * (`exec-doc-handoffs-<uid>`) stays; what is in it is a leftover.
 */
function leftovers(tmp: string): { entries: string[]; processes: string[] } {
  const entries = readdirSync(tmp)
    .filter((n) => n.startsWith('exec-doc-') && !/^exec-doc-initdb-\d+-\d+-\d+$/.test(n))
    .flatMap((n) => (/^exec-doc-handoffs-\d+$/.test(n) ? readdirSync(path.join(tmp, n)).map((m) => `${n}/${m}`) : [n]))
    .sort();
  const ps = execFileSync('ps', ['-eo', 'pid,stat,args'], { encoding: 'utf8' });
  const processes = ps.split('\n').filter((l) => l.includes(tmp) && !/ Z/.test(l) && !l.includes(' ps '));
  return { entries, processes };
}

function start(
  args: string[],
  cwd: string,
  tmp: string,
): { events: () => RunEvent[]; out: () => string; exited: Promise<number | null>; child: ReturnType<typeof spawn> } {
  const child = spawn(process.execPath, [BIN, ...args, '--json'], {
    cwd,
    env: { ...process.env, TMPDIR: tmp, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { events: () => parseEvents(out), out: () => out, exited, child };
}

async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Processes can take a moment to go once their parent returned. */
async function settled(tmp: string): Promise<ReturnType<typeof leftovers>> {
  const end = Date.now() + 10_000;
  let left = leftovers(tmp);
  while ((left.entries.length > 0 || left.processes.length > 0) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    left = leftovers(tmp);
  }
  return left;
}

describe('every exit path stops the servers it started and removes its temporary folders', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`run, on ${signal}: the step is stopped, rolled back, and the server removed`, async () => {
      const { dir } = writeDoc(DOC, 'guide.md');
      const tmp = privateTmp();
      const run = start(['run', 'guide/slow', '--docs', '.'], dir, tmp);
      await until(() => run.events().some((e) => e.type === 'step.start' && e.stepId === 'wait'));
      expect(leftovers(tmp).entries.some((e) => e.startsWith('exec-doc-pg-'))).toBe(true);
      run.child.kill(signal);
      expect(await run.exited).toBe(1);
      expect(run.events().find((e) => e.type === 'rollback.end')).toMatchObject({ status: 'complete' });
      expect(await settled(tmp)).toEqual({ entries: [], processes: [] });
    });

    it(`check pre-upgrade, on ${signal}: exit 130 and the server removed`, async () => {
      const tmp = privateTmp();
      const check = start(['check', 'pre-upgrade'], tempDir(), tmp);
      await until(() => leftovers(tmp).entries.some((e) => e.startsWith('exec-doc-pg-')));
      check.child.kill(signal);
      expect([130, 0, 1, 3]).toContain(await check.exited);
      expect(await settled(tmp)).toEqual({ entries: [], processes: [] });
    });
  }

  it('a closed stdout (`| head -c 100`) drops the rest of the output; the checks finish and the server goes', async () => {
    const tmp = privateTmp();
    const check = start(['check', 'pre-upgrade'], tempDir(), tmp);
    await until(() => check.out().length > 100);
    check.child.stdout!.destroy();
    expect(await check.exited).not.toBe(70);
    expect(await settled(tmp)).toEqual({ entries: [], processes: [] });
  });

  it('db, with its output closed early (`db lint … | head`), finishes without a crash', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const dir = path.join(tempDir(), 'migrations');
    mkdirSync(dir);
    for (let i = 1; i <= 400; i++)
      writeFileSync(path.join(dir, `${String(i).padStart(4, '0')}_m.up.sql`), `create index i${i} on t (c);`);
    const child = spawn(process.execPath, [path.join(path.dirname(BIN), 'db.js'), 'lint', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    child.stdout!.once('data', () => child.stdout!.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(err).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
    expect(code).toBe(1);
  });

  it("after SIGKILL, the next command stops the dead one's server; a resumable run keeps its data until resume finishes", async () => {
    const tmp = privateTmp();
    // Killed with no run state at all (as before a first checkpoint): everything goes.
    const check = start(['check', 'pre-upgrade'], tempDir(), tmp);
    await until(() => leftovers(tmp).processes.length > 0);
    await until(() => check.events().some((e) => e.type === 'checks.start'));
    check.child.kill('SIGKILL');
    await check.exited;
    expect(leftovers(tmp).processes.length).toBeGreaterThan(0);

    const { dir } = writeDoc(DOC, 'guide.md');
    const run = start(['run', 'guide/slow', '--docs', '.'], dir, tmp);
    await until(() => run.events().some((e) => e.type === 'step.start' && e.stepId === 'wait'));
    // The check's server and data are gone; only the run's remain.
    expect(leftovers(tmp).entries.filter((e) => e.includes('-checks-pre-upgrade-'))).toEqual([]);
    run.child.kill('SIGKILL');
    await run.exited;
    const runId = run.events()[0]!.runId;

    // Another command sweeps: the run's server is stopped, its data kept for resume.
    const other = await cli(['check', 'pre-upgrade'], { cwd: tempDir(), env: { TMPDIR: tmp } });
    expect(other.exitCode).not.toBe(70);
    const afterSweep = leftovers(tmp);
    expect(afterSweep.processes).toEqual([]);
    expect(afterSweep.entries.filter((e) => e.startsWith(`exec-doc-pg-${runId}`)).length).toBeGreaterThan(0);

    const resumed = await cli(['resume', runId, '--json'], { cwd: dir, env: { TMPDIR: tmp }, timeoutMs: 120_000 });
    // The interrupted step is not repeated silently (issue 9 §6): resume stops and explains, or rolls back.
    expect([0, 1, 64]).toContain(resumed.exitCode);
    if (resumed.exitCode === 64) {
      const rolled = await cli(['resume', runId, '--rollback', '--json'], {
        cwd: dir,
        env: { TMPDIR: tmp },
        timeoutMs: 120_000,
      });
      expect(rolled.exitCode).toBe(1);
    }
    expect(await settled(tmp)).toEqual({ entries: [], processes: [] });
  });
});
