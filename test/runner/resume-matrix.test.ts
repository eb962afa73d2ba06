// A runner killed at any checkpoint: the run is run once to its end, then, for every checkpoint of
// its state journal, the run's folder is cut back to that checkpoint (as a runner killed right
// after writing it leaves it), the world is put back as it was then, and `resume` (in this
// process) finishes the run. Whatever the checkpoint, every block runs as in the uninterrupted
// run, none is skipped, none is repeated except the one that was running (which may have done its
// work: it runs again only when asked to, or when it is a check or a rollback), and the run ends
// with the same status, exit code and step results.
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecDocError } from '../../src/errors/exec-doc-error.js';
import { reasons } from '../../src/runner/reasons.js';
import { resumeRun, rollbackRun, type RunOutcome } from '../../src/runner/run.js';
import type { RunState } from '../../src/runner/state.js';
import type { RunEvent } from '../../src/events/types.js';
import type { AccessContext } from '../../src/security/access.js';
import { AuditLog } from '../../src/security/audit.js';
import { osIdentity } from '../../src/security/identity.js';
import { loadPolicy } from '../../src/security/policy-file.js';
import { runDoc, sectionOf, tempDir, type InProcessRun } from '../helpers.js';
import { useEmbeddedServer } from '../db/pg-helpers.js';

const DOC = `# T

## Proc {#proc}

\`\`\`bash {id=prepare kind=setup rollback=unprepare}
echo prepare >> "$LOG"
\`\`\`

\`\`\`bash {id=unprepare kind=rollback}
echo unprepare >> "$LOG"
\`\`\`

\`\`\`bash {id=before kind=check}
echo before >> "$LOG"
\`\`\`

\`\`\`bash {id=a rollback=undo-a}
echo a >> "$LOG"
\`\`\`

\`\`\`bash {id=b rollback=undo-b}
echo b >> "$LOG"
\`\`\`

\`\`\`bash {id=c rollback=undo-c}
echo c >> "$LOG"; test -z "$FAIL_C"
\`\`\`

\`\`\`bash {id=undo-a kind=rollback}
echo undo-a >> "$LOG"
\`\`\`

\`\`\`bash {id=undo-b kind=rollback}
echo undo-b >> "$LOG"
\`\`\`

\`\`\`bash {id=undo-c kind=rollback}
echo undo-c >> "$LOG"
\`\`\`

\`\`\`bash {id=back kind=check phase=rollback}
echo back >> "$LOG"
\`\`\`

\`\`\`bash {id=after kind=check}
echo after >> "$LOG"
\`\`\`

\`\`\`bash {id=close kind=teardown}
echo close >> "$LOG"
\`\`\`
`;

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const steps = (outcome: RunOutcome) => outcome.record.steps.map((s) => `${s.phase}:${s.stepId}:${s.status}`);

interface Checkpoint {
  state: RunState;
  /** Step results the journal holds up to it. */
  results: number;
}

/** The journal's checkpoints, each with the whole state as `load()` rebuilds it. */
function checkpoints(journal: string[]): Checkpoint[] {
  let results = 0;
  return journal.map((line) => {
    const entry = JSON.parse(line) as RunState & { newResults: unknown[] };
    results += entry.newResults.length;
    return { state: entry, results };
  });
}

/**
 * The run's folder as a runner killed right after checkpoint `k` (1-based) leaves it, in a state
 * folder of its own; the log as the world was then (the block that was running did its work).
 */
function killedAfter(run: InProcessRun, journal: string[], k: number, fullLog: string[]) {
  const stateDir = tempDir('exec-doc-resume-matrix-');
  const from = path.join(run.stateDir, 'runs', run.runId);
  const to = path.join(stateDir, 'runs', run.runId);
  cpSync(from, to, { recursive: true });
  writeFileSync(path.join(to, 'state.ndjson'), journal.slice(0, k).join('\n') + '\n');
  rmSync(path.join(to, 'result.json'), { force: true });
  rmSync(path.join(to, 'lock'), { force: true });
  const point = checkpoints(journal)[k - 1]!;
  const ran = point.results + (point.state.current ? 1 : 0);
  const log = path.join(tempDir(), 'log');
  writeFileSync(
    log,
    fullLog
      .slice(0, ran)
      .map((l) => `${l}\n`)
      .join(''),
  );
  return { stateDir, log, point };
}

async function resume(
  run: InProcessRun,
  stateDir: string,
  env: NodeJS.ProcessEnv,
  extra: { rerunInterrupted?: boolean; rollback?: boolean; listeners?: Array<(e: RunEvent) => void> } = {},
) {
  return resumeRun({
    runId: run.runId,
    stateDir,
    env,
    ...extra,
    loadSection: sectionOf(run.dir),
  });
}

