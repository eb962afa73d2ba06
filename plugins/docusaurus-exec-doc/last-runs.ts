// The latest result record of each section, reduced to what a page shows as "last verified".
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RunRecord } from '../../src/results/record.js';

export interface LastRun {
  runId: string;
  status: RunRecord['status'];
  exitCode: number;
  finishedAt: string;
  durationMs: number;
  contentHash: string;
  steps: Array<{ stepId: string; phase: string; status: string; durationMs: number }>;
}

/** Every results/<doc-id>/<slug>.json below `resultsDir`, by section address; unreadable files are skipped. */
export function readLatestRuns(resultsDir: string): Record<string, LastRun> {
  const runs: Record<string, LastRun> = {};
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.json')) {
        try {
          const record = JSON.parse(readFileSync(full, 'utf8')) as RunRecord;
          if (record.schemaVersion !== 1 || record.status === 'requirements-missing') continue;
          runs[record.section.address] = {
            runId: record.runId,
            status: record.status,
            exitCode: record.exitCode,
            finishedAt: record.finishedAt,
            durationMs: record.durationMs,
            contentHash: record.section.contentHash,
            steps: record.steps.map((s) => ({ stepId: s.stepId, phase: s.phase, status: s.status, durationMs: s.durationMs })),
          };
        } catch {
          // A half-written or foreign file is not a result record.
        }
      }
    }
  };
  walk(resultsDir);
  return runs;
}
