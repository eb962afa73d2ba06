// Which program runs a block, with which arguments, as Runme picks interpreters.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { candidatePrograms, commandFor, programRequirement, withoutPrompts } from '../../src/languages/commands.js';
import { tempDir } from '../helpers.js';

const env = { PATH: process.env.PATH };

describe('commandFor', () => {
  const dir = tempDir();
  const writeScript = (extension: string) => {
    const file = path.join(dir, `script${extension}`);
    return file;
  };

  it('runs sh blocks with bash when there is one (set -e, pipefail), and POSIX sh without pipefail', () => {
    expect(commandFor({ lang: 'sh' }, 'true', { env, writeScript })).toEqual({
      file: 'bash',
      args: ['-e', '-o', 'pipefail', '-c', 'true'],
    });
    expect(commandFor({ lang: 'sh', interpreter: 'sh' }, 'true', { env, writeScript })).toEqual({
      file: 'sh',
      args: ['-e', '-c', 'true'],
    });
    expect(commandFor({ lang: 'sh', interpreter: 'bash -x' }, 'true', { env, writeScript })).toEqual({
      file: 'bash',
      args: ['-x', '-e', '-o', 'pipefail', '-c', 'true'],
    });
  });

  it('puts a prefix (the session trap) only before code a shell runs, on its first line', () => {
    const shellPrefix = 'trap x EXIT; ';
    expect(commandFor({ lang: 'sh' }, 'echo 1', { env, writeScript, shellPrefix })!.args.at(-1)).toBe(
      'trap x EXIT; echo 1',
    );
    expect(commandFor({ lang: 'sh', interpreter: 'cat' }, 'echo 1', { env, writeScript, shellPrefix })!.args).toEqual([
      path.join(dir, 'script'),
    ]);
  });

  it('gives any other program the code as a file, with the ending its language has', () => {
    const written: string[] = [];
    const save = (extension: string) => {
      const file = writeScript(extension);
      written.push(file);
      return file;
    };
    expect(commandFor({ lang: 'program', languageId: 'perl' }, 'print 1', { env, writeScript: save })).toEqual({
      file: 'perl',
      args: [path.join(dir, 'script.pl')],
    });
    expect(commandFor({ lang: 'js', interpreter: 'cat' }, 'x', { env, writeScript: save })).toEqual({
      file: 'cat',
      args: [path.join(dir, 'script.mjs')],
    });
    expect(commandFor({ lang: 'program', languageId: 'yaml' }, 'a: 1', { env, writeScript: save })!.file).toBe('cat');
    expect(written).toHaveLength(3);
  });

  it('finds no program when none of the candidates is on PATH', () => {
    expect(commandFor({ lang: 'bash', languageId: 'zsh' }, 'true', { env: { PATH: tempDir() }, writeScript })).toBe(
      undefined,
    );
    expect(candidatePrograms({ lang: 'bash', languageId: 'zsh' })).toEqual(['zsh']);
    expect(programRequirement({ lang: 'sh' })).toBe('cmd:bash|sh');
    expect(programRequirement({ lang: 'sql' })).toBe(undefined);
  });

  it('strips the `$ ` of a copied prompt at the start of a line, and nothing else', () => {
    expect(withoutPrompts('$ npm install\n  $ indented\necho $HOME\n$HOME/bin/x\n$ ')).toBe(
      'npm install\n  $ indented\necho $HOME\n$HOME/bin/x\n',
    );
  });
});
