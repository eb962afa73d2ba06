// Requirement checks against the real machine: each says what it found and how to fix a gap.
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRequirement, checkRequirements } from '../../src/runner/requirements.js';
import { requirementsOf } from '../../src/plan/plan.js';
import { tempDir } from '../helpers.js';

const target = { kind: 'postgres' as const, urlEnv: 'EXEC_DOC_NO_SUCH_URL', database: 'postgres' };

describe('requirements', () => {
  it("finds programs on the PATH given, not on the runner's own", async () => {
    const bin = path.join(tempDir(), 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'mytool'), '#!/bin/sh\n');
    chmodSync(path.join(bin, 'mytool'), 0o755);
    writeFileSync(path.join(bin, 'notexec'), '');
    const env = { PATH: bin };
    expect(await checkRequirement('cmd:mytool', { target, env })).toEqual({
      requirement: 'cmd:mytool',
      ok: true,
      detail: 'mytool is on PATH',
    });
    expect((await checkRequirement('cmd:notexec', { target, env })).ok).toBe(false);
    expect(await checkRequirement('python', { target, env })).toEqual({
      requirement: 'python',
      ok: false,
      detail: 'python3 is not on PATH; install Python 3 (e.g. `apt-get install python3 python3-venv`)',
    });
    expect((await checkRequirement('docker', { target, env })).detail).toBe(
      'docker is not on PATH; install Docker, or use podman',
    );
    expect((await checkRequirement('podman', { target, env })).detail).toBe(
      'podman is not on PATH; install it (e.g. `apt-get install podman runc`)',
    );
  });

  it('reports python with its version, node, and root as the process really is', async () => {
    const python = await checkRequirement('python', { target, env: process.env });
    expect(python.ok).toBe(true);
    expect(python.detail).toMatch(/^Python 3\.\d+/);
    expect(await checkRequirement('node', { target, env: process.env })).toEqual({
      requirement: 'node',
      ok: true,
      detail: `Node ${process.version}`,
    });
    const root = await checkRequirement('root', { target, env: process.env });
    expect(root.ok).toBe(process.getuid?.() === 0);
  });

  it('says a Kubernetes step was not executed when no cluster is configured', async () => {
    const r = await checkRequirement('kubernetes', {
      target,
      env: { ...process.env, KUBECONFIG: path.join(tempDir(), 'none') },
    });
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(
      /^no cluster configured \(no .*none\); set KUBECONFIG to a reachable cluster — the step was not executed$/,
    );
  });

  it('checks a docker engine, not just the client', async () => {
    const r = await checkRequirement('docker', { target, env: process.env });
    // Either an engine answers (and says its version) or the detail explains that none does.
    expect(r.detail).toMatch(r.ok ? /^Docker engine \S+/ : /(no Docker engine answers|docker is not on PATH)/);
  });

  it('sorts and deduplicates, and knows what each language implies', async () => {
    const results = await checkRequirements(['node', 'cmd:sh', 'node'], { target, env: process.env });
    expect(results.map((r) => r.requirement)).toEqual(['cmd:sh', 'node']);
    const step = { requires: ['root'], lang: 'sql' } as unknown as Parameters<typeof requirementsOf>[0];
    expect(requirementsOf(step)).toEqual(['postgres', 'root']);
    expect(requirementsOf({ ...step, lang: 'bash', requires: [] })).toEqual(['cmd:bash']);
    expect(requirementsOf({ ...step, lang: 'ts', requires: [] })).toEqual(['node']);
  });

  it('finds the embedded PostgreSQL when no server is configured', async () => {
    const r = await checkRequirement('postgres', { target, env: {} });
    expect(r).toEqual({ requirement: 'postgres', ok: true, detail: 'embedded PostgreSQL (started for the run)' });
  });
});
