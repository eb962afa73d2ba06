// Kubernetes manifests validated offline against the API schemas, with positions; the guide's own
// manifests are valid.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateManifests } from '../../src/checks/library/kubernetes.js';
import { ROOT } from '../helpers.js';

describe('kubernetes.manifests', () => {
  it('accepts the infrastructure guide’s manifests', async () => {
    const file = path.join(ROOT, 'scripts', 'procedures', 'infra', 'k8s', 'web.yaml');
    expect(await validateManifests(file, readFileSync(file, 'utf8'))).toEqual([]);
  });

  it('names each violation at its line and column: wrong types, an unknown kind', async () => {
    const file = path.join(ROOT, 'test', 'fixtures', 'k8s', 'broken.yaml');
    const problems = await validateManifests('broken.yaml', readFileSync(file, 'utf8'));
    expect(problems.map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual([
      '6:13 Unexpected value for `spec.replicas` in Deployment web: must be integer',
      '17:30 Unexpected value for `spec.template.spec.containers.0.ports.0.containerPort` in Deployment web: must be integer',
      '20:7 Unexpected apiVersion/kind `apps/v1` `Deploymint`, expected a Kubernetes resource such as apps/v1 Deployment',
    ]);
  });

  it('reports broken YAML with its position', async () => {
    const problems = await validateManifests('x.yaml', 'apiVersion: v1\nkind: [Service\n');
    expect(problems[0]).toMatchObject({ file: 'x.yaml', line: 3 });
    expect(problems[0]!.message).toMatch(/^Unexpected YAML: /);
  });
});
