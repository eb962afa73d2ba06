// Runme's promptEnv on a shell block's code: which `export` lines are prompts, and where each
// value comes from (the environment, an answer, the value written), without touching the code.
import { describe, expect, it } from 'vitest';
import { exportLines, resolveExports } from '../../src/runner/prompt-env.js';

describe('exportLines', () => {
  it('finds top-level exports with literal values, and leaves expressions, indented lines and here-documents alone', () => {
    const code = [
      'export A="quoted value"',
      "export B='single'",
      'export C=bare',
      'export D=Enter your project id',
      'export E="$(hostname)"',
      'export F=$HOME/x',
      '  export G=indented',
      'cat <<EOF',
      'export H=inside',
      'EOF',
      'export I=',
      'echo done',
    ].join('\n');
    expect(exportLines(code)).toEqual([
      { name: 'A', line: 0, value: 'quoted value' },
      { name: 'B', line: 1, value: 'single' },
      { name: 'C', line: 2, value: 'bare' },
      { name: 'D', line: 3, message: 'Enter your project id' },
      { name: 'I', line: 10, value: '' },
    ]);
  });
});

describe('exportLines: the edges', () => {
  it('here-documents of every form end at their delimiter (<<- with tabs), and export lines after them count', () => {
    const code = [
      'cat <<-"END"',
      'export A=in',
      '\t\tEND',
      "cat <<'X'",
      'export B=in',
      'X',
      'export C=after   ',
      'export D="has $var"',
      "export E='has $literal'",
      'export  F=two-spaces',
      'export G=a;b',
      'export H=Type it here  ',
      'cat <<EOF',
      'first line of data',
      'export Z=still-data',
      'EOF',
      'export I= Type it here',
      'export Y=b"a"',
      "export W=b'a'",
    ].join('\n');
    expect(exportLines(code)).toEqual([
      { name: 'C', line: 6, value: 'after' },
      { name: 'E', line: 8, value: 'has $literal' },
      { name: 'F', line: 9, value: 'two-spaces' },
      { name: 'H', line: 11, message: 'Type it here' },
      { name: 'I', line: 16, message: 'Type it here' },
    ]);
    // A line that only starts like an export, or has text after a quoted value, is not one.
    expect(exportLines('exported=1\nexport X="a" b\nexport Y=\'a\' b\nxexport Z=1')).toEqual([]);
  });
});

describe('resolveExports', () => {
  const code = 'export REGION="eu-west"\nexport PROJECT=Enter a project\necho "$REGION $PROJECT"';

  it('auto: the environment wins, then the value written; a message needs a value', async () => {
    const r = await resolveExports(code, 'auto', { REGION: 'us-east' });
    expect(r.env).toEqual({ REGION: 'us-east' });
    expect(r.missing.map((m) => m.name)).toEqual(['PROJECT']);
    const both = await resolveExports(code, 'auto', { PROJECT: 'p1' });
    expect(both).toEqual({
      code: 'export REGION\nexport PROJECT\necho "$REGION $PROJECT"',
      env: { REGION: 'eu-west', PROJECT: 'p1' },
      missing: [],
    });
  });

  it('asks with the default it would use; always asks even when set; skip and never do not ask', async () => {
    const asked: Array<[string, unknown]> = [];
    const ask = async (name: string, hint: unknown) => {
      asked.push([name, hint]);
      return name === 'PROJECT' ? 'answered' : undefined;
    };
    const auto = await resolveExports(code, 'auto', { REGION: 'set' }, ask);
    expect(asked).toStrictEqual([['PROJECT', { message: 'Enter a project' }]]);
    expect(auto.env).toEqual({ REGION: 'set', PROJECT: 'answered' });
    asked.length = 0;
    const always = await resolveExports(code, 'always', { REGION: 'set' }, ask);
    expect(asked.map(([n]) => n)).toEqual(['REGION', 'PROJECT']);
    expect(asked[0]![1]).toEqual({ defaultValue: 'set' });
    expect(always.env).toEqual({ REGION: 'set', PROJECT: 'answered' });
    asked.length = 0;
    const skip = await resolveExports(code, 'skip', {}, ask);
    expect(asked).toEqual([]);
    expect(skip.env).toEqual({ REGION: 'eu-west' });
    expect(skip.missing.map((m) => m.name)).toEqual(['PROJECT']);
    expect(await resolveExports(code, 'never', { REGION: 'x' }, ask)).toEqual({ code, env: {}, missing: [] });
    expect(asked).toEqual([]);
    // Asked with what it would use: the environment's value first, else the one written.
    await resolveExports('export A="written"', 'always', { A: 'current' }, ask);
    await resolveExports('export A="written"', 'always', {}, ask);
    expect(asked).toStrictEqual([
      ['A', { defaultValue: 'current' }],
      ['A', { defaultValue: 'written' }],
    ]);
  });
});
