// What keeps a migration's impact down, measured side by side: the performance guide's procedure
// (performance/under-load) at saturation (pgbench as fast as the server goes) on a 1,000,000-row
// table, one technique changed at a time, rounds alternating the order. Each run reports the
// throughput loss of the backfill and of the index build against the load alone, the latency and
// the longest lock wait.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunRecord } from '../src/results/record.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const BASE = {
  rows: '1000000',
  rate: '0',
  clients: '4',
  baseline_s: '3',
  max_loss_pct: '100',
  max_lock_wait_ms: '600000',
  batch: '1000',
  batch_ms: '200',
  pause_ms: '0',
  nice: '0',
  parallel_workers: '2',
  maintenance_work_mem: '64MB',
};

export const TECHNIQUES: Array<{ name: string; sets: Partial<typeof BASE> }> = [
  {
    name: 'none: backfill batches of 200 ms without pause; index with 2 parallel workers, nice 0',
    sets: {},
  },
  { name: 'short backfill batches (50 ms)', sets: { batch_ms: '50' } },
  { name: 'throttled backfill: 50 ms batches, 200 ms pause (20 % duty)', sets: { batch_ms: '50', pause_ms: '200' } },
  { name: 'index in one backend (max_parallel_maintenance_workers 0)', sets: { parallel_workers: '0' } },
  { name: 'index in one backend at nice 19', sets: { parallel_workers: '0', nice: '19' } },
  { name: 'index with maintenance_work_mem 512MB', sets: { maintenance_work_mem: '512MB' } },
  {
    name: 'all: throttled backfill (50 ms batches, 200 ms pause), index in one backend at nice 19',
    sets: { batch_ms: '50', pause_ms: '200', parallel_workers: '0', nice: '19' },
  },
];

interface Figures {
  backfillLoss: number | null;
  backfillMs: number;
  indexLoss: number | null;
  indexMs: number;
  loss: number;
  p99: number;
  max: number;
  lockWait: number;
  failed: number;
}

function runOnce(root: string, sets: Record<string, string>): Figures {
  const stateDir = path.join(os.tmpdir(), 'exec-doc-bench', `impact-${process.pid}`);
  rmSync(stateDir, { recursive: true, force: true });
  const args = [path.join(root, 'bin', 'exec-doc.js'), 'run', 'performance/under-load', '--state-dir', stateDir];
  for (const [k, v] of Object.entries(sets)) args.push('--set', `${k}=${v}`);
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  if (r.status !== 0) throw new Error(`impact bench: the run exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  const record = JSON.parse(
    readFileSync(path.join(stateDir, 'results', 'performance', 'under-load.json'), 'utf8'),
  ) as RunRecord;
  rmSync(stateDir, { recursive: true, force: true });
  const metrics = record.steps.find((s) => s.stepId === 'ul-impact')!.metrics!;
  const value = (name: string) => metrics.find((m) => m.name === name && m.at === undefined)?.value;
  const duration = (id: string) => record.steps.find((s) => s.stepId === id && s.phase === 'forward')!.durationMs;
  const baseline = value('baselineTps')!;
  const phaseLoss = (name: string) => {
    const tps = value(name);
    return tps === undefined ? null : Math.max(0, 100 * (1 - tps / baseline));
  };
  return {
    backfillLoss: phaseLoss('ulBackfillTps'),
    backfillMs: duration('ul-backfill'),
    indexLoss: phaseLoss('ulIndexTps'),
    indexMs: duration('ul-index'),
    loss: value('throughputLossPct')!,
    p99: value('procedureP99Ms')!,
    max: value('procedureMaxLatencyMs')!,
    lockWait: value('longestLockWaitMs')!,
    failed: value('failedTransactions')!,
  };
}

export function impactBench(say: (line: string) => void, root: string, rounds = 1): Array<[string, string]> {
  const results = new Map<string, Figures[]>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? TECHNIQUES : [...TECHNIQUES].reverse();
    for (const t of order) {
      const f = runOnce(root, { ...BASE, ...t.sets });
      results.set(t.name, [...(results.get(t.name) ?? []), f]);
      process.stderr.write(`impact bench: ${t.name}: loss ${f.loss.toFixed(1)} %\n`);
    }
  }
  const pct = (x: number | null) => (x === null ? '— (under 1 s)' : `${x.toFixed(1)} %`);
  const med = (xs: Array<number | null>) => {
    const known = xs.filter((x): x is number => x !== null);
    return known.length === 0 ? null : median(known);
  };
  say(
    `impact of the migration on pgbench at saturation (1,000,000 rows, 4 clients), median of ${rounds} round(s), one technique at a time:`,
  );
  say(
    '| technique | backfill: throughput loss, duration | index build: loss, duration | whole migration: loss | p99 / longest latency | longest lock wait | failed |',
  );
  say('|---|---|---|---|---|---|---|');
  const rows: Array<[string, string]> = [];
  for (const t of TECHNIQUES) {
    const fs = results.get(t.name)!;
    const loss = median(fs.map((f) => f.loss));
    say(
      `| ${t.name} | ${pct(med(fs.map((f) => f.backfillLoss)))}, ${(median(fs.map((f) => f.backfillMs)) / 1000).toFixed(1)} s | ${pct(med(fs.map((f) => f.indexLoss)))}, ${(median(fs.map((f) => f.indexMs)) / 1000).toFixed(1)} s | ${loss.toFixed(1)} % | ${median(fs.map((f) => f.p99)).toFixed(1)} / ${median(fs.map((f) => f.max)).toFixed(0)} ms | ${median(fs.map((f) => f.lockWait))} ms | ${Math.max(...fs.map((f) => f.failed))} |`,
    );
    rows.push([`impact at saturation: ${t.name}`, `${loss.toFixed(1)} % throughput lost over the migration`]);
  }
  return rows;
}
