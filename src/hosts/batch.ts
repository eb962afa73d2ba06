// One batch of a rolling upgrade, run by the step the batch became (./expand.ts): Ansible runs the
// section's tasks on the batch's hosts at once; each host's results come back through exec-doc's
// callback plugin; a host that failed is put back (its completed tasks' rollbacks in reverse, then
// the checks that prove it is back); when more hosts failed than the threshold allows, every host
// of the batch is put back and the step fails, so that the runner undoes the batches before it.
// The batch's hosts and their state are kept in the run's folder (hosts/batch-<n>.json): a batch
// run again goes on with the hosts not done, and its undo knows what each host completed.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../util/project-root.js';
import type { BatchSpec, HostTask } from './expand.js';

export type HostState = 'upgraded' | 'failed' | 'rolled-back' | 'rollback-failed';

/** A host of a rolling run in its record. */
export interface HostSummary {
  host: string;
  batch: number;
  state: HostState | 'untouched';
  done: string[];
  failedTask?: string;
  reason?: string;
}

export interface HostRecord {
  host: string;
  batch: number;
  state: HostState;
  /** Forward tasks the host completed, in order. */
  done: string[];
  failedTask?: string;
  reason?: string;
  durationMs: number;
}

export interface BatchRecord {
  batch: number;
  batches: number;
  hosts: HostRecord[];
}

interface TaskResult {
  host: string;
  task: string;
  status: 'ok' | 'failed' | 'unreachable' | 'skipped';
  rc: number | null;
  stdout: string;
  stderr: string;
  durationMs: number | null;
}

const CALLBACKS = () => path.join(projectRoot(), 'scripts', 'hosts', 'callback_plugins');

function batchFile(runDir: string, batch: number): string {
  return path.join(runDir, 'hosts', `batch-${batch}.json`);
}

/** What a batch recorded of its hosts, or undefined when it never started. */
function readBatch(runDir: string, batch: number): BatchRecord | undefined {
  const file = batchFile(runDir, batch);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BatchRecord) : undefined;
}

/** The records of the batches that started, in order. */
export function readBatchRecords(runDir: string): BatchRecord[] {
  const out: BatchRecord[] = [];
  for (let n = 1; ; n++) {
    const record = readBatch(runDir, n);
    if (!record) return out;
    out.push(record);
  }
}

