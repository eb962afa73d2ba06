// Executes one block: confirmation, attempts with exponential backoff, verification of exit
// code and output, hand-off values, a masked log, and one StepResult whatever happened.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Param, Step } from '../model/types.js';
import type { StepPhase, StepStatus } from '../events/types.js';
import type { EventBus } from '../events/emitter.js';
import { createLineMasker, maskDeep, type Masker } from '../secrets/masker.js';
import { candidatePrograms, commandFor, withoutPrompts } from '../languages/commands.js';
import { resolveExports, type AskValue } from './prompt-env.js';
import type { SqlSession } from '../languages/sql.js';
import { runProcess } from '../process/process.js';
import { describeMismatch, outputMatches } from './verify.js';
import { HANDOFF_ENV, readHandoff } from './handoff.js';
import { METRICS_ENV, readMetrics, TIMELINE_ENV, type StepMetric } from './metrics.js';
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
  /** Writes $EXEC_DOC_TIMELINE (the steps run so far) and returns its path; given to blocks that name it. */
  timeline?: () => string;
}

/** What a step's code is given: parameters, values handed on by earlier steps, the environment. */
export interface StepValues {
  params: Record<string, string>;
  /** The section's parameter declarations: how each value is written where it is used. */
  paramDecls: readonly Param[];
  handoff: Record<string, string>;
  /** Environment every step starts from (process env, target variables). */
  baseEnv: Record<string, string>;
  /**
   * A shared session (Runme's): what shell blocks exported, for the blocks after them. Held in
   * memory only (values may be secrets); absent: every step starts from the same environment.
   */
  session?: SessionEnv;
}

export interface SessionEnv {
  set: Record<string, string>;
  unset: Set<string>;
}

/** A block left running in the background; the run stops it when it ends. */
export interface BackgroundProcess {
  stepId: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Where a step's output and processes are reported. */
export interface StepOutput {
  mask: Masker;
  bus: EventBus;
  /** Appends to the run's output log (masked text only). */
  log(text: string): void;
  /** Records the process of the running attempt, so a resumed run can clean it up. */
  onSpawn(pid: number): void;
  /** Takes a background block's process: the run stops it on every way out. */
  onBackground(process: BackgroundProcess): void;
}

/** What the operator decided: confirmations, and steps to fail on purpose. */
export interface StepOperator {
  /** Asks the operator; undefined when nobody can be asked (then --yes was required up front). */
  confirm?: (question: string, step: Step) => Promise<boolean>;
  yes: boolean;
  /** Steps to fail before they run (EXEC_DOC_FAIL_BEFORE): rollback drills and the failure matrix. */
  failBefore: ReadonlySet<string>;
  /** Asks for a promptEnv value in a terminal; undefined when nobody can be asked. */
  ask?: AskValue;
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
  // Only forward steps can be named (the runner refuses any other block before it starts).
  if (context.operator.failBefore.has(step.id)) return notRun(reasons.injected());
  if (phase === 'forward' && step.confirm !== undefined && !context.operator.yes) {
    const accepted = context.operator.confirm ? await context.operator.confirm(step.confirm, step) : false;
    if (!accepted) return notRun(reasons.declined());
  }
  const maxAttempts = step.retries + 1;
  let outcome: AttemptOutcome | undefined;
  let totalMs = 0;
  let attempt = 0;
  for (;;) {
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
  const sessionFile = `${attemptFiles}.session`;
  const session = context.values.session;
  const shell = step.lang === 'sh' || step.lang === 'bash';
  const env = stepEnvironment(step, context, {
    [HANDOFF_ENV]: handoffFile,
    [METRICS_ENV]: metricsFile,
    ...(session && shell ? { [SESSION_ENV]: sessionFile } : {}),
    ...(context.where.timeline && code.includes(TIMELINE_ENV) ? { [TIMELINE_ENV]: context.where.timeline() } : {}),
  });
  // Runme strips the `$ ` of copied prompts from shell lines; so does exec-doc.
  let script = shell ? withoutPrompts(code) : code;
  // What the block is given, before its `export` lines' values: those count as what it exported.
  const given = session && shell ? { ...env } : undefined;
  // Runme's promptEnv; in a shared session a shell block's `export` lines are `auto` unless it says otherwise.
  const promptMode = step.promptEnv ?? (session ? 'auto' : undefined);
  if (shell && promptMode !== undefined) {
    const resolved = await resolveExports(script, promptMode, env, context.operator.ask);
    if (resolved.missing.length > 0)
      return fail('failed', reasons.promptedValueMissing(resolved.missing.map((m) => m.name)), {
        durationMs: 0,
        output: '',
      });
    script = resolved.code;
    Object.assign(env, resolved.env);
  }
  const command = commandFor(step, script, {
    env,
    // In a shared session a shell leaves what it exported for the next blocks, on every exit.
    ...(session && shell
      ? { shellPrefix: `trap '__exec_doc_status=$?; env -0 > "$${SESSION_ENV}"; exit $__exec_doc_status' EXIT; ` }
      : {}),
    writeScript: (extension) => {
      const file = `${attemptFiles}.script${extension}`;
      writeFileSync(file, script, { mode: 0o600 });
      return file;
    },
  });
  if (!command)
    return fail(
      'failed',
      reasons.noInterpreter(
        candidatePrograms(step)
          .map((c) => `\`${c}\``)
          .join(', '),
      ),
      { durationMs: 0, output: '' },
    );
  const cwd = path.resolve(context.where.docDir, step.cwd ?? '.');
  const processOptions = {
    file: command.file,
    args: command.args,
    cwd,
    env,
    ...(step.interactive ? { stdin: 'inherit' as const } : {}),
    onOutput: (stream: 'stdout' | 'stderr', text: string) => streams[stream].write(text),
  };
  if (step.background && phase === 'forward') return startBackground(step, processOptions, context);
  const r = await runProcess({
    ...processOptions,
    timeoutMs: step.timeoutMs,
    ...(signal ? { signal } : {}),
    onSpawn: context.output.onSpawn,
  });
  if (given) collectSession(session!, sessionFile, given);
  streams.stdout.flush();
  streams.stderr.flush();
  const output = r.stdout + r.stderr;
  if (r.spawnError)
    // Node reports a missing folder as the program missing (`spawn bash ENOENT`): say which it is.
    return fail('failed', existsSync(cwd) ? reasons.couldNotStart(command.file, r.spawnError) : reasons.noCwd(cwd), {
      durationMs: r.durationMs,
      output,
    });
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

/** Variable naming the file a shell block of a shared session writes its environment to. */
export const SESSION_ENV = 'EXEC_DOC_SESSION_FILE';
// A shell's own bookkeeping, not something a block exported.
const NOT_SESSION = new Set(['_', 'PWD', 'OLDPWD', 'SHLVL', '__exec_doc_status']);

/** What a shell block of a shared session changed in its exported environment, kept for the next blocks. */
function collectSession(session: SessionEnv, file: string, given: Record<string, string>): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return; // The block replaced its shell (`exec`) or was killed: it left nothing.
  }
  rmSync(file, { force: true });
  const after = new Map<string, string>();
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) after.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  const ours = (name: string) => NOT_SESSION.has(name) || name.startsWith('EXEC_DOC_');
  for (const [name, value] of after) {
    if (ours(name) || given[name] === value) continue;
    session.set[name] = value;
    session.unset.delete(name);
  }
  for (const name of Object.keys(given)) {
    if (ours(name) || after.has(name)) continue;
    delete session.set[name];
    session.unset.add(name);
  }
}

