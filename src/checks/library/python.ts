// The Python environment is consistent: `pip check` finds no broken requirement, and the
// installed set is exactly what the lock (or freeze) file pins.
import { CodedError } from '../../util/coded-error.js';
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { CheckCannotRun, type CheckDefinition } from '../types.js';
import { runProgram } from '../support.js';

export interface LockEntry {
  name: string;
  version: string | null;
  line: number;
}

export class LockFileError extends CodedError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    reason: string,
  ) {
    super('E_LOCK_FILE', `${file}:${line}:${column}: ${reason}`);
  }
}

/** PEP 503: names compare case-insensitively with runs of -, _ and . as one -. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;

/** Parses a `pip freeze` / pip-compile lock: `name==version` per line (extras, markers, hashes and comments allowed). */
export function parseLockFile(file: string, text: string): LockEntry[] {
  const entries: LockEntry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = i + 1;
    const content = raw.replace(/(^|\s)#.*$/, '').trimEnd();
    const body = content.trimStart();
    const indent = content.length - body.length;
    // Options (--hash continuation lines, -i, --find-links …) pin nothing.
    if (body === '' || body.startsWith('-') || body === '\\') continue;
    const name = NAME.exec(body)?.[0];
    if (!name)
      throw new LockFileError(
        file,
        line,
        indent + 1,
        `Unexpected \`${body[0]}\`, expected a package name (a lock line is name==version, as pip freeze writes it)`,
      );
    let rest = body.slice(name.length);
    let col = indent + 1 + name.length;
    const extras = /^\[[^\]]*\]/.exec(rest);
    if (extras) {
      rest = rest.slice(extras[0].length);
      col += extras[0].length;
    }
    const spaced = rest.length - rest.trimStart().length;
    rest = rest.trimStart();
    col += spaced;
    let version: string | null;
    if (rest.startsWith('@'))
      version = null; // a direct reference (name @ url): the name is pinned, not a version
    else if (rest.startsWith('===') || rest.startsWith('==')) {
      const op = rest.startsWith('===') ? 3 : 2;
      const v = /^[^\s;\\]+/.exec(rest.slice(op).trimStart())?.[0];
      if (!v || v.includes('*'))
        throw new LockFileError(
          file,
          line,
          col + op,
          `Unexpected ${v ? `wildcard \`${v}\`` : 'end of line'} after \`==\`, expected an exact version (e.g. ${name}==1.2.3)`,
        );
      version = v;
    } else {
      const found = rest === '' ? 'end of line' : `\`${rest.split(/\s/)[0]}\``;
      throw new LockFileError(
        file,
        line,
        col,
        `Unexpected ${found} after \`${name}\`, expected \`==<version>\`: a lock file pins exact versions; regenerate it with \`pip freeze > ${file.split('/').pop()}\``,
      );
    }
    const key = normalizeName(name);
    const first = seen.get(key);
    if (first !== undefined)
      throw new LockFileError(
        file,
        line,
        indent + 1,
        `Unexpected second pin of \`${name}\` (first at line ${first}), expected each package once`,
      );
    seen.set(key, line);
    entries.push({ name: key, version, line });
  }
  return entries;
}

const TOOLING = new Set(['pip', 'setuptools', 'wheel', 'distribute']);

