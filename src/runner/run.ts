// Runs a section, or resumes a run: check parameters and requirements → start the target →
// forward steps → on failure, roll back completed steps in reverse and verify → teardown →
// record. The state is checkpointed after every step, so a killed runner can be resumed.
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Section, Step } from '../model/types.js';
import { ExecDocError, EXIT } from '../errors/exec-doc-error.js';
import { EventBus, lastSeqInFile, ndjsonFileSink } from '../events/emitter.js';
import type { EventListener, RunStatus, StepPhase } from '../events/types.js';
import { connectionStringSecrets, createMasker, maskDeep, type Masker } from '../secrets/masker.js';
import type { SqlSession } from '../languages/sql.js';
import type { PostgresHandle } from '../targets/postgres.js';
import { buildRecord, latestRecordPath, writeRecord, type RunRecord } from '../results/record.js';
import type { RollingPlan } from '../hosts/prepare.js';
import { buildPlan, plannedSteps, type Plan } from '../plan/plan.js';
import { planForTarget, resolveTouches } from '../plan/rehearsal.js';
import { checkedParams, resolveParams, shownValues, type ResolvedParams } from './params.js';
import { checkRequirements } from './requirements.js';
import { executeStep, type BackgroundProcess, type StepContext } from './execute-step.js';
import type { AskValue } from './prompt-env.js';
import { fragmentOf } from '../documents/select.js';
import { newRunId, progressAtStart, RunStore, type RunState, type StepResult } from './state.js';
import { isProcessOfRun, killTree } from '../process/kill-tree.js';
import { reasons } from './reasons.js';
import { MAX_RECORD_SAMPLES, openPostgresProbe, ResourceSampler, sampleIntervalMs, summarize } from './resources.js';
import { thin } from '../util/thin.js';
import { TIMELINE_ENV } from './metrics.js';
import { abandoned, removeOwner, writeOwner } from '../util/owned-temp.js';
import type { ChecksConfig } from '../checks/config.js';
import { auditListener, authorizeRun, type AccessContext, type Grant } from '../security/access.js';
import { configuredUrl } from '../targets/url.js';

export interface CommonRunOptions {
  /** Where runs/ and results/ live (default `.exec-doc`). */
  stateDir: string;
  /** `--set` values. */
  sets?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  /** Accept every confirmation up front. */
  yes?: boolean;
  /** Asks the operator at a `confirm` step; without it, such steps need `yes`. */
  confirm?: (question: string, step: Step) => Promise<boolean>;
  /** Asks for a value of a block's `export NAME=…` line (Runme's promptEnv); absent: nobody can be asked. */
  ask?: AskValue;
  /** `shared`: exported variables carry from block to block (Runme's session); default: the section's setting. */
  session?: 'shared' | 'isolated';
  /** Aborting fails the running step and starts the rollback (Ctrl-C). */
  signal?: AbortSignal;
  /** Aborting abandons a rollback in progress (a second Ctrl-C); `resume` can finish it. */
  forceSignal?: AbortSignal;
  /** Keep the embedded PostgreSQL after the run, for inspection. */
  keepDb?: boolean;
  /** How long to wait for another run of the same section and target to finish (default 0: refuse at once). */
  lockWaitMs?: number;
  listeners?: EventListener[];
  /** Notices for the operator (not events). */
  notice?: (line: string) => void;
  /** Who is running, the access policy, approvals and the audit trail (the CLI always gives one). */
  access?: AccessContext;
  /** Steps to fail on purpose before they run (--fail-before, or $EXEC_DOC_FAIL_BEFORE): a rollback drill. */
  failBefore?: string[];
  /** The user's server is a scratch copy: fixtures may create their sample schema and data there (--disposable). */
  disposable?: boolean;
}

export interface RunSectionOptions extends CommonRunOptions {
  section: Section;
  /** Absolute path of the section's document: steps run in its folder, and resume reloads it. */
  documentPath: string;
  docsRoot: string;
  runId?: string;
}

export interface ResumeOptions extends CommonRunOptions {
  runId: string;
  /** Run again the step the dead runner was in the middle of, though it is not declared idempotent. */
  rerunInterrupted?: boolean;
  /** Instead of going on, roll back: the interrupted step first, then the completed ones. */
  rollback?: boolean;
  /** Loads the section of the run from its document (the CLI's loader). */
  loadSection(state: RunState): Promise<Section>;
  /** Once the section is loaded: the access context and the values of its secrets (the CLI's). */
  prepare?: () => { sets: Record<string, string>; access: AccessContext } | undefined;
}

export interface RunOutcome {
  runId: string;
  runDir: string;
  status: RunStatus;
  exitCode: number;
  record: RunRecord;
}

// Only a rolling section (`hosts:`) needs Ansible's side of the engine: loaded when one runs.
let loadedHosts: typeof import('../hosts/prepare.js') | undefined;
async function hostsModule(): Promise<typeof import('../hosts/prepare.js')> {
  loadedHosts ??= await import('../hosts/prepare.js');
  return loadedHosts;
}

export async function runSection(given: RunSectionOptions): Promise<RunOutcome> {
  let options = given;
  const env = options.env ?? process.env;
  // A bad EXEC_DOC_SAMPLE_MS is refused before anything is created.
  sampleIntervalMs(env);
  // A rolling section runs as batch steps: its hosts are listed now, before anything runs.
  let rolling: RollingPlan | undefined;
  const hostValues = options.section.hosts ? resolveParams(options.section.params, options.sets ?? {}, env) : undefined;
  // (Values that do not validate are refused below, with their own message, before anything runs.)
  if (hostValues && hostValues.problems.length === 0) {
    const { expandForRun, rollingPlan } = await hostsModule();
    rolling = rollingPlan(options.section, hostValues.values, options.documentPath, env);
    options = { ...options, section: expandForRun(options.section, rolling, hostValues.values) };
  }
  const { section } = options;
  const { plan, use } = planForTarget(section, env, options.disposable ?? false, options.notice);
  const params = checkedParams(
    plan,
    resolveParams(section.params, options.sets ?? {}, env),
    `Cannot run ${section.address}`,
  );
  assertConfirmable(plan, options);
  assertFailBeforeSteps(plan, [...(options.failBefore ?? []), ...failBeforeFromEnv(env)]);
  // Before anything is created: a `touches` parameter that names no table stops the run here.
  const target = { disposable: use.disposable, ...provenOver(plan, use.disposable, params) };
  const checksConfig = await loadChecksConfigFor(plan, options.documentPath);

  const runId = options.runId ?? newRunId(section.slug);
  const unlockSection = await lockSectionFor(plan, runId, options, env);
  try {
    // Inside the section's lock: an approval is not used up by a run that another run kept waiting.
    const grant = authorize(plan, runId, params, options, env, false);
    return await startRun(plan, target, runId, params, checksConfig, options, grant, rolling);
  } finally {
    await unlockSection();
  }
}

