// A run's state directory (.exec-doc/runs/<id>/): the state journal checkpointed after every
// step, events.ndjson, one log per step, the result record, and a lock while a runner owns it.
// The state is an append-only journal (state.ndjson): each checkpoint is one line holding the
// state without its step results plus the results added since the previous line. Appending is
// ~100x cheaper than replacing a file (ext4 flushes a file renamed over another), and a runner
// killed mid-write leaves at worst a torn last line, which load() ignores. (No fsync: resume is
// about a killed runner, not a lost machine, and the page cache survives the former.)
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { StepKind, StepLanguage } from '../model/types.js';
import type { RunStatus, StepPhase, StepStatus } from '../events/types.js';
import { tryLockFile } from '../util/lock-file.js';
import { ExecDocError } from '../errors/exec-doc-error.js';
import { jsonErrorOffset } from '../util/json-error-offset.js';
import type { EmbeddedInfo } from '../targets/postgres.js';
import type { CheckResult } from '../checks/types.js';
import type { StepMetric } from './metrics.js';
import type { StepResources } from './resources.js';

/** One execution of one block; success and failure have the same shape. */
export interface StepResult {
  stepId: string;
  kind: StepKind;
  lang: StepLanguage;
  phase: StepPhase;
  status: StepStatus;
  attempts: number;
  startedAt: string;
  durationMs: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Why it failed (or was skipped); null when it passed. */
  reason: string | null;
  /** The last lines of its output, secrets masked. */
  outputExcerpt: string;
  /** For a `checks` block: each check's answer. */
  checks?: CheckResult[];
  /** What the step measured ($EXEC_DOC_METRICS). */
  metrics?: StepMetric[];
  /** Resource use while it ran (the runner's samples), when a sample was taken. */
  resources?: StepResources;
}

/** A failed run: rollback (steps) → verify (against the state after setup) → rollback-setup → teardown. */
export type RunPhase = 'forward' | 'rollback' | 'verify' | 'rollback-setup' | 'teardown' | 'done';

export interface RunState {
  version: 1;
  runId: string;
  section: { address: string; file: string; docsRoot: string; contentHash: string };
  phase: RunPhase;
  startedAt: string;
  /** Non-secret parameter values; secrets are supplied again on resume. */
  params: Record<string, string>;
  secretParams: string[];
  /** Values handed between steps through $EXEC_DOC_ENV (masked). */
  handoff: Record<string, string>;
  /** Index into the plan's forward list of the next step to run. */
  cursor: number;
  completed: string[];
  failure: { stepId: string; reason: string } | null;
  /** Forward step ids whose rollback is still to run, next first. */
  rollbackPending: string[];
  /**
   * Setup block ids to undo after the rollback was verified, next first: the comparison with the
   * starting point needs the setup's tables and data in place. (Absent in journals of older runs:
   * load() gives them none.)
   */
  setupPending: string[];
  /** Whether the target was disposable (the embedded default, or --disposable). (Absent in older journals.) */
  disposable?: boolean;
  /** The target was not disposable: the section's fixtures were left out of the plan. */
  fixturesSkipped?: boolean;
  /** The runner's baseline covers only these tables (a real target; the section's `touches`); absent: the whole database. */
  provenTables?: string[];
  /** The baseline was taken again after the setup blocks (before that, it is the state before them). */
  baselineAfterSetup?: boolean;
  undone: string[];
  notUndone: string[];
  /** Index of the first result of a rollback tried again (`exec-doc rollback` after an incomplete one). */
  retryFrom?: number;
  /** Rolled back at the operator's request after it succeeded (`exec-doc rollback`), not after a failure. */
  requestedRollback?: boolean;
  /** Completed steps of a document that declares no rollback (absent in older journals). */
  notUndoable?: string[];
  /** Background blocks still running (Runme's `background`): a resumed run stops what a killed runner left. */
  background?: Array<{ stepId: string; pid: number }>;
  rollbackStartedAt: string | null;
  verifyCursor: number;
  teardownCursor: number;
  /** The block running right now: lets `resume` clean up a process a killed runner left behind. */
  current: { stepId: string; phase: StepPhase; pid: number | null } | null;
  results: StepResult[];
  postgres: { kind: 'external' | 'embedded'; embedded?: EmbeddedInfo } | null;
  keepDb: boolean;
  lastSeq: number;
  final: { status: RunStatus; exitCode: number; finishedAt: string } | null;
}