/** Kills the run after each checkpoint in turn and resumes it; returns how many were resumed. */
async function everyCheckpoint(
  run: InProcessRun,
  env: NodeJS.ProcessEnv,
  fullLog: string[],
  expected: RunOutcome,
  firstCheckpoint = 1,
  /** The blocks that change something: resume does not run one again on its own. */
  changing = ['a', 'b', 'c', 'prepare'],
): Promise<number> {
  const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
  let resumed = 0;
  for (let k = firstCheckpoint; k <= journal.length; k += 1) {
    const { stateDir, log, point } = killedAfter(run, journal, k, fullLog);
    const at = `checkpoint ${k} of ${journal.length} (${point.state.phase}, ${point.state.current?.stepId ?? 'between blocks'})`;
    const before = readFileSync(log, 'utf8');
    const runEnv = { ...env, LOG: log };
    // Past its teardown but not yet ended (phase `done`, no outcome): resume ends it like the others,
    // running nothing. Ended: refused.
    if (point.state.final) {
      const error = await resume(run, stateDir, runEnv).catch((e: unknown) => e);
      expect((error as ExecDocError).code, at).toBe('E_RUN_FINISHED');
      continue;
    }
    const current = point.state.current;
    const interruptedForward =
      point.state.phase === 'forward' && current?.phase === 'forward' && changing.includes(current.stepId);
    if (interruptedForward) {
      // The step may have done its work: resume stops, names it, and changes nothing.
      const error = await resume(run, stateDir, runEnv).catch((e: unknown) => e);
      expect((error as ExecDocError).code, at).toBe('E_RESUME_INTERRUPTED');
      expect((error as ExecDocError).message, at).toContain(`while step \`${current.stepId}\` was running`);
      expect(readFileSync(log, 'utf8'), at).toBe(before);
    }
    // Past the forward phase, --rollback changes nothing: the run is already undoing what it did.
    const events: RunEvent[] = [];
    const outcome = await resume(run, stateDir, runEnv, {
      rerunInterrupted: interruptedForward,
      rollback: point.state.phase !== 'forward',
      listeners: [(e) => events.push(e)],
    });
    expect(
      events.find((e) => e.type === 'run.resume'),
      at,
    ).toMatchObject({
      rollingBack: point.state.phase === 'rollback',
    });
    // A rollback already under way is not announced again.
    if (point.state.rollbackStartedAt)
      expect(
        events.some((e) => e.type === 'rollback.start'),
        at,
      ).toBe(false);
    const ran = point.results + (current ? 1 : 0);
    // What had run, then everything from the block the checkpoint was at: the running one again.
    expect(lines(log), at).toEqual([...fullLog.slice(0, ran), ...fullLog.slice(point.results)]);
    expect([outcome.exitCode, outcome.status], at).toEqual([expected.exitCode, expected.status]);
    expect(steps(outcome), at).toEqual(steps(expected));
    expect(outcome.record.rollback, at).toEqual(expected.record.rollback);
    expect([outcome.record.failedStep, outcome.record.failureReason], at).toEqual([
      expected.record.failedStep,
      expected.record.failureReason,
    ]);
    resumed += 1;
  }
  return resumed;
}

describe('a runner killed after any checkpoint', () => {
  it('of a run that succeeds: resume finishes it, each block as in the run that was not killed', async () => {
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(DOC, 'proc', { env });
    expect([run.exitCode, run.status]).toEqual([0, 'succeeded']);
    const fullLog = lines(log);
    expect(fullLog).toEqual(['prepare', 'before', 'a', 'b', 'c', 'after', 'close']);
    const resumed = await everyCheckpoint(run, env, fullLog, run);
    expect(resumed).toBeGreaterThanOrEqual(fullLog.length);
  }, 120_000);

  it('of a run that fails and rolls back: resume finishes the rollback, in the same order', async () => {
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log, FAIL_C: '1' };
    const run = await runDoc(DOC, 'proc', { env });
    expect([run.exitCode, run.status]).toEqual([1, 'rolled-back']);
    const fullLog = lines(log);
    expect(fullLog).toEqual([
      'prepare',
      'before',
      'a',
      'b',
      'c',
      'undo-b',
      'undo-a',
      'before',
      'back',
      'unprepare',
      'close',
    ]);
    const resumed = await everyCheckpoint(run, env, fullLog, run);
    expect(resumed).toBeGreaterThanOrEqual(fullLog.length);
  }, 120_000);

  it('of `exec-doc rollback` undoing a run that succeeded: resume finishes the rollback', async () => {
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(DOC, 'proc', { env });
    const journal = path.join(run.stateDir, 'runs', run.runId, 'state.ndjson');
    const forwardCheckpoints = lines(journal).length;
    const events: RunEvent[] = [];
    const rolled = await rollbackRun({
      runId: run.runId,
      stateDir: run.stateDir,
      env,
      loadSection: sectionOf(run.dir),
      listeners: [(e) => events.push(e)],
    });
    expect([rolled.exitCode, rolled.status]).toEqual([0, 'rolled-back']);
    // The rollback says why it runs, and that it ended.
    expect(events.find((e) => e.type === 'rollback.start')).toMatchObject({
      reason: reasons.requestedRollback(),
      steps: ['c', 'b', 'a', 'prepare'],
    });
    expect(events.find((e) => e.type === 'rollback.end')).toMatchObject({
      status: 'complete',
      undone: ['c', 'b', 'a', 'prepare'],
      notUndone: [],
    });
    expect(rolled.record.rollback).toEqual({
      ran: true,
      complete: true,
      undone: ['c', 'b', 'a', 'prepare'],
      notUndone: [],
      notUndoable: [],
      remaining: [],
    });
    const fullLog = lines(log);
    expect(fullLog).toEqual([
      ...['prepare', 'before', 'a', 'b', 'c', 'after', 'close'],
      ...['undo-c', 'undo-b', 'undo-a', 'before', 'back', 'unprepare', 'close'],
    ]);
    // Killed during the rollback: the checkpoints the rollback wrote.
    const resumed = await everyCheckpoint(run, env, fullLog, rolled, forwardCheckpoints + 1);
    expect(resumed).toBeGreaterThanOrEqual(7);
  }, 120_000);

  it('in the middle of a step, `resume --rollback` undoes that step first, then the completed ones', async () => {
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(DOC, 'proc', { env });
    const fullLog = lines(log);
    const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
    const undo: Record<string, string[]> = {
      a: ['undo-a'],
      b: ['undo-b', 'undo-a'],
      c: ['undo-c', 'undo-b', 'undo-a'],
    };
    let cases = 0;
    for (let k = 1; k <= journal.length; k += 1) {
      const current = checkpoints(journal)[k - 1]!.state.current;
      if (!current || !(current.stepId in undo)) continue;
      const { stateDir, log: worldLog, point } = killedAfter(run, journal, k, fullLog);
      const at = `checkpoint ${k} (${current.stepId})`;
      const outcome = await resume(run, stateDir, { ...env, LOG: worldLog }, { rollback: true });
      expect(lines(worldLog), at).toEqual([
        ...fullLog.slice(0, point.results + 1),
        ...undo[current.stepId]!,
        ...['before', 'back', 'unprepare', 'close'],
      ]);
      expect([outcome.exitCode, outcome.status], at).toEqual([1, 'rolled-back']);
      expect(outcome.record.failedStep, at).toBe(current.stepId);
      // The setup's rollback runs last, after the verification.
      expect(outcome.record.rollback?.undone, at).toEqual([
        ...undo[current.stepId]!.map((u) => u.slice('undo-'.length)),
        'prepare',
      ]);
      cases += 1;
    }
    expect(cases).toBe(6);
  }, 120_000);
});

