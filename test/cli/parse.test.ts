// parseCli is pure: it says what to run without running anything.
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/parse.js';

describe('parseCli', () => {
  it('treats a bare section as `run`', () => {
    expect(parseCli(['quick-start/demo-migration'])).toMatchObject({
      kind: 'command',
      command: 'run',
      args: ['quick-start/demo-migration'],
    });
  });

  it('collects repeated --set and the options of run', () => {
    const parsed = parseCli([
      'run',
      'a/b',
      '--set',
      'x=1',
      '--set',
      'y=a=b',
      '--yes',
      '--keep-db',
      '--json',
      '--docs',
      'guide',
      '--state-dir',
      '/tmp/s',
      '--report',
      'junit',
      'r.xml',
    ]);
    expect(parsed).toEqual({
      kind: 'command',
      command: 'run',
      args: ['a/b'],
      options: {
        docs: 'guide',
        stateDir: '/tmp/s',
        color: true,
        json: true,
        set: ['x=1', 'y=a=b'],
        yes: true,
        keepDb: true,
        disposable: false,
        tag: [],
        fix: false,
        report: { format: 'junit', file: 'r.xml' },
        format: 'table',
        only: [],
        strict: false,
        phase: 'pre',
        rerunInterrupted: false,
        preview: false,
        rollback: false,
        lockWaitMs: 0,
        jobs: 2,
        approval: [],
        secretFile: [],
        failBefore: [],
      },
    });
  });

  it('reads the options of check and refuses bad values', () => {
    expect(
      parseCli([
        'check',
        'pre-upgrade',
        '--format',
        'prometheus',
        '--only',
        'host.memory',
        '--only',
        'postgres.reachable',
        '--strict',
        '--config',
        'c.yaml',
        '--prometheus-file',
        'm.prom',
      ]),
    ).toMatchObject({
      command: 'check',
      args: ['pre-upgrade'],
      options: {
        format: 'prometheus',
        only: ['host.memory', 'postgres.reachable'],
        strict: true,
        config: 'c.yaml',
        prometheusFile: 'm.prom',
      },
    });
    expect(parseCli(['check', 'a/b', '--phase', 'rollback'])).toMatchObject({ options: { phase: 'rollback' } });
    expect(parseCli(['check', 'pre-upgrade', '--format', 'xml'])).toMatchObject({
      kind: 'output',
      exitCode: 64,
      text: expect.stringContaining('--format takes table, json or prometheus'),
    });
    expect(parseCli(['check', 'a/b', '--phase', 'later'])).toMatchObject({
      kind: 'output',
      exitCode: 64,
      text: expect.stringContaining('--phase takes pre, post or rollback'),
    });
    expect(parseCli(['check'])).toMatchObject({
      kind: 'output',
      exitCode: 64,
      text: expect.stringContaining("missing required argument 'phase|section'"),
    });
  });

  it('reads defaults from the environment', () => {
    expect(parseCli(['list'], { EXEC_DOC_STATE_DIR: '/var/x', NO_COLOR: '1' })).toMatchObject({
      options: { stateDir: '/var/x', color: false, docs: 'docs' },
    });
  });

  it('accepts --report junit=<file>', () => {
    expect(parseCli(['run', 's', '--report', 'junit=out.xml'])).toMatchObject({
      options: { report: { format: 'junit', file: 'out.xml' } },
    });
  });

  it.each([
    [['run'], /^exec-doc: missing required argument 'section'\nSee `exec-doc run --help`.\n$/],
    [['plan', 'a', '--yes'], /^exec-doc: unknown option '--yes' for plan\n/],
    [['run', 'a', '--report', 'html', 'x'], /only junit is supported/],
    [['list', '--bogus'], /unknown option '--bogus' for list/],
    [['list', 'README.md', 'extra'], /unexpected argument 'extra' for list/],
    [['run', 'a/b', '--session', 'sometimes'], /--session takes shared or isolated, not 'sometimes'/],
    [['run', 'a', '--docs'], /--docs/],
  ])('%j is a usage error (64)', (argv, message) => {
    const parsed = parseCli(argv);
    expect(parsed).toMatchObject({ kind: 'output', exitCode: 64 });
    expect(parsed.kind === 'output' && parsed.text).toMatch(message);
  });

  it('`help <command>` and `<command> --help` show that command', () => {
    expect(parseCli(['help', 'plan'])).toMatchObject({
      kind: 'output',
      exitCode: 0,
      text: expect.stringMatching(/^Usage: exec-doc plan <section> \[options\]/),
    });
    expect(parseCli(['resume', '-h'])).toMatchObject({
      kind: 'output',
      exitCode: 0,
      text: expect.stringContaining('--keep-db'),
    });
  });

  it('--help exits 0 and lists commands and exit codes', () => {
    const parsed = parseCli(['--help']);
    expect(parsed).toMatchObject({ kind: 'output', exitCode: 0 });
    const text = parsed.kind === 'output' ? parsed.text : '';
    for (const word of ['list', 'plan', 'run', 'resume', 'validate', '3   a requirement is missing (nothing ran)'])
      expect(text).toContain(word);
  });
});

describe('verify-guide options', () => {
  it('takes --jobs 1 to 32 and --out; anything else is a usage error naming the value', () => {
    const ok = parseCli(['verify-guide', 'a/b', 'c/d', '--jobs', '3', '--out', 'pub'], {});
    expect(ok).toMatchObject({ kind: 'command', command: 'verify-guide', args: ['a/b', 'c/d'] });
    if (ok.kind === 'command') {
      expect(ok.options.jobs).toBe(3);
      expect(ok.options.out).toBe('pub');
    }
    for (const bad of ['0', '33', '2.5', 'many'])
      expect(parseCli(['verify-guide', '--jobs', bad], {})).toEqual({
        kind: 'output',
        exitCode: 64,
        text: `exec-doc: --jobs takes a whole number from 1 to 32, not '${bad}'\nSee \`exec-doc verify-guide --help\`.\n`,
      });
    expect(parseCli(['run', 'a/b', '--jobs', '2'], {})).toMatchObject({ kind: 'output', exitCode: 64 });
  });
});