/** A run's progress before its first step: nothing done, nothing to undo, no result. */
export function progressAtStart(): Pick<
  RunState,
  | 'handoff'
  | 'cursor'
  | 'completed'
  | 'failure'
  | 'rollbackPending'
  | 'undone'
  | 'notUndone'
  | 'setupPending'
  | 'rollbackStartedAt'
  | 'verifyCursor'
  | 'teardownCursor'
  | 'current'
  | 'results'
  | 'postgres'
  | 'lastSeq'
  | 'final'
> {
  return {
    handoff: {},
    cursor: 0,
    completed: [],
    failure: null,
    rollbackPending: [],
    setupPending: [],
    undone: [],
    notUndone: [],
    rollbackStartedAt: null,
    verifyCursor: 0,
    teardownCursor: 0,
    current: null,
    results: [],
    postgres: null,
    lastSeq: 0,
    final: null,
  };
}

export { newRunId } from '../model/run-id.js';

const PHASES = new Set(['forward', 'rollback', 'verify', 'rollback-setup', 'teardown', 'done']);

/** Why a journal line is not a checkpoint (with the column of a JSON error), or undefined. */
function checkpointProblem(line: string): { message: string; column?: number } | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return { message: 'not JSON', column: jsonErrorOffset(line) + 1 };
  }
  const e = entry as Record<string, unknown> | null;
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return { message: 'not a JSON object' };
  if (e.version !== 1) return { message: '`version` is not 1' };
  if (typeof e.phase !== 'string' || !PHASES.has(e.phase)) return { message: '`phase` is not a phase of a run' };
  if (!Number.isInteger(e.cursor) || (e.cursor as number) < 0) return { message: '`cursor` is not a step position' };
  for (const list of ['completed', 'rollbackPending', 'undone', 'notUndone', 'newResults'])
    if (!Array.isArray(e[list])) return { message: `\`${list}\` is not a list` };
  if (!(e.section as { address?: unknown } | undefined)?.address) return { message: '`section` is missing' };
  return undefined;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

export class RunStore {
  readonly dir: string;

  constructor(
    readonly stateDir: string,
    readonly runId: string,
  ) {
    // A run id names a folder under runs/: nothing that could lead out of it.
    if (!RUN_ID.test(runId))
      throw new ExecDocError(
        'E_RUN_NOT_FOUND',
        `\`${runId}\` is not a run id (letters, digits, - _ and ., as \`exec-doc run\` prints them)`,
      );
    // Absolute: steps run in their document's folder and receive it as $EXEC_DOC_RUN_DIR.
    this.dir = path.resolve(stateDir, 'runs', runId);
    if (isSymlink(this.dir))
      throw new ExecDocError(
        'E_RUN_NOT_FOUND',
        `${this.dir} is a symbolic link; a run's folder must be a real folder inside the state folder`,
      );
  }

