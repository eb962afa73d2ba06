// System package and container checks on real dpkg (a private database with packages built
// here) and real podman (an image imported from a busybox root file system).
import path from 'node:path';
import { existsSync, mkdirSync, writeFileSync, copyFileSync, symlinkSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { commandExists } from '../../src/util/which.js';
import { runCheck } from './helpers.js';

describe('packages.versions', () => {
  let admindir: string;
  let root: string;
  let debs: string;
  const dpkg = (...args: string[]) =>
    execa('dpkg', [
      `--admindir=${admindir}`,
      `--instdir=${root}`,
      '--force-not-root',
      '--force-script-chrootless',
      '--force-bad-path',
      ...args,
    ]);
  async function buildDeb(name: string, version: string): Promise<string> {
    const dir = path.join(debs, `${name}-${version}`);
    mkdirSync(path.join(dir, 'DEBIAN'), { recursive: true });
    mkdirSync(path.join(dir, 'usr', 'share', name), { recursive: true });
    writeFileSync(
      path.join(dir, 'DEBIAN', 'control'),
      `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: exec-doc tests <tests@example.com>\nDescription: test package\n`,
    );
    writeFileSync(path.join(dir, 'usr', 'share', name, 'version'), version);
    const file = path.join(debs, `${name}_${version}_all.deb`);
    await execa('dpkg-deb', ['--build', dir, file]);
    return file;
  }
  beforeAll(async () => {
    const dir = tempDir('exec-doc-dpkg-');
    admindir = path.join(dir, 'admin');
    root = path.join(dir, 'root');
    debs = path.join(dir, 'debs');
    for (const d of [path.join(admindir, 'updates'), path.join(admindir, 'info'), root, debs])
      mkdirSync(d, { recursive: true });
    writeFileSync(path.join(admindir, 'status'), '');
    await dpkg('-i', await buildDeb('exec-doc-demo', '1.0-1'), await buildDeb('exec-doc-tool', '2.3-1'));
  });

  it('passes when versions are as expected and fails naming what is not', async () => {
    const ok = await runCheck('packages.versions', {
      admindir,
      packages: [
        { name: 'exec-doc-demo', version: '1.0-1' },
        { name: 'exec-doc-tool', minVersion: '2.0' },
      ],
    });
    expect(ok).toMatchObject({ status: 'pass', value: '2 installed, 0 held, 2 of 2 as expected' });
    const r = await runCheck('packages.versions', {
      admindir,
      packages: [
        { name: 'exec-doc-demo', minVersion: '1.0-2' },
        { name: 'exec-doc-tool', version: '2.4-1' },
        { name: 'exec-doc-absent' },
      ],
    });
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('exec-doc-demo 1.0-1 is older than 1.0-2');
    expect(r.detail).toContain('exec-doc-tool 2.3-1 is installed, expected 2.4-1');
    expect(r.detail).toContain('exec-doc-absent is not installed');
    expect(r.value).toBe('2 installed, 0 held, 0 of 3 as expected');
    expect(
      (
        await runCheck('packages.versions', {
          admindir,
          packages: [{ name: 'exec-doc-demo' }, { name: 'exec-doc-absent' }],
        })
      ).value,
    ).toBe('2 installed, 0 held, 1 of 2 as expected');
  });

  it('reports holds: expected ones pass, missing ones fail, unexpected ones warn (or fail)', async () => {
    await execa('dpkg', [`--admindir=${admindir}`, '--set-selections'], { input: 'exec-doc-demo hold\n' });
    try {
      expect(
        (await runCheck('packages.versions', { admindir, packages: [{ name: 'exec-doc-demo', held: true }] })).status,
      ).toBe('pass');
      const stray = await runCheck('packages.versions', { admindir });
      expect(stray.status).toBe('warn');
      expect(stray.detail).toContain('held but not listed: exec-doc-demo');
      expect((await runCheck('packages.versions', { admindir, unexpectedHolds: 'fail' })).status).toBe('fail');
      expect(
        (await runCheck('packages.versions', { admindir, packages: [{ name: 'exec-doc-demo', held: false }] })).detail,
      ).toContain('exec-doc-demo is held, so it will not be upgraded');
      expect(
        (await runCheck('packages.versions', { admindir, packages: [{ name: 'exec-doc-tool', held: true }] })).detail,
      ).toContain('exec-doc-tool is not held');
    } finally {
      await execa('dpkg', [`--admindir=${admindir}`, '--set-selections'], { input: 'exec-doc-demo install\n' });
    }
  });

  it('reports error when dpkg-query is not there', async () => {
    const r = await runCheck('packages.versions', {}, { env: { ...process.env, PATH: '/nonexistent' } });
    expect(r.status).toBe('error');
    expect(r.detail).toContain('`dpkg-query` is not installed');
  });
});

// Podman as the project's machines run it: runc, cgroupfs, no ulimits (see MACHINE-NOTES).
const podmanReady = commandExists('podman') && existsSync('/bin/busybox');
describe.skipIf(!podmanReady && !process.env.CI)('container.image', () => {
  const name = `exec-doc-check-${process.pid}`;
  let env: NodeJS.ProcessEnv;
  let imageId: string;
  let otherId: string;
  const podman = (...args: string[]) => execa('podman', args, { env });
  beforeAll(async () => {
    const dir = tempDir('exec-doc-podman-');
    const conf = path.join(dir, 'containers.conf');
    writeFileSync(conf, '[containers]\ndefault_ulimits=[]\n[engine]\ncgroup_manager="cgroupfs"\nruntime="runc"\n');
    env = { ...process.env, CONTAINERS_CONF: conf };
    const rootfs = path.join(dir, 'rootfs');
    mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
    for (const tool of ['sh', 'sleep']) symlinkSync('busybox', path.join(rootfs, 'bin', tool));
    writeFileSync(path.join(rootfs, 'release'), 'v1\n');
    await execa('tar', ['-C', rootfs, '-cf', path.join(dir, 'v1.tar'), '.']);
    writeFileSync(path.join(rootfs, 'release'), 'v2\n');
    await execa('tar', ['-C', rootfs, '-cf', path.join(dir, 'v2.tar'), '.']);
    imageId = (await podman('import', '-q', path.join(dir, 'v1.tar'), 'localhost/exec-doc-check:1')).stdout.trim();
    otherId = (await podman('import', '-q', path.join(dir, 'v2.tar'), 'localhost/exec-doc-check:2')).stdout.trim();
    await podman('run', '-d', '--name', name, '--network=host', 'localhost/exec-doc-check:1', '/bin/sleep', '600');
  }, 120_000);
  afterAll(async () => {
    await podman('rm', '-f', '-t', '0', name).catch(() => undefined);
    await podman('rmi', '-f', 'localhost/exec-doc-check:1', 'localhost/exec-doc-check:2').catch(() => undefined);
  });

  it('passes when the running container has the expected image, by digest or id prefix', async () => {
    const full = await runCheck(
      'container.image',
      { engine: 'podman', container: name, expectImage: imageId },
      { env },
    );
    expect(full.status).toBe('pass');
    expect(full.value).toBe(`localhost/exec-doc-check:1 ${imageId.replace('sha256:', '').slice(0, 12)}`);
    expect(
      (
        await runCheck(
          'container.image',
          { engine: 'podman', container: name, expectImage: imageId.replace('sha256:', '').slice(0, 12) },
          { env },
        )
      ).status,
    ).toBe('pass');
  });

  it('fails on another image, on a stopped container and on an unknown one', async () => {
    const wrong = await runCheck(
      'container.image',
      { engine: 'podman', container: name, expectImage: otherId },
      { env },
    );
    expect(wrong.status).toBe('fail');
    expect(wrong.detail).toContain('redeploy the expected image or roll back');
    expect(
      (
        await runCheck(
          'container.image',
          { engine: 'podman', container: 'no-such-container-here', expectImage: imageId },
          { env },
        )
      ).value,
    ).toBe('no such container');
    await podman('stop', '-t', '0', name);
    try {
      const stopped = await runCheck(
        'container.image',
        { engine: 'podman', container: name, expectImage: imageId },
        { env },
      );
      expect(stopped.status).toBe('fail');
      expect(stopped.detail).toMatch(/is (exited|stopped)/);
    } finally {
      await podman('start', name);
    }
  });

  it('reports error when the engine is missing', async () => {
    const r = await runCheck(
      'container.image',
      { engine: 'docker', container: name, expectImage: imageId },
      { env: { ...env, PATH: '/nonexistent' } },
    );
    expect(r.status).toBe('error');
    expect(r.detail).toContain('`docker` is not installed');
  });
});