/** The error a promise rejects with (the test fails if it resolves). */
async function refusal(promise: Promise<unknown>): Promise<ExecDocError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExecDocError);
  return error as ExecDocError;
}

describe('what resume and rollback refuse, and say', () => {
  it('resume of a finished run, rollback of an unfinished or failed one: refused with what to do instead', async () => {
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(DOC, 'proc', { env });
    const runDir = path.join(run.stateDir, 'runs', run.runId);
    const finished = await refusal(resume(run, run.stateDir, env));
    expect([finished.code, finished.message]).toEqual([
      'E_RUN_FINISHED',
      `Run \`${run.runId}\` already finished (succeeded, exit 0); there is nothing to resume`,
    ]);
    expect(finished.details).toEqual([
      `Its record: ${path.join(runDir, 'result.json')}`,
      `Start a new run with: exec-doc run ${path.join(run.dir, 'doc.md')}#proc`,
    ]);

    const journal = lines(path.join(runDir, 'state.ndjson'));
    const { stateDir } = killedAfter(run, journal, 8, lines(log));
    const unfinished = await refusal(rollbackRun({ runId: run.runId, stateDir, env, loadSection: sectionOf(run.dir) }));
    expect([unfinished.code, unfinished.message, unfinished.details]).toEqual([
      'E_RUN_UNFINISHED',
      `Run \`${run.runId}\` has not finished; nothing to roll back yet`,
      [`Roll back what it did so far with: exec-doc resume ${run.runId} --rollback`],
    ]);

    const failedLog = path.join(tempDir(), 'log');
    const failed = await runDoc(DOC, 'proc', { env: { ...env, LOG: failedLog, FAIL_C: '1' } });
    const rolledBack = await refusal(
      rollbackRun({ runId: failed.runId, stateDir: failed.stateDir, env, loadSection: sectionOf(failed.dir) }),
    );
    expect([rolledBack.code, rolledBack.message, rolledBack.details]).toEqual([
      'E_RUN_FINISHED',
      `Run \`${failed.runId}\` ended rolled-back (exit 1); only a run that succeeded, or one whose rollback did not finish, is rolled back with \`exec-doc rollback\``,
      [
        `A failed run was rolled back when it failed: its record is ${path.join(failed.stateDir, 'runs', failed.runId, 'result.json')}`,
      ],
    ]);
    expect(lines(failedLog)).toEqual([
      'prepare',
      'before',
      'a',
      'b',
      'c',
      'undo-b',
      'undo-a',
      'before',
      'back',
      'unprepare',
      'close',
    ]);
  });

  it('rollback of a run whose embedded PostgreSQL is gone, or of a runbook without rollbacks, is refused', async () => {
    const env = { ...process.env, LOG: path.join(tempDir(), 'log') };
    const run = await runDoc(DOC, 'proc', { env });
    const journalFile = path.join(run.stateDir, 'runs', run.runId, 'state.ndjson');
    const journal = lines(journalFile);
    const last = JSON.parse(journal[journal.length - 1]!) as RunState;
    writeFileSync(
      journalFile,
      [...journal, JSON.stringify({ ...last, postgres: { kind: 'embedded' }, keepDb: false, newResults: [] })].join(
        '\n',
      ) + '\n',
    );
    const gone = await refusal(
      rollbackRun({ runId: run.runId, stateDir: run.stateDir, env, loadSection: sectionOf(run.dir) }),
    );
    expect([gone.code, gone.message, gone.details]).toEqual([
      'E_RUN_FINISHED',
      `Run \`${run.runId}\` changed the embedded PostgreSQL, which was removed when the run ended: there is nothing left to roll back`,
      ['To roll back later, run against your server (DATABASE_URL) or keep the embedded one with --keep-db.'],
    ]);

    const plainLog = path.join(tempDir(), 'log');
    const plain = await runDoc(
      '# T\n\n## Plain\n\n```bash {id=one}\necho one >> "$LOG"\n```\n\n```bash {id=two}\necho two >> "$LOG"\n```\n',
      'plain',
      {
        env: { ...env, LOG: plainLog },
      },
    );
    expect(plain.exitCode).toBe(0);
    const none = await refusal(
      rollbackRun({ runId: plain.runId, stateDir: plain.stateDir, env, loadSection: sectionOf(plain.dir) }),
    );
    expect([none.code, none.message, none.details]).toEqual([
      'E_RUN_FINISHED',
      `doc/plain declares no rollback: exec-doc cannot undo what run \`${plain.runId}\` did`,
      ['Add `rollback=<id>` and a `kind=rollback` block to each step that changes something, or undo it by hand.'],
    ]);
    expect(lines(plainLog)).toEqual(['one', 'two']);
  });

  it('a section edited since the run: resume and rollback refuse, saying how to go on', async () => {
    const env = { ...process.env, LOG: path.join(tempDir(), 'log') };
    const run = await runDoc(DOC, 'proc', { env });
    const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
    const { stateDir } = killedAfter(run, journal, 8, lines(env.LOG));
    const file = path.join(run.dir, 'doc.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('echo a >> "$LOG"', 'echo A >> "$LOG"'));
    const resumed = await refusal(resume(run, stateDir, env));
    expect([resumed.code, resumed.message, resumed.details]).toEqual([
      'E_RUN_CHANGED',
      `The section doc/proc changed since run \`${run.runId}\` started; resuming would mix two versions of the procedure`,
      ['Restore the document as it was, or start a new run.'],
    ]);
    const rolled = await refusal(
      rollbackRun({ runId: run.runId, stateDir: run.stateDir, env, loadSection: sectionOf(run.dir) }),
    );
    expect([rolled.code, rolled.message, rolled.details]).toEqual([
      'E_RUN_CHANGED',
      `The section doc/proc changed since run \`${run.runId}\` succeeded; its rollbacks may no longer undo what it did`,
      ['Restore the document as it was when the run succeeded, then roll it back.'],
    ]);
  });

  it('resuming the forward phase of a run with a confirmation needs someone to confirm; its rollback does not', async () => {
    const source =
      '# T\n\n## Proc {#proc}\n\n```bash {id=one rollback=undo-one}\necho one >> "$LOG"\n```\n\n```bash {id=undo-one kind=rollback}\necho undo-one >> "$LOG"\n```\n\n```bash {id=two confirm="Go on?" rollback=none}\necho two >> "$LOG"\n```\n';
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(source, 'proc', { env, yes: true });
    const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
    const between = checkpoints(journal).findIndex((p) => p.state.completed.includes('one') && !p.state.current) + 1;
    const { stateDir, log: worldLog } = killedAfter(run, journal, between, lines(log));
    const error = await refusal(resume(run, stateDir, { ...env, LOG: worldLog }));
    expect([error.code, error.details]).toEqual([
      'E_CONFIRM',
      ['two: Go on?', 'Pass --yes to confirm them all, or run in an interactive terminal.'],
    ]);
    // Rolling back instead needs no confirmation.
    const undone = await resume(run, stateDir, { ...env, LOG: worldLog }, { rollback: true });
    expect(undone.status).toBe('rolled-back');
    expect(lines(worldLog)).toEqual(['one', 'undo-one']);
  });

  it('a step interrupted mid-way is named with what would undo it: its rollback, nothing, or none declared', async () => {
    const source = `# T\n\n## Proc {#proc}\n\n\`\`\`bash {id=undoable rollback=undo}\necho 1 >> "$LOG"\n\`\`\`\n\n\`\`\`bash {id=undo kind=rollback}\necho u >> "$LOG"\n\`\`\`\n\n\`\`\`bash {id=harmless rollback=none}\necho 2 >> "$LOG"\n\`\`\`\n\n\`\`\`bash {id=bare}\necho 3 >> "$LOG"\n\`\`\`\n`;
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(source, 'proc', { env });
    const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
    const seen: Record<string, string> = {};
    for (let k = 1; k <= journal.length; k += 1) {
      const point = checkpoints(journal)[k - 1]!;
      const current = point.state.current;
      if (!current || current.phase !== 'forward' || seen[current.stepId]) continue;
      const { stateDir, log: worldLog } = killedAfter(run, journal, k, lines(log));
      const error = await refusal(resume(run, stateDir, { ...env, LOG: worldLog }));
      expect(error.code).toBe('E_RESUME_INTERRUPTED');
      expect(error.message).toBe(
        `Run \`${run.runId}\` stopped while step \`${current.stepId}\` was running; it may have done part or all of its work, so it is not run again on its own`,
      );
      expect(error.details!.slice(1)).toEqual([
        'Check what it did, then either:',
        `  exec-doc resume ${run.runId} --rerun-interrupted   run it again and go on (safe if running it twice does no harm)`,
        `  exec-doc resume ${run.runId} --rollback            undo it (its rollback first, written to tolerate a partly done step) and the completed steps`,
        'A step that is safe to repeat can say so with `idempotent` in its annotation; resume then runs it again by itself.',
      ]);
      seen[current.stepId] = error.details![0]!;
    }
    expect(seen).toEqual({
      undoable: 'undoable (bash, doc.md:5) would be undone by its rollback `undo` (line 9).',
      harmless: 'harmless (bash, doc.md:13) would be undone by nothing (rollback=none).',
      bare: 'bare (bash, doc.md:17) would be undone by no rollback (none is declared).',
    });
  });

  it('a step left running by the killed runner is stopped before the run goes on; a stranger with its pid is not', async () => {
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(DOC, 'proc', { env });
    const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
    const k = checkpoints(journal).findIndex((p) => p.state.current?.stepId === 'a') + 1;
    const { spawn } = await import('node:child_process');
    const { isSameProcessAlive } = await import('../../src/process/kill-tree.js');
    const started: Array<Promise<unknown>> = [];
    const start = (runId: string) => {
      const child = spawn('sleep', ['30'], { stdio: 'ignore', env: { ...process.env, EXEC_DOC_RUN_ID: runId } });
      started.push(new Promise((r) => child.once('spawn', r)));
      return child;
    };
    const leftover = start(run.runId);
    const stranger = start('another-run');
    const background = start(run.runId);
    try {
      await Promise.all(started);
      const { stateDir, log: worldLog } = killedAfter(run, journal, k, lines(log));
      const stateFile = path.join(stateDir, 'runs', run.runId, 'state.ndjson');
      const cut = lines(stateFile);
      const point = JSON.parse(cut[cut.length - 1]!) as RunState & { newResults: unknown[] };
      point.current = { ...point.current!, pid: leftover.pid! };
      point.background = [
        { stepId: 'bg', pid: background.pid! },
        { stepId: 'other', pid: stranger.pid! },
      ];
      writeFileSync(stateFile, [...cut.slice(0, -1), JSON.stringify({ ...point, newResults: [] })].join('\n') + '\n');
      const notices: string[] = [];
      const outcome = await resumeRun({
        runId: run.runId,
        stateDir,
        env: { ...env, LOG: worldLog },
        rerunInterrupted: true,
        notice: (line) => notices.push(line),
        loadSection: sectionOf(run.dir),
      });
      expect(outcome.exitCode).toBe(0);
      expect(notices).toEqual([
        `stopping process ${leftover.pid} left running by the killed runner (step a)`,
        `stopping background process ${background.pid} left running by the killed runner (step bg)`,
      ]);
      await new Promise((r) => setTimeout(r, 200));
      expect(isSameProcessAlive(leftover.pid!, undefined)).toBe(false);
      expect(isSameProcessAlive(background.pid!, undefined)).toBe(false);
      expect(isSameProcessAlive(stranger.pid!, undefined)).toBe(true);
    } finally {
      for (const p of [leftover, stranger, background]) p.kill('SIGKILL');
    }
  });
});

describe('the rollback, as events and records say it', () => {
  it('a failed run: rollback.start names the failure and what will be undone; rollback.end what was', async () => {
    const env = { ...process.env, LOG: path.join(tempDir(), 'log'), FAIL_C: '1' };
    const run = await runDoc(DOC, 'proc', { env });
    const start = run.events.find((e) => e.type === 'rollback.start');
    expect(start).toMatchObject({ reason: 'c: exited with code 1, expected 0', steps: ['b', 'a', 'prepare'] });
    const end = run.events.find((e) => e.type === 'rollback.end');
    expect(end).toMatchObject({ status: 'complete', undone: ['b', 'a', 'prepare'], notUndone: [] });
    const durationMs = (end as { durationMs: number }).durationMs;
    expect(durationMs).toBeGreaterThanOrEqual(0);
    expect(durationMs).toBeLessThan(60_000);
    expect(run.events.filter((e) => e.type === 'rollback.start' || e.type === 'rollback.end')).toHaveLength(2);
  });

  it('a run interrupted before its first step: that step is named as not started, and no step ran', async () => {
    const log = path.join(tempDir(), 'log');
    const run = await runDoc(DOC, 'proc', { env: { ...process.env, LOG: log }, signal: AbortSignal.abort() });
    expect(run.record.failedStep).toBe('prepare');
    expect(run.record.failureReason).toBe(reasons.notStarted());
    // Only the checks that prove a rollback (the pre checks never passed: skipped) and the teardown.
    expect(existsSync(log) ? lines(log) : []).toEqual(['back', 'close']);
  });

  it('a runbook without any rollback that fails: what it did stays done, said so, not counted as a failed undo', async () => {
    const log = path.join(tempDir(), 'log');
    const run = await runDoc(
      '# T\n\n## Plain\n\n```bash {id=one}\necho one >> "$LOG"\n```\n\n```bash {id=two}\necho two >> "$LOG"; exit 4\n```\n',
      'plain',
      { env: { ...process.env, LOG: log } },
    );
    expect(lines(log)).toEqual(['one', 'two']);
    expect(run.record.rollback).toMatchObject({ undone: [], notUndone: [], notUndoable: ['one'] });
    expect([run.exitCode, run.status]).toEqual([1, 'failed']);
  });
});

const SETUPS = `# T

## Two setups {#two}

\`\`\`bash {id=s1 kind=setup rollback=u1}
echo s1 >> "$LOG"
\`\`\`

\`\`\`bash {id=s2 kind=setup rollback=u2}
echo s2 >> "$LOG"; test -z "$FAIL_S2"
\`\`\`

\`\`\`bash {id=u1 kind=rollback}
echo u1 >> "$LOG"
\`\`\`

\`\`\`bash {id=u2 kind=rollback}
echo u2 >> "$LOG"
\`\`\`

\`\`\`bash {id=pre kind=check}
echo pre >> "$LOG"
\`\`\`

\`\`\`bash {id=a rollback=ua}
echo a >> "$LOG"
\`\`\`

\`\`\`bash {id=ua kind=rollback}
echo ua >> "$LOG"
\`\`\`

\`\`\`bash {id=back kind=check phase=rollback}
echo back >> "$LOG"
\`\`\`

\`\`\`bash {id=close kind=teardown}
echo close >> "$LOG"
\`\`\`
`;

describe('setup blocks', () => {
  it('a run that fails in its setup undoes the setup at once (the procedure never started), then proves it', async () => {
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log, FAIL_S2: '1' };
    const run = await runDoc(SETUPS, 'two', { env });
    expect([run.exitCode, run.status]).toEqual([1, 'rolled-back']);
    const fullLog = lines(log);
    expect(fullLog).toEqual(['s1', 's2', 'u1', 'back', 'close']);
    expect(run.record.rollback).toMatchObject({ undone: ['s1'], notUndone: [] });
    expect(await everyCheckpoint(run, env, fullLog, run, 1, ['s1', 's2'])).toBeGreaterThanOrEqual(fullLog.length);
  }, 120_000);

  it('undoing a run that succeeded: its steps, the proof, then the setups in reverse order', async () => {
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(SETUPS, 'two', { env });
    const rolled = await rollbackRun({
      runId: run.runId,
      stateDir: run.stateDir,
      env,
      loadSection: sectionOf(run.dir),
    });
    expect([rolled.exitCode, rolled.status]).toEqual([0, 'rolled-back']);
    expect(lines(log)).toEqual(['s1', 's2', 'pre', 'a', 'close', 'ua', 'pre', 'back', 'u2', 'u1', 'close']);
    expect(rolled.record.rollback).toMatchObject({ undone: ['a', 's2', 's1'], notUndone: [] });
  });
});

