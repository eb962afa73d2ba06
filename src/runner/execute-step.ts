// Executes one block: confirmation, attempts with exponential backoff, verification of exit
// code and output, hand-off values, a masked log, and one StepResult whatever happened.
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Param, Step } from '../model/types.js';
import type { StepPhase, StepStatus } from '../events/types.js';
import type { EventBus } from '../events/emitter.js';
import { createLineMasker, maskDeep, type Masker } from '../secrets/masker.js';
import { commandFor } from '../languages/commands.js';
import type { SqlSession } from '../languages/sql.js';
import { runProcess } from '../process/process.js';
import { describeMismatch, outputMatches } from './verify.js';
import { HANDOFF_ENV, readHandoff } from './handoff.js';
import { METRICS_ENV, readMetrics, type StepMetric } from './metrics.js';
import { paramEnvironment, renderPlaceholders, sqlSettings } from '../placeholders/index.js';
import type { StepResult } from './state.js';
import { reasons } from './reasons.js';
import type { ChecksConfig } from '../checks/config.js';
import type { CheckResult } from '../checks/types.js';

export const MAX_BACKOFF_MS = 30_000;
const EXCERPT_LINES = 20;

/** Where a step runs: the run's folders and the document it comes from. */
export interface StepPlace {
  runId: string;
  runDir: string;
  docDir: string;
  /** The document's path as shown in messages. */
  documentFile: string;
  /** A private folder outside the state directory for $EXEC_DOC_ENV files (they may hold secrets). */
  handoffDir: string;
}

/** What a step's code is given: parameters, values handed on by earlier steps, the environment. */
export interface StepValues {
  params: Record<string, string>;
  /** The section's parameter declarations: how each value is written where it is used. */
  paramDecls: readonly Param[];
  handoff: Record<string, string>;
  /** Environment every step starts from (process env, target variables). */
  baseEnv: Record<string, string>;
}

/** Where a step's output and processes are reported. */
export interface StepOutput {
  mask: Masker;
  bus: EventBus;
  /** Appends to the run's output log (masked text only). */
  log(text: string): void;
  /** Records the process of the running attempt, so a resumed run can clean it up. */
  onSpawn(pid: number): void;
}

/** What the operator decided: confirmations, and steps to fail on purpose. */
export interface StepOperator {
  /** Asks the operator; undefined when nobody can be asked (then --yes was required up front). */
  confirm?: (question: string, step: Step) => Promise<boolean>;
  yes: boolean;
  /** Steps to fail before they run (EXEC_DOC_FAIL_BEFORE): rollback drills and the failure matrix. */
  failBefore: ReadonlySet<string>;
}

/** The run's targets, opened lazily. */
export interface StepTargets {
  sql: () => Promise<SqlSession>;
  /** The run's PostgreSQL target, once opened (for `checks` blocks). */
  postgres(): { url: string; description: string; dataDir?: string } | undefined;
  /** The validation framework's configuration, loaded when the run started (for `checks` blocks). */
  checksConfig?: ChecksConfig;
}

export interface StepContext {
  where: StepPlace;
  values: StepValues;
  output: StepOutput;
  operator: StepOperator;
  targets: StepTargets;
}

interface AttemptOutcome {
  passed: boolean;
  status: StepStatus;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  reason: string | null;
  output: string;
  durationMs: number;
  checks?: CheckResult[];
  metrics?: StepMetric[];
}