async function startRun(
  plan: Plan,
  target: { disposable: boolean; provenTables?: string[] },
  runId: string,
  params: ResolvedParams,
  checksConfig: ChecksConfig | undefined,
  options: RunSectionOptions,
  grant: Grant | undefined,
  rolling?: RollingPlan,
): Promise<RunOutcome> {
  const { section } = plan;
  const store = new RunStore(options.stateDir, runId);
  store.create();
  store.lock();
  if (rolling) (await hostsModule()).saveRollingPlan(store.dir, rolling);
  const secretNames = section.params.filter((p) => p.secret).map((p) => p.name);
  const state: RunState = {
    version: 1,
    runId,
    section: {
      address: section.address,
      file: path.resolve(options.documentPath),
      docsRoot: path.resolve(options.docsRoot),
      contentHash: section.contentHash,
    },
    phase: 'forward',
    startedAt: new Date().toISOString(),
    params: Object.fromEntries(Object.entries(params.values).filter(([name]) => !secretNames.includes(name))),
    secretParams: secretNames,
    ...progressAtStart(),
    keepDb: options.keepDb ?? false,
    ...target,
    ...(plan.skippedFixtures.length > 0 ? { fixturesSkipped: true } : {}),
  };
  const run = new Run({ plan, state, store, params, options, ...(checksConfig ? { checksConfig } : {}) });
  listenForAudit(run, plan, state.runId, options, grant);
  run.bus.emit({
    type: 'run.start',
    section: section.address,
    file: section.file,
    contentHash: section.contentHash,
    steps: [
      ...plan.forward.map((s) => ({
        id: s.id,
        kind: s.kind,
        lang: s.lang,
        phase: 'forward' as const,
        rollback: plan.rollbackOf.get(s.id)?.id ?? null,
      })),
      ...plan.verify.map((s) => ({ id: s.id, kind: s.kind, lang: s.lang, phase: 'verify' as const, rollback: null })),
      ...plan.teardown.map((s) => ({
        id: s.id,
        kind: s.kind,
        lang: s.lang,
        phase: 'teardown' as const,
        rollback: null,
      })),
    ],
    params: shownValues(section.params, params.values),
    ...(plan.skippedFixtures.length > 0 ? { skippedFixtures: plan.skippedFixtures.map((s) => s.id) } : {}),
  });
  return run.execute({ checkRequirements: true });
}

export async function resumeRun(given: ResumeOptions): Promise<RunOutcome> {
  let options = given;
  sampleIntervalMs(options.env ?? process.env);
  const store = new RunStore(options.stateDir, options.runId);
  const state = store.load();
  for (const line of store.damage) options.notice?.(line);
  // Ended. (Killed after its teardown but before its end, a run has phase `done` and no outcome
  // yet: resume ends it, running nothing.)
  if (state.final) {
    throw new ExecDocError(
      'E_RUN_FINISHED',
      `Run \`${state.runId}\` already finished (${state.final.status}, exit ${state.final.exitCode}); there is nothing to resume`,
      {
        details: [
          `Its record: ${store.resultPath}`,
          `Start a new run with: exec-doc run ${state.section.file}#${fragmentOf(state.section.address)}`,
        ],
      },
    );
  }
  const reopened = await reopen(state, options, {
    changed: 'started; resuming would mix two versions of the procedure',
    restore: 'Restore the document as it was, or start a new run.',
    cannot: `Cannot resume ${state.runId}`,
  });
  const { section, plan, params, env } = reopened;
  options = reopened.options;
  // Steps still to run forward may ask for confirmation; `--rollback` runs none of them.
  const goingForward = state.phase === 'forward' && !options.rollback;
  if (goingForward) assertConfirmable(plan, options);
  if ((options.session ?? (section.sharedSession ? 'shared' : 'isolated')) === 'shared' && state.completed.length > 0)
    options.notice?.(
      'shared session: what the completed blocks exported was held in memory only (it may hold secrets) and is gone; set those variables in the environment if the next blocks need them',
    );
  const checksConfig = await loadChecksConfigFor(plan, state.section.file);
  const unlockSection = await lockSectionFor(plan, state.runId, options, env);
  try {
    // Finishing a rollback runs no `confirm` step: it needs `run`, not an approval.
    const grant = authorize(plan, state.runId, params, options, env, true, goingForward);
    return await continueRun({ plan, state, store, params, ...(checksConfig ? { checksConfig } : {}) }, options, grant);
  } finally {
    await unlockSection();
  }
}

/**
 * `exec-doc rollback <run-id>`: undoes a run that succeeded. Its completed steps' rollbacks run in
 * reverse order, then the checks that prove the system is back (the pre checks and the
 * rollback-phase ones), then the setup's rollbacks and the teardown, as after a failure. The run
 * itself is continued (same id, events and record), so its history says it was rolled back.
 */