describe('rollbacks that cannot finish', () => {
  it('a failing rollback stops the ones before it; a step with no rollback declared does not', async () => {
    const source = `# T

## Proc {#proc}

\`\`\`bash {id=first rollback=undo-first}
echo first >> "$LOG"
\`\`\`

\`\`\`bash {id=undo-first kind=rollback}
echo undo-first >> "$LOG"
\`\`\`

\`\`\`bash {id=bare}
echo bare >> "$LOG"
\`\`\`

\`\`\`bash {id=last rollback=undo-last}
echo last >> "$LOG"
\`\`\`

\`\`\`bash {id=undo-last kind=rollback}
echo undo-last >> "$LOG"; test -z "$FAIL_UNDO"
\`\`\`

\`\`\`bash {id=boom rollback=none}
echo boom >> "$LOG"; exit 9
\`\`\`
`;
    const log = path.join(tempDir(), 'log');
    const notices: string[] = [];
    const events: RunEvent[] = [];
    const run = await runDoc(source, 'proc', {
      env: { ...process.env, LOG: log },
      notice: (line) => notices.push(line),
      listeners: [(e) => events.push(e)],
    });
    // \`bare\` declares no rollback: it stays done, said so, and \`first\` is still undone.
    expect(lines(log)).toEqual(['first', 'bare', 'last', 'boom', 'undo-last', 'undo-first']);
    expect(notices).toEqual([reasons.noRollback('bare')]);
    expect(run.record.rollback).toMatchObject({ undone: ['last', 'first'], notUndone: ['bare'] });
    expect(events.find((e) => e.type === 'rollback.end')).toMatchObject({
      status: 'incomplete',
      undone: ['last', 'first'],
      notUndone: ['bare'],
    });

    const failLog = path.join(tempDir(), 'log');
    const failNotices: string[] = [];
    const failEvents: RunEvent[] = [];
    const failed = await runDoc(source, 'proc', {
      env: { ...process.env, LOG: failLog, FAIL_UNDO: '1' },
      notice: (line) => failNotices.push(line),
      listeners: [(e) => failEvents.push(e)],
    });
    // \`undo-last\` failed: nothing before it is undone (it may depend on it); only \`bare\` is said to have no rollback.
    expect(lines(failLog)).toEqual(['first', 'bare', 'last', 'boom', 'undo-last']);
    expect(failNotices).toEqual([reasons.noRollback('bare')]);
    expect([failed.exitCode, failed.status]).toEqual([2, 'rollback-incomplete']);
    expect(failEvents.find((e) => e.type === 'rollback.end')).toMatchObject({
      status: 'incomplete',
      undone: [],
      notUndone: ['last', 'bare', 'first'],
    });
  });

  it('a rollback abandoned before it began (a second interrupt): nothing is undone, all of it left for resume', async () => {
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log, FAIL_C: '1' };
    const force = new AbortController();
    force.abort();
    const run = await runDoc(DOC, 'proc', { env, forceSignal: force.signal });
    expect([run.exitCode, run.status]).toEqual([2, 'rollback-incomplete']);
    expect(lines(log)).toEqual(['prepare', 'before', 'a', 'b', 'c']);
    expect(run.record.steps.filter((s) => s.phase !== 'forward')).toEqual([]);
    const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
    const last = checkpoints(journal).at(-1)!.state;
    expect([last.phase, last.rollbackPending, last.setupPending]).toEqual(['rollback', ['b', 'a'], ['prepare']]);
    // resume finishes it.
    const resumed = await resume(run, run.stateDir, env);
    expect(resumed.status).toBe('rolled-back');
    expect(lines(log).slice(5)).toEqual(['undo-b', 'undo-a', 'before', 'back', 'unprepare', 'close']);
  });

  it('resume --rollback between two steps names the next step as where the run stopped', async () => {
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(DOC, 'proc', { env });
    const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
    const k =
      checkpoints(journal).findIndex(
        (p) => p.state.completed.includes('a') && !p.state.current && !p.state.completed.includes('b'),
      ) + 1;
    const { stateDir, log: worldLog } = killedAfter(run, journal, k, lines(log));
    const outcome = await resume(run, stateDir, { ...env, LOG: worldLog }, { rollback: true });
    expect(outcome.record.failedStep).toBe('b');
    expect(outcome.record.failureReason).toBe(reasons.resumeRollback());
    expect(lines(worldLog)).toEqual(['prepare', 'before', 'a', 'undo-a', 'before', 'back', 'unprepare', 'close']);
  });
});

