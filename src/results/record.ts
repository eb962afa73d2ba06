// The result record of a run: what ran, for how long, what failed and what was undone.
// The latest record of each section is also kept under results/, where the site reads
// "last verified" from.
import os from 'node:os';
import path from 'node:path';
import type { Section } from '../model/types.js';
import type { RunStatus } from '../events/types.js';
import type { RunState, StepResult } from '../runner/state.js';
import type { HostSummary } from '../hosts/batch.js';
import type { ResourceSample } from '../runner/resources.js';
import { writeAtomic } from '../util/fs.js';
import { MASK } from '../secrets/masker.js';
import { projectVersion } from '../util/project-root.js';

export const RESULT_SCHEMA_VERSION = 1;

export interface RunRecord {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  runId: string;
  section: { address: string; docId: string; file: string; title: string; contentHash: string };
  status: RunStatus;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  failedStep: string | null;
  failureReason: string | null;
  rollback: {
    ran: boolean;
    complete: boolean;
    undone: string[];
    notUndone: string[];
    /** Completed steps of a document that declares no rollback: they stayed done, as its author wrote it. */
    notUndoable: string[];
    /**
     * What is left to undo, in the order to undo it: each step not undone, the block that undoes
     * it and that block's line in the document (null when it declares none).
     */
    remaining: Array<{ step: string; rollback: string | null; line: number | null }>;
  };
  steps: StepResult[];
  /** Parameter values used; secret ones appear as `***`. */
  params: Record<string, string>;
  /** A rehearsal (fixtures ran, or there were none) or the real change on a server that is not disposable. */
  target: {
    disposable: boolean;
    skippedFixtures: string[];
    /** What the rollback proof (the baseline and snapshot.identical) compares: `database`, or these tables. */
    provenOver: 'database' | string[];
  };
  /** A rolling section (`hosts:`): every host of its batches and what became of it. */
  hosts?: HostSummary[];
  /** Requirements checked before anything ran, when one was missing (status `requirements-missing`). */
  requirements?: Array<{ requirement: string; ok: boolean; detail: string }>;
  /** A published record (`exec-doc verify-guide`): the commit the guide was verified at. */
  verification?: { commit: string | null; dirty: boolean; by: string };
  /** Resource use across the run (at most 600 samples, evenly spaced); `atMs` counts from `startedAt`. */
  samples?: { startedAt: string; points: ResourceSample[] };
  environment: {
    execDoc: string;
    node: string;
    platform: string;
    arch: string;
    release: string;
    postgres: string | null;
  };
}

export function buildRecord(input: {
  state: RunState;
  section: Section;
  status: RunStatus;
  exitCode: number;
  finishedAt: Date;
  postgres: string | null;
  hosts?: RunRecord['hosts'];
  samples?: RunRecord['samples'];
  requirements?: RunRecord['requirements'];
}): RunRecord {
  const { state, section } = input;
  const params: Record<string, string> = { ...state.params };
  for (const name of state.secretParams) params[name] = MASK;
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    runId: state.runId,
    section: recordSection(section),
    status: input.status,
    exitCode: input.exitCode,
    startedAt: state.startedAt,
    finishedAt: input.finishedAt.toISOString(),
    durationMs: Math.max(0, input.finishedAt.getTime() - Date.parse(state.startedAt)),
    failedStep: state.failure?.stepId ?? null,
    failureReason: state.failure?.reason ?? null,
    rollback: {
      ran: state.rollbackStartedAt !== null,
      complete: state.notUndone.length === 0 && state.rollbackPending.length === 0,
      undone: state.undone,
      notUndone: [...state.notUndone, ...state.rollbackPending],
      notUndoable: state.notUndoable ?? [],
      remaining: [...state.notUndone, ...state.rollbackPending].map((id) => {
        // A step with no rollback (`none`, or not declared) has no partner: no id is null or undefined.
        const declared = section.steps.find((s) => s.id === id)?.rollback;
        const partner = section.steps.find((s) => s.id === declared);
        return { step: id, rollback: partner?.id ?? null, line: partner?.position.start.line ?? null };
      }),
    },
    steps: state.results,
    params: Object.fromEntries(Object.entries(params).sort(([a], [b]) => a.localeCompare(b))),
    target: {
      disposable: state.disposable ?? !state.fixturesSkipped,
      skippedFixtures: state.fixturesSkipped ? section.steps.filter((s) => s.fixture).map((s) => s.id) : [],
      provenOver: state.provenTables ?? 'database',
    },
    ...(input.hosts ? { hosts: input.hosts } : {}),
    ...(input.requirements ? { requirements: input.requirements } : {}),
    ...(input.samples ? { samples: input.samples } : {}),
    environment: recordEnvironment(input.postgres),
  };
}

/** How a record names its section. */
export function recordSection(section: Section): RunRecord['section'] {
  const { address, docId, file, title, contentHash } = section;
  return { address, docId, file, title, contentHash };
}

/** Where a record was made: this exec-doc, Node, the platform, and the PostgreSQL it ran against. */
export function recordEnvironment(postgres: string | null): RunRecord['environment'] {
  return {
    execDoc: projectVersion(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    release: os.release(),
    postgres,
  };
}

/**
 * Where the latest record of a section lives: results/<doc-id>/<slug>.json, always inside the
 * state folder: a document outside the docs folder has `..` in its id, which is kept as a name.
 */
export function latestRecordPath(stateDir: string, address: string): string {
  return recordPathIn(path.join(stateDir, 'results'), address);
}

/** <folder>/<doc-id>/<slug>.json, never outside `folder` (the published records use it too). */
export function recordPathIn(results: string, address: string): string {
  const segments = address
    .split('/')
    .map((segment) =>
      segment === '' || segment === '.' || segment === '..'
        ? segment.replace(/\./g, '%2E') || '%'
        : segment.replace(/[\\:]/g, (c) => `%${c.charCodeAt(0).toString(16)}`),
    );
  const file = path.join(results, ...segments) + '.json';
  // Belt and braces: nothing may resolve outside results/.
  if (path.relative(results, file).startsWith('..')) throw new Error(`record path for ${address} escapes ${results}`);
  return file;
}

export function writeRecord(record: RunRecord, files: string[]): void {
  const text = `${JSON.stringify(record, null, 2)}\n`;
  for (const file of files) writeAtomic(file, text, 0o600);
}