export async function rollbackRun(given: ResumeOptions): Promise<RunOutcome> {
  let options = given;
  sampleIntervalMs(options.env ?? process.env);
  const store = new RunStore(options.stateDir, options.runId);
  const state = store.load();
  for (const line of store.damage) options.notice?.(line);
  if (!state.final)
    throw new ExecDocError('E_RUN_UNFINISHED', `Run \`${state.runId}\` has not finished; nothing to roll back yet`, {
      details: [`Roll back what it did so far with: exec-doc resume ${state.runId} --rollback`],
    });
  // A rollback that did not finish (a target was down, a rollback block failed) is tried again
  // from where it stopped, once the cause is fixed.
  const retry = state.final.status === 'rollback-incomplete';
  if (state.final.status !== 'succeeded' && !retry)
    throw new ExecDocError(
      'E_RUN_FINISHED',
      `Run \`${state.runId}\` ended ${state.final.status} (exit ${state.final.exitCode}); only a run that succeeded, or one whose rollback did not finish, is rolled back with \`exec-doc rollback\``,
      { details: [`A failed run was rolled back when it failed: its record is ${store.resultPath}`] },
    );
  if (state.postgres?.kind === 'embedded' && !state.keepDb)
    throw new ExecDocError(
      'E_RUN_FINISHED',
      `Run \`${state.runId}\` changed the embedded PostgreSQL, which was removed when the run ended: there is nothing left to roll back`,
      {
        details: [
          'To roll back later, run against your server (DATABASE_URL) or keep the embedded one with --keep-db.',
        ],
      },
    );
  const reopened = await reopen(state, options, {
    changed: 'succeeded; its rollbacks may no longer undo what it did',
    restore: 'Restore the document as it was when the run succeeded, then roll it back.',
    cannot: `Cannot roll back ${state.runId}`,
  });
  const { section, plan, params, env } = reopened;
  options = reopened.options;
  if (section.noRollbacks)
    throw new ExecDocError(
      'E_RUN_FINISHED',
      `${section.address} declares no rollback: exec-doc cannot undo what run \`${state.runId}\` did`,
      {
        details: [
          'Add `rollback=<id>` and a `kind=rollback` block to each step that changes something, or undo it by hand.',
        ],
      },
    );
  const checksConfig = await loadChecksConfigFor(plan, state.section.file);
  const unlockSection = await lockSectionFor(plan, state.runId, options, env);
  try {
    const grant = authorize(plan, state.runId, params, options, env, true, false);
    if (retry) {
      // What was not undone, in the order it was to be undone; verification and teardown run again.
      Object.assign(state, {
        final: null,
        phase: 'rollback',
        rollbackPending: [...state.notUndone, ...state.rollbackPending],
        notUndone: [],
        verifyCursor: 0,
        teardownCursor: 0,
        retryFrom: state.results.length,
      });
      return await continueRun(
        { plan, state, store, params, ...(checksConfig ? { checksConfig } : {}) },
        options,
        grant,
      );
    }
    Object.assign(state, undoLists(plan, state.completed, state.baselineAfterSetup === true), {
      final: null,
      phase: 'rollback',
      failure: null,
      requestedRollback: true,
      undone: [],
      notUndone: [],
      notUndoable: [],
      rollbackStartedAt: null,
      verifyCursor: 0,
      teardownCursor: 0,
    });
    // (`options.rollback` means nothing here: it turns a forward phase into a rollback.)
    return await continueRun({ plan, state, store, params, ...(checksConfig ? { checksConfig } : {}) }, options, grant);
  } finally {
    await unlockSection();
  }
}

/**
 * A stored run's section as it is now (it must be unchanged), its plan (the fixtures left out then
 * are left out now) and its parameters (secrets were never stored: they must be given again).
 */
async function reopen(
  state: RunState,
  given: ResumeOptions,
  words: { changed: string; restore: string; cannot: string },
): Promise<{ options: ResumeOptions; section: Section; plan: Plan; params: ResolvedParams; env: NodeJS.ProcessEnv }> {
  let options = given;
  let section = await options.loadSection(state);
  const prepared = options.prepare?.();
  if (prepared) options = { ...options, sets: prepared.sets, access: prepared.access };
  if (section.contentHash !== state.section.contentHash)
    throw new ExecDocError(
      'E_RUN_CHANGED',
      `The section ${section.address} changed since run \`${state.runId}\` ${words.changed}`,
      { details: [words.restore] },
    );
  const env = options.env ?? process.env;
  const sets = { ...state.params, ...(options.sets ?? {}) };
  if (section.hosts) {
    // The batches the run started with, not the inventory as it is now.
    const values = resolveParams(section.params, sets, env).values;
    const runDir = new RunStore(options.stateDir, state.runId).dir;
    const { expandForRun, rollingPlan } = await hostsModule();
    section = expandForRun(section, rollingPlan(section, values, state.section.file, env, runDir), values);
  }
  const plan = buildPlan(section, { fixtures: !state.fixturesSkipped });
  assertFailBeforeSteps(plan, failBeforeFromEnv(env));
  const params = checkedParams(
    plan,
    resolveParams(section.params, sets, env),
    `${words.cannot} (secret values are never stored; pass them again)`,
  );
  return { options, section, plan, params, env };
}

/** Goes on with a stored run whose parameters, configuration and section lock are ready. */
async function continueRun(
  prepared: { plan: Plan; state: RunState; store: RunStore; params: ResolvedParams; checksConfig?: ChecksConfig },
  options: ResumeOptions,
  grant: Grant | undefined,
): Promise<RunOutcome> {
  const { plan, state, store, params, checksConfig } = prepared;
  const section = plan.section;
  store.lock();
  // A forward step under way means the forward phase (the phase moves on only once none is).
  const interrupted =
    state.current?.phase === 'forward' ? plan.forward.find((s) => s.id === state.current!.stepId) : undefined;
  if (
    interrupted &&
    (interrupted.kind === 'step' || interrupted.kind === 'setup') &&
    !interrupted.idempotent &&
    !options.rerunInterrupted &&
    !options.rollback
  ) {
    stopLeftover(state, options.notice);
    store.unlock();
    throw interruptedError(state.runId, interrupted, plan);
  }
  const run = new Run({ plan, state, store, params, options, ...(checksConfig ? { checksConfig } : {}) });
  listenForAudit(run, plan, state.runId, options, grant);
  run.cleanUpLeftover();
  if (options.rollback && state.phase === 'forward') rollBackInstead(state, plan, interrupted);
  const rollingBack = state.phase === 'rollback';
  run.bus.emit({
    type: 'run.resume',
    section: section.address,
    fromStep: state.current?.stepId ?? plan.forward[state.cursor]?.id ?? null,
    rollingBack,
  });
  return run.execute({ checkRequirements: false });
}

