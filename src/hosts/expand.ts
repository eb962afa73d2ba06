// A rolling section as the runner runs it: its setup and teardown stay on this machine, and its
// steps, checks and rollbacks run on the hosts, batch by batch, each batch one step that hands the
// work to Ansible (./batch.ts) and whose rollback undoes that batch's hosts. So the runner's own
// order, journal, resume and rollback give the rolling upgrade its guarantees: a batch that fails
// beyond the threshold puts back its own hosts, then the batches before it are undone in reverse,
// and the batches after it never start.
import path from 'node:path';
import type { Section, Step } from '../model/types.js';
import { renderPlaceholders } from '../placeholders/index.js';
import { projectRoot } from '../util/project-root.js';
import type { ResolvedHosts } from './inventory.js';

/** What one batch step hands to `exec-doc hosts batch|undo`. */
export interface BatchSpec {
  section: string;
  batch: number;
  batches: number;
  hosts: string[];
  inventory: string;
  maxFailPercentage: number;
  /** Forward tasks in order: steps and checks (not those that only prove a rollback). */
  tasks: HostTask[];
  /** Rollback blocks by id. */
  rollbacks: Record<string, HostTask>;
  /** Checks that prove a host is back (phase=pre and phase=rollback), run after its rollbacks. */
  verify: HostTask[];
  /** Parameters passed to the hosts through the environment, by name. */
  params: string[];
}

export interface HostTask {
  id: string;
  kind: string;
  /** Bash, parameters already written as environment references. */
  code: string;
  expectExitCode: number;
  timeoutSeconds: number;
  rollback?: string | null;
}

export const BATCH_STEP = (n: number) => `batch-${n}`;
export const UNDO_STEP = (n: number) => `undo-batch-${n}`;

const onHosts = (s: Step) => s.kind === 'step' || s.kind === 'check' || s.kind === 'rollback';

/** The section with one step per batch (and its rollback) in place of the blocks that run on hosts. */
export function expandRolling(
  section: Section,
  hosts: ResolvedHosts,
  batches: string[][],
  values: Readonly<Record<string, string>>,
): Section {
  const task = (s: Step): HostTask => {
    if (s.lang !== 'bash' && s.lang !== 'sh')
      throw new Error(`${s.id}: only shell blocks run on hosts (this one is ${s.lang})`);
    // Not silently ignored: a host's output is not compared with an expected one (yet).
    if (s.expectOutput)
      throw new Error(
        `${s.id} has an expected output, which is not compared on hosts; check the output in the block itself (\`test "$(…)" = …\`)`,
      );
    // Values reach the hosts through the environment, as in a local block; never in the code.
    const rendered = renderPlaceholders('bash', s.code, section.params, values);
    if (rendered.problems.length > 0) throw new Error(`${s.id}: ${rendered.problems.join('; ')}`);
    return {
      id: s.id,
      kind: s.kind,
      code: rendered.code,
      expectExitCode: s.expectExitCode,
      timeoutSeconds: Math.max(1, Math.ceil(s.timeoutMs / 1000)),
      ...(s.rollback !== undefined ? { rollback: s.rollback } : {}),
    };
  };
  const hostSteps = section.steps.filter(onHosts);
  const base: Omit<BatchSpec, 'batch' | 'hosts'> = {
    section: section.address,
    batches: batches.length,
    inventory: hosts.inventory,
    maxFailPercentage: hosts.maxFailPercentage,
    tasks: hostSteps.filter((s) => s.kind !== 'rollback' && !(s.kind === 'check' && s.phase === 'rollback')).map(task),
    rollbacks: Object.fromEntries(hostSteps.filter((s) => s.kind === 'rollback').map((s) => [s.id, task(s)])),
    verify: hostSteps.filter((s) => s.kind === 'check' && (s.phase === 'pre' || s.phase === 'rollback')).map(task),
    params: section.params.map((p) => p.name),
  };
  const bin = path.join(projectRoot(), 'bin', 'exec-doc.js');
  const template = section.steps.find(onHosts) ?? section.steps[0]!;
  const synthetic = (id: string, kind: 'step' | 'rollback', spec: BatchSpec, rollback?: string): Step => ({
    id,
    kind,
    lang: 'bash',
    code: `node ${JSON.stringify(bin)} hosts ${kind === 'step' ? 'batch' : 'undo'} - <<'EXEC_DOC_BATCH'\n${JSON.stringify(spec)}\nEXEC_DOC_BATCH\n`,
    ...(rollback ? { rollback } : {}),
    timeoutMs: spec.hosts.length * hostSteps.reduce((n, s) => n + s.timeoutMs, 0) + 60_000,
    retries: 0,
    backoffMs: 0,
    expectExitCode: 0,
    requires: ['cmd:ansible-playbook'],
    // A batch remembers which of its hosts are done: run again, it goes on with the others.
    idempotent: true,
    env: {},
    meta: `${kind === 'step' ? 'batch' : 'undo batch'} ${spec.batch} of ${spec.batches}: ${spec.hosts.join(', ')}`,
    position: template.position,
  });
  const steps: Step[] = section.steps.filter((s) => s.kind === 'setup');
  batches.forEach((group, i) => {
    const spec: BatchSpec = { ...base, batch: i + 1, hosts: group };
    steps.push(synthetic(BATCH_STEP(i + 1), 'step', spec, UNDO_STEP(i + 1)));
    steps.push(synthetic(UNDO_STEP(i + 1), 'rollback', spec));
  });
  steps.push(...section.steps.filter((s) => s.kind === 'teardown'));
  return { ...section, steps };
}
