import { describe, expect, it } from 'vitest';
import { parseMeta } from '../../src/annotations/parse-meta.js';
import { interpretAttributes } from '../../src/annotations/fields.js';
import { parseDurationMs, formatDurationMs } from '../../src/annotations/duration.js';

const interpret = (meta: string) => {
  const parsed = parseMeta(meta);
  return { ...interpretAttributes(parsed.attributes), syntax: parsed.problems };
};

describe('parseMeta', () => {
  it('reads the braced attribute form with quotes, escapes and flags', () => {
    const { attributes, problems } = parseMeta('{id=create-backup timeout=60s output="a \\"b\\" c" confirm}');
    expect(problems).toEqual([]);
    expect(attributes.map((a) => [a.key, a.value, a.isFlag])).toEqual([
      ['id', 'create-backup', false],
      ['timeout', '60s', false],
      ['output', 'a "b" c', false],
      ['confirm', true, true],
    ]);
    expect(attributes[1]!.valueOffset).toBe('{id=create-backup timeout='.length);
  });

  it('reads the unbraced form and single quotes', () => {
    const { attributes, problems } = parseMeta("id=x match='^ok$'");
    expect(problems).toEqual([]);
    expect(attributes.map((a) => [a.key, a.value])).toEqual([
      ['id', 'x'],
      ['match', '^ok$'],
    ]);
  });

  it('reads the JSON form, with offsets of the keys', () => {
    const { attributes, problems } = parseMeta('{"name":"x","retries":2,"env":{"A":"1"}}');
    expect(problems).toEqual([]);
    expect(attributes.map((a) => [a.key, a.value])).toEqual([
      ['name', 'x'],
      ['retries', 2],
      ['env', { A: '1' }],
    ]);
    expect(attributes[1]!.keyOffset).toBe('{"name":"x",'.length);
  });

  it('reports malformed JSON at its position', () => {
    const { problems } = parseMeta('{"id": }');
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toBe(
      'Unexpected `}` in the JSON annotation at character 8, expected a JSON object such as {"id":"my-step"}',
    );
    expect(problems[0]!.offset).toBe(7);
  });

  it('reports an unterminated quote, a missing brace and stray characters with offsets', () => {
    expect(parseMeta('{id="abc}').problems[0]).toEqual({
      ruleId: 'annotation-syntax',
      offset: 4,
      message: 'Unexpected end of annotation, expected a closing " for the value of `id`',
    });
    expect(parseMeta('{id=abc').problems[0]).toEqual({
      ruleId: 'annotation-syntax',
      offset: 0,
      message: 'Unexpected end of annotation, expected a closing `}`',
    });
    expect(parseMeta('{id=abc !x}').problems[0]).toMatchObject({ offset: 8 });
    expect(parseMeta('{id=}').problems[0]).toEqual({
      ruleId: 'annotation-syntax',
      offset: 4,
      message: 'Unexpected empty value for `id`, expected a value after `=`',
    });
    expect(parseMeta('{id=a} trailing').problems[0]).toMatchObject({ offset: 7 });
  });
});

