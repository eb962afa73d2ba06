// `exec-doc doctor`: what is wrong with this machine's exec-doc, each finding with why it matters
// and the command that fixes it. It looks at unfinished runs (and damaged journals), processes a
// killed runner left behind, stale locks, embedded PostgreSQL servers left running or kept, the
// guide's documents, the checks configuration and access policy, and the machine's requirements.
// It changes nothing, unless `--fix` is given: then it removes what is safe to remove (stale
// locks, the data of servers nobody can resume) and says what it did.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CliOptions } from './parse.js';
import type { Io } from './main.js';
import { RunStore } from '../runner/state.js';
import { isProcessOfRun } from '../process/kill-tree.js';
import { isSameProcessAlive } from '../util/process-identity.js';
import { abandoned, type Owner } from '../util/owned-temp.js';
import { DATA_DIR_PREFIX } from '../targets/postgres.js';
import { formatDiagnostic } from '../errors/exec-doc-error.js';
import { walkFiles } from '../util/walk-files.js';
import { findConfigFile, loadChecksConfig } from '../checks/config.js';
import { choosePolicyFile } from '../security/policy.js';
import { loadPolicy } from '../security/policy-file.js';

export type Severity = 'problem' | 'warning' | 'ok';

export interface Finding {
  severity: Severity;
  /** What it is about: a run id, a file, a requirement. */
  subject: string;
  /** What was found and why it matters. */
  detail: string;
  /** The command (or action) that fixes it, when there is one. */
  fix?: string;
  /** What --fix did about it. */
  fixed?: string;
}

export async function doctor(options: CliOptions & { fix?: boolean }, io: Io): Promise<number> {
  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f);
  runs(options, add);
  locks(options, add);
  servers(add, options.fix === true);
  await documents(options, add);
  await requirements(options, io, add);
  configuration(options, io, add);

  // What --fix took care of is reported, and no longer counted.
  const problems = findings.filter((f) => f.severity === 'problem' && !f.fixed).length;
  const warnings = findings.filter((f) => f.severity === 'warning' && !f.fixed).length;
  if (options.json) io.stdout.write(`${JSON.stringify({ problems, warnings, findings }, null, 2)}\n`);
  else {
    const mark: Record<Severity, string> = { problem: '✖', warning: '!', ok: '✔' };
    for (const f of findings) {
      io.stdout.write(`${mark[f.severity]} ${f.subject}: ${f.detail}\n`);
      if (f.fixed) io.stdout.write(`    fixed: ${f.fixed}\n`);
      else if (f.fix) io.stdout.write(`    fix: ${f.fix}\n`);
    }
    io.stdout.write(`doctor: ${problems} problem(s), ${warnings} warning(s)\n`);
  }
  return problems > 0 ? 1 : 0;
}

type Add = (finding: Finding) => void;