function save(runDir: string, record: BatchRecord): void {
  mkdirSync(path.join(runDir, 'hosts'), { recursive: true, mode: 0o700 });
  writeFileSync(batchFile(runDir, record.batch), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

/** An Ansible task that runs a block with bash, `set -e -o pipefail`, and judges its exit code. */
function ansibleTask(t: HostTask, params: string[], when?: string): Record<string, unknown> {
  return {
    name: t.id,
    'ansible.builtin.shell': { cmd: `set -e -o pipefail\n${t.code}`, executable: '/bin/bash' },
    environment: {
      EXEC_DOC_HOST: '{{ inventory_hostname }}',
      ...Object.fromEntries(params.map((p) => [`EXEC_DOC_PARAM_${p}`, `{{ lookup('env', 'EXEC_DOC_PARAM_${p}') }}`])),
    },
    register: 'exec_doc_result',
    failed_when: `exec_doc_result.rc != ${t.expectExitCode}`,
    timeout: t.timeoutSeconds,
    ...(when ? { when } : {}),
  };
}

/** Runs one playbook (JSON is YAML) and returns each host's task results, streaming its lines. */
async function playbook(
  runDir: string,
  name: string,
  plays: unknown[],
  inventory: string,
  limit?: string,
): Promise<TaskResult[]> {
  const dir = path.join(runDir, 'hosts');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${name}.yml`);
  const results = path.join(dir, `${name}.results.ndjson`);
  writeFileSync(file, `${JSON.stringify(plays, null, 2)}\n`, { mode: 0o600 });
  // Appended to: a batch run again keeps what its earlier attempt recorded.
  if (!existsSync(results)) writeFileSync(results, '', { mode: 0o600 });
  const args = ['-i', inventory, file, ...(limit ? ['--limit', limit] : [])];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ansible-playbook', args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        ANSIBLE_STDOUT_CALLBACK: 'exec_doc',
        ANSIBLE_CALLBACK_PLUGINS: CALLBACKS(),
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_RETRY_FILES_ENABLED: 'False',
        ANSIBLE_DEPRECATION_WARNINGS: 'False',
        EXEC_DOC_HOSTS_RESULTS: results,
      },
    });
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  return readResults(results);
}

function readResults(file: string): TaskResult[] {
  const out: TaskResult[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as TaskResult);
    } catch {
      // The last line of a callback killed while writing it: that result is not known.
    }
  }
  return out;
}

/** A host's forward results: what it completed, and where it stopped. */
function judge(host: string, tasks: HostTask[], results: TaskResult[]): Omit<HostRecord, 'batch'> {
  const mine = results.filter((r) => r.host === host);
  const done: string[] = [];
  for (const t of tasks) {
    // The latest attempt's result counts (a batch run again appends to the same file).
    const r = mine.filter((m) => m.task === t.id).at(-1);
    if (r?.status === 'ok') {
      done.push(t.id);
      continue;
    }
    const reason = !r
      ? 'did not run'
      : r.status === 'unreachable'
        ? `unreachable: ${r.stderr.trim().split('\n').at(-1)}`
        : `exited with code ${r.rc}, expected ${t.expectExitCode}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').at(-1)}` : ''}`;
    return { host, state: 'failed', done, failedTask: t.id, reason, durationMs: sum(mine) };
  }
  return { host, state: 'upgraded', done, durationMs: sum(mine) };
}

const sum = (results: TaskResult[]) => results.reduce((n, r) => n + (r.durationMs ?? 0), 0);

/** Puts one host back: the rollbacks of what it completed, in reverse, then the checks that prove it. */
async function putBack(runDir: string, spec: BatchSpec, record: HostRecord): Promise<boolean> {
  const rollbacks = [...record.done]
    .reverse()
    .map((id) => spec.tasks.find((t) => t.id === id)?.rollback)
    .filter((r): r is string => typeof r === 'string' && spec.rollbacks[r] !== undefined)
    .map((r) => spec.rollbacks[r]!);
  const tasks = [...rollbacks, ...spec.verify];
  if (tasks.length === 0) return true;
  console.log(`${record.host}: rolling back ${rollbacks.map((r) => r.id).join(', ') || '(nothing completed)'}`);
  const results = await playbook(
    runDir,
    `batch-${spec.batch}.rollback.${record.host}`,
    [
      {
        name: `put back ${record.host}`,
        hosts: 'all',
        gather_facts: false,
        tasks: tasks.map((t) => ansibleTask(t, spec.params)),
      },
    ],
    spec.inventory,
    record.host,
  );
  const ok = tasks.every((t) => results.some((r) => r.host === record.host && r.task === t.id && r.status === 'ok'));
  if (!ok) {
    const bad = tasks.find((t) => !results.some((r) => r.task === t.id && r.status === 'ok'))!;
    record.reason = `${record.reason ? `${record.reason}; ` : ''}rollback did not complete at ${bad.id}`;
  }
  return ok;
}

/** `exec-doc hosts batch`: exit 0 when the batch is within its failure threshold, else 1. */
export async function runBatch(spec: BatchSpec, runDir: string): Promise<number> {
  const previous = readBatch(runDir, spec.batch);
  // A batch run again (its runner died): hosts recorded as upgraded, or whose every task the last
  // attempt's results show done, are not run again.
  const earlier = path.join(runDir, 'hosts', `batch-${spec.batch}.results.ndjson`);
  const fromResults =
    !previous && existsSync(earlier)
      ? spec.hosts
          .map((h) => ({ batch: spec.batch, ...judge(h, spec.tasks, readResults(earlier)) }))
          .filter((h) => h.state === 'upgraded')
      : [];
  const already = new Map([...(previous?.hosts ?? []), ...fromResults].map((h) => [h.host, h]));
  // A host with a recorded end (upgraded, or failed and put back) is not run again.
  const todo = spec.hosts.filter((h) => !already.has(h));
  console.log(
    `batch ${spec.batch} of ${spec.batches}: ${spec.hosts.join(', ')}${todo.length < spec.hosts.length ? ` (${spec.hosts.length - todo.length} already done)` : ''}`,
  );
  let results: TaskResult[] = [];
  if (todo.length > 0)
    results = await playbook(
      runDir,
      `batch-${spec.batch}`,
      [
        {
          name: `${spec.section}: batch ${spec.batch} of ${spec.batches}`,
          hosts: 'all',
          gather_facts: false,
          // exec-doc judges the batch against its threshold: Ansible runs every host to its end.
          max_fail_percentage: 100,
          tasks: spec.tasks.map((t) => ansibleTask(t, spec.params)),
        },
      ],
      spec.inventory,
      todo.join(','),
    );
  const record: BatchRecord = {
    batch: spec.batch,
    batches: spec.batches,
    hosts: spec.hosts.map((h) => already.get(h) ?? { batch: spec.batch, ...judge(h, spec.tasks, results) }),
  };
  save(runDir, record);
  const failed = record.hosts.filter((h) => h.state !== 'upgraded');
  const failedPercent = (failed.length * 100) / record.hosts.length;
  const over = failedPercent > spec.maxFailPercentage;
  let rollbackOk = true;
  // Failed hosts are put back in any case; beyond the threshold, the batch's upgraded ones too.
  const back = [...record.hosts].reverse().filter((h) => h.state === 'failed' || (over && h.state === 'upgraded'));
  for (const h of back) {
    const ok = await putBack(runDir, spec, h);
    h.state = ok ? 'rolled-back' : 'rollback-failed';
    rollbackOk &&= ok;
    save(runDir, record);
  }
  for (const h of record.hosts)
    console.log(`${h.host.padEnd(16)} ${h.state}${h.failedTask ? ` (at ${h.failedTask}: ${h.reason})` : ''}`);
  if (over)
    console.error(
      `batch ${spec.batch}: ${failed.length} of ${record.hosts.length} host(s) failed (${failedPercent.toFixed(0)} %), more than max_fail_percentage ${spec.maxFailPercentage} %: the batch was put back, and the upgrade stops here`,
    );
  return over || !rollbackOk ? 1 : 0;
}

/** `exec-doc hosts undo`: puts back the batch's upgraded hosts, in reverse order. */
export async function undoBatch(spec: BatchSpec, runDir: string): Promise<number> {
  const record = readBatch(runDir, spec.batch);
  if (!record) {
    console.log(`batch ${spec.batch}: no host was started, nothing to undo`);
    return 0;
  }
  let ok = true;
  for (const h of [...record.hosts].reverse().filter((x) => x.state === 'upgraded')) {
    const done = await putBack(runDir, spec, h);
    h.state = done ? 'rolled-back' : 'rollback-failed';
    ok &&= done;
    save(runDir, record);
  }
  for (const h of record.hosts) console.log(`${h.host.padEnd(16)} ${h.state}`);
  return ok ? 0 : 1;
}

/** Every host of a rolling run, in batch order, with its state (`untouched`: its batch never started). */
export function hostsSummary(runDir: string, batches: string[][]): HostSummary[] {
  const records = new Map(readBatchRecords(runDir).map((b) => [b.batch, b]));
  return batches.flatMap((group, i) =>
    group.map((host) => {
      const h = records.get(i + 1)?.hosts.find((x) => x.host === host);
      return h
        ? {
            host,
            batch: i + 1,
            state: h.state,
            done: h.done,
            ...(h.failedTask ? { failedTask: h.failedTask } : {}),
            ...(h.reason ? { reason: h.reason } : {}),
          }
        : { host, batch: i + 1, state: 'untouched' as const, done: [] };
    }),
  );
}
