// Where secret parameters come from besides EXEC_DOC_PARAM_<name>: a file only its owner can
// read (--secret-file name=path, or the policy's `secrets: {name: {file}}`), another environment
// variable, or a command the operator configured (a secret manager's CLI, run without a shell).
// Values reach steps through the environment only: never a command line, where `ps` shows them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Param } from '../model/types.js';
import { CodedError } from '../util/coded-error.js';
import { secretFileProblem } from './files.js';
import type { SecretSource } from './policy.js';

/** One trailing line break is not part of a secret (`echo pw > file`). */
const chompOne = (text: string) => text.replace(/\r?\n$/, '');

export function readSecretFile(name: string, file: string): string {
  const problem = secretFileProblem(file);
  if (problem) throw new CodedError('E_SECRET', `secret \`${name}\` from ${file} refused: ${problem}`);
  return chompOne(readFileSync(file, 'utf8'));
}

function runSecretCommand(name: string, command: string[], timeoutMs: number, env: NodeJS.ProcessEnv): string {
  const r = spawnSync(command[0]!, command.slice(1), {
    env,
    timeout: timeoutMs,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const shown = command[0];
  if (r.error)
    throw new CodedError(
      'E_SECRET',
      `secret \`${name}\`: could not run ${shown}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`,
    );
  if (r.signal)
    throw new CodedError(
      'E_SECRET',
      `secret \`${name}\`: ${shown} was stopped by ${r.signal}${r.signal === 'SIGTERM' ? ` (it took longer than ${timeoutMs} ms)` : ''}`,
    );
  if (r.status !== 0)
    throw new CodedError('E_SECRET', `secret \`${name}\`: ${shown} exited ${r.status}`, {
      details: r.stderr.trim() ? [`its stderr: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`] : [],
    });
  const value = chompOne(r.stdout);
  if (value === '') throw new CodedError('E_SECRET', `secret \`${name}\`: ${shown} printed nothing`);
  return value;
}

/**
 * Values for the section's secret parameters from files and configured sources. A value already
 * given (--set or EXEC_DOC_PARAM_<name>) is kept; a source for a parameter that is not secret is
 * an error (it would be stored and shown).
 */
export function secretValues(input: {
  params: readonly Param[];
  files: Record<string, string>;
  sources: ReadonlyMap<string, SecretSource>;
  given: Readonly<Record<string, string>>;
  env: NodeJS.ProcessEnv;
}): Record<string, string> {
  const out: Record<string, string> = {};
  const secretNames = new Set(input.params.filter((p) => p.secret).map((p) => p.name));
  for (const [name, file] of Object.entries(input.files)) {
    if (!secretNames.has(name))
      throw new CodedError('E_SECRET', `--secret-file ${name}: the section has no secret parameter \`${name}\``, {
        details: [
          secretNames.size
            ? `Its secret parameters: ${[...secretNames].join(', ')}`
            : 'It declares no secret parameter.',
        ],
      });
    out[name] = readSecretFile(name, file);
  }
  for (const name of secretNames) {
    if (out[name] !== undefined || input.given[name] !== undefined) continue;
    const source = input.sources.get(name);
    if (!source) continue;
    if ('file' in source) out[name] = readSecretFile(name, source.file);
    else if ('env' in source) {
      const value = input.env[source.env];
      if (value !== undefined) out[name] = value;
    } else out[name] = runSecretCommand(name, source.command, source.timeoutMs, input.env);
  }
  return out;
}

/** `name=path` items of --secret-file. */
export function parseSecretFiles(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1)
      throw new CodedError('E_USAGE', `--secret-file ${item}: expected <parameter>=<file>`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
