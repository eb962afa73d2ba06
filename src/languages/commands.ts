// How each process language is started. SQL and checks are not processes: see ./sql.ts and
// ../checks. Shells get the code with `-c` and stop at the first failing command; any other
// program named by `interpreter=` (or found for a language exec-doc does not run itself) gets the
// code as a file, as Runme runs such blocks.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Requirement, Step } from '../model/types.js';
import { commandExists } from '../util/which.js';

export interface Command {
  file: string;
  args: string[];
}

const require = createRequire(import.meta.url);

/** Programs that take the block with `-c`; the POSIX ones have no `pipefail`. */
const SHELLS = new Set(['sh', 'dash', 'ash', 'bash', 'zsh', 'ksh', 'mksh', 'yash']);
const POSIX_SHELLS = new Set(['sh', 'dash', 'ash']);

/**
 * Runme's interpreters by fence language, first found on PATH wins. Languages not here have no
 * program: Runme shows such a block with `cat`, and so does exec-doc.
 */
const INTERPRETERS: Record<string, string[]> = {
  sh: ['bash', 'sh'],
  shellscript: ['bash', 'sh'],
  '': ['bash', 'sh'],
  bash: ['bash'],
  shell: ['bash'],
  console: ['bash'],
  zsh: ['zsh'],
  ksh: ['ksh'],
  fish: ['fish'],
  jsx: ['node'],
  javascriptreact: ['node'],
  tsx: ['ts-node', 'deno run', 'bun run'],
  typescriptreact: ['ts-node', 'deno run', 'bun run'],
  lua: ['lua'],
  perl: ['perl'],
  php: ['php'],
  ruby: ['ruby'],
  rb: ['ruby'],
  rust: ['rust-script'],
  rs: ['rust-script'],
  powershell: ['pwsh', 'powershell'],
  pwsh: ['pwsh', 'powershell'],
};

/** File name endings for programs that care (PHP, Rust scripts, Deno and Node read the ending). */
const EXTENSIONS: Record<string, string> = {
  js: '.mjs',
  jsx: '.jsx',
  ts: '.ts',
  tsx: '.tsx',
  python: '.py',
  perl: '.pl',
  php: '.php',
  ruby: '.rb',
  rb: '.rb',
  lua: '.lua',
  rust: '.rs',
  rs: '.rs',
  powershell: '.ps1',
  pwsh: '.ps1',
};

/** Whether Runme's table names an interpreter for a fence language (others are shown with `cat`). */
export function hasInterpreter(languageId: string): boolean {
  return INTERPRETERS[languageId] !== undefined;
}

/** A program with its arguments, split on spaces as Runme does (`deno run`, `/usr/bin/env python3`). */
function words(program: string): string[] {
  return program.trim().split(/\s+/);
}

/**
 * The programs that may run the block, first found wins; empty for blocks exec-doc runs in-process
 * or with its own Node (sql, checks, and js/ts/python without `interpreter=`).
 */
export function candidatePrograms(step: Pick<Step, 'lang' | 'languageId' | 'interpreter'>): string[] {
  if (step.lang === 'sql' || step.lang === 'checks') return [];
  if (step.interpreter !== undefined) return [step.interpreter];
  switch (step.lang) {
    case 'sh':
    case 'bash':
      // Every shell fence the extractor accepts (sh, bash, shell, console, zsh, ksh, none) is in the table.
      return INTERPRETERS[step.languageId ?? step.lang]!;
    case 'python':
      return ['python3'];
    case 'js':
    case 'ts':
      return [];
    case 'program':
      return INTERPRETERS[step.languageId ?? ''] ?? ['cat'];
  }
}

/** What the machine must have for the block: `cmd:a|b` is any one of them. */
export function programRequirement(step: Pick<Step, 'lang' | 'languageId' | 'interpreter'>): Requirement | undefined {
  const candidates = candidatePrograms(step);
  if (candidates.length === 0) return undefined;
  return `cmd:${candidates.map((c) => words(c)[0]!).join('|')}`;
}

/**
 * The command that runs `code` for `step`. `writeScript` saves the code in a private file and
 * returns its path (used only when the program takes a file). Undefined when no candidate program
 * is on PATH (the requirements check says so before anything runs).
 */
export function commandFor(
  step: Pick<Step, 'lang' | 'languageId' | 'interpreter'>,
  code: string,
  options: {
    env: Record<string, string | undefined>;
    writeScript: (extension: string) => string;
    /** Put before the code when a shell runs it with `-c` (on its first line, so line numbers hold). */
    shellPrefix?: string;
  },
): Command | undefined {
  const candidates = candidatePrograms(step);
  if (candidates.length === 0) {
    if (step.lang === 'js') return { file: process.execPath, args: ['--input-type=module', '-e', code] };
    if (step.lang === 'ts') return { file: process.execPath, args: [require.resolve('tsx/cli'), '-e', code] };
    return undefined;
  }
  const found = candidates.map(words).find((w) => onPath(w[0]!, options.env.PATH));
  if (!found) return undefined;
  const [file, ...extra] = found as [string, ...string[]];
  const name = path.basename(file);
  if (SHELLS.has(name) && (step.lang === 'sh' || step.lang === 'bash')) {
    const strict = POSIX_SHELLS.has(name) ? ['-e'] : ['-e', '-o', 'pipefail'];
    return { file, args: [...extra, ...strict, '-c', `${options.shellPrefix ?? ''}${code}`] };
  }
  if (step.lang === 'python' && step.interpreter === undefined) return { file, args: [...extra, '-c', code] };
  const extension = EXTENSIONS[step.languageId ?? step.lang] ?? '';
  return { file, args: [...extra, options.writeScript(extension)] };
}

// Looked up once per program and PATH: a run of many steps does not search PATH for every one.
const found = new Map<string, boolean>();
function onPath(program: string, pathValue: string | undefined): boolean {
  const key = `${program}\0${pathValue ?? ''}`;
  let known = found.get(key);
  if (known === undefined) {
    known = commandExists(program, { PATH: pathValue });
    // A program found stays found for the run; a missing one is looked for again (it may be installed meanwhile).
    if (known) found.set(key, known);
  }
  return known;
}

/** Runme strips the `$ ` of a copied prompt from a shell line: `$ npm install` runs `npm install`. */
export function withoutPrompts(code: string): string {
  return code.replace(/^\$ /gm, '');
}