/** Unfinished runs, their journals, and the processes their runners left behind. */
function runs(options: CliOptions & { fix?: boolean }, add: Add): void {
  const dir = path.join(options.stateDir, 'runs');
  const ids = existsSync(dir) ? readdirSync(dir).sort() : [];
  let finished = 0;
  for (const id of ids) {
    let store: RunStore;
    try {
      store = new RunStore(options.stateDir, id);
    } catch {
      continue; // Not a run's folder.
    }
    if (!store.exists()) continue;
    let state;
    try {
      state = store.load();
    } catch (error) {
      add({
        severity: 'problem',
        subject: `run ${id}`,
        detail: `${(error as Error).message}${(error as { details?: string[] }).details?.length ? ` — ${(error as { details: string[] }).details.join('; ')}` : ''}`,
        fix: 'Undo what it did by hand from its events.ndjson and output.log, then remove its folder',
      });
      continue;
    }
    for (const damage of store.damage)
      add({
        severity: 'warning',
        subject: `run ${id}`,
        detail: damage,
        fix: `exec-doc resume ${id} reads it as it is`,
      });
    if (state.final) {
      finished += 1;
      continue;
    }
    const lock = path.join(store.dir, 'lock');
    const holder = readJson<Holder>(lock);
    if (holder && isSameProcessAlive(holder.pid, holder.startTime ?? undefined)) {
      add({
        severity: 'ok',
        subject: `run ${id}`,
        detail: `${state.section.address} is being run by process ${holder.pid} (phase ${state.phase})`,
      });
      continue;
    }
    const where =
      state.phase === 'forward'
        ? state.current
          ? `its runner died during step ${state.current.stepId}`
          : `it stopped after ${state.completed.length} step(s)`
        : `it stopped in its ${state.phase} phase`;
    add({
      severity: 'problem',
      subject: `run ${id}`,
      detail: `${state.section.address} did not finish: ${where}; what it changed is still changed`,
      fix:
        state.phase === 'forward'
          ? `exec-doc resume ${id}   (go on)  or  exec-doc resume ${id} --rollback   (undo it)`
          : `exec-doc resume ${id}   (finish the rollback)`,
    });
    for (const [what, pid] of [
      ...(state.current?.pid ? [[`step ${state.current.stepId}`, state.current.pid] as const] : []),
      ...(state.background ?? []).map((b) => [`background block ${b.stepId}`, b.pid] as const),
    ])
      if (isProcessOfRun(pid, id))
        add({
          severity: 'problem',
          subject: `process ${pid}`,
          detail: `${what} of run ${id} is still running, though its runner is gone`,
          fix: `exec-doc resume ${id} stops it first (or: kill -TERM -${pid})`,
        });
    if (holder)
      add({
        severity: 'warning',
        subject: path.relative('.', lock) || lock,
        detail: `run ${id}'s lock is held by process ${holder.pid}, which is gone (the next resume takes it over)`,
        ...fixLock(lock, options.fix === true),
      });
  }
  add({
    severity: 'ok',
    subject: 'runs',
    detail: `${ids.length} run(s) in ${dir}, ${finished} finished`,
  });
}

/** One-run-per-section locks whose holder is gone. */
function locks(options: CliOptions & { fix?: boolean }, add: Add): void {
  const dir = path.join(options.stateDir, 'locks');
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    const holder = readJson<Holder>(file);
    if (holder && isSameProcessAlive(holder.pid, holder.startTime ?? undefined)) continue;
    add({
      severity: 'warning',
      subject: path.relative('.', file) || file,
      detail: `a section lock${holder?.section ? ` on ${String(holder.section)}` : ''} held by process ${holder?.pid ?? '?'}, which is gone (the next run takes it over)`,
      ...fixLock(file, options.fix === true),
    });
  }
}

function fixLock(file: string, fix: boolean): Pick<Finding, 'fix' | 'fixed'> {
  if (!fix) return { fix: 'exec-doc doctor --fix removes it' };
  rmSync(file, { force: true });
  return { fixed: `removed ${file}` };
}

/** Embedded servers whose command died, and data directories kept with --keep-db. */
function servers(add: Add, fix: boolean): void {
  for (const { path: dataDir, owner } of abandoned(DATA_DIR_PREFIX)) {
    const running = existsSync(path.join(dataDir, 'postmaster.pid'));
    const forResume = owner.stopped === true && owner.stateFile !== undefined && existsSync(owner.stateFile);
    if (forResume) {
      add({
        severity: 'ok',
        subject: dataDir,
        detail: `kept for the run that may resume (${path.basename(path.dirname(owner.stateFile!))})`,
      });
      continue;
    }
    add({
      severity: running ? 'problem' : 'warning',
      subject: dataDir,
      detail: running
        ? `an embedded PostgreSQL left running by process ${owner.pid}, which is gone`
        : `the data of an embedded PostgreSQL whose process ${owner.pid} is gone (${megabytes(dataDir)})`,
      ...(running
        ? { fix: `pg_ctl stop -D ${dataDir} -m fast (the next exec-doc run that starts a server also stops it)` }
        : fix
          ? (rmSync(dataDir, { recursive: true, force: true }),
            rmSync(`${dataDir}.owner.json`, { force: true }),
            { fixed: `removed ${dataDir}` })
          : { fix: 'exec-doc doctor --fix removes it' }),
    });
  }
  for (const name of safeList(os.tmpdir())) {
    if (!name.startsWith(DATA_DIR_PREFIX) || !name.endsWith('.owner.json')) continue;
    const owner = readJson<Owner>(path.join(os.tmpdir(), name));
    if (!owner?.kept) continue;
    const dataDir = path.join(os.tmpdir(), name.slice(0, -'.owner.json'.length));
    if (!existsSync(dataDir)) {
      add({
        severity: 'warning',
        subject: `${dataDir}.owner.json`,
        detail: 'the owner file of kept embedded data that is gone (removed by hand)',
        ...(fix
          ? (rmSync(`${dataDir}.owner.json`, { force: true }), { fixed: `removed ${dataDir}.owner.json` })
          : { fix: 'exec-doc doctor --fix removes it' }),
      });
      continue;
    }
    add({
      severity: 'warning',
      subject: dataDir,
      detail: `an embedded PostgreSQL's data kept with --keep-db (${megabytes(dataDir)})`,
      fix: `rm -rf ${dataDir} ${dataDir}.owner.json when you no longer need it`,
    });
  }
}

