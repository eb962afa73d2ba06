// The launcher's own life: where perl is found, a launcher that cannot start, one that dies with
// a complaint or is written to after it died, what holds exec-doc open, its process group. Each
// test that needs a launcher of its own loads the process modules afresh (`vi.resetModules`): the
// launcher and the perl it found are kept per module instance, for the life of the process.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProcessOptions, ProcessResult } from '../../src/process/process.js';
import { isSameProcessAlive } from '../../src/process/kill-tree.js';
import { tempDir } from '../temp.js';
import { bashStep, PATH, waitUntil } from './bash-step.js';

const saved = { ...process.env };

afterEach(() => {
  for (const name of ['PATH', 'PERL5OPT', 'PERL5LIB', 'EXEC_DOC_LAUNCHER'] as const) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

type Run = (script: string, extra?: Partial<ProcessOptions>) => Promise<ProcessResult>;

/** `runProcess` of a fresh module instance: its first step starts a launcher of its own. */
async function freshRunner(): Promise<Run> {
  vi.resetModules();
  const { runProcess } = await import('../../src/process/process.js');
  return (script, extra = {}) => runProcess(bashStep(script, extra));
}

const stat = (pid: number | string): string[] => {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
};
const parentOf = (pid: number): number => Number(stat(pid)[1]);
const groupOf = (pid: number | string): number => Number(stat(pid)[2]);
const isLauncher = (pid: number): boolean =>
  readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('exec-doc launcher');

/** The pid of the process that started a step: `echo $PPID` in the step. */
async function starterOf(run: Run): Promise<number> {
  const r = await run('echo $PPID');
  expect(r.exitCode).toBe(0);
  return Number(r.stdout.trim());
}

function executable(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

describe('the launcher', () => {
  it("is found in PATH's absolute folders only: a relative entry's perl never runs, a folder is not a program", async () => {
    const trap = tempDir();
    const marker = path.join(tempDir(), 'trap-ran');
    executable(path.join(trap, 'perl'), `#!/bin/sh\ntouch ${marker}\nexec /usr/bin/perl "$@"\n`);
    // A folder that holds no perl, but is itself "executable" (searchable).
    const empty = tempDir();
    process.env.PATH = ['', path.relative(process.cwd(), trap), empty, PATH].join(':');
    const run = await freshRunner();
    const starter = await starterOf(run);
    expect(isLauncher(starter)).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });

  it('is looked for in /usr/bin and /bin when exec-doc has no PATH', async () => {
    delete process.env.PATH;
    const run = await freshRunner();
    expect(isLauncher(await starterOf(run))).toBe(true);
  });

  it('that cannot start leaves the steps to Node: they run, with their output', async () => {
    const broken = tempDir();
    executable(path.join(broken, 'perl'), '#!/nonexistent/interpreter\n');
    process.env.PATH = `${broken}:${PATH}`;
    const run = await freshRunner();
    const r = await run('echo "started by $PPID"; exit 4');
    expect([r.exitCode, r.stdout, 'spawnError' in r]).toEqual([4, `started by ${process.pid}\n`, false]);
    // And the next one too, without trying the launcher again in between.
    expect(await starterOf(run)).toBe(process.pid);
  }, 15_000);

  it('that dies complaining stops the step it ran and says why: its complaint, trimmed, at most 2000 characters', async () => {
    // A module every perl started with this environment loads first: on SIGUSR1 it complains at
    // length on its standard error and exits.
    const lib = tempDir();
    writeFileSync(
      path.join(lib, 'ExecDocComplain.pm'),
      'package ExecDocComplain;\n$SIG{USR1} = sub { print STDERR "\\n  launcher trouble: " . ("x" x 100000) . "\\n"; exit 3 };\n1;\n',
    );
    process.env.PERL5LIB = lib;
    process.env.PERL5OPT = '-MExecDocComplain';
    const run = await freshRunner();
    let step = 0;
    const running = run('sleep 30', { onSpawn: (pid) => (step = pid) });
    await waitUntil(() => step > 0);
    process.kill(parentOf(step), 'SIGUSR1');
    const r = await running;
    const prefix = 'the process launcher exited: launcher trouble: xxx';
    expect(r.spawnError?.slice(0, prefix.length)).toBe(prefix);
    // 2000 characters of what it wrote, less the leading newline and spaces trimmed away.
    expect(r.spawnError).toHaveLength('the process launcher exited: '.length + 2000 - 3);
    await waitUntil(() => !isSameProcessAlive(step, undefined));
  });

  it('written to after it died, before its end is known: no crash, the step runs, started by Node', async () => {
    const run = await freshRunner();
    let step = 0;
    const first = run('sleep 30', { onSpawn: (pid) => (step = pid) });
    await waitUntil(() => step > 0);
    const perl = parentOf(step);
    process.kill(perl, 'SIGKILL');
    // Until this process reaps it (which takes a turn of the event loop), it stays a zombie whose
    // pipes are closed: the next step's request is written to a pipe nobody reads.
    const deadline = Date.now() + 5000;
    while (stat(perl)[0] !== 'Z') if (Date.now() > deadline) throw new Error('the launcher did not die');
    const second = run('echo "again from $PPID"');
    expect((await first).spawnError).toBe('the process launcher exited');
    const r = await second;
    expect([r.exitCode, r.stdout]).toEqual([0, `again from ${process.pid}\n`]);
    await waitUntil(() => !isSameProcessAlive(step, undefined));
  });

  it('holds exec-doc open while any step runs: one step ending while another runs lets go of nothing', async () => {
    const run = await freshRunner();
    await run('true');
    const processes = () => process.getActiveResourcesInfo().filter((k) => k === 'ProcessWrap').length;
    const idle = processes();
    let started = 0;
    const long = run('sleep 0.5', { onSpawn: () => started++ });
    await waitUntil(() => started === 1);
    expect((await run('true')).exitCode).toBe(0);
    expect(processes()).toBe(idle + 1);
    expect((await long).exitCode).toBe(0);
    expect(processes()).toBe(idle);
  });

  it("runs in a process group of its own: a Ctrl-C to exec-doc's group does not reach it", async () => {
    const run = await freshRunner();
    const starter = await starterOf(run);
    expect(isLauncher(starter)).toBe(true);
    expect(parentOf(starter)).toBe(process.pid);
    expect(groupOf(starter)).toBe(starter);
    expect(groupOf(starter)).not.toBe(groupOf('self'));
  });
});
