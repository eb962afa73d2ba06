// `exec-doc verify-guide`: runs every procedure of the guide (or those named), each as its own
// `exec-doc run` in a state folder of its own, and publishes each one's result record under
// --out (verification/<doc-id>/<slug>.json) with the commit it was verified at. The repository
// carries these records; the site shows them, and the test suite fails for a procedure changed
// since its record was written.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CliOptions } from './parse.js';
import type { Io } from './main.js';
import { watchStopSignals } from './signals.js';
import type { Section } from '../model/types.js';
import { ExecDocError } from '../errors/exec-doc-error.js';
import { loadCorpusEntries } from '../documents/corpus.js';
import {
  latestRecordPath,
  recordPathIn,
  recordEnvironment,
  recordSection,
  RESULT_SCHEMA_VERSION,
  writeRecord,
  type RunRecord,
} from '../results/record.js';
import { projectRoot } from '../util/project-root.js';

/** How a section's run ended, against what was expected of it. */
export type Verdict = 'verified' | 'cannot-run-here' | 'unexpected';

export interface SectionVerification {
  address: string;
  exitCode: number;
  verdict: Verdict;
  /** The record published; absent when the run wrote none (a usage or internal error). */
  record?: RunRecord;
  /** What went wrong when there is no record: the run's last lines of standard error. */
  problem?: string;
}

/** A section whose slug ends in `-failing` demonstrates a failure: failed and rolled back is its success. */
export function verdictOf(section: Pick<Section, 'slug'>, exitCode: number, record: RunRecord | undefined): Verdict {
  if (!record) return 'unexpected';
  if (record.status === 'requirements-missing') return 'cannot-run-here';
  if (section.slug.endsWith('-failing'))
    return exitCode === 1 && record.status === 'rolled-back' ? 'verified' : 'unexpected';
  return exitCode === 0 && record.status === 'succeeded' ? 'verified' : 'unexpected';
}

/** What the repository keeps of a record: no output of a passed step (it holds only this machine's paths). */
export function publishable(record: RunRecord, verification: RunRecord['verification']): RunRecord {
  return {
    ...record,
    steps: record.steps.map((s) => (s.status === 'passed' ? { ...s, outputExcerpt: '' } : s)),
    ...(verification ? { verification } : {}),
  };
}

/** The commit the guide is at, and whether a document or script has uncommitted changes. */
function gitState(root: string): { commit: string | null; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: 'pipe' }).trim();
    const changes = execFileSync('git', ['status', '--porcelain', '--', 'docs', 'scripts', 'src'], {
      cwd: root,
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return { commit, dirty: changes.trim() !== '' };
  } catch {
    return { commit: null, dirty: false };
  }
}

function runOne(
  section: Section,
  options: CliOptions,
  io: Io,
  stop: AbortSignal,
): Promise<{ exitCode: number; record?: RunRecord | undefined; stderr: string }> {
  const stateDir = path.join(os.tmpdir(), `exec-doc-verify-${process.pid}-${section.slug}-${Date.now()}`);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const bin = path.join(projectRoot(), 'bin', 'exec-doc.js');
  const args = [bin, 'run', section.address, '--docs', options.docs, '--state-dir', stateDir, '--yes', '--no-color'];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      env: { ...io.env, NO_COLOR: '1', CI: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // Asked to stop: the run is told the same (it rolls back and removes its server), then waited for.
    const forward = () => child.kill('SIGINT');
    stop.addEventListener('abort', forward, { once: true });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('close', (code, signal) => {
      stop.removeEventListener('abort', forward);
      const file = latestRecordPath(stateDir, section.address);
      let record: RunRecord | undefined;
      try {
        if (existsSync(file)) record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
      } catch {
        record = undefined;
      }
      rmSync(stateDir, { recursive: true, force: true });
      resolve({ exitCode: code ?? (signal ? 128 : 70), ...(record ? { record } : {}), stderr });
    });
  });
}

/**
 * A record for a run that stopped before it began (exit 3 with no record of its own: a rolling
 * section whose inventory is missing): it could not run here, and says why.
 */
