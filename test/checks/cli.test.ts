// `exec-doc check`: phases on the embedded default and on a configured server, formats, the
// Prometheus file, events, exit codes, and a section's check blocks.
import path from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { DEFAULT_PHASES } from '../../src/checks/registry.js';
import { captureIo, cli, freePort, parseEvents, ROOT, tempDir, writeDoc } from '../helpers.js';

const reportSchema = new Ajv2020({ strict: false }).compile(
  JSON.parse(readFileSync(path.join(ROOT, 'static', 'schemas', 'check-report.schema.json'), 'utf8')),
);
const SCHEMA = JSON.parse(readFileSync(path.join(ROOT, 'static', 'schemas', 'exec-doc-events.schema.json'), 'utf8'));

async function check(args: string[], env: NodeJS.ProcessEnv = {}) {
  const io = captureIo({ ...process.env, NO_COLOR: '1', ...env });
  const exitCode = await main(['check', ...args], io);
  return { exitCode, stdout: io.out(), stderr: io.err() };
}

function config(text: string): string {
  const file = path.join(tempDir(), 'exec-doc.checks.yaml');
  writeFileSync(file, text);
  return file;
}

describe('exec-doc check <phase>', () => {
  it('runs pre-upgrade on the embedded default with the project configuration and reports every check (a real process)', async () => {
    const stateDir = tempDir();
    const r = await cli(
      ['check', 'pre-upgrade', '--state-dir', stateDir, '--prometheus-file', path.join(stateDir, 'm.prom')],
      { env: { DATABASE_URL: '', PGHOST: '', PGDATABASE: '' } },
    );
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^pre-upgrade: 21 checks on embedded PostgreSQL 18\.\d+ on 127\.0\.0\.1:\d+ .*\(exec-doc\.checks\.yaml\)\n  STATUS  CHECK +VALUE +THRESHOLD +TIME\n/,
    );
    for (const name of DEFAULT_PHASES['pre-upgrade'])
      expect(r.stdout).toMatch(new RegExp(`\\n  (PASS|WARN)    ${name.replace('.', '\\.')} `));
    expect(r.stdout).toMatch(/\n21 checks: \d+ pass, \d+ warn, 0 fail, 0 error in \d/);
    const prom = readFileSync(path.join(stateDir, 'm.prom'), 'utf8');
    expect(prom).toContain(
      'exec_doc_check_status{scope="pre-upgrade",check="postgres.reachable",type="postgres.reachable",status="pass"} 1',
    );
    // The embedded server is gone afterwards.
    const dataDir = /\((\/tmp\/exec-doc-pg-[0-9TZ]+-checks-pre-upgrade-[^)]+)\)/.exec(r.stdout)![1]!;
    expect(existsSync(dataDir)).toBe(false);
  }, 120_000);

  it('prints JSON and Prometheus text, keeps the last results of every phase, and streams valid NDJSON events', async () => {
    const stateDir = tempDir();
    const file = config('phases:\n  pre-upgrade: [host.memory, host.disk-space]\n  post-upgrade: [host.memory]\n');
    const json = await check(['pre-upgrade', '--config', file, '--state-dir', stateDir, '--format', 'json']);
    expect(json.exitCode).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ phase: 'pre-upgrade', config: file, exitCode: 0, totals: { fail: 0, error: 0 } });
    expect(doc).toMatchObject({ passed: true, reason: '2 check(s): none failed', notConfigured: [] });
    expect(reportSchema(doc), JSON.stringify(reportSchema.errors)).toBe(true);
    expect(doc.results.map((r: { name: string }) => r.name)).toEqual(['host.memory', 'host.disk-space']);
    for (const result of doc.results)
      expect(Object.keys(result).sort()).toEqual([
        'detail',
        'durationMs',
        'metric',
        'name',
        'status',
        'threshold',
        'type',
        'unit',
        'value',
      ]);

    const prom = await check(['post-upgrade', '--config', file, '--state-dir', stateDir, '--format', 'prometheus']);
    expect(prom.stdout).toMatch(/^# HELP exec_doc_check_status /);
    expect(prom.stdout).toMatch(
      /\nexec_doc_check_value\{scope="post-upgrade",check="host\.memory",type="host\.memory",unit="bytes"\} \d+\n/,
    );
    for (const line of prom.stdout.trim().split('\n'))
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+\{[^}]*\} -?[\d.e+]+)$/);
    // The file holds both phases' last results.
    const kept = readFileSync(path.join(stateDir, 'checks', 'last.prom'), 'utf8');
    expect(kept).toContain('exec_doc_checks_last_run_timestamp_seconds{scope="post-upgrade"}');
    expect(kept).toContain('exec_doc_checks_last_run_timestamp_seconds{scope="pre-upgrade"}');

    const events = parseEvents(
      (await check(['pre-upgrade', '--config', file, '--state-dir', stateDir, '--json'])).stdout,
    );
    expect(events.map((e) => e.type)).toEqual(['checks.start', 'check.result', 'check.result', 'checks.end']);
    const validate = new Ajv2020({ strict: false }).compile(SCHEMA);
    for (const event of events) expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    expect(
      readFileSync(path.join(stateDir, 'checks', 'pre-upgrade.events.ndjson'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(4);
  });

  it('exits 1 when a check fails, 3 when one cannot answer, and 1 on warnings with --strict', async () => {
    const port = await freePort();
    const file = config(
      `checks:\n  http.health: { url: "http://127.0.0.1:${port}/healthz" }\n  python.environment: { python: /nonexistent/python }\n`,
    );
    const stateDir = tempDir();
    const failed = await check(['pre-upgrade', '--config', file, '--state-dir', stateDir, '--only', 'http.health']);
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toMatch(
      /  FAIL    http\.health +no answer .*\n +GET http:\/\/127\.0\.0\.1:\d+\/healthz: ECONNREFUSED; is the service running/,
    );
    const error = await check([
      'pre-upgrade',
      '--config',
      file,
      '--state-dir',
      stateDir,
      '--only',
      'python.environment',
    ]);
    expect(error.exitCode).toBe(3);
    expect(error.stdout).toContain('ERROR   python.environment');
    expect(
      (await check(['pre-upgrade', '--config', file, '--state-dir', stateDir, '--only', 'backup.fresh'])).exitCode,
    ).toBe(0);
    expect(
      (await check(['pre-upgrade', '--config', file, '--state-dir', stateDir, '--only', 'backup.fresh', '--strict']))
        .exitCode,
    ).toBe(1);
    const unknown = await check([
      'pre-upgrade',
      '--config',
      file,
      '--state-dir',
      stateDir,
      '--only',
      'snapshot.identical',
    ]);
    expect(unknown.exitCode).toBe(64);
    expect(unknown.stderr).toContain('--only names `snapshot.identical`, which is not in phase pre-upgrade');
  });

  it('refuses a bad configuration with positions and runs nothing', async () => {
    const stateDir = tempDir();
    const file = config('checks:\n  host.memory: { minAvailableMiB: lots }\n');
    const r = await check(['pre-upgrade', '--config', file, '--state-dir', stateDir]);
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain(
      `exec-doc: The checks configuration ${file} is not valid (1 problem); no check ran\n  ${file}:2:35: error: Unexpected value for \`minAvailableMiB\` in \`host.memory\`: expected number, received string [checks-config]\n`,
    );
    expect(existsSync(path.join(stateDir, 'checks'))).toBe(false);
  });

  it('looks at DATABASE_URL when set: an unreachable server fails reachable, the other database checks error, the password never shows', async () => {
    const file = config('phases:\n  pre-upgrade: [postgres.reachable, postgres.connections]\n');
    const stateDir = tempDir();
    const r = await check(['pre-upgrade', '--config', file, '--state-dir', stateDir, '--format', 'json'], {
      DATABASE_URL: 'postgresql://app:s3cret-pw@127.0.0.1:9/app',
    });
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.target).toBe('postgresql://app:***@127.0.0.1:9/app');
    expect(doc.results.map((x: { status: string }) => x.status)).toEqual(['fail', 'error']);
    expect(
      r.stdout +
        r.stderr +
        readFileSync(path.join(stateDir, 'checks', 'last.json'), 'utf8') +
        readFileSync(path.join(stateDir, 'checks', 'pre-upgrade.events.ndjson'), 'utf8'),
    ).not.toContain('s3cret-pw');
  });
});