/**
 * What the rollback is proven over: the whole database on a disposable target (cheap, and the
 * strongest proof), the tables the section declares it changes on a real one.
 */
function provenOver(plan: Plan, disposable: boolean, params: ResolvedParams): { provenTables?: string[] } {
  if (disposable) return {};
  const tables = resolveTouches(plan.section, params.values);
  return tables ? { provenTables: tables } : {};
}

/** The access gate (policy, approvals), before anything runs; undefined when no access context was given. */
function authorize(
  plan: Plan,
  runId: string,
  params: ResolvedParams,
  options: CommonRunOptions,
  env: NodeJS.ProcessEnv,
  resume: boolean,
  forward = true,
): Grant | undefined {
  if (!options.access) return undefined;
  return authorizeRun({
    access: options.access,
    section: plan.section,
    confirmSteps: forward ? plan.confirmations.map((s) => s.id) : [],
    url: plan.needsPostgres ? configuredUrl(plan.section.target, env) : undefined,
    values: params.values,
    shownParams: shownValues(plan.section.params, params.values),
    runId,
    resume,
  });
}

function listenForAudit(
  run: Run,
  plan: Plan,
  runId: string,
  options: CommonRunOptions,
  grant: Grant | undefined,
): void {
  if (!options.access || !grant) return;
  run.bus.on(
    auditListener(
      options.access,
      { runId, section: plan.section.address, contentHash: plan.section.contentHash, target: grant.target },
      options.notice,
    ),
  );
}

