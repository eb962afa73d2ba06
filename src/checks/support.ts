// What the checks share: grading a number against warn/fail limits, running a program under
// the check's signal, and a PostgreSQL connection that closes when the check times out.
import type pg from 'pg';
import { runProcess } from '../process/process.js';
import { CheckCannotRun, type CheckContext, type CheckStatus } from './types.js';

/** Grades `value` where higher is worse: fail at or above `fail`, warn at or above `warn`. */
export function gradeHigh(
  value: number,
  limits: { warn?: number | undefined; fail?: number | undefined },
): CheckStatus {
  if (limits.fail !== undefined && value >= limits.fail) return 'fail';
  if (limits.warn !== undefined && value >= limits.warn) return 'warn';
  return 'pass';
}

/** Grades `value` where lower is worse: fail below `fail`, warn below `warn`. */
export function gradeLow(value: number, limits: { warn?: number | undefined; fail?: number | undefined }): CheckStatus {
  if (limits.fail !== undefined && value < limits.fail) return 'fail';
  if (limits.warn !== undefined && value < limits.warn) return 'warn';
  return 'pass';
}

export function thresholdText(
  op: string,
  limits: { warn?: number | undefined; fail?: number | undefined },
  unit: string,
): string {
  const parts: string[] = [];
  // A warning level at or past the failing one never shows: only the failure is worth naming.
  const warnShown =
    limits.warn !== undefined &&
    (limits.fail === undefined || (op.includes('≥') ? limits.warn < limits.fail : limits.warn > limits.fail));
  if (warnShown) parts.push(`warn ${op} ${limits.warn}${unit}`);
  if (limits.fail !== undefined) parts.push(`fail ${op} ${limits.fail}${unit}`);
  return parts.join(', ') || 'none';
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export interface ProgramResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program for a check. A program that cannot be started (not installed, not executable)
 * or that is killed by the check's timeout means the check cannot answer: CheckCannotRun.
 */
export async function runProgram(
  context: CheckContext,
  file: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<ProgramResult> {
  const env = {
    ...Object.fromEntries(Object.entries(context.env).filter((e): e is [string, string] => typeof e[1] === 'string')),
    LC_ALL: 'C',
    ...options.env,
  };
  const r = await runProcess({
    file,
    args,
    cwd: options.cwd ?? process.cwd(),
    env,
    timeoutMs: context.timeoutMs,
    signal: context.signal,
    onOutput: () => undefined,
  });
  if (r.spawnError) {
    const missing = /ENOENT/.test(r.spawnError);
    const denied = /EACCES/.test(r.spawnError);
    throw new CheckCannotRun(
      missing
        ? `\`${file}\` is not installed (not found on PATH); install it or point the check at it`
        : denied
          ? `\`${file}\` cannot be executed (permission denied)`
          : `could not start \`${file}\`: ${r.spawnError}`,
    );
  }
  if (r.interrupted || r.timedOut)
    throw new CheckCannotRun(`\`${file} ${args.join(' ')}\` did not finish within ${context.timeoutMs} ms`);
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** How the checks' own sessions are named in pg_stat_activity (and left out of what they count). */
export const CHECK_APPLICATION = 'exec-doc check';

/** A connection for one check; closed when it is done or when the check's time is up. */
export async function withPostgres<T>(context: CheckContext, use: (client: pg.Client) => Promise<T>): Promise<T> {
  if (!context.postgres)
    throw new CheckCannotRun(
      'no PostgreSQL target: set DATABASE_URL (or PG* variables), or run without them to use the embedded server',
    );
  const { default: pgModule } = await import('pg');
  const client = new pgModule.Client({
    connectionString: context.postgres.url,
    application_name: CHECK_APPLICATION,
    connectionTimeoutMillis: Math.min(5000, context.timeoutMs),
    statement_timeout: context.timeoutMs,
  });
  const onAbort = () => void client.end().catch(() => undefined);
  context.signal.addEventListener('abort', onAbort, { once: true });
  try {
    try {
      await client.connect();
    } catch (error) {
      throw new CheckCannotRun(`cannot connect to ${context.postgres.description}: ${(error as Error).message}`);
    }
    return await use(client);
  } finally {
    context.signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}

/** Resolves a setting that names a program or a file: bare names stay names (looked up on PATH). */
export function isPathLike(value: string): boolean {
  return value.includes('/') || value.startsWith('.');
}
