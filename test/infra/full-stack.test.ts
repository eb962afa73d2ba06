// The full-stack upgrade (rollback guide): database, application, configuration and container in
// one procedure, on the real components (embedded PostgreSQL, the shopapp service, Podman behind
// HAProxy). A failure before each layer, and before the final check, rolls every layer already
// changed back in reverse and verifies the starting point, with nothing left running; the operator
// script reports each layer's fate and the rollback's duration.
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT, runGuideSection, tempDir } from '../helpers.js';

const SECTION = 'rollback/full-stack-upgrade';
const SCRIPT = path.join(ROOT, 'scripts', 'procedures', 'full-stack', 'upgrade.sh');
const isRoot = process.getuid?.() === 0;
const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const LAYERS = ['fs-db', 'fs-release', 'fs-config', 'fs-container'];

const leftContainers = () => {
  const conf = path.join(tempDir(), 'containers.conf');
  spawnSync('sh', ['-c', `printf '[engine]\\ncgroup_manager="cgroupfs"\\nruntime="runc"\\n' > ${conf}`]);
  return spawnSync('podman', ['ps', '-a', '--format', '{{.Names}}'], {
    encoding: 'utf8',
    env: { ...process.env, CONTAINERS_CONF: conf },
  })
    .stdout.split('\n')
    .filter((n) => n.startsWith('fs-'));
};

describe.runIf(isRoot && has('podman') && has('haproxy'))('the full-stack upgrade', () => {
  // One at a time: each case starts the shopapp service, two containers and HAProxy.
  it.each(['fs-snapshot', ...LAYERS, 'fs-after'])(
    'failing before %s rolls back every layer changed, in reverse, and verifies the starting point',
    async (stepId) => {
      const outcome = await runGuideSection(SECTION, { env: { EXEC_DOC_FAIL_BEFORE: stepId } });
      const bad = outcome.record.steps.filter((s) => s.status !== 'passed' && s.stepId !== stepId);
      expect(outcome.exitCode, `${outcome.record.failureReason}\n${JSON.stringify(bad, null, 1)}`).toBe(1);
      const failed = outcome.record.steps.find((s) => s.stepId === outcome.record.failedStep);
      expect(outcome.record.failedStep, `${outcome.record.failureReason}\n${failed?.outputExcerpt ?? ''}`).toBe(stepId);
      expect(outcome.record.rollback.complete).toBe(true);
      const changed = LAYERS.slice(0, stepId === 'fs-after' ? 4 : Math.max(0, LAYERS.indexOf(stepId)));
      const rolledBack = outcome.record.steps.filter((s) => s.phase === 'rollback').map((s) => s.stepId);
      expect(rolledBack).toEqual([...changed].reverse().map((id) => ({ 'fs-db': 'fs-db-down' })[id] ?? `${id}-back`));
      const verified = outcome.record.steps.filter((s) => s.phase === 'verify');
      expect(verified.filter((s) => s.status !== 'passed')).toEqual([]);
      if (stepId !== 'fs-snapshot') expect(verified.map((s) => s.stepId)).toContain('fs-identical');
    },
    240_000,
  );

  it('the operator script: a drill rolls back all four layers and says so; a real server is refused', async () => {
    const drill = spawnSync('bash', [SCRIPT, '--drill'], { encoding: 'utf8', timeout: 240_000 });
    expect(drill.status, drill.stderr).toBe(1);
    expect(drill.stdout).toMatch(
      /^database {7}rolled back\napplication {4}rolled back\nconfiguration {2}rolled back\ncontainer {6}rolled back\nrun \S+: rolled-back \(exit 1\) in \d+ ms; rollback of every layer and its verification: \d+ ms\n$/,
    );
    expect(drill.stderr).toMatch(/\[\d+\/\d+\] fs-release ✔ \d+ ms\n/);
    expect(drill.stderr).toContain('every layer changed was rolled back and the starting point verified');
    expect(leftContainers()).toEqual([]);

    const real = spawnSync('bash', [SCRIPT], {
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: 'postgresql://app@127.0.0.1:1/app' },
    });
    expect(real.status).toBe(64);
    expect(real.stdout).toBe('');
    const usage = spawnSync('bash', [SCRIPT, 'rollback'], { encoding: 'utf8' });
    expect(usage.status).toBe(64);
    expect(usage.stderr).toContain('usage: upgrade.sh rollback <run-id>');
  }, 300_000);
});