describe('interpretAttributes', () => {
  it('turns fields into typed values', () => {
    const { annotation, problems } = interpret(
      '{id=a kind=check phase=post timeout=1m30s retries=2 backoff=250ms exit=3 requires=root,postgres,cmd:jq cwd=sub env="A=1 B=x=y"}',
    );
    expect(problems).toEqual([]);
    expect(annotation).toEqual({
      id: 'a',
      kind: 'check',
      phase: 'post',
      timeoutMs: 90_000,
      retries: 2,
      backoffMs: 250,
      expectExitCode: 3,
      requires: ['cmd:jq', 'postgres', 'root'],
      cwd: 'sub',
      env: { A: '1', B: 'x=y' },
    });
  });

  it('accepts Runme annotations unchanged', () => {
    const { annotation, problems } = interpret('{"name":"setup-db","interactive":"false","excludeFromRunAll":"false"}');
    expect(problems).toEqual([]);
    expect(annotation).toEqual({ id: 'setup-db', idFromName: true, interactive: false, excluded: false });
    expect(interpret('{ name=migrate interactive=false closeTerminalOnSuccess=false }').annotation).toEqual({
      id: 'migrate',
      idFromName: true,
      interactive: false,
    });
  });

  it('maps rollback=none to null and a bare confirm to a default question', () => {
    expect(interpret('{id=a rollback=none confirm}').annotation).toEqual({
      id: 'a',
      rollback: null,
      confirm: 'Run this step?',
    });
    expect(interpret('{id=a confirm="Drop it?"}').annotation.confirm).toBe('Drop it?');
  });

  it.each([
    [
      '{id=a kind=stepp}',
      'invalid-field',
      'Unexpected value for `kind`: unknown kind `stepp`, expected one of step, check, rollback, setup, teardown, preview (e.g. `kind=check`)',
    ],
    [
      '{id=a timeout=5x}',
      'invalid-field',
      'Unexpected value for `timeout`: expected a duration such as `500ms`, `30s`, `2m` or `1h` (e.g. `timeout=60s`)',
    ],
    [
      '{id=a retries=-1}',
      'invalid-field',
      'Unexpected value for `retries`: expected a whole number from 0 to 100 (e.g. `retries=3`)',
    ],
    [
      '{id=a requires=gpu}',
      'invalid-field',
      'Unexpected value for `requires`: unknown requirement `gpu`, expected one of postgres, python, node, docker, podman, root, kubernetes, or cmd:<program> (e.g. `requires=postgres,root`)',
    ],
    [
      '{id=a match="(("}',
      'invalid-field',
      'Unexpected value for `match`: invalid regular expression: Invalid regular expression: /((/m: Unterminated group (e.g. `match="^ready$"`)',
    ],
    [
      '{id="a b"}',
      'invalid-field',
      'Unexpected value for `id`: `a b` is not a valid id: use letters, digits, `-`, `_` or `.`, starting with a letter or digit (e.g. `id=create-table`)',
    ],
    ['{id=a id=b}', 'duplicate-field', 'Unexpected second `id` (already set by `id`), expected each field once'],
    ['{id=a name=b}', 'duplicate-field', 'Unexpected second `name` (already set by `id`), expected each field once'],
    [
      '{id=a env="=x"}',
      'invalid-field',
      'Unexpected value for `env`: expected `KEY=value` pairs such as `env="MODE=test RETRIES=3"`, got `=x` (e.g. `env="MODE=test"`)',
    ],
  ])('rejects %s', (meta, ruleId, message) => {
    const { problems } = interpret(meta);
    expect(problems).toEqual([expect.objectContaining({ ruleId, message })]);
  });

  it('suggests the closest field for a typo', () => {
    const { problems } = interpret('{id=a timout=5s}');
    expect(problems[0]!.ruleId).toBe('unknown-field');
    expect(problems[0]!.message).toMatch(/\(did you mean `timeout`\?\)$/);
    expect(problems[0]!.offset).toBe(6);
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['60s', 60_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5', 1500],
    ['0.5s', 500],
  ])('%s is %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', 'abc', '5x', '1m 30s', 's', '-1s'])('rejects %j', (text) =>
    expect(parseDurationMs(text)).toBeUndefined(),
  );

  it('formats the shortest exact spelling', () => {
    expect([500, 1500, 60_000, 90_000, 7_200_000].map(formatDurationMs)).toEqual(['500ms', '1.5s', '1m', '90s', '2h']);
  });
});

describe('quoted values', () => {
  it('keeps backslashes that escape neither the quote nor a backslash (regexes stay intact)', () => {
    expect(parseMeta('{match="^v\\d+ \\"q\\" \\\\"}').attributes[0]!.value).toBe('^v\\d+ "q" \\');
  });
});

describe('env values with spaces, quoted as in a shell', () => {
  const env = (meta: string) => interpretAttributes(parseMeta(meta).attributes);
  it.each([
    ['{id=a env="GREETING=\'hello world\' RETRIES=3"}', { GREETING: 'hello world', RETRIES: '3' }],
    ['{id=a env=\'GREETING="hello world"\'}', { GREETING: 'hello world' }],
    ["{id=a env=GREETING='hello world'}", { GREETING: 'hello world' }],
    ['{id=a env="PATHS=a\\\\ b"}', { PATHS: 'a b' }],
    ['{id=a env="EMPTY= X=1"}', { EMPTY: '', X: '1' }],
  ])('%s', (meta, expected) => {
    const { annotation, problems } = env(meta);
    expect(problems).toEqual([]);
    expect(annotation.env).toEqual(expected);
  });

  it('an unclosed quote is a positioned problem', () => {
    const { problems } = env('{id=a env="GREETING=\'hello"}');
    expect(problems[0]?.message).toContain("expected a closing '");
  });
});