/** The section's lock, against its shared PostgreSQL target when it has one. */
async function lockSectionFor(
  plan: Plan,
  runId: string,
  options: CommonRunOptions,
  env: NodeJS.ProcessEnv,
): Promise<() => Promise<void>> {
  const { lockSection } = await import('./section-lock.js');
  const { configuredUrl } = await import('../targets/url.js');
  const sharedUrl = plan.needsPostgres ? configuredUrl(plan.section.target, env) : undefined;
  return lockSection({
    stateDir: options.stateDir,
    address: plan.section.address,
    runId,
    waitMs: options.lockWaitMs ?? 0,
    ...(sharedUrl ? { sharedUrl } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** Whether any block the plan may run is a `checks` block. */
function hasChecksBlocks(plan: Plan): boolean {
  return plannedSteps(plan).some((s) => s.lang === 'checks');
}

/** The checks configuration a section's `checks` blocks use (the nearest exec-doc.checks.yaml), validated before anything runs. */
async function loadChecksConfigFor(plan: Plan, documentPath: string): Promise<ChecksConfig | undefined> {
  if (!hasChecksBlocks(plan)) return undefined;
  const { findConfigFile, loadChecksConfig } = await import('../checks/config.js');
  return loadChecksConfig(findConfigFile(path.dirname(path.resolve(documentPath))));
}

/**
 * The runner died while this step ran: it may have done some of its work, or all of it without
 * the checkpoint saying so. Running it again could do it twice; the operator decides.
 */
function interruptedError(runId: string, step: Step, plan: Plan): ExecDocError {
  const partner = plan.rollbackOf.get(step.id);
  const undo = partner
    ? `its rollback \`${partner.id}\` (line ${partner.position.start.line})`
    : partner === null
      ? 'nothing (rollback=none)'
      : 'no rollback (none is declared)';
  return new ExecDocError(
    'E_RESUME_INTERRUPTED',
    `Run \`${runId}\` stopped while step \`${step.id}\` was running; it may have done part or all of its work, so it is not run again on its own`,
    {
      details: [
        `${step.id} (${step.lang}, ${plan.section.file}:${step.position.start.line}) would be undone by ${undo}.`,
        `Check what it did, then either:`,
        `  exec-doc resume ${runId} --rerun-interrupted   run it again and go on (safe if running it twice does no harm)`,
        `  exec-doc resume ${runId} --rollback            undo it (its rollback first, written to tolerate a partly done step) and the completed steps`,
        'A step that is safe to repeat can say so with `idempotent` in its annotation; resume then runs it again by itself.',
      ],
    },
  );
}

/** `resume --rollback`: the interrupted step (it may have done part of its work) and the completed ones, in reverse. */
function rollBackInstead(state: RunState, plan: Plan, interrupted: Step | undefined): void {
  state.failure = {
    stepId: interrupted?.id ?? plan.forward[state.cursor]?.id ?? state.completed[state.completed.length - 1] ?? '-',
    reason: reasons.resumeRollback(),
  };
  // A step is completed only after it stops being under way: the interrupted one is never among them.
  const done = interrupted ? [...state.completed, interrupted.id] : state.completed;
  Object.assign(state, undoLists(plan, done, state.baselineAfterSetup === true));
  state.phase = 'rollback';
}

/**
 * What a failed run undoes, in reverse order: its steps (and a step it was in the middle of)
 * first; its setup blocks only after the rollback was verified against the state they made. A
 * run that failed in its setup compares with the state before it: everything is undone first.
 */
function undoLists(
  plan: Plan,
  done: readonly string[],
  afterSetup: boolean,
): { rollbackPending: string[]; setupPending: string[] } {
  const kindOf = new Map(plan.forward.map((s) => [s.id, s.kind]));
  // Before the baseline was taken, no block but a setup was reached: the first other block takes it.
  if (!afterSetup) return { rollbackPending: [...done].reverse(), setupPending: [] };
  return {
    rollbackPending: done.filter((id) => kindOf.get(id) === 'step').reverse(),
    setupPending: done.filter((id) => kindOf.get(id) === 'setup').reverse(),
  };
}

/** Stops the process a killed runner left running (trusted only if it carries the run's id). */
function stopLeftover(state: RunState, notice?: (line: string) => void): void {
  const current = state.current;
  if (current?.pid && isProcessOfRun(current.pid, state.runId)) {
    notice?.(`stopping process ${current.pid} left running by the killed runner (step ${current.stepId})`);
    killTree(current.pid, 'SIGKILL');
  }
  for (const { stepId, pid } of state.background ?? []) {
    if (!isProcessOfRun(pid, state.runId)) continue;
    notice?.(`stopping background process ${pid} left running by the killed runner (step ${stepId})`);
    killTree(pid, 'SIGKILL');
  }
  state.background = [];
}

const HANDOFF_PREFIX = 'exec-doc-handoff-';

/**
 * Where this user's runs keep their hand-off folders: a private folder of its own in the temporary
 * folder, so that looking for what dead runners left reads only it, not a temporary folder that
 * may hold a hundred thousand entries (that scan cost 114 ms a run on this project's machine).
 * One that is not a private folder of this user's (made by someone else, or a link) is not used:
 * the temporary folder itself is, as before.
 */
export function handoffParent(): string {
  const base = os.tmpdir();
  const uid = process.getuid?.();
  if (uid === undefined) return base;
  const dir = path.join(base, `exec-doc-handoffs-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return base;
  }
  const stat = lstatSync(dir);
  return stat.isDirectory() && stat.uid === uid && (stat.mode & 0o077) === 0 ? dir : base;
}

/** A private folder for $EXEC_DOC_ENV files; those of runners that died are removed first. */
function makeHandoffDir(): string {
  const parent = handoffParent();
  for (const left of abandoned(HANDOFF_PREFIX, parent)) {
    rmSync(left.path, { recursive: true, force: true });
    removeOwner(left.path);
  }
  const dir = mkdtempSync(path.join(parent, HANDOFF_PREFIX));
  writeOwner(dir);
  return dir;
}

/**
 * --fail-before names forward steps of this section: failing one drills the rollback of those
 * before it. A typo would make the drill a real run, and a rollback, verification or teardown
 * block is never failed on purpose: either is refused before anything runs.
 */
function assertFailBeforeSteps(plan: Plan, ids: readonly string[]): void {
  const forward = plan.forward.map((s) => s.id);
  const planned = plannedSteps(plan).map((s) => s.id);
  const wrong = ids.filter((id) => !forward.includes(id));
  if (wrong.length === 0) return;
  const others = wrong.filter((id) => planned.includes(id));
  throw new ExecDocError(
    'E_USAGE',
    others.length === wrong.length
      ? `--fail-before ${wrong.join(', ')}: not a forward step of ${plan.section.address} (a rollback, verification or teardown block is never failed on purpose)`
      : `--fail-before ${wrong.join(', ')}: no such step in ${plan.section.address}`,
    { details: [`Its forward steps: ${forward.join(', ')}`] },
  );
}

/** The step ids of EXEC_DOC_FAIL_BEFORE (comma-separated), the variable's form of --fail-before. */
function failBeforeFromEnv(env: NodeJS.ProcessEnv): string[] {
  return (env.EXEC_DOC_FAIL_BEFORE ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
}

function assertConfirmable(plan: Plan, options: CommonRunOptions): void {
  if (plan.confirmations.length > 0 && !options.yes && !options.confirm) {
    throw new ExecDocError(
      'E_CONFIRM',
      `${plan.section.address} has steps that need confirmation and nobody can be asked`,
      {
        details: [
          ...plan.confirmations.map((s) => `${s.id}: ${s.confirm ?? ''}`),
          'Pass --yes to confirm them all, or run in an interactive terminal.',
        ],
      },
    );
  }
}

class Run {
  readonly bus: EventBus;
  private readonly fileSink: ReturnType<typeof ndjsonFileSink>;
  private readonly logFd: number;
  private postgres: PostgresHandle | undefined;
  private sqlSession: SqlSession | undefined;
  private readonly context: StepContext;
  /** Background blocks started by this runner: stopped on every way out of the run. */
  private readonly background: BackgroundProcess[] = [];
  /** Resource use while the run executes (absent when EXEC_DOC_SAMPLE_MS=0). */
  private sampler: ResourceSampler | undefined;
  /** What the requirements check found, kept for the record of a run that could not start. */
  private requirementResults: RunRecord['requirements'];

  private readonly plan: Plan;
  private readonly state: RunState;
  private readonly store: RunStore;
  private readonly mask: Masker;
  private readonly options: CommonRunOptions;

  constructor(parts: {
    plan: Plan;
    state: RunState;
    store: RunStore;
    /** The parameters' values (defaults filled in) and which of them are secret. */
    params: ResolvedParams;
    options: CommonRunOptions;
    checksConfig?: ChecksConfig;
  }) {
    const { plan, state, store, options, checksConfig } = parts;
    const params = parts.params.values;
    const mask = createMasker(parts.params.secrets);
    this.plan = plan;
    this.state = state;
    this.store = store;
    this.mask = mask;
    this.options = options;
    this.bus = new EventBus(state.runId, mask, Math.max(state.lastSeq, lastSeqInFile(store.eventsPath)));
    this.fileSink = ndjsonFileSink(store.eventsPath);
    this.logFd = openSync(store.logPath, 'a', 0o600);
    this.bus.on(this.fileSink.listener);
    this.bus.on((event) => {
      state.lastSeq = event.seq;
    });
    for (const listener of options.listeners ?? []) this.bus.on(listener);
    const env = options.env ?? process.env;
    this.context = {
      where: {
        runId: state.runId,
        runDir: store.dir,
        docDir: path.dirname(state.section.file),
        documentFile: plan.section.file,
        handoffDir: makeHandoffDir(),
        timeline: () => this.writeTimeline(),
      },
      values: {
        params,
        paramDecls: plan.section.params,
        handoff: { ...state.handoff },
        baseEnv: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string')),
        ...((options.session ?? (plan.section.sharedSession ? 'shared' : 'isolated')) === 'shared'
          ? { session: { set: {}, unset: new Set<string>() } }
          : {}),
      },
      output: {
        mask,
        bus: this.bus,
        log: (text) => writeSync(this.logFd, text),
        onSpawn: (pid) => {
          if (state.current) {
            state.current.pid = pid;
            this.save();
          }
        },
        onBackground: (process) => {
          this.background.push(process);
          if (process.pid !== undefined) {
            state.background = [...(state.background ?? []), { stepId: process.stepId, pid: process.pid }];
            this.save();
          }
        },
      },
      operator: {
        ...(options.confirm ? { confirm: options.confirm } : {}),
        ...(options.ask ? { ask: options.ask } : {}),
        yes: options.yes ?? false,
        failBefore: new Set([...(options.failBefore ?? []), ...failBeforeFromEnv(env)]),
      },
      targets: {
        sql: async () => {
          if (!this.postgres) throw new Error('no PostgreSQL target was opened for this run');
          if (!this.sqlSession) {
            const { SqlSession } = await import('../languages/sql.js');
            this.sqlSession = new SqlSession(this.postgres.url);
          }
          return this.sqlSession;
        },
        postgres: () =>
          this.postgres
            ? {
                url: this.postgres.url,
                description: this.postgres.description,
                ...(this.postgres.embedded ? { dataDir: this.postgres.embedded.dataDir } : {}),
              }
            : undefined,
        ...(checksConfig ? { checksConfig } : {}),
      },
    };
  }

  /** A runner killed mid-step leaves its step's processes running: stop them before going on. */
  cleanUpLeftover(): void {
    stopLeftover(this.state, this.options.notice);
    this.state.current = null;
  }

  private save(): void {
    this.state.handoff = maskDeep(this.context.values.handoff, this.mask);
    this.store.save(this.state);
  }

  async execute(options: { checkRequirements: boolean }): Promise<RunOutcome> {
    this.startSampler();
    try {
      if (options.checkRequirements) {
        const results = await checkRequirements(this.plan.requirements, {
          target: this.plan.section.target,
          env: this.options.env ?? process.env,
        });
        this.requirementResults = results.map((r) => ({ requirement: r.requirement, ok: r.ok, detail: r.detail }));
        this.bus.emit({ type: 'requirements', results: this.requirementResults });
        if (results.some((r) => !r.ok)) return this.finish('requirements-missing', EXIT.requirementMissing);
      }
      if (this.plan.needsPostgres) {
        try {
          await this.openTarget();
        } catch (error) {
          this.requirementResults = [
            {
              requirement: 'postgres',
              ok: false,
              detail: `could not open the PostgreSQL target: ${(error as Error).message}`,
            },
          ];
          this.bus.emit({ type: 'requirements', results: this.requirementResults });
          return this.finish('requirements-missing', EXIT.requirementMissing);
        }
      }
      if (this.postgres && this.state.phase === 'forward' && this.state.cursor === 0) await this.takeBaseline(false);
      this.save();
      if (this.state.phase === 'forward') await this.forward();
      if (this.state.phase === 'rollback') await this.rollback();
      if (this.state.phase === 'verify')
        await this.runAll(
          this.plan.verify,
          'verify',
          'verifyCursor',
          'rollback-setup',
          (step) => step.phase !== 'pre' || this.state.completed.includes(step.id),
        );
      if (this.state.phase === 'rollback-setup') await this.undoSetup();
      if (this.state.phase === 'teardown') await this.runAll(this.plan.teardown, 'teardown', 'teardownCursor', 'done');
      if (this.state.phase !== 'done') {
        // A second Ctrl-C abandoned the rollback: stop here; `resume` finishes it.
        return this.finish('rollback-incomplete', EXIT.rollbackIncomplete, { resumable: true });
      }
      return this.conclude();
    } finally {
      await this.sampler?.stop();
      await this.stopBackground();
      await this.sqlSession?.close();
      rmSync(this.context.where.handoffDir, { recursive: true, force: true });
      removeOwner(this.context.where.handoffDir);
      this.store.close();
      closeSync(this.logFd);
      await this.release().catch((error: unknown) =>
        this.options.notice?.(`could not stop the embedded PostgreSQL: ${(error as Error).message}`),
      );
      this.fileSink.close();
      this.store.unlock();
    }
  }

  /** Stops the background blocks' process trees (SIGTERM, SIGKILL after the grace period). */
  private async stopBackground(): Promise<void> {
    if (this.background.length === 0) return;
    for (const process of this.background.splice(0).reverse()) {
      this.options.notice?.(`stopping background block ${process.stepId}`);
      await process.stop();
    }
    this.state.background = [];
    this.save();
  }

  private async openTarget(): Promise<void> {
    const env = this.options.env ?? process.env;
    const reuse = this.state.postgres?.embedded;
    const { openPostgres } = await import('../targets/postgres.js');
    this.postgres = await openPostgres(this.plan.section.target, {
      runId: this.state.runId,
      env,
      stateFile: this.store.statePath,
      ...(reuse ? { reuse } : {}),
      ...(this.options.notice ? { log: this.options.notice } : {}),
    });
    this.mask.add(...connectionStringSecrets(this.postgres.url));
    this.state.postgres = {
      kind: this.postgres.kind,
      ...(this.postgres.embedded ? { embedded: this.postgres.embedded } : {}),
    };
    const target = this.plan.section.target;
    this.context.values.baseEnv[target.urlEnv] = this.postgres.url;
    if (this.postgres.embedded) {
      // So that psql and friends in shell steps reach the embedded server with no arguments.
      Object.assign(this.context.values.baseEnv, {
        PGHOST: '127.0.0.1',
        PGPORT: String(this.postgres.embedded.port),
        PGUSER: 'postgres',
        PGDATABASE: target.database,
      });
    }
    this.options.notice?.(`PostgreSQL target: ${this.postgres.description}`);
  }

  /**
   * A run with `checks` blocks gets the database's snapshot before its first step (setup
   * included): post-rollback's snapshot.identical compares with it.
   */
  /**
   * A run with `checks` blocks gets the database's snapshot: before anything, and again after its
   * setup blocks (the state the procedure starts from). post-rollback's snapshot.identical
   * compares with the later one, or with the first when the run failed in its setup.
   */
  private async takeBaseline(again: boolean): Promise<void> {
    if (!hasChecksBlocks(this.plan)) return;
    const { BASELINE_FILE, takeBaselineFile } = await import('../checks/library/snapshot.js');
    const file = path.join(this.store.dir, BASELINE_FILE);
    if (!again && existsSync(file)) return;
    try {
      await takeBaselineFile(this.postgres!.url, file, this.state.provenTables);
    } catch (error) {
      this.options.notice?.(
        `could not take the baseline snapshot (post-rollback comparisons will report error): ${this.mask((error as Error).message)}`,
      );
    }
  }

  /** How long each block took in this section's last recorded run (`phase:id`), for estimates. */
  private lastDurations: Map<string, number> | undefined;

  /** The progress event before a block: its place in its phase, and what the rest took last time. */
  private progress(step: Step, phase: StepPhase): void {
    if (this.lastDurations === undefined) {
      this.lastDurations = new Map();
      try {
        const last = JSON.parse(
          readFileSync(latestRecordPath(this.store.stateDir, this.plan.section.address), 'utf8'),
        ) as RunRecord;
        for (const s of last.steps) this.lastDurations.set(`${s.phase}:${s.stepId}`, s.durationMs);
      } catch {
        // Never ran before (or its record is unreadable): no estimates.
      }
    }
    let remaining: Array<[StepPhase, string]>;
    let done: number;
    if (phase === 'rollback') {
      const pending = [...this.state.rollbackPending, ...this.state.setupPending];
      done = this.state.undone.length + this.state.notUndone.length + (this.state.notUndoable?.length ?? 0);
      remaining = pending
        .map((id) => this.plan.rollbackOf.get(id))
        .filter((s): s is Step => s != null)
        .map((s) => ['rollback', s.id]);
      if (remaining.length === 0) remaining = [['rollback', step.id]];
    } else {
      const list = phase === 'forward' ? this.plan.forward : phase === 'verify' ? this.plan.verify : this.plan.teardown;
      done =
        phase === 'forward'
          ? this.state.cursor
          : phase === 'verify'
            ? this.state.verifyCursor
            : this.state.teardownCursor;
      remaining = list.slice(done).map((s) => [phase, s.id]);
    }
    const known = remaining.map(([p, id]) => this.lastDurations!.get(`${p}:${id}`));
    this.bus.emit({
      type: 'progress',
      phase,
      stepId: step.id,
      done,
      total: done + remaining.length,
      elapsedMs: Math.max(0, Date.now() - Date.parse(this.state.startedAt)),
      estimatedRemainingMs: known.every((ms) => ms !== undefined) ? known.reduce((a, b) => a + b!, 0) : null,
    });
  }

  private async run(step: Step, phase: StepPhase, signal?: AbortSignal): Promise<StepResult> {
    this.progress(step, phase);
    // Checkpointed before it starts (resume must know a step was under way, SQL ones too), and
    // again once its process exists (onSpawn), so resume can stop what a killed runner left.
    this.state.current = { stepId: step.id, phase, pid: null };
    this.save();
    const fromMs = this.sampler?.now() ?? 0;
    // Only the samples taken from now on can be this step's: a long run does not rescan the others.
    const fromIndex = this.sampler?.samples.length ?? 0;
    const result = await executeStep(step, phase, this.context, signal);
    this.state.current = null;
    const resources =
      this.sampler && summarize(this.sampler.samples.slice(fromIndex), step.id, fromMs, this.sampler.now());
    if (resources) result.resources = resources;
    this.state.results.push(result);
    return result;
  }

  private startSampler(): void {
    const intervalMs = sampleIntervalMs(this.options.env ?? process.env);
    if (intervalMs === 0) return;
    this.sampler = new ResourceSampler({
      intervalMs,
      current: () =>
        this.state.current ? { stepId: this.state.current.stepId, pid: this.state.current.pid ?? undefined } : null,
      // pg is loaded only once the run has a PostgreSQL target.
      postgres: async () => (this.postgres ? openPostgresProbe(this.postgres.url) : null),
      onSample: (sample) => this.bus.emit({ type: 'sample', ...sample }),
    });
  }

  /** $EXEC_DOC_TIMELINE: the steps run so far, with what they measured, for a block that reports on them. */
  private writeTimeline(): string {
    const file = path.join(this.context.where.handoffDir, 'timeline.json');
    const timeline = { runId: this.state.runId, startedAt: this.state.startedAt, steps: this.state.results };
    writeFileSync(file, `${JSON.stringify(maskDeep(timeline, this.mask))}\n`, { mode: 0o600 });
    return file;
  }

  private async forward(): Promise<void> {
    const { forward } = this.plan;
    while (this.state.cursor < forward.length) {
      const step = forward[this.state.cursor]!;
      // The baseline is where the procedure starts: after the setup made the schema and the data.
      if (step.kind !== 'setup' && !this.state.baselineAfterSetup) {
        if (this.postgres && this.state.cursor > 0) await this.takeBaseline(true);
        this.state.baselineAfterSetup = true;
      }
      if (this.options.signal?.aborted) {
        this.state.failure = { stepId: step.id, reason: reasons.notStarted() };
        break;
      }
      const result = await this.run(step, 'forward', this.options.signal);
      if (result.status !== 'passed') {
        this.state.failure = { stepId: step.id, reason: result.reason ?? result.status };
        break;
      }
      this.state.completed.push(step.id);
      this.state.cursor += 1;
      this.save();
    }
    if (this.state.failure) {
      Object.assign(this.state, undoLists(this.plan, this.state.completed, this.state.baselineAfterSetup === true));
      this.state.phase = 'rollback';
    } else {
      this.state.phase = 'teardown';
    }
    this.save();
  }

  private async rollback(): Promise<void> {
    const started = this.state.rollbackStartedAt ?? new Date().toISOString();
    if (this.state.rollbackStartedAt === null) {
      this.state.rollbackStartedAt = started;
      this.bus.emit({
        type: 'rollback.start',
        reason: this.state.failure
          ? `${this.state.failure.stepId}: ${this.state.failure.reason}`
          : reasons.requestedRollback(),
        steps: [...this.state.rollbackPending, ...this.state.setupPending],
      });
    }
    if (!(await this.undo(this.state.rollbackPending))) return;
    this.state.phase = 'verify';
    this.save();
  }

  /** After the verification: the setup's rollbacks, then the end of the rollback. */
  private async undoSetup(): Promise<void> {
    if (!(await this.undo(this.state.setupPending))) return;
    const started = this.state.rollbackStartedAt ?? this.state.startedAt;
    // Only a rollback gets here (a failure's, or one `exec-doc rollback` asked for): it ends.
    this.bus.emit({
      type: 'rollback.end',
      status: this.state.notUndone.length === 0 ? 'complete' : 'incomplete',
      durationMs: Date.now() - Date.parse(started),
      undone: [...this.state.undone],
      notUndone: [...this.state.notUndone],
    });
    this.state.phase = 'teardown';
    this.save();
  }

  /** Runs the rollbacks of `pending` (next first); false when the operator abandoned them (resume finishes). */
  private async undo(pending: string[]): Promise<boolean> {
    while (pending.length > 0) {
      if (this.options.forceSignal?.aborted) {
        this.save();
        return false;
      }
      const stepId = pending[0]!;
      const partner = this.plan.rollbackOf.get(stepId);
      if (partner === null) {
        this.state.undone.push(stepId);
      } else if (this.plan.section.noRollbacks) {
        // A plain runbook (no rollback anywhere in it, so none here): the step stays done, as its author wrote it.
        this.state.notUndoable = [...(this.state.notUndoable ?? []), stepId];
      } else if (partner === undefined || this.rollbackFailed()) {
        this.state.notUndone.push(stepId);
        if (partner === undefined) this.options.notice?.(reasons.noRollback(stepId));
      } else {
        const result = await this.run(partner, 'rollback', this.options.forceSignal);
        if (result.status === 'interrupted') {
          // Abandoned by the operator: it stays pending, and `resume` runs it again.
          this.save();
          return false;
        }
        if (result.status === 'passed') this.state.undone.push(stepId);
        else {
          // Earlier steps' rollbacks may depend on this one: stop undoing, report the rest.
          this.state.notUndone.push(stepId);
        }
      }
      pending.shift();
      this.save();
    }
    return true;
  }

  /** A rollback ran and failed: later ones may depend on it, so none runs after it (resume knows it from the state). */
  private rollbackFailed(): boolean {
    return this.state.notUndone.some((id) => this.plan.rollbackOf.get(id) != null);
  }

  /** Runs every block of a list that always runs to its end (failures are recorded, not fatal). */
  private async runAll(
    steps: Step[],
    phase: 'verify' | 'teardown',
    cursor: 'verifyCursor' | 'teardownCursor',
    next: RunState['phase'],
    applies: (step: Step) => boolean = () => true,
  ): Promise<void> {
    while (this.state[cursor] < steps.length) {
      const step = steps[this.state[cursor]]!;
      // A pre check that never passed (it is what failed, or the run stopped before it) proves nothing after a rollback.
      if (applies(step)) await this.run(step, phase);
      this.state[cursor] += 1;
      this.save();
    }
    this.state.phase = next;
    this.save();
  }

  private conclude(): RunOutcome {
    // A rollback tried again is judged by what ran this time.
    const failedIn = (phase: StepPhase) =>
      this.state.results.slice(this.state.retryFrom ?? 0).some((r) => r.phase === phase && r.status !== 'passed');
    if (this.state.requestedRollback) {
      // `exec-doc rollback` of a run that succeeded: done when everything was undone and verified.
      // (The run succeeded first, so any failed verification or teardown is the rollback's.)
      return this.state.notUndone.length === 0 && !failedIn('verify') && !failedIn('teardown')
        ? this.finish('rolled-back', EXIT.ok)
        : this.finish('rollback-incomplete', EXIT.rollbackIncomplete);
    }
    if (!this.state.failure) {
      return failedIn('teardown')
        ? this.finish('teardown-failed', EXIT.rollbackIncomplete)
        : this.finish('succeeded', EXIT.ok);
    }
    const complete = this.state.notUndone.length === 0 && !failedIn('verify') && !failedIn('teardown');
    // A plain runbook has nothing to roll back: it failed, and what completed stayed done.
    if (complete && this.plan.section.noRollbacks && this.state.undone.length === 0)
      return this.finish('failed', EXIT.rolledBack);
    return complete
      ? this.finish('rolled-back', EXIT.rolledBack)
      : this.finish('rollback-incomplete', EXIT.rollbackIncomplete);
  }

  private finish(status: RunStatus, exitCode: number, options: { resumable?: boolean } = {}): RunOutcome {
    const finishedAt = new Date();
    if (!options.resumable) {
      this.state.phase = 'done';
      this.state.final = { status, exitCode, finishedAt: finishedAt.toISOString() };
    }
    const failedStep = this.state.failure?.stepId ?? null;
    this.bus.emit({
      type: 'run.end',
      status,
      exitCode,
      durationMs: Math.max(0, finishedAt.getTime() - Date.parse(this.state.startedAt)),
      failedStep,
    });
    this.save();
    const record = maskDeep(
      buildRecord({
        state: this.state,
        section: this.plan.section,
        status,
        exitCode,
        finishedAt,
        postgres: this.postgres ? `${this.postgres.kind} ${this.postgres.serverVersion}` : null,
        ...(status === 'requirements-missing' && this.requirementResults
          ? { requirements: this.requirementResults }
          : {}),
        ...(this.sampler && this.sampler.samples.length > 0
          ? { samples: { startedAt: this.sampler.startedAt, points: thin(this.sampler.samples, MAX_RECORD_SAMPLES) } }
          : {}),
        // Loaded before the run began (a rolling section is expanded first).
        ...(this.plan.section.hosts && loadedHosts ? { hosts: loadedHosts.rollingHosts(this.store.dir) } : {}),
      }),
      this.mask,
    );
    const files = [this.store.resultPath];
    if (!options.resumable) files.push(latestRecordPath(this.store.stateDir, this.plan.section.address));
    writeRecord(record, files);
    return { runId: this.state.runId, runDir: this.store.dir, status, exitCode, record };
  }

  /** Stops the embedded server, unless asked to keep it or the run can still be resumed. */
  private async release(): Promise<void> {
    await this.postgres?.release({ keep: this.state.keepDb, forResume: this.state.phase !== 'done' });
  }
}
