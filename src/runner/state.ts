// A run's state directory (.exec-doc/runs/<id>/): state.json checkpointed after every step,
// events.ndjson, one log per step, the result record, and a lock while a runner owns it.
// Files are replaced by write-then-rename: a runner killed at any instant leaves either the
// old or the new state, never half of one. (No fsync: resume is about a killed runner, not a
// lost machine, and the page cache survives the former.)
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { StepKind, StepLanguage } from '../model/types.js';
import type { RunStatus, StepPhase, StepStatus } from '../events/types.js';
import { isSameProcessAlive, processStartTime } from './kill-tree.js';
import { ExecDocError } from '../errors/exec-doc-error.js';
import type { EmbeddedInfo } from '../targets/postgres.js';

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
}

export type RunPhase = 'forward' | 'rollback' | 'verify' | 'teardown' | 'done';

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
  undone: string[];
  notUndone: string[];
  rollbackStartedAt: string | null;
  verifyCursor: number;
  teardownCursor: number;
  /** The block running right now: lets `resume` clean up a process a killed runner left behind. */
  current: { stepId: string; phase: StepPhase; pid: number | null; startTime: string | null } | null;
  results: StepResult[];
  postgres: { kind: 'external' | 'embedded'; embedded?: EmbeddedInfo } | null;
  keepDb: boolean;
  lastSeq: number;
  final: { status: RunStatus; exitCode: number; finishedAt: string } | null;
}

export function newRunId(sectionSlug: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${sectionSlug.slice(0, 40)}-${randomBytes(3).toString('hex')}`;
}

export class RunStore {
  readonly dir: string;

  constructor(readonly stateDir: string, readonly runId: string) {
    // Absolute: steps run in their document's folder and receive it as $EXEC_DOC_RUN_DIR.
    this.dir = path.resolve(stateDir, 'runs', runId);
  }

  get statePath(): string {
    return path.join(this.dir, 'state.json');
  }
  get eventsPath(): string {
    return path.join(this.dir, 'events.ndjson');
  }
  get resultPath(): string {
    return path.join(this.dir, 'result.json');
  }
  logPath(stepId: string, phase: StepPhase): string {
    return path.join(this.dir, 'logs', `${phase}-${stepId}.log`);
  }
  create(): void {
    mkdirSync(path.join(this.dir, 'logs'), { recursive: true });
  }

  exists(): boolean {
    return existsSync(this.statePath);
  }

  save(state: RunState): void {
    writeAtomic(this.statePath, `${JSON.stringify(state, null, 2)}\n`);
  }

  load(): RunState {
    let text: string;
    try {
      text = readFileSync(this.statePath, 'utf8');
    } catch {
      throw new ExecDocError('E_RUN_NOT_FOUND', `No run \`${this.runId}\` in ${path.dirname(this.dir)}`, { details: ['List runs with `ls ' + path.dirname(this.dir) + '`, or pass --state-dir if they live elsewhere.'] });
    }
    try {
      const state = JSON.parse(text) as RunState;
      if (state.version !== 1) throw new Error(`unknown state version ${String(state.version)}`);
      return state;
    } catch (error) {
      throw new ExecDocError('E_RUN_NOT_FOUND', `The state file ${this.statePath} is unreadable (${(error as Error).message}); the run cannot be resumed`, { cause: error });
    }
  }

  /** Takes the run's lock; fails when another live runner holds it. A dead holder's lock is taken over. */
  lock(): void {
    const lockPath = path.join(this.dir, 'lock');
    const mine = JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) ?? null });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lockPath, 'wx');
        writeSync(fd, mine);
        closeSync(fd);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        let holder: { pid?: number; startTime?: string | null } = {};
        try {
          holder = JSON.parse(readFileSync(lockPath, 'utf8')) as typeof holder;
        } catch {
          // An unreadable lock is as good as a stale one.
        }
        if (holder.pid && holder.pid !== process.pid && isSameProcessAlive(holder.pid, holder.startTime ?? undefined)) {
          throw new ExecDocError('E_RUN_LOCKED', `Run \`${this.runId}\` is being executed by process ${holder.pid}`, { details: ['Wait for it to finish, or stop that process first.'] });
        }
        rmSync(lockPath, { force: true });
      }
    }
  }

  unlock(): void {
    rmSync(path.join(this.dir, 'lock'), { force: true });
  }
}

export function writeAtomic(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}
