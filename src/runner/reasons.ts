// Why a step did not pass, worded in one place, from the most to the least specific.
import { formatDurationMs } from '../annotations/duration.js';

export const reasons = {
  interrupted: () => 'interrupted (Ctrl-C or SIGTERM); the runner stopped it',
  timedOut: (timeoutMs: number) =>
    `timed out after ${formatDurationMs(timeoutMs)}; its whole process tree was killed (raise \`timeout=\` if it needs longer)`,
  killed: (signal: string) => `killed by ${signal}`,
  couldNotStart: (file: string, message: string) => `could not start \`${file}\`: ${message}`,
  exitCode: (got: number | null, expected: number) => `exited with code ${got ?? 'none'}, expected ${expected}`,
  sqlFailed: (error: string) => `SQL failed: ${error}`,
  sqlExpectedError: () => 'SQL succeeded, but the block declares a non-zero `exit` (expected an error)',
  injected: () => 'failed on purpose before it ran (--fail-before): a rollback drill',
  declined: () => 'declined by the operator at the confirmation prompt',
  requestedRollback: () => 'requested: `exec-doc rollback` undoes a run that succeeded',
  resumeRollback: () => "rolled back at the operator's request on resume (`resume --rollback`) after the runner died",
  notStarted: () => 'not started: the run was interrupted before it',
  noCwd: (dir: string) => `could not start: its working directory ${dir} does not exist (see \`cwd\`)`,
  noInterpreter: (programs: string) =>
    `no interpreter: none of ${programs} is on PATH; install one, or name another with \`interpreter=\``,
  promptedValueMissing: (names: string[]) =>
    `${names.map((n) => `\`${n}\``).join(', ')} ${names.length === 1 ? 'has' : 'have'} no value: the block asks for ${names.length === 1 ? 'it' : 'them'} (promptEnv) and nobody could be asked; set ${names.length === 1 ? 'it' : 'them'} in the environment`,
  backgroundExited: (code: number | null, signal: string | null) =>
    `the background block stopped right after it started (${signal ? `killed by ${signal}` : `exit code ${code ?? 'none'}`})`,
  noRollback: (stepId: string) =>
    `\`${stepId}\` declares no rollback: it was not undone (add \`rollback=<id>\`, or \`rollback=none\` if it changes nothing)`,
};
