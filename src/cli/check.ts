// `exec-doc check <phase|section>`: the validation framework from the command line.
// A phase runs the checks exec-doc.checks.yaml assigns to it against the PostgreSQL target
// (DATABASE_URL / PG*, or an embedded server started for the occasion); a section runs its
// check blocks of one phase through the runner. Results as a table, JSON or Prometheus text;
// the last results of every phase are kept for monitoring.
import path from 'node:path';
import { ExecDocError, EXIT } from '../errors/exec-doc-error.js';
import type { CliOptions } from './parse.js';
import type { Io } from './main.js';
import { VALIDATION_PHASES, type CheckResult, type ValidationPhase } from '../checks/types.js';

const isPhase = (value: string): value is ValidationPhase => (VALIDATION_PHASES as readonly string[]).includes(value);

export async function checkCommand(target: string, options: CliOptions, io: Io): Promise<number> {
  return isPhase(target) ? checkPhase(target, options, io) : checkSection(target, options, io);
}

/** A live "n of m checks answered" line on a terminal; nothing otherwise. */
function progress(io: Io, options: CliOptions, total: number): { tick(): void; stop(): void } {
  const live = Boolean(io.stderr.isTTY) && options.format === 'table' && io.env.CI !== 'true';
  let done = 0;
  const draw = () => io.stderr.write(`\r\x1b[2K  ${done} of ${total} checks answered…`);
  if (live) draw();
  return {
    tick: () => {
      done += 1;
      if (live) draw();
    },
    stop: () => {
      if (live) io.stderr.write('\r\x1b[2K');
    },
  };
}

async function checkPhase(phase: ValidationPhase, options: CliOptions, io: Io): Promise<number> {
  const { runPhase } = await import('../checks/phase.js');
  const { totals, checksVerdict } = await import('../checks/run.js');
  const { formatChecksTable, formatPrometheus } = await import('../checks/report.js');
  // Signals are watched before a server starts: whatever stops the command, the server stops too.
  const { watchStopSignals } = await import('./signals.js');
  const stop = watchStopSignals(io, { first: (signal) => `${signal}: stopping the checks` });
  let bar: ReturnType<typeof progress> | undefined;
  let outcome;
  try {
    outcome = await runPhase({
      phase,
      configFile: options.config ?? null,
      only: options.only,
      stateDir: options.stateDir,
      env: io.env,
      keepDb: options.keepDb,
      strict: options.strict,
      ...(options.prometheusFile !== undefined ? { prometheusFile: options.prometheusFile } : {}),
      signal: stop.interrupt,
      notice: (line) => io.stderr.write(`exec-doc: ${line}\n`),
      onEvent: (event) => {
        if (event.type === 'checks.start') bar = progress(io, options, event.checks.length);
        if (event.type === 'check.result') bar?.tick();
        if (options.json) io.stdout.write(`${JSON.stringify(event)}\n`);
      },
    });
  } finally {
    bar?.stop();
    stop.dispose();
  }
  if (options.json) return outcome.exitCode;
  const { results, config, durationMs, target, exitCode } = outcome;
  if (options.format === 'json')
    io.stdout.write(
      `${JSON.stringify({ phase, ...checksVerdict(results, options.strict), target, config: config.file, durationMs, totals: totals(results), exitCode, results }, null, 2)}\n`,
    );
  else if (options.format === 'prometheus')
    io.stdout.write(formatPrometheus([{ scope: phase, finishedAt: outcome.finishedAt, results }]));
  else {
    const shownConfig = config.file ? path.relative(process.cwd(), config.file) || config.file : 'built-in defaults';
    io.stdout.write(
      formatChecksTable(results, {
        color: options.color && Boolean(io.stdout.isTTY),
        totalMs: durationMs,
        title: `${phase}: ${outcome.planned.length} checks${target ? ` on ${target}` : ''} (${shownConfig})`,
      }),
    );
    io.stdout.write(`Prometheus: ${path.relative(process.cwd(), outcome.prometheusFile) || outcome.prometheusFile}\n`);
  }
  return exitCode;
}

