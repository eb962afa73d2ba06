// A runner killed at any checkpoint: the run is run once to its end, then, for every checkpoint of
// its state journal, the run's folder is cut back to that checkpoint (as a runner killed right
// after writing it leaves it), the world is put back as it was then, and `resume` (in this
// process) finishes the run. Whatever the checkpoint, every block runs as in the uninterrupted
// run, none is skipped, none is repeated except the one that was running (which may have done its
// work: it runs again only when asked to, or when it is a check or a rollback), and the run ends
// with the same status, exit code and step results.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecDocError } from '../../src/errors/exec-doc-error.js';
import { resumeRun, rollbackRun, type RunOutcome } from '../../src/runner/run.js';
import type { RunState } from '../../src/runner/state.js';
import { runDoc, sectionOf, tempDir, type InProcessRun } from '../helpers.js';

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
  extra: { rerunInterrupted?: boolean; rollback?: boolean } = {},
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
): Promise<number> {
  const journal = lines(path.join(run.stateDir, 'runs', run.runId, 'state.ndjson'));
  let resumed = 0;
  for (let k = firstCheckpoint; k <= journal.length; k += 1) {
    const { stateDir, log, point } = killedAfter(run, journal, k, fullLog);
    const at = `checkpoint ${k} of ${journal.length} (${point.state.phase}, ${point.state.current?.stepId ?? 'between blocks'})`;
    const before = readFileSync(log, 'utf8');
    const runEnv = { ...env, LOG: log };
    if (point.state.final || point.state.phase === 'done') {
      const error = await resume(run, stateDir, runEnv).catch((e: unknown) => e);
      expect((error as ExecDocError).code, at).toBe('E_RUN_FINISHED');
      continue;
    }
    const current = point.state.current;
    const interruptedForward =
      point.state.phase === 'forward' &&
      current?.phase === 'forward' &&
      ['a', 'b', 'c', 'prepare'].includes(current.stepId);
    if (interruptedForward) {
      // The step may have done its work: resume stops, names it, and changes nothing.
      const error = await resume(run, stateDir, runEnv).catch((e: unknown) => e);
      expect((error as ExecDocError).code, at).toBe('E_RESUME_INTERRUPTED');
      expect((error as ExecDocError).message, at).toContain(`while step \`${current.stepId}\` was running`);
      expect(readFileSync(log, 'utf8'), at).toBe(before);
    }
    const outcome = await resume(run, stateDir, runEnv, { rerunInterrupted: interruptedForward });
    const ran = point.results + (current ? 1 : 0);
    // What had run, then everything from the block the checkpoint was at: the running one again.
    expect(lines(log), at).toEqual([...fullLog.slice(0, ran), ...fullLog.slice(point.results)]);
    expect([outcome.exitCode, outcome.status], at).toEqual([expected.exitCode, expected.status]);
    expect(steps(outcome), at).toEqual(steps(expected));
    expect(outcome.record.rollback, at).toEqual(expected.record.rollback);
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
    const rolled = await rollbackRun({
      runId: run.runId,
      stateDir: run.stateDir,
      env,
      loadSection: sectionOf(run.dir),
    });
    expect([rolled.exitCode, rolled.status]).toEqual([0, 'rolled-back']);
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
