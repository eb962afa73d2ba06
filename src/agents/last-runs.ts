// The latest result record of each section, reduced to what a page shows as "last verified".
import { readFileSync } from 'node:fs';
import { walkFiles } from '../util/walk-files.js';
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
}

/** Every results/<doc-id>/<slug>.json below `resultsDir`, by section address; unreadable files are skipped. */
export function readLatestRuns(resultsDir: string): Record<string, LastRun> {
  const runs: Record<string, LastRun> = {};
  for (const file of walkFiles(resultsDir, (entry) => entry.name.endsWith('.json'))) {
    try {
      const record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
      if (record.schemaVersion !== 1 || record.status === 'requirements-missing') continue;
      runs[record.section.address] = {
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
      };
    } catch {
      // A half-written or foreign file is not a result record.
    }
  }
  return runs;
}