export async function executeStep(
  step: Step,
  phase: StepPhase,
  context: StepContext,
  signal?: AbortSignal,
): Promise<StepResult> {
  const startedAt = new Date().toISOString();
  const base = { stepId: step.id, kind: step.kind, lang: step.lang, phase, startedAt };
  // A step that fails without running: declined at its confirmation, or a rollback drill.
  const notRun = (reason: string): StepResult => {
    const result: StepResult = {
      ...base,
      status: 'failed',
      attempts: 0,
      durationMs: 0,
      exitCode: null,
      signal: null,
      timedOut: false,
      reason,
      outputExcerpt: '',
    };
    context.output.bus.emit({
      type: 'step.end',
      stepId: step.id,
      phase,
      status: result.status,
      durationMs: 0,
      attempts: 0,
      exitCode: null,
      reason,
    });
    return result;
  };
  if (phase === 'forward' && context.operator.failBefore.has(step.id)) return notRun(reasons.injected());
  if (phase === 'forward' && step.confirm !== undefined && !context.operator.yes) {
    const accepted = context.operator.confirm ? await context.operator.confirm(step.confirm, step) : false;
    if (!accepted) return notRun(reasons.declined());
  }
  const maxAttempts = step.retries + 1;
  let outcome: AttemptOutcome | undefined;
  let totalMs = 0;
  let attempt = 0;
  while (attempt < maxAttempts) {
    attempt += 1;
    context.output.bus.emit({ type: 'step.start', stepId: step.id, kind: step.kind, lang: step.lang, phase, attempt });
    outcome = await attemptOnce(step, phase, context, signal, attempt);
    totalMs += outcome.durationMs;
    if (outcome.passed || outcome.status === 'interrupted' || attempt >= maxAttempts) break;
    const delayMs = Math.min(step.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
    context.output.bus.emit({
      type: 'step.retry',
      stepId: step.id,
      attempt: attempt + 1,
      delayMs,
      reason: outcome.reason ?? 'failed',
    });
    if (!(await sleep(delayMs, signal))) {
      outcome = { ...outcome, status: 'interrupted', reason: reasons.interrupted() };
      break;
    }
  }
  const final = outcome!;
  // Masked as a whole: a reason may quote the output (a mismatch, a failing SQL statement).
  const result: StepResult = maskDeep(
    {
      ...base,
      status: final.status,
      attempts: attempt,
      durationMs: totalMs,
      exitCode: final.exitCode,
      signal: final.signal,
      timedOut: final.timedOut,
      reason: final.reason,
      outputExcerpt: excerpt(final.output),
      ...(final.checks ? { checks: final.checks } : {}),
      ...(final.metrics && final.metrics.length > 0 ? { metrics: final.metrics } : {}),
    },
    context.output.mask,
  );
  context.output.bus.emit({
    type: 'step.end',
    stepId: step.id,
    phase,
    status: result.status,
    durationMs: result.durationMs,
    attempts: result.attempts,
    exitCode: result.exitCode,
    reason: result.reason,
    ...(result.metrics ? { metrics: result.metrics } : {}),
  });
  return result;
}

async function attemptOnce(
  step: Step,
  phase: StepPhase,
  context: StepContext,
  signal: AbortSignal | undefined,
  attempt: number,
): Promise<AttemptOutcome> {
  context.output.log(`==> ${phase} ${step.id} (${step.kind}, ${step.lang}, attempt ${attempt})\n`);
  const streams = {
    stdout: createLineMasker(context.output.mask, (text) => emitOutput('stdout', text)),
    stderr: createLineMasker(context.output.mask, (text) => emitOutput('stderr', text)),
  };
  function emitOutput(stream: 'stdout' | 'stderr', text: string): void {
    context.output.log(text);
    context.output.bus.emit({ type: 'step.output', stepId: step.id, stream, text });
  }
  const rendered = renderPlaceholders(step.lang, step.code, context.values.paramDecls, context.values.params);
  // Checked before the run started; a value that cannot be placed never reaches a program.
  if (rendered.problems.length > 0) return fail('failed', rendered.problems.join('; '), { durationMs: 0, output: '' });
  const code = rendered.code;

  if (step.lang === 'checks') {
    const r = await runChecksStep(step, code, context, signal);
    streams.stdout.write(r.output);
    streams.stdout.flush();
    return r;
  }

  if (step.lang === 'sql') {
    const session = await context.targets.sql();
    const r = await session.run(code, {
      timeoutMs: step.timeoutMs,
      settings: sqlSettings(context.values.params),
      ...(signal ? { signal } : {}),
    });
    streams.stdout.write(r.output);
    if (r.error) streams.stderr.write(`${r.error}\n`);
    streams.stdout.flush();
    streams.stderr.flush();
    const output = r.output + (r.error ? `${r.error}\n` : '');
    if (r.interrupted) return fail('interrupted', reasons.interrupted(), { durationMs: r.durationMs, output });
    if (r.timedOut)
      return fail('timed-out', reasons.timedOut(step.timeoutMs), { durationMs: r.durationMs, output, timedOut: true });
    const expectError = step.expectExitCode !== 0;
    if (r.ok === expectError) {
      return fail('failed', r.ok ? reasons.sqlExpectedError() : reasons.sqlFailed(r.error ?? 'error'), {
        durationMs: r.durationMs,
        output,
        exitCode: r.ok ? 0 : 1,
      });
    }
    return verifyOutput(step, {
      stdout: r.output,
      output,
      durationMs: r.durationMs,
      exitCode: r.ok ? 0 : 1,
      signal: null,
    });
  }

  // Created by the step itself when it has something to hand on or measured (the folder is
  // private, 0700, and new for every runner). One name per phase and attempt: what an attempt that
  // failed half-way wrote never reaches the next one, and nothing has to be deleted first.
  const attemptFiles = path.join(context.where.handoffDir, `${step.id}.${phase}.${attempt}`);
  const handoffFile = `${attemptFiles}.env`;
  const metricsFile = `${attemptFiles}.metrics.ndjson`;
  const env = stepEnvironment(step, context, { [HANDOFF_ENV]: handoffFile, [METRICS_ENV]: metricsFile });
  const command = commandFor(step.lang, code);
  const r = await runProcess({
    file: command.file,
    args: command.args,
    cwd: path.resolve(context.where.docDir, step.cwd ?? '.'),
    env,
    timeoutMs: step.timeoutMs,
    ...(signal ? { signal } : {}),
    onOutput: (stream, text) => streams[stream].write(text),
    onSpawn: context.output.onSpawn,
  });
  streams.stdout.flush();
  streams.stderr.flush();
  const output = r.stdout + r.stderr;
  if (r.spawnError)
    return fail('failed', reasons.couldNotStart(command.file, r.spawnError), { durationMs: r.durationMs, output });
  if (r.interrupted)
    return fail('interrupted', reasons.interrupted(), {
      durationMs: r.durationMs,
      output,
      exitCode: r.exitCode,
      signal: r.signal,
    });
  if (r.timedOut)
    return fail('timed-out', reasons.timedOut(step.timeoutMs), {
      durationMs: r.durationMs,
      output,
      exitCode: r.exitCode,
      signal: r.signal,
      timedOut: true,
    });
  if (r.signal)
    return fail('failed', reasons.killed(r.signal), {
      durationMs: r.durationMs,
      output,
      exitCode: r.exitCode,
      signal: r.signal,
    });
  if (r.exitCode !== step.expectExitCode)
    return fail('failed', reasons.exitCode(r.exitCode, step.expectExitCode), {
      durationMs: r.durationMs,
      output,
      exitCode: r.exitCode,
    });
  const verified = verifyOutput(step, {
    stdout: r.stdout,
    output,
    durationMs: r.durationMs,
    exitCode: r.exitCode,
    signal: null,
  });
  const handed = readHandoff(handoffFile);
  if (handed.existed) rmSync(handoffFile, { force: true });
  const measured = readMetrics(metricsFile);
  if (verified.passed) {
    const problems = [...handed.problems, ...measured.problems];
    if (problems.length > 0)
      return fail('failed', problems.join('; '), { durationMs: r.durationMs, output, exitCode: r.exitCode });
    Object.assign(context.values.handoff, handed.values);
  }
  return { ...verified, metrics: measured.metrics };
}

/**
 * What a step sees as its environment: the run's, parameters, hand-offs, the run's own variables,
 * its `env`, and last the EXEC_DOC_PARAM_<name> variables that placeholders expand (nothing overrides them).
 */
function stepEnvironment(step: Step, context: StepContext, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...context.values.baseEnv,
    ...context.values.params,
    ...context.values.handoff,
    EXEC_DOC_RUN_ID: context.where.runId,
    EXEC_DOC_RUN_DIR: context.where.runDir,
    EXEC_DOC_STEP_ID: step.id,
    ...extra,
    ...step.env,
    ...paramEnvironment(context.values.params),
  };
}