/** The guide's documents: errors stop their sections from running. */
async function documents(options: CliOptions, add: Add): Promise<void> {
  if (!existsSync(options.docs)) {
    add({ severity: 'warning', subject: options.docs, detail: 'no guide folder here', fix: 'pass --docs <dir>' });
    return;
  }
  const { loadCorpus } = await import('../documents/corpus.js');
  const docs = await loadCorpus({ docsRoot: path.resolve(options.docs) });
  const errors = docs.flatMap((d) => d.diagnostics.filter((x) => x.severity === 'error'));
  const sections = docs.reduce((n, d) => n + d.sections.length, 0);
  if (errors.length > 0)
    add({
      severity: 'problem',
      subject: options.docs,
      detail: `${errors.length} document error(s): their sections refuse to run. First: ${formatDiagnostic(errors[0]!)}`,
      fix: 'exec-doc validate lists them all',
    });
  else
    add({
      severity: 'ok',
      subject: options.docs,
      detail: `${docs.length} document(s), ${sections} section(s), no errors`,
    });
}

/** What the guide's sections need from this machine. */
async function requirements(options: CliOptions, io: Io, add: Add): Promise<void> {
  if (!existsSync(options.docs)) return;
  const { loadCorpus } = await import('../documents/corpus.js');
  const { buildPlan } = await import('../plan/plan.js');
  const { checkRequirements } = await import('../runner/requirements.js');
  const docs = await loadCorpus({ docsRoot: path.resolve(options.docs) });
  const needs = new Map<string, string[]>();
  for (const section of docs.flatMap((d) => d.sections))
    for (const r of buildPlan(section).requirements)
      if (r !== 'postgres' && r !== 'kubernetes' && r !== 'root')
        needs.set(r, [...(needs.get(r) ?? []), section.address]);
  const results = await checkRequirements([...needs.keys()] as never, {
    target: { kind: 'postgres', urlEnv: 'DATABASE_URL', database: 'postgres' },
    env: io.env,
  });
  for (const r of results.filter((x) => !x.ok)) {
    const users = needs.get(r.requirement) ?? [];
    add({
      severity: 'warning',
      subject: `requires ${r.requirement}`,
      detail: `${r.detail}; ${users.length} section(s) need it and would stop with exit 3: ${users.slice(0, 4).join(', ')}${users.length > 4 ? ', …' : ''}`,
    });
  }
  add({
    severity: 'ok',
    subject: 'requirements',
    detail: `${results.filter((r) => r.ok).length} of ${results.length} the guide's sections need are here (PostgreSQL, Kubernetes and root are checked when a section runs)`,
  });
}

/** The checks configuration and the access policy that apply here: a file that does not load stops every phase or run. */
function configuration(options: CliOptions, io: Io, add: Add): void {
  const start = path.resolve(options.docs, '..');
  const loads = (what: string, find: () => string | null, load: (file: string) => unknown): void => {
    try {
      const file = find();
      if (!file) return;
      load(file);
      add({ severity: 'ok', subject: file, detail: `the ${what} loads` });
    } catch (error) {
      add({
        severity: 'problem',
        subject: what,
        detail: (error as Error).message,
        fix: 'fix the file at the position shown',
      });
    }
  };
  loads('checks configuration', () => options.config ?? findConfigFile(start), loadChecksConfig);
  loads(
    'access policy',
    () => choosePolicyFile({ flag: options.policy, env: io.env.EXEC_DOC_POLICY, startDir: start }),
    loadPolicy,
  );
}

type Holder = { pid: number; startTime?: string | null; section?: unknown };

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function megabytes(dir: string): string {
  let bytes = 0;
  for (const file of walkFiles(dir, () => true)) {
    try {
      bytes += statSync(file).size;
    } catch {
      // Gone meanwhile.
    }
  }
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
