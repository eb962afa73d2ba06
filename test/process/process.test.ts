// A step's process, started by the launcher (the default on Linux with perl) and by Node's own
// spawn (EXEC_DOC_LAUNCHER=spawn): the same results either way, from real processes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runProcess, type ProcessOptions } from '../../src/process/process.js';
import { launcher } from '../../src/process/launcher.js';
import { isProcessOfRun, isSameProcessAlive } from '../../src/process/kill-tree.js';
import { tempDir } from '../temp.js';
import { bashStep, PATH, waitUntil } from './bash-step.js';

function bash(script: string, extra: Partial<ProcessOptions> = {}): ReturnType<typeof runProcess> {
  return runProcess(bashStep(script, extra));
}

describe.each(['launcher', 'spawn'])('a step process started by %s', (mode) => {
  const saved = process.env.EXEC_DOC_LAUNCHER;
  beforeEach(() => {
    process.env.EXEC_DOC_LAUNCHER = mode === 'spawn' ? 'spawn' : '';
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.EXEC_DOC_LAUNCHER;
    else process.env.EXEC_DOC_LAUNCHER = saved;
  });

  it('is started the way the mode says', () => {
    expect(launcher() !== undefined).toBe(mode === 'launcher');
  });

  it('reports its exit code and keeps stdout and stderr apart, streamed as they come', async () => {
    const seen: Array<[string, string]> = [];
    const r = await bash('echo out; echo err >&2; exit 3', { onOutput: (s, t) => seen.push([s, t]) });
    expect([r.exitCode, r.signal, r.timedOut, r.interrupted]).toEqual([3, null, false, false]);
    expect('spawnError' in r).toBe(false);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(r.durationMs).toBeLessThan(10_000);
    expect([r.stdout, r.stderr]).toEqual(['out\n', 'err\n']);
    expect(seen.filter(([s]) => s === 'stdout').map(([, t]) => t)).toEqual(['out\n']);
  });

  it('gets exactly the environment it is given, the working directory, /dev/null as input, a session of its own', async () => {
    const dir = tempDir();
    const r = await bash(
      'printf "%s|" "$FOO" "$(pwd)" "$(compgen -e | sort | tr "\\n" " ")" "$(cat)"; ps -o sid= -o pgid= -p $$ | tr -s " " | sed "s/^ //"; echo "$$"',
      { cwd: dir, env: { PATH, FOO: 'line one\nline=two' } },
    );
    const [foo, cwd, names, input, rest] = r.stdout.split('|');
    expect(foo).toBe('line one\nline=two');
    expect(cwd).toBe(dir);
    // What it was given, and what bash sets itself: nothing of exec-doc's own environment.
    const exported = names!.trim().split(' ');
    expect(exported).toEqual(expect.arrayContaining(['FOO', 'PATH']));
    expect(exported.filter((n) => !['FOO', 'PATH', 'PWD', 'OLDPWD', 'SHLVL', '_'].includes(n))).toEqual([]);
    expect(input).toBe('');
    const [ids, pid] = rest!.trim().split('\n');
    expect(ids).toBe(`${pid} ${pid}`);
  });

  it('has default signal dispositions: the writer of a pipe whose reader left dies of SIGPIPE', async () => {
    const r = await bash('set +o pipefail; yes | head -n 2; echo "${PIPESTATUS[*]}"');
    expect([r.stdout, r.stderr]).toEqual(['y\ny\n141 0\n', '']);
  });

  it('keeps multi-byte characters split across reads, and a megabyte of output intact', async () => {
    const r = await bash("for i in $(seq 1 40000); do printf 'é€𝄞%05d\\n' $i; done");
    const lines = r.stdout.split('\n');
    expect(lines.length).toBe(40001);
    expect(lines[0]).toBe('é€𝄞00001');
    expect(lines[39999]).toBe('é€𝄞40000');
    expect(r.stdout).not.toContain('\uFFFD');
  });

  it('says when the program or the folder does not exist, and nothing runs', async () => {
    const missing = await runProcess({
      file: 'exec-doc-no-such-program',
      args: [],
      cwd: process.cwd(),
      env: { PATH },
      timeoutMs: 5000,
      onOutput: () => undefined,
    });
    expect(missing.spawnError).toBe('spawn exec-doc-no-such-program ENOENT');
    const noDir = await bash('echo ran', { cwd: path.join(tempDir(), 'gone') });
    expect(noDir.spawnError).toBe('spawn bash ENOENT');
    expect(noDir.stdout).toBe('');
    const dir = tempDir();
    writeFileSync(path.join(dir, 'not-executable'), '#!/bin/sh\necho ran\n', { mode: 0o644 });
    const denied = await runProcess({
      file: path.join(dir, 'not-executable'),
      args: [],
      cwd: dir,
      env: { PATH },
      timeoutMs: 5000,
      onOutput: () => undefined,
    });
    expect(denied.spawnError).toMatch(/ EACCES$/);
  });

  it('refuses a NUL in what a program is given, as Node does, without starting anything', async () => {
    await expect(bash('true', { env: { PATH, X: 'a\0b' } })).rejects.toThrow(/null bytes/);
    await expect(bash('echo a\0b')).rejects.toThrow(/null bytes/);
  });

  it('reports a signal that ended it', async () => {
    const r = await bash('kill -KILL $$');
    expect([r.exitCode, r.signal]).toEqual([null, 'SIGKILL']);
  });

  it('on timeout, stops the whole tree: a child in the background dies too', async () => {
    const dir = tempDir();
    const pidFile = path.join(dir, 'bg.pid');
    const started = Date.now();
    const r = await bash(`sleep 30 & echo $! > ${pidFile}; sleep 30`, { timeoutMs: 500 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGTERM');
    expect(Date.now() - started).toBeLessThan(5000);
    const bg = Number(readFileSync(pidFile, 'utf8'));
    await waitUntil(() => !isSameProcessAlive(bg, undefined));
  });

  it('on timeout, also stops a child that left for a session of its own, and one its parent left behind', async () => {
    const dir = tempDir();
    const moved = path.join(dir, 'moved.pid');
    const orphan = path.join(dir, 'orphan.pid');
    // setsid: a new session and group, found only by walking /proc from the step's pid. The
    // subshell's sleep: reparented when the subshell exits, found only through the step's group.
    // Their output goes elsewhere, so the step's pipes do not wait for them: only the kill ends them.
    const started = Date.now();
    const r = await bash(
      `setsid sleep 30 > /dev/null 2>&1 & echo $! > ${moved}; ( sleep 30 > /dev/null 2>&1 & echo $! > ${orphan} ); sleep 30`,
      { timeoutMs: 700 },
    );
    expect(r.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    const pids = [moved, orphan].map((f) => Number(readFileSync(f, 'utf8')));
    expect(pids.every((pid) => pid > 1)).toBe(true);
    await waitUntil(() => pids.every((pid) => !isSameProcessAlive(pid, undefined)));
  });

  it('a process carries its run id, and only a live one of that run is recognised', async () => {
    const pids: number[] = [];
    const onSpawn = (pid: number) => pids.push(pid);
    const ended = await bash('true', { env: { PATH, EXEC_DOC_RUN_ID: 'run-a' }, onSpawn });
    expect(ended.exitCode).toBe(0);
    expect(isProcessOfRun(pids[0]!, 'run-a')).toBe(false);
    const running = bash('sleep 5', { env: { PATH, EXEC_DOC_RUN_ID: 'run-b' }, timeoutMs: 3000, onSpawn });
    // Its environment is the program's once the program runs (a moment after the pid is known).
    await waitUntil(() => pids.length === 2 && isProcessOfRun(pids[1]!, 'run-b'));
    expect([isProcessOfRun(pids[1]!, 'run-a'), isProcessOfRun(pids[1]!, 'run')]).toEqual([false, false]);
    expect((await running).timedOut).toBe(true);
    expect(isProcessOfRun(pids[1]!, 'run-b')).toBe(false);
  });

  it('a program that ignores SIGTERM is killed after the grace period', async () => {
    const started = Date.now();
    const r = await bash('trap "" TERM; while :; do sleep 0.1; done', { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - started).toBeLessThan(6000);
  }, 8000);

  it('a child ignoring SIGTERM is killed as soon as its leader is gone, not at the end of the grace period', async () => {
    const file = path.join(tempDir(), 'child.pid');
    // SIG_IGN survives exec: the child's sleep ignores the TERM that ends the step's shell.
    const r = await bash(`(trap '' TERM; exec sleep 30) > /dev/null 2>&1 & echo $! > ${file}; sleep 30`, {
      timeoutMs: 300,
    });
    expect(r.timedOut).toBe(true);
    const child = Number(readFileSync(file, 'utf8'));
    await waitUntil(() => !isSameProcessAlive(child, undefined), 1000);
  });

  it('a step that ended by itself leaves what it started in the background alone (a daemon it launched)', async () => {
    const file = path.join(tempDir(), 'daemon.pid');
    const r = await bash(`sleep 30 > /dev/null 2>&1 & echo $! > ${file}`);
    expect(r.exitCode).toBe(0);
    const daemon = Number(readFileSync(file, 'utf8'));
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(isSameProcessAlive(daemon, undefined)).toBe(true);
    } finally {
      process.kill(daemon, 'SIGKILL');
    }
  });

  it('keeps at most 16 MB of a stream in memory; the rest is still streamed', async () => {
    let streamed = 0;
    const r = await bash('head -c 17000000 /dev/zero | tr "\\0" a', {
      onOutput: (_stream, text) => (streamed += text.length),
    });
    expect(r.exitCode).toBe(0);
    expect(streamed).toBe(17_000_000);
    expect(r.stdout.length).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(r.stdout.length).toBeLessThan(17_000_000);
  });

  it('takes as long as the program ran', async () => {
    const r = await bash('sleep 0.3');
    expect(r.durationMs).toBeGreaterThanOrEqual(290);
    expect(r.durationMs).toBeLessThan(5000);
  });

  it("a program reading exec-doc's own input (interactive) is started by Node itself", async () => {
    const r = await bash('echo $PPID', { stdin: 'inherit' });
    expect(Number(r.stdout)).toBe(process.pid);
    const plain = await bash('echo $PPID');
    expect(Number(plain.stdout) === process.pid).toBe(mode === 'spawn');
  });

  it('an abort stops it and says interrupted; an abort before it starts stops it as soon as it exists', async () => {
    const controller = new AbortController();
    const running = bash('sleep 30', { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    const r = await running;
    expect([r.interrupted, r.signal]).toEqual([true, 'SIGTERM']);
    const early = new AbortController();
    early.abort();
    const pids: number[] = [];
    const e = await bash('sleep 30', { signal: early.signal, onSpawn: (pid) => pids.push(pid) });
    // Stopped at once, not by its timeout (20 s) long after.
    expect([e.interrupted, e.timedOut, e.signal]).toEqual([true, false, 'SIGTERM']);
    expect(e.durationMs).toBeLessThan(5000);
    expect(pids).toHaveLength(1);
  });

  it('waits until every holder of its output is gone, like a shell pipeline', async () => {
    const r = await bash('(sleep 0.3; echo late) & echo early');
    expect(r.stdout).toBe('early\nlate\n');
  });

  it('runs several at once, each with its own output and result', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) => bash(`for i in 1 2 3; do echo ${n}-$i; sleep 0.0${n}; done; exit ${n}`)),
    );
    expect(results.map((r) => [r.exitCode, r.stdout])).toEqual(
      [1, 2, 3, 4].map((n) => [n, `${n}-1\n${n}-2\n${n}-3\n`]),
    );
  });
});

describe('the launcher', () => {
  it('a step whose launcher dies is stopped and reported, and the next one starts (a new launcher)', async () => {
    delete process.env.EXEC_DOC_LAUNCHER;
    const dir = tempDir();
    const pidFile = path.join(dir, 'step.pid');
    const running = bash(`echo $$ > ${pidFile}; sleep 30`);
    await waitUntil(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
    const step = Number(readFileSync(pidFile, 'utf8'));
    const perl = Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(step)], { encoding: 'utf8' }).trim());
    process.kill(perl, 'SIGKILL');
    const r = await running;
    expect(r.spawnError).toBe('the process launcher exited');
    await waitUntil(() => !isSameProcessAlive(step, undefined));
    const next = await bash('echo again');
    expect([next.exitCode, next.stdout]).toEqual([0, 'again\n']);
  });

  it('holds exec-doc open only while a step runs: its process and pipes count as active then, not before or after', async () => {
    delete process.env.EXEC_DOC_LAUNCHER;
    await bash('true');
    const active = () => {
      const kinds = process.getActiveResourcesInfo();
      return {
        processes: kinds.filter((k) => k === 'ProcessWrap').length,
        pipes: kinds.filter((k) => k === 'PipeWrap').length,
      };
    };
    const idle = active();
    let during: ReturnType<typeof active> | undefined;
    const r = await bash('sleep 0.2', { onSpawn: () => (during = active()) });
    expect(r.exitCode).toBe(0);
    expect(during!.processes).toBe(idle.processes + 1);
    expect(during!.pipes).toBe(idle.pipes + 2);
    expect(active()).toEqual(idle);
  });

  it('the program runs only after exec-doc has been told its pid (a checkpoint can name it first)', async () => {
    delete process.env.EXEC_DOC_LAUNCHER;
    const marker = path.join(tempDir(), 'ran');
    const seenBefore: boolean[] = [];
    const r = await bash(`touch ${marker}`, { onSpawn: () => seenBefore.push(existsSync(marker)) });
    expect(r.exitCode).toBe(0);
    expect(seenBefore).toEqual([false]);
    expect(existsSync(marker)).toBe(true);
  });

  it('a runner that dies between the fork and its go-ahead leaves a program that never ran', async () => {
    const marker = path.join(tempDir(), 'ran');
    const script = `import { runProcess } from ${JSON.stringify(path.resolve('src/process/process.ts'))};
      await runProcess({ file: 'bash', args: ['-c', 'touch ${marker}'], cwd: '.', env: { PATH: process.env.PATH }, timeoutMs: 5000, onOutput: () => {}, onSpawn: () => process.exit(0) });`;
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 15_000,
      env: { ...process.env, EXEC_DOC_LAUNCHER: '' },
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(marker)).toBe(false);
  });

  it('an idle launcher does not keep exec-doc running, and exits when exec-doc does', () => {
    const script = `import { runProcess } from ${JSON.stringify(path.resolve('src/process/process.ts'))};
      const r = await runProcess({ file: 'bash', args: ['-c', 'echo $PPID'], cwd: '.', env: { PATH: process.env.PATH }, timeoutMs: 5000, onOutput: () => {} });
      console.log(r.stdout.trim());`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 15_000,
      env: { ...process.env, EXEC_DOC_LAUNCHER: '' },
    });
    const perl = Number(out.trim());
    expect(perl).toBeGreaterThan(1);
    return waitUntil(() => !isSameProcessAlive(perl, undefined));
  });
});