export function couldNotStart(section: Section, exitCode: number, detail: string, now = new Date()): RunRecord {
  const at = now.toISOString();
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    runId: '',
    section: recordSection(section),
    status: 'requirements-missing',
    exitCode,
    startedAt: at,
    finishedAt: at,
    durationMs: 0,
    failedStep: null,
    failureReason: null,
    rollback: { ran: false, complete: true, undone: [], notUndone: [], notUndoable: [], remaining: [] },
    steps: [],
    params: {},
    target: { disposable: true, skippedFixtures: [], provenOver: 'database' },
    requirements: [{ requirement: section.hosts ? 'hosts' : 'start', ok: false, detail }],
    environment: recordEnvironment(null),
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function verifyGuide(args: string[], options: CliOptions, io: Io): Promise<number> {
  const docsRoot = path.resolve(options.docs);
  const entries = await loadCorpusEntries({ docsRoot, displayRoot: process.cwd() });
  const all = entries.flatMap((e) => e.doc.sections);
  const unknown = args.filter((a) => !all.some((s) => s.address === a));
  if (unknown.length > 0)
    throw new ExecDocError(
      'E_UNKNOWN_SECTION',
      `verify-guide: no section ${unknown.map((u) => `\`${u}\``).join(', ')}`,
      {
        details: ['`exec-doc list` shows every section; give addresses such as quick-start/demo-migration'],
      },
    );
  const sections = args.length > 0 ? all.filter((s) => args.includes(s.address)) : all;
  const out = path.resolve(options.out ?? 'verification');
  const git = gitState(projectRoot());
  const verification = { ...git, by: 'exec-doc verify-guide' };
  if (git.dirty)
    io.stderr.write(
      'exec-doc: docs/, scripts/ or src/ has uncommitted changes: the records say so (dirty); commit, then verify again for a clean record\n',
    );
  io.stdout.write(`Verifying ${sections.length} section(s), ${options.jobs} at a time, into ${out}\n`);

  const results: SectionVerification[] = [];
  let next = 0;
  let done = 0;
  const width = String(sections.length).length;
  const stop = watchStopSignals(io, {
    first: (signal) => `${signal}: stopping the runs under way (each rolls back); no new section starts`,
  });
  const worker = async () => {
    while (next < sections.length && !stop.interrupt.aborted) {
      const section = sections[next++]!;
      const started = performance.now();
      const r = await runOne(section, options, io, stop.interrupt);
      if (stop.interrupt.aborted) {
        // Stopped half-way by the operator: not a verification; the record published before stays.
        io.stdout.write(`– ${section.address}: stopped, rolled back; its published record is left as it was\n`);
        continue;
      }
      if (!r.record && r.exitCode === 3) {
        // The messages after `exec-doc: `, on one line: what was missing.
        const detail = r.stderr
          .trim()
          .split('\n')
          .map((l) => l.replace(/^exec-doc: /, '').trim())
          .join(' ');
        r.record = couldNotStart(section, r.exitCode, detail);
      }
      const verdict = verdictOf(section, r.exitCode, r.record);
      const result: SectionVerification = { address: section.address, exitCode: r.exitCode, verdict };
      if (r.record) {
        result.record = publishable(r.record, verification);
        writeRecord(result.record, [recordPathIn(out, section.address)]);
      } else {
        result.problem = r.stderr.trim().split('\n').slice(-3).join('\n');
      }
      results.push(result);
      done += 1;
      const mark = verdict === 'verified' ? '✔' : verdict === 'cannot-run-here' ? '–' : '✖';
      const what =
        verdict === 'cannot-run-here'
          ? `cannot run here: ${(r.record?.requirements ?? [])
              .filter((q) => !q.ok)
              .map((q) => `${q.requirement} (${q.detail})`)
              .join('; ')}`
          : `${r.record?.status ?? 'no record'} (exit ${r.exitCode})`;
      io.stdout.write(
        `[${String(done).padStart(width)}/${sections.length}] ${mark} ${section.address}: ${what} in ${seconds(performance.now() - started)}\n`,
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.jobs, sections.length) }, worker));
  } finally {
    stop.dispose();
  }
  if (stop.interrupt.aborted) {
    io.stderr.write(
      `exec-doc: verify-guide stopped: ${results.length} of ${sections.length} section(s) verified and published; the ones stopped half-way kept their earlier records\n`,
    );
    return 130;
  }

  const unexpected = results.filter((r) => r.verdict === 'unexpected');
  const cannot = results.filter((r) => r.verdict === 'cannot-run-here').length;
  io.stdout.write(
    `\n${results.length - unexpected.length - cannot} verified, ${cannot} cannot run here, ${unexpected.length} unexpected; records in ${out}${git.commit ? ` (commit ${git.commit.slice(0, 12)}${git.dirty ? ', with uncommitted changes' : ''})` : ''}\n`,
  );
  for (const r of unexpected)
    io.stderr.write(
      `exec-doc: ${r.address} ended ${r.record ? `${r.record.status} (exit ${r.exitCode})` : `without a record (exit ${r.exitCode})`}${r.problem ? `:\n${r.problem}` : ''}; \`exec-doc run ${r.address}\` shows why\n`,
    );
  return unexpected.length > 0 ? 1 : 0;
}