export const pythonEnvironment: CheckDefinition<{
  python: string;
  pip?: string | undefined;
  lockFile?: string | undefined;
  allowExtra: boolean;
}> = {
  type: 'python.environment',
  title: 'Python environment consistent',
  description:
    "`pip check` on the interpreter (e.g. a venv's bin/python) finds no broken requirement, and the installed packages are exactly those pinned in `lockFile` (pip freeze format), if one is set. `pip`: another Python whose pip inspects the interpreter's environment (one made without pip).",
  settings: z.strictObject({
    python: z.string().min(1).default('python3'),
    pip: z.string().min(1).optional(),
    lockFile: z.string().min(1).optional(),
    allowExtra: z.boolean().default(false),
  }),
  pathSettings: ['python', 'lockFile'],
  usesPostgres: false,
  async run(context, s) {
    const threshold = `no broken requirement${s.lockFile ? `; installed = ${s.lockFile.split('/').pop()}${s.allowExtra ? ' (extra allowed)' : ''}` : ''}`;
    let lock: LockEntry[] | undefined;
    if (s.lockFile) {
      let text: string;
      try {
        text = readFileSync(s.lockFile, 'utf8');
      } catch (error) {
        throw new CheckCannotRun(
          `cannot read the lock file ${s.lockFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      try {
        lock = parseLockFile(s.lockFile, text);
      } catch (error) {
        if (error instanceof LockFileError) throw new CheckCannotRun(error.message);
        throw error;
      }
    }
    // An environment made without pip (venv --without-pip) is inspected by another Python's pip
    // (pip 22.3 or later) pointed at it with --python.
    const [pipFile, ...pipArgs] = s.pip ? [s.pip, '-m', 'pip', '--python', s.python] : [s.python, '-m', 'pip'];
    const pip = (args: string[]) =>
      runProgram(context, pipFile!, [...pipArgs, ...args, '--disable-pip-version-check', '--no-color']);
    // Both questions at once: each pip start-up costs the better part of a second. --local: a venv
    // that sees the system's packages is judged by what it installed itself.
    const [check, list] = await Promise.all([pip(['check']), pip(['list', '--local', '--format=json'])]);
    if (/No module named pip/.test(check.stderr))
      throw new CheckCannotRun(`${s.python} has no pip (\`${s.python} -m ensurepip\` installs it)`);
    const broken =
      check.exitCode === 0
        ? []
        : check.stdout
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean);
    if (check.exitCode !== 0 && broken.length === 0)
      throw new CheckCannotRun(
        `\`${s.python} -m pip check\` failed (exit ${check.exitCode}): ${check.stderr.trim().split('\n').pop() ?? ''}`,
      );
    if (list.exitCode !== 0)
      throw new CheckCannotRun(
        `\`${s.python} -m pip list\` failed (exit ${list.exitCode}): ${list.stderr.trim().split('\n').pop() ?? ''}`,
      );
    let installed: Array<{ name: string; version: string }>;
    try {
      installed = JSON.parse(list.stdout) as Array<{ name: string; version: string }>;
    } catch {
      throw new CheckCannotRun(`\`${s.python} -m pip list --format=json\` printed something that is not JSON`);
    }
    // A venv that sees the system's packages: what is broken among those is the system's to fix.
    const local = new Set(installed.map((p) => normalizeName(p.name)));
    const ours = broken.filter((line) => local.has(normalizeName(line.split(/\s/)[0] ?? '')));
    const problems = [...ours];
    if (lock) {
      const have = new Map(installed.map((p) => [normalizeName(p.name), p.version]));
      const pinned = new Map(lock.map((e) => [e.name, e]));
      for (const entry of lock) {
        const version = have.get(entry.name);
        if (version === undefined) problems.push(`${entry.name} is pinned (line ${entry.line}) but not installed`);
        else if (entry.version !== null && version !== entry.version)
          problems.push(`${entry.name} ${version} is installed, the lock pins ${entry.version} (line ${entry.line})`);
      }
      if (!s.allowExtra) {
        for (const [name, version] of have)
          if (!pinned.has(name) && !TOOLING.has(name))
            problems.push(`${name} ${version} is installed but not in the lock`);
      }
    }
    const value = `${installed.length} packages, ${ours.length} broken${lock ? `, ${problems.length - ours.length} differ from the lock` : ''}`;
    const status = problems.length > 0 ? 'fail' : 'pass';
    const detail =
      status === 'pass'
        ? `${s.python}: pip check clean${lock ? `, matches ${s.lockFile}` : ''}`
        : `${problems.join('; ')}; reinstall from the lock: ${s.python} -m pip install -r ${s.lockFile ?? 'requirements.txt'} (add --no-deps only when the lock is complete)`;
    return { status, value, metric: problems.length, unit: 'count', threshold, detail };
  },
};
