// Which program runs a block, with which arguments, as Runme picks interpreters.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { symlinkSync } from 'node:fs';
import {
  candidatePrograms,
  commandFor,
  hasInterpreter,
  programRequirement,
  withoutPrompts,
} from '../../src/languages/commands.js';
import type { Step } from '../../src/model/types.js';
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

  it("follows Runme's interpreter table, language by language", () => {
    const table: Array<[string, string, string[]]> = [
      ['sh', 'sh', ['bash', 'sh']],
      ['sh', 'shellscript', ['bash', 'sh']],
      ['sh', '', ['bash', 'sh']],
      ['bash', 'shell', ['bash']],
      ['bash', 'console', ['bash']],
      ['bash', 'zsh', ['zsh']],
      ['bash', 'ksh', ['ksh']],
      ['program', 'fish', ['fish']],
      ['program', 'jsx', ['node']],
      ['program', 'javascriptreact', ['node']],
      ['program', 'tsx', ['ts-node', 'deno run', 'bun run']],
      ['program', 'typescriptreact', ['ts-node', 'deno run', 'bun run']],
      ['program', 'lua', ['lua']],
      ['program', 'perl', ['perl']],
      ['program', 'php', ['php']],
      ['program', 'ruby', ['ruby']],
      ['program', 'rb', ['ruby']],
      ['program', 'rust', ['rust-script']],
      ['program', 'rs', ['rust-script']],
      ['program', 'powershell', ['pwsh', 'powershell']],
      ['program', 'pwsh', ['pwsh', 'powershell']],
      ['program', 'yaml', ['cat']],
    ];
    for (const [lang, languageId, programs] of table)
      expect(candidatePrograms({ lang: lang as Step['lang'], languageId }), languageId).toEqual(programs);
    expect(candidatePrograms({ lang: 'bash' })).toEqual(['bash']);
    expect(candidatePrograms({ lang: 'python' })).toEqual(['python3']);
    expect(candidatePrograms({ lang: 'js' })).toEqual([]);
    expect(candidatePrograms({ lang: 'ts' })).toEqual([]);
    expect(candidatePrograms({ lang: 'sql' })).toEqual([]);
    expect(candidatePrograms({ lang: 'checks' })).toEqual([]);
    expect(candidatePrograms({ lang: 'program', languageId: 'ruby', interpreter: 'jruby' })).toEqual(['jruby']);
    expect(programRequirement({ lang: 'program', languageId: 'tsx' })).toBe('cmd:ts-node|deno|bun');
    expect(hasInterpreter('perl')).toBe(true);
    expect(hasInterpreter('yaml')).toBe(false);
  });

  it('runs each shell with -c, POSIX ones without pipefail, and gives files the ending their language reads', () => {
    // Programs of those names on a PATH of our own (each is really sh: only the name is looked at).
    const bin = tempDir();
    for (const name of [
      'dash',
      'ash',
      'mksh',
      'yash',
      'ksh',
      'zsh',
      'ruby',
      'php',
      'lua',
      'rust-script',
      'pwsh',
      'ts-node',
      'node',
    ])
      symlinkSync('/bin/sh', path.join(bin, name));
    const own = { PATH: bin };
    const shell = (interpreter: string) =>
      commandFor({ lang: 'sh', interpreter }, 'x', { env: own, writeScript })!.args;
    expect(shell('dash')).toEqual(['-e', '-c', 'x']);
    expect(shell('ash')).toEqual(['-e', '-c', 'x']);
    // A zsh fence (quoted as bash is) runs under zsh with -c.
    expect(commandFor({ lang: 'bash', languageId: 'zsh' }, 'x', { env: own, writeScript })).toEqual({
      file: 'zsh',
      args: ['-e', '-o', 'pipefail', '-c', 'x'],
    });
    for (const name of ['mksh', 'yash', 'ksh', 'zsh'])
      expect(shell(name), name).toEqual(['-e', '-o', 'pipefail', '-c', 'x']);
    // A shell named for a block of another language still gets the code as a file.
    expect(
      commandFor({ lang: 'program', languageId: 'perl', interpreter: 'zsh' }, 'x', { env: own, writeScript })!.args,
    ).toEqual([path.join(dir, 'script.pl')]);
    const ending = (languageId: string) =>
      path.extname(commandFor({ lang: 'program', languageId }, 'x', { env: own, writeScript })!.args.at(-1)!);
    expect(
      ['ruby', 'rb', 'php', 'lua', 'rust', 'rs', 'powershell', 'pwsh', 'tsx', 'jsx'].map((id) => [id, ending(id)]),
    ).toEqual([
      ['ruby', '.rb'],
      ['rb', '.rb'],
      ['php', '.php'],
      ['lua', '.lua'],
      ['rust', '.rs'],
      ['rs', '.rs'],
      ['powershell', '.ps1'],
      ['pwsh', '.ps1'],
      ['tsx', '.tsx'],
      ['jsx', '.jsx'],
    ]);
    const js = commandFor({ lang: 'js', interpreter: 'ts-node' }, 'x', { env: own, writeScript })!;
    expect(js.args).toEqual([path.join(dir, 'script.mjs')]);
    expect(
      path.extname(commandFor({ lang: 'ts', interpreter: 'ts-node' }, 'x', { env: own, writeScript })!.args[0]!),
    ).toBe('.ts');
    expect(
      path.extname(commandFor({ lang: 'python', interpreter: 'ts-node' }, 'x', { env: own, writeScript })!.args[0]!),
    ).toBe('.py');
    // Arguments of an interpreter, however they are spaced.
    expect(
      commandFor({ lang: 'program', languageId: 'x', interpreter: '  ruby   -w  ' }, 'x', { env: own, writeScript }),
    ).toEqual({
      file: 'ruby',
      args: ['-w', path.join(dir, 'script')],
    });
  });

  it('runs js, ts and python itself when no interpreter is named', () => {
    expect(commandFor({ lang: 'js' }, 'x', { env, writeScript })).toEqual({
      file: process.execPath,
      args: ['--input-type=module', '-e', 'x'],
    });
    const ts = commandFor({ lang: 'ts' }, 'x', { env, writeScript })!;
    expect(ts.file).toBe(process.execPath);
    expect(ts.args[0]).toMatch(/tsx/);
    expect(ts.args.slice(1)).toEqual(['-e', 'x']);
    expect(commandFor({ lang: 'python' }, 'x', { env, writeScript })).toEqual({ file: 'python3', args: ['-c', 'x'] });
    expect(commandFor({ lang: 'sql' }, 'x', { env, writeScript })).toBe(undefined);
  });

  it('strips the `$ ` of a copied prompt at the start of a line, and nothing else', () => {
    expect(withoutPrompts('$ npm install\n  $ indented\necho $HOME\n$HOME/bin/x\n$ ')).toBe(
      'npm install\n  $ indented\necho $HOME\n$HOME/bin/x\n',
    );
  });
});