/** A `checks` block: its checks run concurrently in-process; it passes when none fails or errs. */
async function runChecksStep(
  step: Step,
  code: string,
  context: StepContext,
  signal: AbortSignal | undefined,
): Promise<AttemptOutcome> {
  const started = performance.now();
  const { planChecksBlock } = await import('../checks/block.js');
  const { loadChecksConfig } = await import('../checks/config.js');
  const { runChecks } = await import('../checks/run.js');
  const { formatChecksTable } = await import('../checks/report.js');
  const variables = stepEnvironment(step, context);
  let planned;
  try {
    planned = planChecksBlock(
      code,
      context.targets.checksConfig ?? loadChecksConfig(null),
      context.where.docDir,
      { file: context.where.documentFile, line: step.position.start.line },
      variables,
    );
  } catch (error) {
    // A value from `${NAME}` that does not fit (an unset variable, a URL that is not one).
    const message = [(error as Error).message, ...((error as { details?: string[] }).details ?? [])].join('; ');
    return {
      passed: false,
      status: 'failed',
      exitCode: null,
      signal: null,
      timedOut: false,
      reason: message,
      output: `${message}\n`,
      durationMs: Math.round(performance.now() - started),
    };
  }
  // The block's timeout bounds the whole block; each check keeps its own (shorter) one.
  const bounded = new AbortController();
  const timer = setTimeout(() => bounded.abort(), step.timeoutMs);
  const onAbort = () => bounded.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const postgres = context.targets.postgres();
  let results: CheckResult[];
  try {
    results = await runChecks(
      planned,
      { env: variables, ...(postgres ? { postgres } : {}), workDir: context.where.runDir, keepBaseline: true },
      {
        signal: bounded.signal,
        onResult: (result) =>
          context.output.bus.emit({ type: 'check.result', scope: step.id, stepId: step.id, result }),
      },
    );
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  results = maskDeep(results, context.output.mask);
  const durationMs = Math.round(performance.now() - started);
  const output = formatChecksTable(results, { totalMs: durationMs });
  const base = { signal: null, output, durationMs, checks: results };
  if (signal?.aborted)
    return {
      ...base,
      passed: false,
      status: 'interrupted',
      exitCode: null,
      timedOut: false,
      reason: reasons.interrupted(),
    };
  if (bounded.signal.aborted)
    return {
      ...base,
      passed: false,
      status: 'timed-out',
      exitCode: null,
      timedOut: true,
      reason: reasons.timedOut(step.timeoutMs),
    };
  const bad = results.filter((r) => r.status === 'fail' || r.status === 'error');
  if (bad.length === 0) return { ...base, passed: true, status: 'passed', exitCode: 0, timedOut: false, reason: null };
  const reason = `${bad.length} of ${results.length} checks did not pass: ${bad.map((r) => `${r.name} ${r.status} (${r.detail.length > 160 ? `${r.detail.slice(0, 159)}…` : r.detail})`).join('; ')}`;
  return { ...base, passed: false, status: 'failed', exitCode: 1, timedOut: false, reason };
}

/** An attempt that exited as expected passes when its standard output is what the step declares. */
function verifyOutput(
  step: Step,
  reached: { stdout: string; output: string; durationMs: number; exitCode: number | null; signal: string | null },
): AttemptOutcome {
  const { stdout, output, durationMs, exitCode, signal } = reached;
  if (step.expectOutput && !outputMatches(step.expectOutput, stdout)) {
    return fail('failed', describeMismatch(step.expectOutput, stdout), { durationMs, output, exitCode, signal });
  }
  return { passed: true, status: 'passed', exitCode, signal, timedOut: false, reason: null, output, durationMs };
}

/** A failed attempt; what it did not reach (an exit code, a signal) is null. */
function fail(
  status: StepStatus,
  reason: string,
  at: { durationMs: number; output: string; exitCode?: number | null; signal?: string | null; timedOut?: boolean },
): AttemptOutcome {
  const { durationMs, output, exitCode = null, signal = null, timedOut = false } = at;
  return { passed: false, status, exitCode, signal, timedOut, reason, output, durationMs };
}

function excerpt(text: string): string {
  const lines = text.replace(/\n+$/, '').split('\n');
  return lines.slice(-EXCERPT_LINES).join('\n');
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
