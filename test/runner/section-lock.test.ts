// Two runs of one section at once, as two real processes against one PostgreSQL: the second waits
// up to --lock-wait, then refuses with exit 75 and the holder's run id; a dead holder frees it.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cli, parseEvents, tempDir, writeDoc } from '../helpers.js';
import { useEmbeddedServer } from '../db/pg-helpers.js';
import type { RunEvent } from '../../src/events/types.js';

const DOC = `# G

## Migrate {#migrate}

\`\`\`sql {id=hold rollback=none}
select pg_sleep(3);
\`\`\`
`;

function start(args: string[], cwd: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args, '--json'], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, exited, events: (): RunEvent[] => parseEvents(out) };
}

async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('one run of a section per target at a time', () => {
  const server = useEmbeddedServer('section_lock');

  it('on one machine: the second run refuses at once with the holder, or waits with --lock-wait', async () => {
    const { dir } = writeDoc(DOC, 'guide.md');
    const first = start(['run', 'guide/migrate', '--docs', '.'], dir);
    await until(() => first.events().some((e) => e.type === 'step.start'));
    const runId = first.events()[0]!.runId;
    const second = await cli(['run', 'guide/migrate', '--docs', '.'], { cwd: dir });
    expect(second.exitCode).toBe(75);
    expect(second.stderr).toContain(
      `guide/migrate is already being run by run ${runId} (process ${first.child.pid} on this machine)`,
    );
    const waited = await cli(['run', 'guide/migrate', '--docs', '.', '--lock-wait', '30s'], { cwd: dir });
    expect(waited.exitCode, waited.stderr).toBe(0);
    expect(await first.exited).toBe(0);
  });

  it('on a shared database, from two state folders (two machines): the advisory lock names the holder', async () => {
    const { url } = await server.database();
    const { dir } = writeDoc(DOC, 'guide.md');
    const env = { DATABASE_URL: url };
    const first = start(['run', 'guide/migrate', '--docs', '.', '--state-dir', tempDir()], dir, env);
    await until(() => first.events().some((e) => e.type === 'step.start'));
    const runId = first.events()[0]!.runId;
    const second = await cli(
      ['run', 'guide/migrate', '--docs', '.', '--state-dir', tempDir(), '--lock-wait', '500ms'],
      { cwd: dir, env },
    );
    expect(second.exitCode).toBe(75);
    expect(second.stderr).toContain(`guide/migrate is already being run by run ${runId} (on the database`);
    expect(second.stderr).toContain('Waited 1 s');
    expect(await first.exited).toBe(0);
    // The lock went with the first run's connection.
    const third = await cli(['run', 'guide/migrate', '--docs', '.', '--state-dir', tempDir()], { cwd: dir, env });
    expect(third.exitCode, third.stderr).toBe(0);
  });

  it('a holder that died frees the section: its lock file is taken over, its advisory lock went with its connection', async () => {
    const { url } = await server.database();
    const { dir } = writeDoc(DOC.replace('pg_sleep(3)', 'pg_sleep(30)'), 'guide.md');
    const env = { DATABASE_URL: url };
    const first = start(['run', 'guide/migrate', '--docs', '.'], dir, env);
    await until(() => first.events().some((e) => e.type === 'step.start'));
    first.child.kill('SIGKILL');
    await first.exited;
    // Its backend may take a moment to notice the closed socket.
    const second = await cli(['run', 'guide/migrate', '--docs', '.', '--lock-wait', '20s'], {
      cwd: dir,
      env: { ...env, EXEC_DOC_FAIL_BEFORE: 'hold' },
    });
    expect(second.exitCode, second.stderr).toBe(1);
    expect(second.stdout).toContain('failed on purpose before it ran');
  });
});
