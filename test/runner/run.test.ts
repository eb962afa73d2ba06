// The runner on real processes: order, rollback order, retries with backoff, timeouts that
// kill grandchildren, output verification, hand-off between steps, confirmation, exit codes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDoc, sectionOf, tempDir } from '../helpers.js';

/** A runbook of test/runner/fixtures/. */
const fixture = (name: string): string => readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8');
import { isSameProcessAlive } from '../../src/process/kill-tree.js';
import { ExecDocError } from '../../src/errors/exec-doc-error.js';

const marks = (file: string): string[] =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];

describe('runSection', () => {
  it('runs setup, checks and steps in order, then teardown, and exits 0', async () => {
    const log = path.join(tempDir(), 'log');
    const doc = fixture('runs-setup-checks-and-steps-in.md');
    const run = await runDoc(doc, 'proc', { env: { ...process.env, LOG: log } });
    expect(run.exitCode).toBe(0);
    expect(run.status).toBe('succeeded');
    expect(marks(log)).toEqual(['setup', 'pre', 'one', 'post', 'teardown']);
    expect(run.record.steps.map((s) => [s.stepId, s.phase, s.status])).toEqual([
      ['late-setup', 'forward', 'passed'],
      ['pre', 'forward', 'passed'],
      ['one', 'forward', 'passed'],
      ['post', 'forward', 'passed'],
      ['late-teardown', 'teardown', 'passed'],
    ]);
    for (const s of run.record.steps) expect(s.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('on failure rolls back completed steps in reverse order, then runs the pre checks, and exits 1', async () => {
    const log = path.join(tempDir(), 'log');
    const doc = fixture('rolls-back-in-reverse-order.md');
    const run = await runDoc(doc, 'proc', { env: { ...process.env, LOG: log } });
    expect(marks(log)).toEqual(['before', 'a', 'b', 'c', 'd', 'undo-c', 'undo-a', 'before', 'after-rollback']);
    expect(run.exitCode).toBe(1);
    expect(run.status).toBe('rolled-back');
    expect(run.record.failedStep).toBe('d');
    expect(run.record.failureReason).toBe('exited with code 7, expected 0');
    expect(run.record.rollback).toEqual({
      ran: true,
      complete: true,
      undone: ['c', 'b', 'a'],
      notUndone: [],
      notUndoable: [],
      remaining: [],
    });
    const rollbackStart = run.events.find((e) => e.type === 'rollback.start');
    expect(rollbackStart).toMatchObject({ steps: ['c', 'b', 'a'] });
  });

  it('exits 2 when a rollback fails, and stops undoing earlier steps', async () => {
    const log = path.join(tempDir(), 'log');
    const doc = fixture('exits-2-when-a-rollback-fails.md');
    const run = await runDoc(doc, 'proc', { env: { ...process.env, LOG: log } });
    expect(run.exitCode).toBe(2);
    expect(run.status).toBe('rollback-incomplete');
    expect(marks(log)).toEqual(['a', 'b', 'undo-b']);
    expect(run.record.rollback).toEqual({
      ran: true,
      complete: false,
      undone: [],
      notUndone: ['b', 'a'],
      notUndoable: [],
      // Exactly what is left, in order: the failed rollback again, then the one after it.
      remaining: [
        { step: 'b', rollback: 'undo-b', line: 21 },
        { step: 'a', rollback: 'undo-a', line: 17 },
      ],
    });
  });

  it('exits 2 when a completed step declares no rollback at all', async () => {
    const doc = fixture('exits-2-when-a-completed-step.md');
    const notices: string[] = [];
    const run = await runDoc(doc, 'proc', { notice: (l) => notices.push(l) });
    expect(run.exitCode).toBe(2);
    expect(run.record.rollback.notUndone).toEqual(['a']);
    expect(notices.join('\n')).toMatch(/`a` declares no rollback: it was not undone/);
  });

  it('exits 2 when the checks after a rollback fail', async () => {
    const doc = fixture('exits-2-when-the-checks-after.md');
    const run = await runDoc(doc, 'proc');
    expect(run.exitCode).toBe(2);
    expect(run.record.steps.filter((s) => s.phase === 'verify').map((s) => [s.stepId, s.status])).toEqual([
      ['state', 'failed'],
    ]);
  });

  it('retries with exponential backoff and reports every attempt', async () => {
    const counter = path.join(tempDir(), 'count');
    writeFileSync(counter, '0');
    const doc = fixture('retries-with-exponential-backoff-and-reports.md');
    const started = Date.now();
    const run = await runDoc(doc, 'proc', { env: { ...process.env, COUNTER: counter } });
    expect(run.exitCode).toBe(0);
    expect(readFileSync(counter, 'utf8').trim()).toBe('3');
    expect(
      run.events
        .filter((e) => e.type === 'step.retry')
        .map((e) => (e.type === 'step.retry' ? [e.attempt, e.delayMs] : [])),
    ).toEqual([
      [2, 100],
      [3, 200],
    ]);
    expect(run.events.filter((e) => e.type === 'step.start').length).toBe(3);
    expect(run.record.steps[0]).toMatchObject({ stepId: 'flaky', status: 'passed', attempts: 3 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('gives up after the last retry with the last failure', async () => {
    const doc = fixture('gives-up-after-the-last-retry.md');
    const run = await runDoc(doc, 'proc');
    expect(run.exitCode).toBe(1);
    expect(run.record.steps[0]).toMatchObject({
      status: 'failed',
      attempts: 3,
      exitCode: 4,
      reason: 'exited with code 4, expected 0',
    });
  });

  it('a timeout kills the whole process tree, grandchildren included', async () => {
    const pids = path.join(tempDir(), 'pids');
    const doc = fixture('a-timeout-kills-the-whole-process.md');
    const started = Date.now();
    // Fails on its own within seconds when the tree survives (the step's output would stay open).
    const run = await Promise.race([
      runDoc(doc, 'proc', { env: { ...process.env, PIDS: pids } }),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error('the run did not end 8 s after a 700 ms timeout: the process tree was not killed')),
          8_000,
        ),
      ),
    ]);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(run.exitCode).toBe(1);
    expect(run.record.steps[0]).toMatchObject({ status: 'timed-out', timedOut: true });
    expect(run.record.steps[0]!.reason).toMatch(/^timed out after 700ms; its whole process tree was killed/);
    const spawned = marks(pids).map(Number);
    expect(spawned).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 200));
    for (const pid of spawned) expect(isSameProcessAlive(pid, undefined), `pid ${pid} still alive`).toBe(false);
  });

  it('verifies exact output with an ellipsis, a regex, and fails on a mismatch', async () => {
    const doc = fixture('verifies-exact-output.md');
    const good = await runDoc(doc, 'good');
    expect(good.exitCode).toBe(0);
    const bad = await runDoc(doc, 'bad');
    expect(bad.exitCode).toBe(1);
    expect(bad.record.failureReason).toBe(
      'output differs from the expected output (line 21); expected:\nexpected text\ngot:\nactual text',
    );
  });

  it('hands values to later steps through $EXEC_DOC_ENV and keeps them across languages', async () => {
    const doc = fixture('hands-values-to-later-steps-through.md');
    const run = await runDoc(doc, 'proc');
    expect(run.exitCode).toBe(0);
  });

  it('records what a step measured ($EXEC_DOC_METRICS) in its result and event, and fails on a malformed line', async () => {
    const doc = fixture('reports-metrics.md');
    const run = await runDoc(doc, 'proc');
    expect(run.exitCode).toBe(0);
    const expected = [
      { name: 'failedRequests', value: 0, unit: 'requests' },
      { name: 'p99Ms', value: 12.5, unit: 'ms' },
    ];
    expect(run.record.steps[0]!.metrics).toEqual(expected);
    expect(run.events.find((e) => e.type === 'step.end')).toMatchObject({ metrics: expected });
    const bad = await runDoc(doc, 'bad');
    expect(bad.exitCode).toBe(1);
    expect(bad.record.failureReason).toBe(
      '$EXEC_DOC_METRICS line 1: expected "name" in lowerCamelCase (e.g. "p99Ms"), got "Failed Requests"',
    );
  });

  it('hands on and records only what the attempt that passed wrote, not a failed attempt before it', async () => {
    const counter = path.join(tempDir(), 'counter');
    const run = await runDoc(fixture('failed-attempt-hands-nothing.md'), 'proc', {
      env: { ...process.env, COUNTER: counter },
    });
    expect(run.exitCode, run.record.failureReason ?? '').toBe(0);
    expect(run.record.steps[0]).toMatchObject({ attempts: 2, metrics: [{ name: 'attempts', value: 2, unit: '' }] });
  });

  it('rejects a malformed hand-off line as a failure of the step', async () => {
    const doc = fixture('rejects-a-malformed-hand-off-line.md');
    const run = await runDoc(doc, 'proc');
    expect(run.exitCode).toBe(1);
    expect(run.record.failureReason).toBe('$EXEC_DOC_ENV line 1: expected KEY=VALUE, got `not a pair`');
  });

  it('runs sh, ts and js blocks and honours cwd and env', async () => {
    const doc = fixture('runs-sh-ts-and-js-blocks.md');
    const run = await runDoc(doc, 'proc');
    expect(run.record.steps.map((s) => [s.stepId, s.status, s.reason])).toEqual([
      ['where', 'passed', null],
      ['typed', 'passed', null],
    ]);
  });

  it('a missing requirement stops the run before anything executes (exit 3)', async () => {
    const log = path.join(tempDir(), 'log');
    const doc = fixture('a-missing-requirement-stops-the-run.md');
    const run = await runDoc(doc, 'proc', { env: { ...process.env, LOG: log } });
    expect(run.exitCode).toBe(3);
    expect(run.status).toBe('requirements-missing');
    expect(marks(log)).toEqual([]);
    const requirements = run.events.find((e) => e.type === 'requirements');
    expect(requirements).toMatchObject({
      results: expect.arrayContaining([
        {
          requirement: 'cmd:no-such-program-xyz',
          ok: false,
          detail: '`no-such-program-xyz` is not on PATH; install it or add its folder to PATH',
        },
      ]),
    });
  });

  it('refuses confirm steps when nobody can be asked, and runs them with yes', async () => {
    const doc = fixture('refuses-confirm-steps-when-nobody-can.md');
    await expect(runDoc(doc, 'proc')).rejects.toThrow(ExecDocError);
    await expect(runDoc(doc, 'proc')).rejects.toMatchObject({
      code: 'E_CONFIRM',
      exitCode: 64,
      details: ['drop: Drop everything?', 'Pass --yes to confirm them all, or run in an interactive terminal.'],
    });
    expect((await runDoc(doc, 'proc', { yes: true })).exitCode).toBe(0);
    const declined = await runDoc(doc, 'proc', { confirm: async () => false });
    expect(declined.exitCode).toBe(1);
    expect(declined.record.failureReason).toBe('declined by the operator at the confirmation prompt');
  });

  it('validates parameters before running and reports all problems at once', async () => {
    const doc = fixture('validates-parameters-before-running-and-reports.md');
    await expect(runDoc(doc, 'proc', { sets: { count: '11', mode: 'yolo', cuont: '1' } })).rejects.toMatchObject({
      code: 'E_PARAM',
      details: [
        '--set cuont: the section has no parameter `cuont` (did you mean `count`?)',
        'parameter `count` must be at most 10, got 11',
        'parameter `mode` must be one of fast, safe, got `yolo`',
      ],
    });
    expect((await runDoc(doc, 'proc', { sets: { count: '3', mode: 'fast' } })).exitCode).toBe(0);
    expect(
      (await runDoc(doc, 'proc', { env: { ...process.env, EXEC_DOC_PARAM_count: '3', EXEC_DOC_PARAM_mode: 'fast' } }))
        .exitCode,
    ).toBe(0);
  });

  it('an aborted run (Ctrl-C) stops the running step and rolls back', async () => {
    const log = path.join(tempDir(), 'log');
    const controller = new AbortController();
    const doc = fixture('an-aborted-run-ctrl-c-stops.md');
    const promise = runDoc(doc, 'proc', {
      env: { ...process.env, LOG: log },
      signal: controller.signal,
      listeners: [(e) => e.type === 'step.start' && e.stepId === 'slow' && setTimeout(() => controller.abort(), 200)],
    });
    const run = await promise;
    expect(run.exitCode).toBe(1);
    expect(run.record.steps.find((s) => s.stepId === 'slow')).toMatchObject({ status: 'interrupted' });
    expect(marks(log)).toEqual(['a', 'undo-a']);
  });

  it('writes the result record where the site reads "last verified"', async () => {
    const doc = fixture('writes-the-result-record-where-the.md');
    const run = await runDoc(doc, 'proc');
    const latest = JSON.parse(readFileSync(path.join(run.stateDir, 'results', 'doc', 'proc.json'), 'utf8'));
    expect(latest).toEqual(run.record);
    expect(latest).toMatchObject({
      schemaVersion: 1,
      status: 'succeeded',
      section: { address: 'doc/proc', contentHash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
      environment: { node: process.version },
    });
  });

  it('a second interrupt abandons the rollback (exit 2); resume finishes it (exit 1)', async () => {
    const log = path.join(tempDir(), 'log');
    const interrupt = new AbortController();
    const force = new AbortController();
    const doc = fixture('a-second-interrupt-abandons-the-rollback.md');
    const env = { ...process.env, LOG: log };
    const first = await runDoc(doc, 'proc', {
      env,
      signal: interrupt.signal,
      forceSignal: force.signal,
      listeners: [
        (e) => {
          if (e.type === 'step.start' && e.stepId === 'c') setTimeout(() => interrupt.abort(), 100);
          if (e.type === 'step.start' && e.stepId === 'undo-b') setTimeout(() => force.abort(), 100);
        },
      ],
    });
    expect(first.exitCode).toBe(2);
    expect(first.status).toBe('rollback-incomplete');
    expect(marks(log)).toEqual(['a', 'b']);
    const { resumeRun } = await import('../../src/runner/run.js');
    const second = await resumeRun({
      runId: first.runId,
      stateDir: first.stateDir,
      env,
      loadSection: sectionOf(first.dir),
    });
    expect(second.exitCode).toBe(1);
    expect(marks(log)).toEqual(['a', 'b', 'undo-b', 'undo-a']);
    expect(second.record.rollback).toEqual({
      ran: true,
      complete: true,
      undone: ['b', 'a'],
      notUndone: [],
      notUndoable: [],
      remaining: [],
    });
  }, 60_000);
});
