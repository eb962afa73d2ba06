// Rolling upgrades on real hosts: five network namespaces made by this file, each with its own
// address, its own sshd (reached by Ansible with a key made here), its own /srv/exec-doc-host and
// web service; all removed afterwards, also when a test fails. The infrastructure guide's section
// runs on them through Ansible: upgraded batch by batch; a third host that fails its health gate
// leaves hosts 1-2 rolled back (newest first) and hosts 4-5 untouched; a run killed half-way is
// resumed; plan lists the batches.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/results/record.js';
import { batchesOf, resolveHostsSettings } from '../../src/hosts/inventory.js';
import { readLatestRuns } from '../../src/agents/last-runs.js';
import { captureIo, cliInProcess, extract, ROOT, runGuideSection, tempDir } from '../helpers.js';
import { expandRolling, type BatchSpec } from '../../src/hosts/expand.js';
import { expandForRun, rollingPlan } from '../../src/hosts/prepare.js';
import { hostsSummary, runBatch, undoBatch } from '../../src/hosts/batch.js';
import { hostsCommand } from '../../src/cli/hosts.js';
import { resolveSection } from '../../src/documents/address.js';

const SECTION = 'infrastructure-upgrades/rolling-upgrade-across-hosts';
const NSHOSTS = path.join(ROOT, 'scripts', 'procedures', 'hosts', 'nshosts.sh');
const isRoot = process.getuid?.() === 0;
const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const ready = isRoot && has('ansible-playbook') && existsSync('/usr/sbin/sshd') && has('curl');

describe('batches, as Ansible makes them', () => {
  it('splits hosts by a number or a percentage (rounded down, at least one)', () => {
    const five = ['a', 'b', 'c', 'd', 'e'];
    expect(batchesOf(five, '1')).toEqual([['a'], ['b'], ['c'], ['d'], ['e']]);
    expect(batchesOf(five, '2')).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(batchesOf(five, '40%')).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(batchesOf(five, '10%')).toEqual([['a'], ['b'], ['c'], ['d'], ['e']]);
    expect(batchesOf(five, '100%')).toEqual([five]);
  });

  it('refuses a serial or pattern that is not one, and a parameter with no value', () => {
    const settings = { inventory: 'inv', pattern: 'web', serial: '1', maxFailPercentage: 0 };
    expect(() => resolveHostsSettings({ ...settings, serial: '0' }, {}, '/')).toThrow(/expected a number of hosts/);
    expect(() => resolveHostsSettings({ ...settings, serial: '150%' }, {}, '/')).toThrow(/at most 100%/);
    expect(() => resolveHostsSettings({ ...settings, pattern: 'web; rm -rf /' }, {}, '/')).toThrow(
      /expected an Ansible host pattern/,
    );
    expect(() => resolveHostsSettings({ ...settings, pattern: '--help' }, {}, '/')).toThrow(/host pattern/);
    expect(() => resolveHostsSettings({ ...settings, inventory: '${{ params.inventory }}' }, {}, '/')).toThrow(
      /names parameter `inventory`, which has no value/,
    );
    expect(resolveHostsSettings(settings, {}, '/docs')).toMatchObject({ inventory: '/docs/inv', serial: '1' });
  });

  it('expands a section into one step per batch, undone by its own rollback; refuses what it cannot run on hosts', async () => {
    const doc = (extra: string) =>
      `---\nexec-doc:\n  hosts: { inventory: inv.ini }\n---\n# R\n\n## Up\n\n\`\`\`bash {id=prep kind=setup rollback=none}\ntrue\n\`\`\`\n\n\`\`\`bash {id=go rollback=back}\necho go\n\`\`\`\n\n\`\`\`bash {id=back kind=rollback}\necho back\n\`\`\`\n${extra}`;
    const section = (await extract(doc(''))).sections[0]!;
    const hosts = { inventory: '/inv.ini', pattern: 'all', serial: '2', maxFailPercentage: 0 };
    const expanded = expandRolling(section, hosts, [['a', 'b'], ['c']], {});
    expect(expanded.steps.map((s) => [s.id, s.kind, s.rollback ?? null])).toEqual([
      ['prep', 'setup', null],
      ['batch-1', 'step', 'undo-batch-1'],
      ['undo-batch-1', 'rollback', null],
      ['batch-2', 'step', 'undo-batch-2'],
      ['undo-batch-2', 'rollback', null],
    ]);
    expect(expanded.steps[1]!.meta).toBe('batch 1 of 2: a, b');
    const withOutput = (
      await extract(doc('\n\`\`\`bash {id=see kind=check}\necho 1\n\`\`\`\n\n\`\`\`output\n1\n\`\`\`\n'))
    ).sections[0]!;
    expect(() => expandRolling(withOutput, hosts, [['a']], {})).toThrow(
      /see has an expected output, which is not compared on hosts/,
    );
  });

  it('a value that does not validate is refused with its own message before any host is listed', async () => {
    const r = await cliInProcess(['run', SECTION, '--set', 'serial=all', '--set', 'inventory=/nonexistent/inv'], {
      env: { ...process.env } as Record<string, string>,
    });
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain('parameter `serial`');
    expect(r.stderr).not.toContain('inventory');
  });
});

