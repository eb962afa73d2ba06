// The guide's own procedures are doc-tests: every section runs for real, and the reference
// page documents every annotation field the parser knows.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { cli, ROOT, tempDir } from '../helpers.js';
import { loadCorpus } from '../../src/documents/corpus.js';
import { FIELDS } from '../../src/annotations/fields.js';
import { CHECKS } from '../../src/checks/registry.js';
import { loadChecksConfig } from '../../src/checks/config.js';

const docs = await loadCorpus({ docsRoot: path.join(ROOT, 'docs'), displayRoot: ROOT });
const sections = docs.flatMap((d) => d.sections);

describe('the guide', () => {
  it('has no document errors or warnings', () => {
    expect(docs.flatMap((d) => d.diagnostics)).toEqual([]);
    expect(sections.length).toBeGreaterThanOrEqual(8);
  });

  // A section that needs a Kubernetes cluster stops before anything runs (exit 3) where none is
  // configured, as on these machines; it runs for real where KUBECONFIG points at one.
  const noCluster = !process.env.KUBECONFIG && !existsSync(path.join(os.homedir(), '.kube', 'config'));
  // A rolling section stops the same way (exit 3, naming the inventory) where its default inventory
  // does not exist; test/hosts/rolling.test.ts runs it on hosts of its own.
  const noHosts = (s: (typeof sections)[number]) =>
    s.hosts !== undefined &&
    !existsSync(String(s.params.find((p) => p.name === 'inventory')?.default ?? s.hosts.inventory));
  const expectedExit = (s: (typeof sections)[number]) =>
    (noCluster && s.steps.some((step) => step.requires.includes('kubernetes'))) || noHosts(s)
      ? 3
      : s.slug.endsWith('-failing')
        ? 1
        : 0;
  // Three sections at a time (maxConcurrency): most of a section's time is waiting (servers
  // starting, load generators, health checks), and each run has its own state, ports and names.
  // Sections that install packages with the machine's dpkg run one at a time: one that leaves a
  // package half-configured on purpose (a failing post-install script) would otherwise be found
  // by another's apt-get, which then fails on it.
  let dpkgQueue: Promise<unknown> = Promise.resolve();
  const usesDpkg = (address: string) =>
    sections.find((s) => s.address === address)!.steps.some((step) => step.requires.includes('cmd:apt-get'));
  it.concurrent.each(sections.map((s) => [s.address, expectedExit(s)] as const))('%s runs and exits %d', async (address, expected) => {
    // A step marked `confirm` is confirmed up front, as an operator does with --yes.
    const confirms = sections.find((s) => s.address === address)!.steps.some((s) => s.confirm !== undefined);
    const run = () => cli(['run', address, '--state-dir', tempDir(), ...(confirms ? ['--yes'] : [])]);
    const turn = usesDpkg(address) ? dpkgQueue.then(run) : run();
    if (usesDpkg(address)) dpkgQueue = turn.catch(() => undefined);
    const r = await turn;
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(expected);
  });

  it('the README quick start works as written', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const command = /^npm run exec-doc -- (\S+)$/m.exec(readme);
    expect(command).not.toBeNull();
    const r = await execa('npm', ['run', '--silent', 'exec-doc', '--', command![1]!, '--state-dir', tempDir()], { cwd: ROOT, reject: false, env: { NO_COLOR: '1' } });
    expect(r.exitCode, String(r.stdout)).toBe(0);
    expect(String(r.stdout)).toContain('succeeded (exit 0)');
  });

  it('the validation guide documents every check, and the shipped configuration is the one it describes', () => {
    const page = readFileSync(path.join(ROOT, 'docs', '400_migration-upgrade-guide_validation.mdx'), 'utf8');
    for (const check of CHECKS) {
      expect(page, check.type).toContain(`### \`${check.type}\``);
      // Every setting of the check is named in its section.
      const section = page.slice(page.indexOf(`### \`${check.type}\``)).split('\n### ')[0]!;
      const keys = Object.keys((check.settings as unknown as { shape?: Record<string, unknown> }).shape ?? {});
      for (const key of keys) expect(section, `${check.type}.${key}`).toContain(`\`${key}`);
    }
    const config = loadChecksConfig(path.join(ROOT, 'exec-doc.checks.yaml'));
    for (const phase of ['pre-upgrade', 'post-upgrade', 'post-rollback'] as const) {
      const heading = page.slice(page.indexOf(`## ${phase[0]!.toUpperCase()}${phase.slice(1)} checks`)).split('\n## ')[0]!;
      for (const name of config.phases[phase]) expect(heading, `${phase}: ${name}`).toContain(`\`${name}\``);
    }
  });

  it('the annotation reference documents every field', () => {
    const page = readFileSync(path.join(ROOT, 'docs', '400_migration-upgrade-guide_annotation-reference.mdx'), 'utf8');
    for (const field of FIELDS) {
      const key = field.name.endsWith('Ms') ? field.aliases[0]! : field.name === 'expectExitCode' ? 'exit' : field.name === 'excluded' ? 'excludeFromRunAll' : field.name;
      expect(page, key).toContain(`| \`${key}\` |`);
      for (const alias of field.aliases) expect(page, alias).toContain(`\`${alias}\``);
    }
  });
});