describe('exec-doc check <section>', () => {
  it("runs the section's check blocks of a phase through the runner, and says which phases exist", async () => {
    const { dir } = writeDoc(
      '# G\n\n## Deploy\n\n```checks {id=gate phase=pre}\nchecks:\n  host.memory:\n```\n\n```bash {id=ready kind=check phase=pre}\ntest -d /tmp\n```\n\n```bash {id=deploy rollback=none}\necho deploying\n```\n\n```bash {id=smoke kind=check phase=post}\nexit 3\n```\n',
      'guide.md',
    );
    const stateDir = path.join(dir, '.exec-doc');
    const pre = await check(['guide/deploy', '--docs', dir, '--state-dir', stateDir]);
    expect(pre.exitCode, pre.stdout + pre.stderr).toBe(0);
    expect(pre.stdout).toMatch(/^guide\/deploy: 2 check blocks of phase pre \(run [^)]+\)\n/);
    expect(pre.stdout).toMatch(/  PASS    host\.memory /);
    expect(pre.stdout).toMatch(/  PASS    ready +exit 0 /);
    expect(pre.stdout).not.toContain('deploying');
    // The section's own "last verified" record is not touched by a check.
    expect(existsSync(path.join(stateDir, 'results', 'guide', 'deploy.json'))).toBe(false);
    const post = await check([
      'guide/deploy',
      '--docs',
      dir,
      '--state-dir',
      stateDir,
      '--phase',
      'post',
      '--format',
      'json',
    ]);
    expect(post.exitCode).toBe(1);
    expect(reportSchema(JSON.parse(post.stdout)), JSON.stringify(reportSchema.errors)).toBe(true);
    expect(JSON.parse(post.stdout)).toMatchObject({ passed: false, reason: '1 check(s) failed: smoke' });
    expect(JSON.parse(post.stdout).results[0]).toMatchObject({
      name: 'smoke',
      type: 'bash block',
      status: 'fail',
      detail: 'exited with code 3, expected 0',
    });
    const none = await check(['guide/deploy', '--docs', dir, '--state-dir', stateDir, '--phase', 'rollback']);
    expect(none.exitCode).toBe(64);
    expect(none.stderr).toContain('guide/deploy has no check blocks of phase rollback');
    expect(none.stderr).toContain('Its check blocks are of phase pre, post: pass --phase pre.');
  });

  it('exits 3 naming what is missing when a check block needs a program that is not there', async () => {
    const { dir } = writeDoc(
      '# G\n\n## Deploy\n\n```bash {id=probe kind=check phase=pre requires=cmd:exec-doc-no-such-tool}\nexec-doc-no-such-tool --version\n```\n',
      'guide.md',
    );
    const r = await check(['guide/deploy', '--docs', dir, '--state-dir', path.join(dir, '.exec-doc')]);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain(
      'Nothing ran: a requirement is missing\n  ✖ cmd:exec-doc-no-such-tool: `exec-doc-no-such-tool` is not on PATH; install it or add its folder to PATH\n',
    );
  });
});
