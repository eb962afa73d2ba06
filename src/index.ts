// The engine's public surface: one model, one parser, one runner. The CLI, the site build
// and the validators use these and nothing deeper. test/public-surface.test.ts pins the list.
export type * from './model/types.js';
export { STEP_KINDS, STEP_LANGUAGES, CHECK_PHASES } from './model/types.js';
export { FIELDS } from './annotations/fields.js';
export { extractRunbooks } from './extract/extract.js';
export { loadDocument, extractFromSource } from './documents/load.js';
export { loadCorpus } from './documents/corpus.js';
export { resolveSection } from './documents/address.js';
export { buildPlan, type Plan } from './plan/plan.js';
export { runSection, resumeRun, type RunOutcome, type RunSectionOptions, type ResumeOptions } from './runner/run.js';
export type { RunEvent, RunStatus, StepPhase, StepStatus } from './events/types.js';
export type { StepResult } from './runner/state.js';
export { latestRecordPath, type RunRecord } from './results/record.js';
export { ExecDocError, EXIT, formatDiagnostic } from './errors/exec-doc-error.js';
export { default as remarkExecDoc } from '../plugins/remark-exec-doc/index.js';
export { CHECKS } from './checks/registry.js';
export { runChecks, checksExitCode } from './checks/run.js';
export { findConfigFile, loadChecksConfig, phaseChecks, type ChecksConfig } from './checks/config.js';
export { formatChecksTable, formatPrometheus } from './checks/report.js';
export {
  VALIDATION_PHASES,
  type CheckResult,
  type CheckStatus,
  type ValidationPhase,
  type CheckContext,
  type CheckDefinition,
} from './checks/types.js';
