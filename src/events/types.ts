// The runner's one event stream. The terminal view, the NDJSON output (`--json`), the
// events file of a run and the result record are all built from these events.
// static/schemas/exec-doc-events.schema.json describes them; a test keeps the two in step.
import type { StepKind, StepLanguage } from '../model/types.js';
import type { CheckResult } from '../checks/types.js';
import type { ResourceSample } from '../runner/resources.js';

/** Which part of the run a step execution belongs to. */
export type StepPhase = 'forward' | 'rollback' | 'verify' | 'teardown';

export type StepStatus = 'passed' | 'failed' | 'timed-out' | 'interrupted' | 'skipped';

export type RunStatus =
  | 'succeeded'
  | 'rolled-back'
  | 'rollback-incomplete'
  | 'requirements-missing'
  | 'teardown-failed'
  /** A step failed in a document that declares no rollback: what completed stayed done (exit 1). */
  | 'failed';

export interface PlannedStepSummary {
  id: string;
  kind: StepKind;
  lang: StepLanguage;
  phase: StepPhase;
  rollback: string | null;
}

interface Base {
  /** 1-based position of the event in its run; resumed runs continue the count. */
  seq: number;
  runId: string;
  /** ISO-8601 UTC time the event was emitted. */
  time: string;
}

export type RunEventBody =
  | {
      type: 'run.start';
      section: string;
      file: string;
      contentHash: string;
      steps: PlannedStepSummary[];
      params: Record<string, string>;
      /** Fixture blocks left out: the target is a real server, not a disposable one. */
      skippedFixtures?: string[];
    }
  | { type: 'run.resume'; section: string; fromStep: string | null; rollingBack: boolean }
  | { type: 'requirements'; results: Array<{ requirement: string; ok: boolean; detail: string }> }
  | {
      /** Before each block: how far the run is, and what the rest took the last time (null: unknown). */
      type: 'progress';
      phase: 'forward' | 'rollback' | 'verify' | 'teardown';
      stepId: string;
      done: number;
      total: number;
      elapsedMs: number;
      estimatedRemainingMs: number | null;
    }
  | { type: 'step.start'; stepId: string; kind: StepKind; lang: StepLanguage; phase: StepPhase; attempt: number }
  | { type: 'step.output'; stepId: string; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'step.retry'; stepId: string; attempt: number; delayMs: number; reason: string }
  | {
      type: 'step.end';
      stepId: string;
      phase: StepPhase;
      status: StepStatus;
      durationMs: number;
      attempts: number;
      exitCode: number | null;
      reason: string | null;
      /** What the step measured ($EXEC_DOC_METRICS), when it measured anything. */
      metrics?: Array<{ name: string; value: number; unit: string; at?: number }>;
    }
  | ({
      /** Resource use, every EXEC_DOC_SAMPLE_MS (250 ms by default) while the run executes. */
      type: 'sample';
    } & ResourceSample)
  | { type: 'rollback.start'; reason: string; steps: string[] }
  | {
      type: 'rollback.end';
      status: 'complete' | 'incomplete';
      durationMs: number;
      undone: string[];
      notUndone: string[];
    }
  | { type: 'checks.start'; scope: string; checks: string[]; target: string | null }
  | { type: 'check.result'; scope: string; stepId: string | null; result: CheckResult }
  | {
      type: 'checks.end';
      scope: string;
      durationMs: number;
      pass: number;
      warn: number;
      fail: number;
      error: number;
      exitCode: number;
    }
  | { type: 'run.end'; status: RunStatus; exitCode: number; durationMs: number; failedStep: string | null };

export type RunEvent = Base & RunEventBody;
export type RunEventType = RunEvent['type'];

export type EventListener = (event: RunEvent) => void;