/** Rows for a section's check blocks: a `checks` block's checks, or the block itself. */
export function resultsOfRun(
  steps: Array<{
    stepId: string;
    lang: string;
    status: string;
    durationMs: number;
    exitCode: number | null;
    timedOut: boolean;
    reason: string | null;
    checks?: CheckResult[];
  }>,
): CheckResult[] {
  return steps.flatMap((s): CheckResult[] => {
    if (s.checks) return s.checks;
    const cannot = s.timedOut || s.status === 'interrupted' || (s.status === 'failed' && s.exitCode === null);
    return [
      {
        name: s.stepId,
        type: `${s.lang} block`,
        status: s.status === 'passed' ? 'pass' : cannot ? 'error' : 'fail',
        value: s.exitCode === null ? null : `exit ${s.exitCode}`,
        metric: s.exitCode,
        unit: 'exit code',
        threshold: 'as the block declares',
        detail: s.reason ?? 'passed',
        durationMs: s.durationMs,
      },
    ];
  });
}

async function checkSection(address: string, options: CliOptions, io: Io): Promise<number> {
  const { resolveSection } = await import('../documents/address.js');
  const { formatChecksTable, formatPrometheus, recordLastResults } = await import('../checks/report.js');
  const { checksExitCode, checksVerdict, totals } = await import('../checks/run.js');
  const resolved = await resolveSection(address, {
    docsRoot: path.resolve(options.docs),
    cacheFile: path.join(options.stateDir, 'cache', 'documents.json'),
  });
  const phase = options.phase;
  const checks = resolved.section.steps.filter((s) => s.kind === 'check' && s.phase === phase);
  if (checks.length === 0) {
    const phases = [...new Set(resolved.section.steps.filter((s) => s.kind === 'check').map((s) => s.phase))];
    throw new ExecDocError('E_USAGE', `${resolved.section.address} has no check blocks of phase ${phase}`, {
      details: [
        phases.length
          ? `Its check blocks are of phase ${phases.join(', ')}: pass --phase ${phases[0]}.`
          : 'It has no check blocks; a phase of the validation framework is `exec-doc check pre-upgrade` (or post-upgrade, post-rollback).',
      ],
    });
  }
  // Only the checks, as forward steps of their own section: nothing to undo, nothing to re-verify.
  const listeners = options.json ? [(event: unknown) => io.stdout.write(`${JSON.stringify(event)}\n`)] : [];
  const missing: string[] = [];
  const bar = progress(io, options, checks.length);
  const started = performance.now();
  const { runPart } = await import('./part-run.js');
  let outcome;
  try {
    outcome = await runPart(
      resolved,
      { suffix: `checks-${phase}`, steps: checks.map((s) => ({ ...s, phase: 'post' as const })), what: 'checks' },
      options,
      io,
      [
        ...listeners,
        (e) => {
          if (e.type === 'step.end') bar.tick();
          if (e.type === 'requirements')
            missing.push(...e.results.filter((r) => !r.ok).map((r) => `${r.requirement}: ${r.detail}`));
        },
      ],
    );
  } finally {
    bar.stop();
  }
  const durationMs = Math.round(performance.now() - started);
  const results = resultsOfRun(outcome.record.steps);
  const exitCode =
    outcome.status === 'requirements-missing' ? EXIT.requirementMissing : checksExitCode(results, options.strict);
  const scope = `${resolved.section.address}:${phase}`;
  const entry = { scope, finishedAt: new Date().toISOString(), results };
  recordLastResults(path.resolve(options.stateDir), entry, options.prometheusFile);
  if (!options.json) {
    if (options.format === 'json')
      io.stdout.write(
        `${JSON.stringify({ section: resolved.section.address, phase, ...(outcome.status === 'requirements-missing' ? { passed: false, reason: `nothing ran: missing ${missing.join('; ')}`, notConfigured: [] } : checksVerdict(results, options.strict)), runId: outcome.runId, durationMs, totals: totals(results), exitCode, results }, null, 2)}\n`,
      );
    else if (options.format === 'prometheus') io.stdout.write(formatPrometheus([entry]));
    else {
      if (outcome.status === 'requirements-missing')
        io.stdout.write(
          `Nothing ran: ${missing.length === 1 ? 'a requirement is' : 'requirements are'} missing\n${missing.map((m) => `  ✖ ${m}\n`).join('')}`,
        );
      io.stdout.write(
        formatChecksTable(results, {
          color: options.color && Boolean(io.stdout.isTTY),
          totalMs: durationMs,
          title: `${resolved.section.address}: ${checks.length} check blocks of phase ${phase} (run ${outcome.runId})`,
        }),
      );
    }
  }
  return exitCode;
}