/**
 * A background block: started, watched for 250 ms (a program that cannot start or fails at once
 * fails the step), then left running with its output streamed; the run stops its process tree.
 */
async function startBackground(
  step: Step,
  options: Omit<Parameters<typeof runProcess>[0], 'timeoutMs'>,
  context: StepContext,
): Promise<AttemptOutcome> {
  const started = performance.now();
  const controller = new AbortController();
  let pid: number | undefined;
  const running = runProcess({
    ...options,
    timeoutMs: Infinity,
    signal: controller.signal,
    onSpawn: (p) => {
      pid = p;
    },
  });
  const early = await Promise.race([running, new Promise<undefined>((r) => setTimeout(() => r(undefined), 250))]);
  const durationMs = Math.round(performance.now() - started);
  if (early) {
    const output = early.stdout + early.stderr;
    if (early.spawnError)
      return fail('failed', reasons.couldNotStart(options.file, early.spawnError), { durationMs, output });
    if (early.exitCode !== step.expectExitCode || early.signal)
      return fail('failed', reasons.backgroundExited(early.exitCode, early.signal), {
        durationMs,
        output,
        exitCode: early.exitCode,
        signal: early.signal,
      });
    return verifyOutput(step, { stdout: early.stdout, output, durationMs, exitCode: early.exitCode, signal: null });
  }
  context.output.onBackground({
    stepId: step.id,
    pid,
    stop: async () => {
      controller.abort();
      await running;
    },
  });
  return {
    passed: true,
    status: 'passed',
    exitCode: null,
    signal: null,
    timedOut: false,
    reason: null,
    output: '',
    durationMs,
  };
}

/**
 * What a step sees as its environment: the run's, parameters, hand-offs, the run's own variables,
 * its `env`, and last the EXEC_DOC_PARAM_<name> variables that placeholders expand (nothing overrides them).
 */
function stepEnvironment(step: Step, context: StepContext, extra: Record<string, string> = {}): Record<string, string> {
  const session = context.values.session;
  const base = { ...context.values.baseEnv };
  for (const name of session?.unset ?? []) delete base[name];
  return {
    ...base,
    ...context.values.params,
    ...context.values.handoff,
    ...session?.set,
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
