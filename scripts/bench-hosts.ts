// Many hosts for `npm run bench` (as root, with ansible-playbook and sshd): five real hosts
// (scripts/procedures/hosts/nshosts.sh), the infrastructure guide's rolling upgrade on them one host
// per batch and all five in one batch, side by side, and the same four blocks run locally with
// bash: what a host costs through Ansible and SSH, per host and per block.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveSection } from '../src/documents/address.js';
import { runSection } from '../src/runner/run.js';

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

export async function hostsBench(say: (line: string) => void, root: string, rounds: number): Promise<void> {
  const nshosts = path.join(root, 'scripts', 'procedures', 'hosts', 'nshosts.sh');
  const dir = path.join(os.tmpdir(), `exec-doc-hosts-bench-${process.pid}`);
  const docsRoot = path.join(root, 'docs');
  const { section, path: documentPath } = await resolveSection('infrastructure-upgrades/rolling-upgrade-across-hosts', {
    docsRoot,
  });
  const blocks = section.steps.filter((st) => st.kind === 'step' || (st.kind === 'check' && st.phase !== 'rollback'));
  const serial: number[] = [];
  const parallel: number[] = [];
  const perBlock: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [batch, into] of [
        ['1', serial],
        ['5', parallel],
      ] as const) {
        spawnSync('bash', [nshosts, 'down', dir]);
        const up = spawnSync('bash', [nshosts, 'up', dir, '5'], { encoding: 'utf8' });
        if (up.status !== 0) throw new Error(`nshosts up failed: ${up.stderr}`);
        const stateDir = mkdtempSync(path.join(os.tmpdir(), 'exec-doc-bench-'));
        const started = performance.now();
        const outcome = await runSection({
          section,
          documentPath,
          docsRoot,
          stateDir,
          sets: { inventory: path.join(dir, 'inventory.ini'), serial: batch },
          env: { ...process.env },
        });
        into.push(performance.now() - started);
        if (outcome.exitCode !== 0)
          throw new Error(`rolling upgrade exited ${outcome.exitCode}: ${outcome.record.failureReason}`);
        for (const line of readFileSync(path.join(outcome.runDir, 'output.log'), 'utf8').split('\n')) {
          const m = /^web-\d+ {2}rl-\S+ {2}ok (\d+) ms$/.exec(line);
          if (m) perBlock.push(Number(m[1]));
        }
        rmSync(stateDir, { recursive: true, force: true });
      }
    }
  } finally {
    spawnSync('bash', [nshosts, 'down', dir]);
  }
  // The same blocks on this machine, with bash, as a local section would run them.
  const local: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    spawnSync('bash', [
      '-c',
      'set -e; test -d /tmp; mkdir -p /tmp/exec-doc-bench-local; rm -rf /tmp/exec-doc-bench-local',
    ]);
    local.push(performance.now() - t);
  }
  say(
    `rolling upgrade on 5 real hosts (network namespaces, sshd, Ansible; ${blocks.length} blocks per host), median of ${rounds}: one host per batch ${s(median(serial))} (${s(median(serial) / 5)} per host), all five in one batch ${s(median(parallel))}; one block on one host through Ansible and SSH: median ${median(perBlock)} ms (${perBlock.length} blocks measured) against ${median(local).toFixed(1)} ms for a local bash`,
  );
}