  get statePath(): string {
    return path.join(this.dir, 'state.ndjson');
  }
  get eventsPath(): string {
    return path.join(this.dir, 'events.ndjson');
  }
  get resultPath(): string {
    return path.join(this.dir, 'result.json');
  }
  /** Every block's output, in order, each attempt under a `==> phase id` header (secrets masked). */
  get logPath(): string {
    return path.join(this.dir, 'output.log');
  }
  /** The run's folder, private to its owner (0700): state, events, logs and records are 0600 inside it. */
  create(): void {
    mkdirSync(path.dirname(this.dir), { recursive: true, mode: 0o700 });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  exists(): boolean {
    return existsSync(this.statePath);
  }

  private journal: number | undefined;
  /** How many step results the journal already holds (set by load() when resuming). */
  private savedResults = 0;

  save(state: RunState): void {
    if (this.journal === undefined) {
      const size = existsSync(this.statePath) ? statSync(this.statePath).size : 0;
      this.journal = openSync(this.statePath, 'a', 0o600);
      // After a torn last line, start on a fresh line so the next checkpoint stays readable.
      if (size > 0 && !readFileSync(this.statePath, 'utf8').endsWith('\n')) writeSync(this.journal, '\n');
    }
    const { results, ...rest } = state;
    const line = JSON.stringify({ ...rest, newResults: results.slice(this.savedResults) });
    writeSync(this.journal, `${line}\n`);
    this.savedResults = results.length;
  }

  close(): void {
    if (this.journal !== undefined) closeSync(this.journal);
    this.journal = undefined;
  }

  load(): RunState {
    let text: string;
    try {
      text = readFileSync(this.statePath, 'utf8');
    } catch {
      throw new ExecDocError('E_RUN_NOT_FOUND', `No run \`${this.runId}\` in ${path.dirname(this.dir)}`, {
        details: ['List runs with `ls ' + path.dirname(this.dir) + '`, or pass --state-dir if they live elsewhere.'],
      });
    }
    let state: RunState | undefined;
    const results: StepResult[] = [];
    const lines = text.split('\n');
    const lastLine = lines.reduce((last, line, i) => (line.trim() === '' ? last : i), -1);
    this.damage = [];
    const problems: string[] = [];
    for (const [index, line] of lines.entries()) {
      if (line.trim() === '') continue;
      const problem = checkpointProblem(line);
      if (problem) {
        // Each checkpoint holds the whole position (phase, cursor, what is done and pending), so
        // a damaged one costs only the step results it carried: the others still tell where the run is.
        problems.push(`line ${index + 1}${problem.column ? `, column ${problem.column}` : ''}: ${problem.message}`);
        this.damage.push(
          index === lastLine
            ? `the state journal's last checkpoint (line ${index + 1}) was cut short or damaged (${problem.message}); the one before it stands`
            : `the state journal's line ${index + 1}${problem.column ? ` (column ${problem.column})` : ''} is damaged (${problem.message}); the step results it held are missing from the record, the run's position comes from the later checkpoints`,
        );
        continue;
      }
      const entry = JSON.parse(line) as Omit<RunState, 'results'> & { newResults: StepResult[] };
      const { newResults, ...rest } = entry;
      results.push(...newResults);
      state = { ...rest, setupPending: rest.setupPending ?? [], results: [...results] };
    }
    this.savedResults = results.length;
    if (!state) {
      throw new ExecDocError(
        'E_RUN_NOT_FOUND',
        `The state journal ${this.statePath} holds no readable checkpoint; the run cannot be resumed or rolled back`,
        {
          details: [
            ...problems.slice(0, 5),
            'What the run did is in its events (events.ndjson) and output log: undo it by hand from there.',
          ],
        },
      );
    }
    return state;
  }

  /** What load() found damaged in the journal, each with its line: said before the run goes on. */
  damage: string[] = [];

  /** Takes the run's lock; fails when another live runner holds it. A dead holder's lock is taken over. */
  lock(): void {
    const taken = tryLockFile(path.join(this.dir, 'lock'));
    if (!taken.acquired && taken.holder.pid !== process.pid) {
      throw new ExecDocError('E_RUN_LOCKED', `Run \`${this.runId}\` is being executed by process ${taken.holder.pid}`, {
        details: ['Wait for it to finish, or stop that process first.'],
      });
    }
  }

  unlock(): void {
    rmSync(path.join(this.dir, 'lock'), { force: true });
  }
}
