// The validation framework's vocabulary: a check answers one question about the system
// (is the database reachable, is a backup fresh, …) with a status, the measured value, the
// threshold it was held against and how long it took. The same result shape serves the
// `exec-doc check` command, `checks` blocks in runbooks, the events, the result record and
// the Prometheus file.
import { CodedError } from '../util/coded-error.js';
import type * as z from 'zod';

/**
 * `pass`: fine. `warn`: fine to go on, but look (or the check has nothing configured to look at).
 * `fail`: the answer is no. `error`: the check could not answer (missing tool, no permission,
 * timeout, unreadable input) — not the same as `fail`.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'error';
export const CHECK_STATUSES: readonly CheckStatus[] = ['pass', 'warn', 'fail', 'error'];

export const VALIDATION_PHASES = ['pre-upgrade', 'post-upgrade', 'post-rollback'] as const;
export type ValidationPhase = (typeof VALIDATION_PHASES)[number];

export interface CheckResult {
  /** The check's name in the configuration (its type, or a named instance of a type). */
  name: string;
  type: string;
  status: CheckStatus;
  /** The measured value as shown to people, e.g. `3 of 100 (3 %)`; null when nothing was measured. */
  value: string | null;
  /** The measured value as a number for monitoring, in `unit`; null when there is none. */
  metric: number | null;
  unit: string | null;
  /** What the value was held against, e.g. `warn ≥ 70 %, fail ≥ 90 %`. */
  threshold: string | null;
  /** What was found; for warn, fail and error also what to do. */
  detail: string;
  durationMs: number;
}

/** What a check's run function returns; the framework adds name, type and duration. */
export interface CheckOutcome {
  status: CheckStatus;
  value?: string | null;
  metric?: number | null;
  unit?: string | null;
  threshold?: string | null;
  detail: string;
}

/** A check that cannot answer: reported as `error` with this message. */
/** The check could not answer (a missing tool, an unreadable input): `error`, never `fail`. */
export class CheckCannotRun extends CodedError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('E_CHECK_CANNOT_RUN', message, options);
  }
}

export interface CheckContext {
  /** Aborted when the check's own timeout expires: stop, close, kill what was started. */
  signal: AbortSignal;
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
  /** The PostgreSQL the checks look at (the run's target, DATABASE_URL, or the embedded default). */
  postgres?: { url: string; description: string; dataDir?: string };
  /** Where baseline snapshots are kept (a run's folder, or <state-dir>/checks). */
  workDir: string;
  /** Inside a run the baseline is taken once, at the start; `check pre-upgrade` takes a new one. */
  keepBaseline: boolean;
}

export interface CheckDefinition<S = Record<string, unknown>> {
  type: string;
  title: string;
  /** One sentence for --help, the docs and the config reference. */
  description: string;
  /** Settings with their defaults; validated on load. */
  settings: z.ZodType<S>;
  /** Settings holding file paths: resolved against the file (config or document) that set them. */
  pathSettings?: readonly string[];
  /** Whether the check looks at the PostgreSQL target (runbook blocks then open one). */
  usesPostgres: boolean;
  run(context: CheckContext, settings: S): Promise<CheckOutcome>;
}

/** A check ready to run: its definition with validated settings. */
export interface PlannedCheck {
  name: string;
  definition: CheckDefinition<any>;
  settings: Record<string, unknown>;
  /** The settings as written (paths resolved), before defaults: what a `checks` block overrides. */
  raw: Record<string, unknown>;
  timeoutMs: number;
}
