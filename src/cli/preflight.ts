// Every path a command was given is checked before anything runs: the docs folder exists, the
// files to validate are files, the state folder and every output can be written. A problem is a
// usage error (exit 64) with one line saying what and how to fix it, never an internal error
// after a procedure already ran.
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ExecDocError, systemReason } from '../errors/exec-doc-error.js';
import type { CliOptions, CommandName } from './parse.js';
import { VALIDATION_PHASES } from '../checks/types.js';

export function preflight(command: CommandName, args: string[], options: CliOptions): void {
  if (needsDocsFolder(command, args))
    requireDirectory(options.docs, '--docs', 'the folder holding the guide (default: docs); pass --docs <dir>');
  if (command === 'validate') for (const file of args) requireFile(file, 'a document to validate');
  if (command === 'check' && options.config !== undefined)
    requireFile(options.config, '--config: the checks configuration');
  if (['run', 'resume', 'rollback', 'check', 'approve'].includes(command))
    requireWritableDirectory(options.stateDir, '--state-dir');
  if (options.policy !== undefined) requireFile(options.policy, '--policy: the access policy');
  if (options.identityToken !== undefined) requireFile(options.identityToken, '--identity-token');
  for (const file of options.approval) requireFile(file, '--approval');
  if (options.key !== undefined) requireFile(options.key, '--key');
  if (command === 'verify-guide') requireWritableDirectory(options.out ?? 'verification', '--out');
  if (options.report) requireWritableFile(options.report.file, '--report junit');
  if (options.prometheusFile !== undefined) requireWritableFile(options.prometheusFile, '--prometheus-file');
}

/** Commands that read the guide under --docs (a file address or a phase does not). */
function needsDocsFolder(command: CommandName, args: string[]): boolean {
  switch (command) {
    case 'check-docs':
    case 'verify-guide':
      return true;
    case 'doctor':
      return false;
    case 'list':
    case 'validate':
      return args.length === 0;
    case 'plan':
    case 'run':
    case 'approve':
      return !isFileAddress(args[0] ?? '');
    case 'check':
      return !(VALIDATION_PHASES as readonly string[]).includes(args[0] ?? '') && !isFileAddress(args[0] ?? '');
    default:
      return false;
  }
}

const isFileAddress = (address: string) => address.includes('#') || /\.(md|mdx|markdown)$/i.test(address);

function requireDirectory(dir: string, what: string, hint: string): void {
  if (!existsSync(dir)) throw usage(`${what} ${dir}: no such folder; ${hint}`);
  if (!statSync(dir).isDirectory()) throw usage(`${what} ${dir}: not a folder; ${hint}`);
}

export function requireFile(file: string, what: string): void {
  if (!existsSync(file)) throw usage(`${file}: no such file (${what})`);
  const stat = statSync(file);
  if (stat.isDirectory()) throw usage(`${file}: a folder, expected a file (${what})`);
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw usage(`${file}: not readable (${what}); check its permissions`);
  }
}

function requireWritableDirectory(dir: string, what: string): void {
  try {
    makeFolders(dir);
  } catch (error) {
    throw usage(`${what} ${dir}: cannot create it (${systemReason(error)})`);
  }
  if (!statSync(dir).isDirectory()) throw usage(`${what} ${dir}: not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw usage(`${what} ${dir}: not writable; check its permissions or choose another folder`);
  }
}

export function requireWritableFile(file: string, what: string): void {
  if (existsSync(file) && statSync(file).isDirectory()) throw usage(`${what} ${file}: a folder, expected a file name`);
  requireWritableDirectory(path.dirname(path.resolve(file)), `${what} ${file}: its folder`);
  if (existsSync(file)) {
    try {
      accessSync(file, constants.W_OK);
    } catch {
      throw usage(`${what} ${file}: not writable; check its permissions or choose another file`);
    }
  }
}

const usage = (message: string) => new ExecDocError('E_USAGE', message);

/**
 * mkdir -p one level at a time, from the nearest existing folder down: Node's recursive mkdir
 * never returns for some paths (under /proc), and a file in the way should say so.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  let at = path.resolve(dir);
  while (!existsSync(at)) {
    missing.unshift(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  if (!statSync(at).isDirectory()) throw Object.assign(new Error(`${at} is a file`), { code: 'ENOTDIR' });
  for (const folder of missing) mkdirSync(folder, { mode: 0o700 });
}
