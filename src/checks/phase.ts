// A phase of the validation framework, end to end: the checks exec-doc.checks.yaml assigns to it,
// run against the PostgreSQL target (the user's, as configured, or an embedded server started for
// the occasion and stopped on every path), with events to a file and the last results kept for
// monitoring. The command line only shows the outcome.
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { ExecDocError } from '../errors/exec-doc-error.js';
import { newRunId } from '../model/run-id.js';
import { DEFAULT_TARGET } from '../targets/url.js';
import type { RunEvent } from '../events/types.js';
import type { ChecksConfig } from './config.js';
import type { CheckResult, PlannedCheck, ValidationPhase } from './types.js';

export interface PhaseOptions {
  phase: ValidationPhase;
  /** The checks configuration; null for the built-in defaults. */
  configFile: string | null;
  /** Only these checks of the phase (empty: all). */
  only: string[];
  stateDir: string;
  env: NodeJS.ProcessEnv;
  /** Keep the embedded server's data folder. */
  keepDb: boolean;
  /** Warnings fail the phase. */
  strict: boolean;
  /** Where the Prometheus text goes (default: the configuration's, else beside the last results). */
  prometheusFile?: string;
  /** Ctrl-C: checks not yet answered report `error`, and the outcome's exit code is 130. */
  signal: AbortSignal;
  /** A line for the operator (the embedded server starting, a failure to stop it). */
  notice: (line: string) => void;
  /** Every event, as it happens (the events file gets them too). */
  onEvent?: (event: RunEvent) => void;
}

export interface PhaseOutcome {
  phase: ValidationPhase;
  runId: string;
  config: ChecksConfig;
  planned: PlannedCheck[];
  /** The PostgreSQL target as shown (no password), or null when no check needed one. */
  target: string | null;
  results: CheckResult[];
  durationMs: number;
  exitCode: number;
  /** The Prometheus text file written. */
  prometheusFile: string;
  finishedAt: string;
}

export async function runPhase(options: PhaseOptions): Promise<PhaseOutcome> {
  const { findConfigFile, loadChecksConfig, phaseChecks } = await import('./config.js');
  const { runChecks, totals, checksExitCode } = await import('./run.js');
  const { recordLastResults } = await import('./report.js');
  const { createMasker, connectionStringSecrets, maskDeep } = await import('../secrets/masker.js');
  const { EventBus, ndjsonFileSink } = await import('../events/emitter.js');
  const { phase, notice } = options;

  const config = loadChecksConfig(options.configFile ?? findConfigFile(process.cwd()));
  const planned = selectChecks(phaseChecks(config, phase), options.only, phase);
  const stateDir = path.resolve(options.stateDir);
  const runId = newRunId(`checks-${phase}`);
  const mask = createMasker();
  const started = performance.now();

  // The events of the phase's last check only: the file starts empty each time.
  const eventsFile = path.join(stateDir, 'checks', `${phase}.events.ndjson`);
  mkdirSync(path.dirname(eventsFile), { recursive: true });
  writeFileSync(eventsFile, '');
  const sink = ndjsonFileSink(eventsFile);
  const bus = new EventBus(runId, mask);
  bus.on(sink.listener);
  if (options.onEvent) bus.on(options.onEvent);

  let results: CheckResult[];
  let target: string | null = null;
  const postgres = planned.some((p) => p.definition.usesPostgres) ? await openTarget(runId, options) : undefined;
  try {
    if (postgres?.connection) {
      mask.add(...connectionStringSecrets(postgres.connection.url));
      target = postgres.connection.description;
    }
    bus.emit({ type: 'checks.start', scope: phase, checks: planned.map((p) => p.name), target });
    results = await runChecks(
      planned,
      {
        env: options.env,
        ...(postgres?.connection ? { postgres: postgres.connection } : {}),
        workDir: path.join(stateDir, 'checks'),
        keepBaseline: false,
      },
      {
        signal: options.signal,
        onResult: (result) => bus.emit({ type: 'check.result', scope: phase, stepId: null, result }),
      },
    );
  } finally {
    await postgres
      ?.release()
      .catch((error: unknown) => notice(`could not stop the embedded PostgreSQL: ${(error as Error).message}`));
  }
  results = maskDeep(results, mask);
  const durationMs = Math.round(performance.now() - started);
  // Interrupted (Ctrl-C): 130, as shells report SIGINT.
  const exitCode = options.signal.aborted ? 130 : checksExitCode(results, options.strict);
  bus.emit({ type: 'checks.end', scope: phase, durationMs, ...totals(results), exitCode });
  sink.close();

  const finishedAt = new Date().toISOString();
  const written = recordLastResults(
    stateDir,
    { scope: phase, finishedAt, results },
    options.prometheusFile ?? config.prometheusFile,
  );
  return {
    phase,
    runId,
    config,
    planned,
    target,
    results,
    durationMs,
    exitCode,
    prometheusFile: written.prometheusFile,
    finishedAt,
  };
}

/** `--only` narrows the phase to checks it holds; a name it does not hold is a usage error. */
function selectChecks(planned: PlannedCheck[], only: string[], phase: ValidationPhase): PlannedCheck[] {
  if (only.length === 0) return planned;
  const unknown = only.filter((name) => !planned.some((p) => p.name === name));
  if (unknown.length > 0)
    throw new ExecDocError(
      'E_USAGE',
      `--only names ${unknown.map((n) => `\`${n}\``).join(', ')}, which ${unknown.length === 1 ? 'is' : 'are'} not in phase ${phase}`,
      { details: [`Checks of ${phase}: ${planned.map((p) => p.name).join(', ')}`] },
    );
  return planned.filter((p) => only.includes(p.name));
}

/**
 * The user's server as configured (not probed here: postgres.reachable answers that), or an
 * embedded one for the duration of the checks. One that cannot start leaves the database checks
 * to report `error`.
 */
async function openTarget(
  runId: string,
  options: PhaseOptions,
): Promise<{ connection?: { url: string; description: string; dataDir?: string }; release: () => Promise<void> }> {
  const { openPostgres } = await import('../targets/postgres.js');
  try {
    const handle = await openPostgres(DEFAULT_TARGET, { runId, env: options.env, log: options.notice, probe: false });
    return {
      connection: {
        url: handle.url,
        description: handle.description,
        ...(handle.embedded ? { dataDir: handle.embedded.dataDir } : {}),
      },
      release: () => handle.release({ keep: options.keepDb }),
    };
  } catch (error) {
    options.notice(
      `could not start the embedded PostgreSQL: ${(error as Error).message}; the database checks report error`,
    );
    return { release: async () => {} };
  }
}
