// The latest result record of each section, reduced to what a page shows as "last verified": from
// the records the repository carries (verification/, written by `exec-doc verify-guide`) and the
// local runs' (.exec-doc/results/); the newer of the two wins.
import { readFileSync } from 'node:fs';
import { walkFiles } from '../util/walk-files.js';
import { thin } from '../util/thin.js';

/** Points per line of a page's chart: enough for its width, small enough for every page's data. */
const CHART_POINTS = 120;
import type { RunRecord } from '../results/record.js';

export interface LastRun {
  runId: string;
  status: RunRecord['status'];
  exitCode: number;
  finishedAt: string;
  durationMs: number;
  contentHash: string;
  /** For a `checks` block: each check's answer as the page shows it. */
  steps: Array<{
    stepId: string;
    phase: string;
    status: string;
    durationMs: number;
    checks?: Array<{ name: string; status: string; value: string | null }>;
  }>;
  /** A rolling section's hosts: each one's batch and what became of it. */
  hosts?: Array<{ host: string; batch: number; state: string; failedTask?: string }>;
  /** Status `requirements-missing`: what this machine lacked, so the page can say it could not run here. */
  missing?: string[];
  /** Where it ran: the commit (published records), the platform and versions. */
  commit?: string | null;
  dirty?: boolean;
  environment?: { node: string; platform: string; arch: string; postgres: string | null };
  /** For the chart: resource samples, measured series and each step, on one time axis from the first step. */
  chart?: RunChart;
}

export interface RunChart {
  /** Milliseconds from the first step's start to the last step's end. */
  spanMs: number;
  steps: Array<{ stepId: string; phase: string; fromMs: number; toMs: number }>;
  /** Machine CPU, % of all CPUs. */
  cpu: Array<[number, number]>;
  /** PostgreSQL sessions running a statement (absent without a PostgreSQL target). */
  sessions?: Array<[number, number]>;
  /** Series a step measured ($EXEC_DOC_METRICS points with `at`), by name. */
  series: Record<string, { unit: string; points: Array<[number, number]> }>;
}

/** The chart's data from a record: everything placed on one time axis, from the first step's start. */
export function chartOf(record: RunRecord): RunChart | undefined {
  if (record.steps.length === 0) return undefined;
  const origin = Math.min(...record.steps.map((s) => Date.parse(s.startedAt)));
  const steps = record.steps.map((s) => {
    const fromMs = Date.parse(s.startedAt) - origin;
    return { stepId: s.stepId, phase: s.phase, fromMs, toMs: fromMs + s.durationMs };
  });
  const spanMs = Math.max(1, ...steps.map((s) => s.toMs));
  const base = record.samples ? Date.parse(record.samples.startedAt) - origin : 0;
  const points = (record.samples?.points ?? []).filter((p) => base + p.atMs >= 0 && base + p.atMs <= spanMs);
  const series: RunChart['series'] = {};
  for (const step of record.steps)
    for (const m of step.metrics ?? []) {
      if (m.at === undefined || m.at - origin < 0 || m.at - origin > spanMs) continue;
      (series[m.name] ??= { unit: m.unit, points: [] }).points.push([m.at - origin, m.value]);
    }
  const pg = points.filter((p) => p.postgres);
  return {
    spanMs,
    steps,
    cpu: thin(
      points.map((p): [number, number] => [base + p.atMs, p.hostCpuPct]),
      CHART_POINTS,
    ),
    ...(pg.length > 0
      ? {
          sessions: thin(
            pg.map((p): [number, number] => [base + p.atMs, p.postgres!.activeSessions]),
            CHART_POINTS,
          ),
        }
      : {}),
    series: Object.fromEntries(
      Object.entries(series).map(([name, s]) => [name, { unit: s.unit, points: thin(s.points, CHART_POINTS) }]),
    ),
  };
}

/**
 * Every <doc-id>/<slug>.json below each of `folders`, by section address; of two records of one
 * section the later finished wins. Unreadable files are skipped.
 */
export function readLatestRuns(...folders: string[]): Record<string, LastRun> {
  const runs: Record<string, LastRun> = {};
  for (const folder of folders)
    for (const file of walkFiles(folder, (entry) => entry.name.endsWith('.json'))) {
      try {
        const record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
        if (record.schemaVersion !== 1) continue;
        const known = runs[record.section.address];
        if (known && known.finishedAt >= record.finishedAt) continue;
        runs[record.section.address] = lastRunOf(record);
      } catch {
        // A half-written or foreign file is not a result record.
      }
    }
  return runs;
}

function lastRunOf(record: RunRecord): LastRun {
  const chart = chartOf(record);
  return {
    runId: record.runId,
    status: record.status,
    exitCode: record.exitCode,
    finishedAt: record.finishedAt,
    durationMs: record.durationMs,
    contentHash: record.section.contentHash,
    steps: record.steps.map((s) => ({
      stepId: s.stepId,
      phase: s.phase,
      status: s.status,
      durationMs: s.durationMs,
      ...(s.checks ? { checks: s.checks.map((c) => ({ name: c.name, status: c.status, value: c.value })) } : {}),
    })),
    ...(record.hosts
      ? {
          hosts: record.hosts.map((h) => ({
            host: h.host,
            batch: h.batch,
            state: h.state,
            ...(h.failedTask ? { failedTask: h.failedTask } : {}),
          })),
        }
      : {}),
    ...(record.requirements
      ? { missing: record.requirements.filter((r) => !r.ok).map((r) => `${r.requirement}: ${r.detail}`) }
      : {}),
    ...(record.verification ? { commit: record.verification.commit, dirty: record.verification.dirty } : {}),
    environment: {
      node: record.environment.node,
      platform: record.environment.platform,
      arch: record.environment.arch,
      postgres: record.environment.postgres,
    },
    ...(chart && record.status !== 'requirements-missing' ? { chart } : {}),
  };
}
