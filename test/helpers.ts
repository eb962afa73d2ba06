// Shared test helpers: real documents in temporary folders, the real CLI in a real process.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tempDir } from './temp.js';
import path from 'node:path';
import { execa } from 'execa';
import { Readable, Writable } from 'node:stream';
import { extractFromSource } from '../src/documents/load.js';
import { runSection, type RunOutcome, type RunSectionOptions } from '../src/runner/run.js';
import { progressAtStart } from '../src/runner/state.js';
import type { RunEvent } from '../src/events/types.js';
import type { DocumentRunbooks } from '../src/model/types.js';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const BIN = path.join(ROOT, 'bin', 'exec-doc.js');

export { tempDir } from './temp.js';

/** Writes `source` as a document in a fresh folder; returns its path and folder. */
export function writeDoc(source: string, name = 'doc.md'): { file: string; dir: string } {
  const dir = tempDir();
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, source);
  return { file, dir };
}

export async function extract(source: string, name = 'doc.md'): Promise<DocumentRunbooks> {
  const { file, dir } = writeDoc(source, name);
  return extractFromSource(file, source, { docsRoot: dir, displayRoot: dir });
}

export interface InProcessRun extends RunOutcome {
  events: RunEvent[];
  stateDir: string;
  dir: string;
}

/** Extracts `source` and runs its section `slug` in this process, with real child processes. */
export async function runDoc(
  source: string,
  slug: string,
  options: Partial<RunSectionOptions> = {},
): Promise<InProcessRun> {
  const { file, dir } = writeDoc(source);
  const doc = await extractFromSource(file, source, { docsRoot: dir, displayRoot: dir });
  const errors = doc.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`fixture has errors: ${JSON.stringify(errors)}`);
  const section = doc.sections.find((s) => s.slug === slug);
  if (!section) throw new Error(`no section ${slug}; have ${doc.sections.map((s) => s.slug).join(', ')}`);
  const events: RunEvent[] = [];
  const stateDir = path.join(dir, '.exec-doc');
  const outcome = await runSection({
    section,
    documentPath: file,
    docsRoot: dir,
    stateDir,
    listeners: [(e) => events.push(e)],
    ...options,
  });
  return { ...outcome, events, stateDir, dir };
}

/** How `resume` and `rollback` find a stored run's section again: its document, read anew (one section). */
export function sectionOf(
  dir: string,
): (state: { section: { file: string } }) => Promise<RunSectionOptions['section']> {
  return async (state) =>
    (
      await extractFromSource(state.section.file, readFileSync(state.section.file, 'utf8'), {
        docsRoot: dir,
        displayRoot: dir,
      })
    ).sections[0]!;
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function cli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const result = await execa(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: '1', ...options.env },
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Parses NDJSON output into events. */
export function parseEvents(text: string): RunEvent[] {
  return text
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as RunEvent);
}

/** Streams for main()/dbMain() in this process, capturing what they write. */
export function captureIo(
  env: NodeJS.ProcessEnv = {},
  options: { tty?: boolean } = {},
): {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
  out: () => string;
  err: () => string;
} {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    Object.assign(
      new Writable({
        write(chunk, _e, done) {
          append(String(chunk));
          done();
        },
      }),
      { isTTY: options.tty ?? false, columns: 120 },
    );
  return {
    stdout: sink((s) => (out += s)) as unknown as NodeJS.WriteStream,
    stderr: sink((s) => (err += s)) as unknown as NodeJS.WriteStream,
    stdin: Object.assign(Readable.from([]), { isTTY: false }) as unknown as NodeJS.ReadStream,
    env,
    out: () => out,
    err: () => err,
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on (just closed). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as import('node:net').AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs a section of the guide in this process (`database-migrations/rollback`), in a fresh state folder. */
export async function runGuideSection(
  address: string,
  options: { env?: Record<string, string>; sets?: Record<string, string>; disposable?: boolean } = {},
): Promise<RunOutcome & { stateDir: string }> {
  const { resolveSection } = await import('../src/documents/address.js');
  const docsRoot = path.join(ROOT, 'docs');
  const { section, path: documentPath } = await resolveSection(address, { docsRoot, displayRoot: ROOT });
  const stateDir = tempDir('exec-doc-guide-');
  const outcome = await runSection({
    section,
    documentPath,
    docsRoot,
    stateDir,
    ...(options.sets ? { sets: options.sets } : {}),
    env: { ...process.env, ...options.env },
    // Steps marked `confirm` are confirmed up front (--yes).
    yes: true,
    ...(options.disposable ? { disposable: true } : {}),
  });
  return { ...outcome, stateDir };
}

/** The command line in this process, as `cli` runs it in a child (so coverage sees what it runs). */
export async function cliInProcess(args: string[], options: { env?: Record<string, string> } = {}): Promise<CliResult> {
  const { main } = await import('../src/cli/main.js');
  const io = captureIo({ NO_COLOR: '1', ...options.env });
  const exitCode = await main(args, io);
  return { exitCode, stdout: io.out(), stderr: io.err() };
}

/** A run's state as the runner keeps it: a section `d/s`, nothing done yet; `overrides` change fields. */
export function runStateFixture(overrides: Partial<import('../src/runner/state.js').RunState> = {}) {
  const state: import('../src/runner/state.js').RunState = {
    version: 1,
    runId: 'r1',
    section: { address: 'd/s', file: '/x/d.md', docsRoot: '/x', contentHash: 'sha256:0' },
    phase: 'forward',
    startedAt: '2026-01-01T00:00:00.000Z',
    params: {},
    secretParams: [],
    ...progressAtStart(),
    keepDb: false,
  };
  return { ...state, ...overrides };
}
