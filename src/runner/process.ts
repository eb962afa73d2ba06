// Runs one process for a step: output streamed as it comes, a timeout and an abort signal
// that kill the whole tree (SIGTERM, then SIGKILL after a grace period).
import { execa } from 'execa';
import { killTree, processStartTime } from './kill-tree.js';

export const KILL_GRACE_MS = 2000;

export interface ProcessOptions {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  onOutput(stream: 'stdout' | 'stderr', text: string): void;
  /** Called once the process exists, with what identifies it for a later clean-up. */
  onSpawn?(pid: number, startTime: string | undefined): void;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  interrupted: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all. */
  spawnError?: string;
}

/** Output kept in memory per stream for verification; the rest is only streamed. */
export const MAX_CAPTURE_CHARS = 16 * 1024 * 1024;

export async function runProcess(options: ProcessOptions): Promise<ProcessResult> {
  const started = performance.now();
  const subprocess = execa(options.file, options.args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    reject: false,
    stdin: 'ignore',
    buffer: false,
    encoding: 'utf8',
    cleanup: true,
  });
  const captured = { stdout: '', stderr: '' };
  for (const stream of ['stdout', 'stderr'] as const) {
    subprocess[stream]?.setEncoding('utf8');
    subprocess[stream]?.on('data', (chunk: string) => {
      if (captured[stream].length < MAX_CAPTURE_CHARS) captured[stream] += chunk;
      options.onOutput(stream, chunk);
    });
  }
  const pid = subprocess.pid;
  if (pid !== undefined) options.onSpawn?.(pid, processStartTime(pid));

  let timedOut = false;
  let interrupted = false;
  let known: number[] = [];
  let forceTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (pid === undefined || forceTimer) return;
    known = killTree(pid, 'SIGTERM');
    forceTimer = setTimeout(() => killTree(pid, 'SIGKILL', known), KILL_GRACE_MS);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, options.timeoutMs);
  const onAbort = (): void => {
    interrupted = true;
    stop();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const result = await subprocess;
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  if (forceTimer) {
    // The leader is gone; make sure nothing it left behind survives the grace period.
    clearTimeout(forceTimer);
    if (pid !== undefined) killTree(pid, 'SIGKILL', known);
  }
  const out: ProcessResult = {
    exitCode: typeof result.exitCode === 'number' ? result.exitCode : null,
    signal: result.signal ?? null,
    timedOut,
    interrupted,
    durationMs: Math.round(performance.now() - started),
    stdout: captured.stdout,
    stderr: captured.stderr,
  };
  if (result.failed && result.exitCode === undefined && !result.signal && result.cause) {
    out.spawnError = (result.cause as Error).message;
  }
  return out;
}
