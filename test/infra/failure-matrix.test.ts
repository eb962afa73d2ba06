// The infrastructure guide on real components: the machine's dpkg/apt (as root), Podman, and a
// private Docker daemon this file starts and stops. Every forward block of the package and the
// container procedures fails once (EXEC_DOC_FAIL_BEFORE), and each time the rollback returns the
// machine to where it started: the checks that ran before the change pass again (same package
// versions and holds; 1.0 served through the proxy from image 1.0), and nothing is left behind
// (no rehearsal package installed, no container, no image).
import path from 'node:path';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/plan.js';
import { loadCorpus } from '../../src/documents/corpus.js';
import { ROOT, runGuideSection, tempDir } from '../helpers.js';

const docsRoot = path.join(ROOT, 'docs');
const DOC = 'infrastructure-upgrades';
const TOOLS = path.join(ROOT, 'scripts', 'procedures', 'infra', 'tools');
const docs = await loadCorpus({ docsRoot, displayRoot: ROOT });
const sections = docs.find((d) => d.docId === DOC)!.sections;
const isRoot = process.getuid?.() === 0;
const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

const casesOf = (slug: string) =>
  buildPlan(sections.find((s) => s.slug === slug)!)
    .forward.filter(
      (step) => step.kind === 'setup' || step.kind === 'step' || (step.kind === 'check' && step.phase === 'post'),
    )
    .map((step) => [slug, step.id] as const);

const run = (slug: string, env: Record<string, string>, sets: Record<string, string> = {}) =>
  runGuideSection(`${DOC}/${slug}`, { env, sets });

