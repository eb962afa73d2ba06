// Runs checks concurrently, each under its own timeout. Whatever a check does — answers,
// throws, hangs — it yields exactly one result: a hang or a crash is an `error`, never a `fail`.
import { setMaxListeners } from 'node:events';
import { CheckCannotRun, type CheckContext, type CheckResult, type PlannedCheck } from './types.js';

export type SharedContext = Omit<CheckContext, 'signal' | 'timeoutMs'>;

export async function runOne(check: PlannedCheck, shared: SharedContext, outer?: AbortSignal): Promise<CheckResult> {
  const started = performance.now();
  const controller = new AbortController();
  const onOuter = () => controller.abort();
  outer?.addEventListener('abort', onOuter, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const base = { name: check.name, type: check.definition.type };
  const finish = (r: Omit<CheckResult, 'name' | 'type' | 'durationMs'>): CheckResult => ({
    ...base,
    ...r,
    durationMs: Math.round(performance.now() - started),
  });
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timeout');
    }, check.timeoutMs);
  });
  try {
    if (outer?.aborted)
      return finish({
        status: 'error',
        value: null,
        metric: null,
        unit: null,
        threshold: null,
        detail: 'interrupted before it ran',
      });
    const answer = await Promise.race([
      check.definition.run({ ...shared, signal: controller.signal, timeoutMs: check.timeoutMs }, check.settings),
      timedOut,
    ]);
    if (answer === 'timeout' || controller.signal.aborted) {
      return finish({
        status: 'error',
        value: null,
        metric: null,
        unit: null,
        threshold: null,
        detail: outer?.aborted
          ? 'interrupted'
          : `timed out after ${check.timeoutMs} ms (raise ${check.name}.timeoutMs if the subject is just slow)`,
      });
    }
    return finish({
      status: answer.status,
      value: answer.value ?? null,
      metric: answer.metric ?? null,
      unit: answer.unit ?? null,
      threshold: answer.threshold ?? null,
      detail: answer.detail,
    });
  } catch (error) {
    const message = controller.signal.aborted
      ? `timed out after ${check.timeoutMs} ms`
      : error instanceof CheckCannotRun
        ? error.message
        : `the check crashed (please report it): ${(error as Error).message ?? String(error)}`;
    return finish({ status: 'error', value: null, metric: null, unit: null, threshold: null, detail: message });
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

/** Runs every check at once; results come back in the given order, and each as soon as it is known through `onResult`. */
export async function runChecks(
  checks: PlannedCheck[],
  shared: SharedContext,
  options: { signal?: AbortSignal; onResult?: (result: CheckResult) => void } = {},
): Promise<CheckResult[]> {
  // Every check listens to the outer signal: more than Node's default of 10 is expected.
  if (options.signal) setMaxListeners(checks.length + 10, options.signal);
  return Promise.all(
    checks.map(async (check) => {
      const result = await runOne(check, shared, options.signal);
      options.onResult?.(result);
      return result;
    }),
  );
}

export interface CheckTotals {
  pass: number;
  warn: number;
  fail: number;
  error: number;
}

export function totals(results: CheckResult[]): CheckTotals {
  const t: CheckTotals = { pass: 0, warn: 0, fail: 0, error: 0 };
  for (const r of results) t[r.status] += 1;
  return t;
}

export interface Verdict {
  /** Whether it is safe to go on: nothing failed, nothing could not answer (and, with --strict, nothing warned). */
  passed: boolean;
  /** One sentence: what decided it, naming the checks. */
  reason: string;
  /** Checks that looked at nothing because nothing is configured for them (a warning, never a pass). */
  notConfigured: string[];
}

const names = (rs: CheckResult[]) => rs.map((r) => r.name).join(', ');

/** The verdict an agent or a pipeline acts on, with the reason. */
export function checksVerdict(results: CheckResult[], strict = false): Verdict {
  const notConfigured = results.filter((r) => r.status === 'warn' && r.value === 'not configured').map((r) => r.name);
  const failed = results.filter((r) => r.status === 'fail');
  const errors = results.filter((r) => r.status === 'error');
  const warned = results.filter((r) => r.status === 'warn');
  if (failed.length > 0)
    return { passed: false, reason: `${failed.length} check(s) failed: ${names(failed)}`, notConfigured };
  if (strict && warned.length > 0)
    return { passed: false, reason: `${warned.length} warning(s) under --strict: ${names(warned)}`, notConfigured };
  if (errors.length > 0)
    return { passed: false, reason: `${errors.length} check(s) could not answer: ${names(errors)}`, notConfigured };
  return {
    passed: true,
    reason: `${results.length} check(s): none failed${warned.length ? `; ${warned.length} warning(s): ${names(warned)}` : ''}`,
    notConfigured,
  };
}

/** 0: nothing failed (warnings allowed unless strict); 1: a check failed; 3: a check could not answer. */
export function checksExitCode(results: CheckResult[], strict = false): number {
  const t = totals(results);
  if (t.fail > 0 || (strict && t.warn > 0)) return 1;
  if (t.error > 0) return 3;
  return 0;
}