describe.runIf(ready)('a rolling upgrade on five real hosts', () => {
  const dir = path.join(os.tmpdir(), `exec-doc-hosts-test-${process.pid}`);
  const inventory = path.join(dir, 'inventory.ini');
  const served = (i: number) => readFileSync(path.join(dir, `h${i}`, 'root', 'current', 'version.txt'), 'utf8').trim();
  const touched = (i: number) =>
    existsSync(path.join(dir, `h${i}`, 'root', 'releases', '2.0')) ||
    existsSync(path.join(dir, `h${i}`, 'root', 'previous-2.0'));
  const hostsUp = () => {
    spawnSync('bash', [NSHOSTS, 'down', dir]);
    const up = spawnSync('bash', [NSHOSTS, 'up', dir, '5'], { encoding: 'utf8' });
    expect(up.status, up.stderr).toBe(0);
  };

  beforeAll(hostsUp, 180_000);
  afterAll(() => {
    spawnSync('bash', [NSHOSTS, 'down', dir]);
    expect(existsSync(dir)).toBe(false);
  });

  it('plan lists the hosts Ansible selects and the batches', async () => {
    const env = { env: { ...process.env } as Record<string, string> };
    const r = await cliInProcess(['plan', SECTION, '--set', `inventory=${inventory}`, '--set', 'serial=40%'], env);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Hosts: 5 host(s) of ${inventory} matching \`web\`, in 3 batch(es) of 40% (Ansible)`);
    expect(r.stdout).toContain('  batch 1: web-1, web-2\n  batch 2: web-3, web-4\n  batch 3: web-5\n');
    const missing = await cliInProcess(['run', SECTION, '--set', `inventory=${dir}/none.ini`], env);
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toContain(`the inventory ${dir}/none.ini does not exist`);
  }, 60_000);

  it('the third host fails its health gate: it and hosts 1-2 are put back, newest first; hosts 4-5 are untouched', async () => {
    hostsUp();
    const stale = spawnSync('bash', [NSHOSTS, 'stale', dir, '3'], { encoding: 'utf8' });
    expect(stale.status, stale.stderr).toBe(0);
    const outcome = await runGuideSection(SECTION, { sets: { inventory } });
    expect(outcome.exitCode, outcome.record.failureReason ?? '').toBe(1);
    expect(outcome.record.failedStep).toBe('batch-3');
    expect(outcome.record.rollback).toMatchObject({ complete: true, undone: ['batch-2', 'batch-1'] });
    expect(outcome.record.hosts!.map((h) => [h.host, h.batch, h.state])).toEqual([
      ['web-1', 1, 'rolled-back'],
      ['web-2', 2, 'rolled-back'],
      ['web-3', 3, 'rolled-back'],
      ['web-4', 4, 'untouched'],
      ['web-5', 5, 'untouched'],
    ]);
    expect(outcome.record.hosts![2]).toMatchObject({
      failedTask: 'rl-health',
      done: ['rl-before', 'rl-install', 'rl-switch'],
      reason: expect.stringContaining('web-3 serves 1.0, not 2.0'),
    });
    // What the site shows of the run: each host's batch and state.
    expect(readLatestRuns(path.join(outcome.stateDir, 'results'))[SECTION]!.hosts).toEqual([
      { host: 'web-1', batch: 1, state: 'rolled-back' },
      { host: 'web-2', batch: 2, state: 'rolled-back' },
      { host: 'web-3', batch: 3, state: 'rolled-back', failedTask: 'rl-health' },
      { host: 'web-4', batch: 4, state: 'untouched' },
      { host: 'web-5', batch: 5, state: 'untouched' },
    ]);
    for (const i of [1, 2, 3, 4, 5]) expect(served(i), `web-${i}`).toBe('1.0');
    for (const i of [1, 2, 3]) expect(existsSync(path.join(dir, `h${i}`, 'root', 'releases', '2.0'))).toBe(false);
    expect([4, 5].map(touched)).toEqual([false, false]);
    // Newest first: web-2 was put back before web-1.
    const log = readFileSync(path.join(outcome.runDir, 'output.log'), 'utf8');
    expect(log.indexOf('web-2: rolling back')).toBeLessThan(log.indexOf('web-1: rolling back'));
    expect(log.indexOf('web-1: rolling back')).toBeGreaterThan(0);
  }, 240_000);

  it('a batch within its failure threshold puts back only its failed host; its undo puts back the others, last first', async () => {
    hostsUp();
    expect(spawnSync('bash', [NSHOSTS, 'stale', dir, '2']).status).toBe(0);
    const { section, path: documentPath } = await resolveSection(SECTION, { docsRoot: path.join(ROOT, 'docs') });
    const values = { inventory, hosts: 'web', serial: '5', release: '2.0' };
    const plan = rollingPlan(section, values, documentPath, process.env);
    expect(plan.batches).toEqual([['web-1', 'web-2', 'web-3', 'web-4', 'web-5']]);
    const expanded = expandForRun(section, { ...plan, hosts: { ...plan.hosts, maxFailPercentage: 20 } }, values);
    const spec = JSON.parse(expanded.steps.find((st) => st.id === 'batch-1')!.code.split('\n')[1]!) as BatchSpec;
    const runDir = tempDir('exec-doc-batch-');
    process.env.EXEC_DOC_PARAM_release = '2.0';
    try {
      // One host of five failed (20 %): within the threshold, the batch passes, that host is put back.
      expect(await runBatch(spec, runDir)).toBe(0);
      expect(hostsSummary(runDir, plan.batches).map((h) => [h.host, h.state])).toEqual([
        ['web-1', 'upgraded'],
        ['web-2', 'rolled-back'],
        ['web-3', 'upgraded'],
        ['web-4', 'upgraded'],
        ['web-5', 'upgraded'],
      ]);
      expect([1, 2, 3, 4, 5].map(served)).toEqual(['2.0', '1.0', '2.0', '2.0', '2.0']);
      // Run again (as after a runner died): nothing is run twice.
      expect(await runBatch(spec, runDir)).toBe(0);
      expect(await undoBatch(spec, runDir)).toBe(0);
      expect(hostsSummary(runDir, plan.batches).every((h) => h.state === 'rolled-back')).toBe(true);
      expect([1, 2, 3, 4, 5].map(served)).toEqual(['1.0', '1.0', '1.0', '1.0', '1.0']);
      expect(await undoBatch({ ...spec, batch: 2 }, runDir)).toBe(0);
    } finally {
      delete process.env.EXEC_DOC_PARAM_release;
    }
    // The command the batch steps run, refusing what is not a batch.
    const io = captureIo({ ...process.env, EXEC_DOC_RUN_DIR: runDir });
    expect(await hostsCommand(['batch'], io)).toBe(64);
    expect(io.err()).toContain('usage: exec-doc hosts batch|undo -');
    const noDir = captureIo({});
    expect(await hostsCommand(['undo', '-'], noDir)).toBe(64);
    expect(noDir.err()).toContain('EXEC_DOC_RUN_DIR is not set');
  }, 240_000);

  it('upgrades every host in batches of two, and a run killed in the middle is resumed to the end', async () => {
    hostsUp();
    const stateDir = tempDir('exec-doc-rolling-');
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'bin', 'exec-doc.js'),
        'run',
        SECTION,
        '--set',
        `inventory=${inventory}`,
        '--set',
        'serial=2',
        '--state-dir',
        stateDir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    let out = '';
    // Killed (SIGKILL: no rollback, no cleanup) once the second batch has started.
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (d) => {
        out += String(d);
        if (out.includes('batch 2 of 3')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('close', () => resolve());
    });
    await new Promise((r) => child.on('close', r));
    const runId = /run (\S+-rolling-upgrade-across-hosts-\w+)/.exec(out)?.[1];
    expect(runId, out).toBeDefined();
    const resumed = await cliInProcess(['resume', runId!, '--state-dir', stateDir], {
      env: { ...process.env } as Record<string, string>,
    });
    expect(resumed.exitCode, `${resumed.stdout}\n${resumed.stderr}`).toBe(0);
    const record = JSON.parse(readFileSync(path.join(stateDir, 'runs', runId!, 'result.json'), 'utf8')) as RunRecord;
    expect(record.status).toBe('succeeded');
    expect(record.hosts!.map((h) => [h.host, h.batch, h.state])).toEqual([
      ['web-1', 1, 'upgraded'],
      ['web-2', 1, 'upgraded'],
      ['web-3', 2, 'upgraded'],
      ['web-4', 2, 'upgraded'],
      ['web-5', 3, 'upgraded'],
    ]);
    for (const i of [1, 2, 3, 4, 5]) expect(served(i), `web-${i}`).toBe('2.0');
  }, 240_000);
});