const leftovers = (): string[] => {
  const packages = spawnSync('dpkg-query', ['-W', '-f', '${Package} ${Status}\\n', 'xd-*'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l && !l.endsWith('not-installed'));
  const conf = path.join(tempDir(), 'containers.conf');
  execFileSync('sh', ['-c', `printf '[engine]\\ncgroup_manager="cgroupfs"\\nruntime="runc"\\n' > ${conf}`]);
  const containers = spawnSync('podman', ['ps', '-a', '--format', '{{.Names}}'], {
    encoding: 'utf8',
    env: { ...process.env, CONTAINERS_CONF: conf },
  })
    .stdout.split('\n')
    .filter((n) => n.startsWith('xd-'));
  return [...packages, ...containers];
};

const expectBack = (outcome: Awaited<ReturnType<typeof run>>, stepId: string) => {
  const failed = outcome.record.steps.filter((s) => s.status !== 'passed' && s.stepId !== stepId);
  expect(outcome.exitCode, `${outcome.record.failureReason}\n${JSON.stringify(failed, null, 1)}`).toBe(1);
  expect(outcome.record.failedStep).toBe(stepId);
  expect(outcome.record.steps.filter((s) => s.phase === 'verify' && s.status !== 'passed')).toEqual([]);
  expect(outcome.record.rollback.complete).toBe(true);
};

describe.runIf(isRoot && has('dpkg-deb') && has('apt-get'))(
  'system packages on the real dpkg, under injected failures',
  () => {
    it.concurrent.each(casesOf('upgrade-a-system-package'))(
      '%s: failing before %s leaves the packages as they were',
      async (slug, stepId) => {
        const outcome = await run(slug, { EXEC_DOC_FAIL_BEFORE: stepId });
        expectBack(outcome, stepId);
        const setup = stepId === 'deb-rehearsal';
        // Verification re-ran the pre check (versions 1.0-1, no hold) whenever it had passed.
        if (!setup)
          expect(outcome.record.steps.some((s) => s.phase === 'verify' && s.stepId === 'deb-before')).toBe(true);
      },
      180_000,
    );

    it('a failing postinst leaves nothing half-configured: the step puts back the versions it found', async () => {
      const outcome = await run('a-failing-post-install-failing', {});
      expect(outcome.exitCode).toBe(1);
      expect(outcome.record.failureReason).toBe('exited with code 1, expected 0');
      expect(outcome.record.steps.find((s) => s.phase === 'verify' && s.stepId === 'postinst-before')).toMatchObject({
        status: 'passed',
      });
      expect(spawnSync('dpkg', ['--audit'], { encoding: 'utf8' }).stdout).not.toMatch(/xd-/);
    }, 180_000);
  },
);

describe.runIf(isRoot && has('podman') && has('haproxy'))(
  'a container image upgrade on Podman, under injected failures',
  () => {
    it.concurrent.each(casesOf('upgrade-a-container-image'))(
      '%s: failing before %s serves 1.0 from image 1.0 again',
      async (slug, stepId) => {
        const outcome = await run(slug, { EXEC_DOC_FAIL_BEFORE: stepId });
        expectBack(outcome, stepId);
      },
      180_000,
    );

    it('refuses an image that does not exist, and a container that never answers', async () => {
      const env = { ...process.env, ENGINE: 'podman' };
      const missing = spawnSync(
        path.join(TOOLS, 'ctrctl.sh'),
        ['run', 'xd-missing', 'localhost/xd-no-such-image:9', '18999'],
        {
          encoding: 'utf8',
          env,
        },
      );
      expect(missing.status).toBe(1);
      expect(missing.stderr).toMatch(/podman could not start localhost\/xd-no-such-image:9/);
      // A port someone else holds: the container's web server cannot bind it and exits, and what
      // answers there closes every connection at once. The container never becomes healthy.
      const dir = tempDir();
      const images = execFileSync(path.join(TOOLS, 'ctrctl.sh'), ['images', dir, 'xd-silent'], {
        encoding: 'utf8',
        env,
      });
      const v1 = /IMAGE_V1=(\S+)/.exec(images)![1]!;
      const holder = spawn('python3', [
        '-c',
        'import socket\ns = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True)\nwhile True: s.accept()[0].close()',
      ]);
      const port = await new Promise<string>((resolve) =>
        holder.stdout!.once('data', (d) => resolve(String(d).trim())),
      );
      try {
        const silent = spawnSync(path.join(TOOLS, 'ctrctl.sh'), ['run', 'xd-silent-c', v1, port], {
          encoding: 'utf8',
          env,
          timeout: 60_000,
        });
        expect(silent.status).toBe(1);
        expect(silent.stderr).toContain(`xd-silent-c never answered on 127.0.0.1:${port}`);
      } finally {
        holder.kill();
      }
      spawnSync(path.join(TOOLS, 'ctrctl.sh'), ['rm', 'xd-silent-c'], { env });
      spawnSync(path.join(TOOLS, 'ctrctl.sh'), ['rmi', 'localhost/xd-silent:1.0', 'localhost/xd-silent:2.0'], { env });
    }, 120_000);
  },
);

describe.runIf(isRoot && has('dockerd') && has('haproxy'))(
  'the same container procedure on a real Docker daemon',
  () => {
    const dir = tempDir('exec-doc-dockerd-');
    let dockerHost = '';
    beforeAll(() => {
      dockerHost = execFileSync(path.join(TOOLS, 'dockerd.sh'), ['start', dir], { encoding: 'utf8' })
        .trim()
        .split('=')[1]!;
    }, 60_000);
    afterAll(() => {
      execFileSync(path.join(TOOLS, 'dockerd.sh'), ['stop', dir]);
    }, 60_000);

    it('upgrades 1.0 to 2.0 with no failed request, and rolls back when the last check fails', async () => {
      const ok = await run('upgrade-a-container-image', { DOCKER_HOST: dockerHost }, { engine: 'docker' });
      expect(ok.exitCode, ok.record.failureReason ?? '').toBe(0);
      const metrics = ok.record.steps.find((s) => s.stepId === 'ctr-measure')!.metrics!;
      expect(metrics.find((m) => m.name === 'failedRequests')).toMatchObject({ value: 0 });
      expect(metrics.find((m) => m.name === 'requests')!.value).toBeGreaterThan(100);
      const failed = await run(
        'upgrade-a-container-image',
        { DOCKER_HOST: dockerHost, EXEC_DOC_FAIL_BEFORE: 'ctr-runs-v2' },
        { engine: 'docker' },
      );
      expectBack(failed, 'ctr-runs-v2');
      const left = spawnSync('/usr/bin/docker', ['ps', '-aq'], {
        encoding: 'utf8',
        env: { ...process.env, DOCKER_HOST: dockerHost },
      });
      expect(left.stdout.trim()).toBe('');
    }, 240_000);
  },
);

describe.runIf(isRoot)('after the infrastructure tests', () => {
  it('nothing of a rehearsal is left installed or running (checked last in this file)', () => {
    expect(leftovers()).toEqual([]);
  });
});
