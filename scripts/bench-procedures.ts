// Procedure figures for `npm run bench` (the application and infrastructure guides): how long each
// procedure's change takes and how long its rollback takes (the same procedure made to fail at its
// last check), and what a switch cost the load running against it (failed requests, p99 change).
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { resolveSection } from '../src/documents/address.js';
import { runSection } from '../src/runner/run.js';
import type { RunEvent } from '../src/events/types.js';

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

export async function procedureBench(
  say: (line: string) => void,
  root: string,
  options: { docId: string; slugs: string[]; rounds: number; rollbackTargetMs?: number },
): Promise<void> {
  const docsRoot = path.join(root, 'docs');
  for (const slug of options.slugs) {
    const { section, path: documentPath } = await resolveSection(`${options.docId}/${slug}`, { docsRoot });
    const lastCheck = [...section.steps].reverse().find((st) => st.kind === 'check' && st.phase !== 'rollback')!;
    const change: number[] = [];
    const rollback: number[] = [];
    const failed: number[] = [];
    const p99: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      for (const failing of [false, true]) {
        const stateDir = mkdtempSync(path.join(os.tmpdir(), 'exec-doc-bench-'));
        const events: RunEvent[] = [];
        const outcome = await runSection({
          section,
          documentPath,
          docsRoot,
          stateDir,
          env: { ...process.env, ...(failing ? { EXEC_DOC_FAIL_BEFORE: lastCheck.id } : {}) },
          listeners: [(e) => events.push(e)],
        });
        rmSync(stateDir, { recursive: true, force: true });
        if (outcome.exitCode !== (failing ? 1 : 0))
          throw new Error(
            `${slug}${failing ? ' (failing)' : ''} exited ${outcome.exitCode}: ${outcome.record.failureReason}`,
          );
        if (failing) {
          const end = events.find((e) => e.type === 'rollback.end') as { durationMs: number } | undefined;
          rollback.push(end!.durationMs);
          continue;
        }
        // The change: every forward block after the setup and the preview (the gate, the steps, the checks after).
        change.push(
          outcome.record.steps
            .filter((st) => st.phase === 'forward' && st.kind !== 'setup' && st.kind !== 'preview')
            .reduce((n, st) => n + st.durationMs, 0),
        );
        for (const st of outcome.record.steps)
          for (const m of st.metrics ?? []) {
            if (m.name === 'failedRequestsDuringSwitch') failed.push(m.value);
            if (m.name === 'p99ChangePercent') p99.push(m.value);
          }
      }
    }
    say(
      `${options.docId}/${slug}, median of ${options.rounds}: change ${s(median(change))} (gate, steps and checks; setup excluded), rollback ${s(median(rollback))} (undo and verification, after a failure at ${lastCheck.id}); rollback/change ${(median(rollback) / median(change)).toFixed(2)}x${failed.length ? `; under load: ${failed.join('/')} failed requests during the switch, p99 change ${p99.map((v) => `${v} %`).join(' / ')}` : ''}${options.rollbackTargetMs ? `  (rollback target < ${s(options.rollbackTargetMs)}) ${median(rollback) < options.rollbackTargetMs ? 'PASS' : 'FAIL'}` : ''}`,
    );
  }
}