/** The run's folder as a runner killed right after `stepId` completed (between two blocks) leaves it. */
function killedAfterStep(run: InProcessRun, stepId: string, log?: string) {
  const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
  const k = checkpointWhere(journal, (s) => s.completed.includes(stepId) && !s.current);
  return killedAfter(run, journal, k, log ? lines(log) : []);
}

/** The index (1-based) of the first checkpoint that `found` accepts. */
const checkpointWhere = (journal: string[], found: (state: RunState) => boolean): number =>
  checkpoints(journal).findIndex((p) => found(p.state)) + 1;

describe('what resume and rollback carry over from the run', () => {
  const SECRET = `---
exec-doc:
  params:
    token: { secret: true }
---
# T

## Proc {#proc}

\`\`\`bash {id=one rollback=undo-one}
echo "one $EXEC_DOC_PARAM_token" >> "$LOG"
\`\`\`

\`\`\`bash {id=undo-one kind=rollback}
echo "undo-one $EXEC_DOC_PARAM_token" >> "$LOG"
\`\`\`

\`\`\`bash {id=two rollback=none}
echo "two $EXEC_DOC_PARAM_token" >> "$LOG"
\`\`\`
`;

  it('a secret is never stored: resume and rollback without it are refused, saying to pass it again; with it they go on', async () => {
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(SECRET, 'proc', { env, sets: { token: 's3cret-77' } });
    expect(lines(log)).toEqual(['one s3cret-77', 'two s3cret-77']);
    expect(readFileSync(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'), 'utf8')).not.toContain('s3cret-77');
    const { stateDir, log: worldLog } = killedAfterStep(run, 'one', log);
    const missing = await refusal(resume(run, stateDir, { ...env, LOG: worldLog }));
    expect([missing.code, missing.message]).toEqual([
      'E_PARAM',
      `Cannot resume ${run.runId} (secret values are never stored; pass them again): a parameter is not right`,
    ]);
    const resumed = await resumeRun({
      runId: run.runId,
      stateDir,
      env: { ...env, LOG: worldLog },
      sets: { token: 's3cret-77' },
      loadSection: sectionOf(run.dir),
    });
    expect([resumed.status, lines(worldLog)]).toEqual(['succeeded', ['one s3cret-77', 'two s3cret-77']]);

    const notAgain = await refusal(
      rollbackRun({ runId: run.runId, stateDir: run.stateDir, env, loadSection: sectionOf(run.dir) }),
    );
    expect(notAgain.message).toBe(
      `Cannot roll back ${run.runId} (secret values are never stored; pass them again): a parameter is not right`,
    );
    const rolled = await rollbackRun({
      runId: run.runId,
      stateDir: run.stateDir,
      env,
      sets: { token: 's3cret-77' },
      loadSection: sectionOf(run.dir),
    });
    expect(rolled.status).toBe('rolled-back');
    expect(lines(log)).toEqual(['one s3cret-77', 'two s3cret-77', 'undo-one s3cret-77']);
  });

  it('resume of a run that failed is refused with its status and exit code', async () => {
    const env = { ...process.env, LOG: path.join(tempDir(), 'log'), FAIL_C: '1' };
    const run = await runDoc(DOC, 'proc', { env });
    const error = await refusal(resume(run, run.stateDir, env));
    expect(error.message).toBe(
      `Run \`${run.runId}\` already finished (rolled-back, exit 1); there is nothing to resume`,
    );
  });

  it('a shared session: resume says what the completed blocks exported is gone, only when some completed', async () => {
    const source =
      '# T\n\n## Proc {#proc}\n\n```bash {id=one rollback=none}\nexport GREETING=hi; echo one >> "$LOG"\n```\n\n```bash {id=two rollback=none}\necho "two ${GREETING:-}" >> "$LOG"\n```\n';
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(source, 'proc', { env, session: 'shared' });
    expect(lines(log)).toEqual(['one', 'two hi']);
    const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
    const notices = async (k: number, session: 'shared' | 'isolated' | undefined): Promise<string[]> => {
      const said: string[] = [];
      const { stateDir, log: worldLog } = killedAfter(run, journal, k, lines(log));
      await resumeRun({
        runId: run.runId,
        stateDir,
        env: { ...env, LOG: worldLog },
        ...(session ? { session } : {}),
        notice: (line) => said.push(line),
        loadSection: sectionOf(run.dir),
      });
      return said.filter((line) => line.startsWith('shared session'));
    };
    const between = checkpointWhere(journal, (s) => s.completed.includes('one') && !s.current);
    expect(await notices(between, 'shared')).toEqual([
      'shared session: what the completed blocks exported was held in memory only (it may hold secrets) and is gone; set those variables in the environment if the next blocks need them',
    ]);
    expect(await notices(between, 'isolated')).toEqual([]);
    expect(await notices(between, undefined)).toEqual([]);
    expect(await notices(1, 'shared')).toEqual([]);
  });

  it('a section that declares a shared session (Runme) gets the same notice on resume', async () => {
    const source =
      '---\nrunme:\n  session: shared\n---\n# T\n\n## Proc {#proc}\n\n```bash {id=one rollback=none}\necho one >> "$LOG"\n```\n\n```bash {id=two rollback=none}\necho two >> "$LOG"\n```\n';
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(source, 'proc', { env });
    const { stateDir, log: worldLog } = killedAfterStep(run, 'one', log);
    const said: string[] = [];
    await resumeRun({
      runId: run.runId,
      stateDir,
      env: { ...env, LOG: worldLog },
      notice: (line) => said.push(line),
      loadSection: sectionOf(run.dir),
    });
    expect(said.filter((line) => line.startsWith('shared session'))).toHaveLength(1);
  });

  it('resuming a rollback under way needs no confirmation, even for a section with confirm steps', async () => {
    const source =
      '# T\n\n## Proc {#proc}\n\n```bash {id=one rollback=undo-one}\necho one >> "$LOG"\n```\n\n```bash {id=undo-one kind=rollback}\necho undo-one >> "$LOG"\n```\n\n```bash {id=two confirm="Go on?" rollback=none}\necho two >> "$LOG"; exit 3\n```\n';
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(source, 'proc', { env, yes: true });
    expect(lines(log)).toEqual(['one', 'two', 'undo-one']);
    const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
    const k = checkpointWhere(journal, (s) => s.phase === 'rollback' && !s.current && s.rollbackPending.length > 0);
    const { stateDir, log: worldLog } = killedAfter(run, journal, k, lines(log));
    const resumed = await resume(run, stateDir, { ...env, LOG: worldLog });
    expect([resumed.status, lines(worldLog)]).toEqual(['rolled-back', ['one', 'two', 'undo-one']]);
  });

  it('resume --rollback of a run killed in its setup undoes the setup first, then proves the rollback', async () => {
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(SETUPS, 'two', { env });
    const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
    const k = checkpointWhere(journal, (s) => s.completed.includes('s1') && !s.current && !s.completed.includes('s2'));
    const { stateDir, log: worldLog } = killedAfter(run, journal, k, lines(log));
    const outcome = await resume(run, stateDir, { ...env, LOG: worldLog }, { rollback: true });
    expect(outcome.status).toBe('rolled-back');
    // Before the baseline (taken once the setup is done) there is nothing to compare with: the
    // setup is undone at once, then the rollback checks run.
    expect(lines(worldLog)).toEqual(['s1', 'u1', 'back', 'close']);
    // Both setups done, the procedure not begun: undone in reverse order, then proved.
    const both = killedAfter(
      run,
      journal,
      checkpointWhere(journal, (s) => s.completed.includes('s2') && !s.current && !s.baselineAfterSetup),
      lines(log),
    );
    const undone = await resume(run, both.stateDir, { ...env, LOG: both.log }, { rollback: true });
    expect([undone.status, lines(both.log)]).toEqual(['rolled-back', ['s1', 's2', 'u2', 'u1', 'back', 'close']]);
  });

  it('resume --rollback after the last step, before the run moved on, names the last completed step', async () => {
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    const run = await runDoc(DOC, 'proc', { env });
    const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
    // The last forward block is the post check `after`.
    const k = checkpointWhere(journal, (s) => s.phase === 'forward' && s.completed.includes('after') && !s.current);
    const { stateDir, log: worldLog } = killedAfter(run, journal, k, lines(log));
    const outcome = await resume(run, stateDir, { ...env, LOG: worldLog }, { rollback: true });
    expect([outcome.record.failedStep, outcome.record.failureReason]).toEqual(['after', reasons.resumeRollback()]);
  });
});

describe('resume and rollback under an access policy', () => {
  it('the audit trail says resume; rolling back a run with a confirm step needs `run`, not `confirm`', async () => {
    const dir = tempDir('exec-doc-resume-access-');
    const policyFile = path.join(dir, 'exec-doc.policy.yaml');
    writeFileSync(
      policyFile,
      `version: 1\nroles:\n  operator:\n    - allow: [plan, run]\nmembers:\n  ${os.userInfo().username}: [operator]\n`,
    );
    const auditFile = path.join(dir, 'audit.ndjson');
    const access = (): AccessContext => ({
      policy: loadPolicy(policyFile),
      identity: osIdentity(),
      approvals: [],
      audit: new AuditLog(auditFile),
      usedApprovalsDir: path.join(dir, 'used'),
    });
    const source =
      '# T\n\n## Proc {#proc}\n\n```bash {id=one rollback=undo-one}\necho one >> "$LOG"\n```\n\n```bash {id=undo-one kind=rollback}\necho undo-one >> "$LOG"\n```\n\n```bash {id=two confirm="Go on?" rollback=none}\necho two >> "$LOG"\n```\n';
    const log = path.join(tempDir(), 'log');
    const env = { ...process.env, LOG: log };
    // Confirming is not allowed to this identity: the run itself is refused...
    const refused = (await runDoc(source, 'proc', { env, yes: true, access: access() }).catch((e: unknown) => e)) as {
      code?: string;
    };
    expect(refused.code).toBe('E_DENIED');
    // ...so it runs without the policy, and is rolled back under it.
    const run = await runDoc(source, 'proc', { env, yes: true });
    expect(run.status).toBe('succeeded');
    const rolled = await rollbackRun({
      runId: run.runId,
      stateDir: run.stateDir,
      env,
      access: access(),
      loadSection: sectionOf(run.dir),
    });
    expect(rolled.status).toBe('rolled-back');
    const authorized = readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { action: string; outcome: string; runId?: string })
      .filter((entry) => entry.outcome === 'authorized');
    expect(authorized.map((e) => [e.action, e.runId])).toEqual([['resume', run.runId]]);

    // A killed run resumed under the policy: authorized as a resume too.
    const plain = source.replace(' confirm="Go on?"', '');
    const killed = await runDoc(plain, 'proc', { env });
    const { stateDir, log: worldLog } = killedAfterStep(killed, 'one', log);
    await resumeRun({
      runId: killed.runId,
      stateDir,
      env: { ...env, LOG: worldLog },
      access: access(),
      loadSection: sectionOf(killed.dir),
    });
    const entries = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string; outcome: string; runId?: string });
    expect(entries.filter((e) => e.runId === killed.runId && e.outcome === 'authorized').map((e) => e.action)).toEqual([
      'resume',
    ]);
  });
});

describe('on a PostgreSQL server that is not disposable', () => {
  const server = useEmbeddedServer('resume_matrix');

  it('the fixtures left out of the run stay out when it is resumed', async () => {
    const { url, query } = await server.database('create table t (n int);');
    const source =
      '# T\n\n## Proc {#proc}\n\n```sql {id=seed kind=setup fixture rollback=none}\ninsert into t values (0);\n```\n\n```sql {id=one rollback=none}\ninsert into t values (1);\n```\n\n```sql {id=two rollback=none}\ninsert into t values (2);\n```\n';
    const env = { ...process.env, DATABASE_URL: url };
    const run = await runDoc(source, 'proc', { env });
    expect(run.status).toBe('succeeded');
    const { stateDir } = killedAfterStep(run, 'one');
    await query('delete from t where n = 2');
    const resumed = await resume(run, stateDir, env);
    expect(steps(resumed)).toEqual(['forward:one:passed', 'forward:two:passed']);
    expect((await query('select n from t order by n')).rows.map((r: { n: number }) => r.n)).toEqual([1, 2]);
  });
});
