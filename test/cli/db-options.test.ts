// `npm run db`'s parser is pure: every value is checked and typed before anything connects.
import { describe, expect, it } from 'vitest';
import { parseDbCli } from '../../src/cli/db/options.js';

const parse = (...argv: string[]) => parseDbCli(argv, '/work');

describe('parseDbCli', () => {
  it('types every option and resolves paths from the base folder', () => {
    const parsed = parse('up', '--dir', 'm', '--to', '3', '--lock-timeout', '500ms', '--retries', '0', '--json');
    expect(parsed).toMatchObject({
      kind: 'command',
      command: 'up',
      options: { dir: '/work/m', to: '3', lockTimeoutMs: 500, lockWaitMs: 30_000, retries: 0, json: true },
    });
    expect(parse('snapshot', '--out', 'a/s.json')).toMatchObject({
      options: { out: { given: 'a/s.json', path: '/work/a/s.json' } },
    });
    expect(parse('compare', 'a.json', 'b.json')).toMatchObject({ files: ['/work/a.json', '/work/b.json'] });
    expect(parse('lint', '-', 'x.sql')).toMatchObject({ files: ['-', '/work/x.sql'] });
  });

  it('gives backfill its settings with defaults', () => {
    expect(parse('backfill', '--name', 'n', '--table', 't', '--set', 'a = 1', '--batch-ms', '1s')).toMatchObject({
      options: {
        backfill: { name: 'n', table: 't', set: 'a = 1', batchSize: 1000, maxBatchSize: 50_000, targetBatchMs: 1000 },
      },
    });
  });

  it.each([
    [['frobnicate'], /unknown command `frobnicate`, expected one of status, plan/],
    [[], /missing command/],
    [['up', '--lock-timeout', 'soon'], /--lock-timeout takes a duration/],
    [['down', '--steps', '0'], /--steps takes a whole number of at least 1/],
    [['up', '--to', 'v3'], /--to takes a version/],
    [['up', '--format', 'liquibase'], /--format takes auto, golang-migrate, flyway, sqitch, not `liquibase`/],
    [['baseline'], /baseline needs --to/],
    [['backfill', '--name', 'n'], /backfill needs --name, --table and --set/],
    [
      ['backfill', '--name', 'n', '--table', 't', '--set', 's', '--batch', '10', '--max-batch', '5'],
      /at least --batch/,
    ],
    [['compare'], /compare needs a snapshot file/],
    [['status', 'extra'], /unexpected argument `extra`/],
    [['status', '--colour'], /Unknown option '--colour'/],
  ])('refuses %j with exit 64 and a pointer to --help', (argv, message) => {
    const parsed = parse(...argv);
    expect(parsed).toMatchObject({ kind: 'output', exitCode: 64 });
    expect((parsed as { text: string }).text).toMatch(message);
    expect((parsed as { text: string }).text).toMatch(/See `npm run db -- --help`/);
  });

  it('prints help with every command', () => {
    const parsed = parse('--help');
    expect(parsed).toMatchObject({ kind: 'output', exitCode: 0 });
    for (const command of ['status', 'lint', 'backfill', 'compare'])
      expect((parsed as { text: string }).text).toContain(`  ${command}`);
  });
});
