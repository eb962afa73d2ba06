// The impact report of the performance guide (scripts/procedures/performance/impact.py) on
// transaction logs written here in pgbench's format: every figure and every limit, exactly.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { ROOT, tempDir } from '../helpers.js';

const SCRIPT = path.join(ROOT, 'scripts', 'procedures', 'performance', 'impact.py');
const T0 = Date.parse('2026-11-24T12:00:00.000Z');

/** pgbench -l: client, transaction no, latency µs (or "failed"), script, epoch s, µs [, lag]. */
function line(atMs: number, latencyMs: number | 'failed', n: number): string {
  const latency = latencyMs === 'failed' ? 'failed' : String(Math.round(latencyMs * 1000));
  return `0 ${n} ${latency} 0 ${Math.floor(atMs / 1000)} ${(atMs % 1000) * 1000}`;
}

function evenly(from: number, to: number, count: number, latencyMs: number): Array<[number, number]> {
  return Array.from({ length: count }, (_, i) => [from + Math.floor(((to - from) * i) / count), latencyMs]);
}

function setUp(options: { failed?: boolean; summaryFailed?: number; lockWaitMs?: number; gap?: boolean } = {}) {
  const dir = tempDir('exec-doc-impact-');
  const load = path.join(dir, 'load');
  mkdirSync(load);
  const transactions: Array<[number, number | 'failed']> = [
    // Baseline 0–2 s: 100 tps at 1 ms.
    ...evenly(T0, T0 + 2000, 200, 1),
    // Step a, 2–3 s: 50 tps at 10 ms.
    ...evenly(T0 + 2000, T0 + 3000, 50, 10),
    // Step b, 3–5 s: 80 tps at 2 ms, one of them 150 ms.
    ...evenly(T0 + 3000, T0 + 5000, 159, 2),
    [T0 + 4999, 150],
    // After the procedure: the load goes on until it is stopped.
    [T0 + 5000, 1],
  ];
  if (options.failed) transactions.push([T0 + 4500, 'failed']);
  if (options.gap) {
    // Two rounds, with 200 ms between them in which a new pgbench was connecting: nothing completed.
    const first = transactions.filter(([at]) => at < T0 + 3500);
    const second = transactions.filter(([at]) => at >= T0 + 3700);
    writeFileSync(path.join(load, 'round-1.4242'), first.map(([at, ms], i) => line(at, ms, i)).join('\n') + '\n');
    writeFileSync(path.join(load, 'round-2.4243'), second.map(([at, ms], i) => line(at, ms, i)).join('\n') + '\n');
  } else
    writeFileSync(
      path.join(load, 'round-1.4242'),
      transactions.map(([at, ms], i) => line(at, ms, i)).join('\n') + '\n',
    );
  writeFileSync(
    path.join(load, 'round-1.out'),
    `number of failed transactions: ${options.summaryFailed ?? 0} (0.000%)\n`,
  );
  writeFileSync(path.join(load, 'round-1.status'), '0\n');
  const step = (stepId: string, from: number, to: number, resources?: object) => ({
    stepId,
    phase: 'forward',
    status: 'passed',
    startedAt: new Date(T0 + from).toISOString(),
    durationMs: to - from,
    ...(resources ? { resources } : {}),
  });
  const timeline = path.join(dir, 'timeline.json');
  writeFileSync(
    timeline,
    JSON.stringify({
      steps: [
        step('baseline', 0, 2000),
        step('a', 2000, 3000, { longestLockWaitMs: options.lockWaitMs ?? 40 }),
        step('b', 3000, 5000, { longestLockWaitMs: 5 }),
      ],
    }),
  );
  const metrics = path.join(dir, 'metrics.ndjson');
  return { load, timeline, metrics };
}

async function impact(files: ReturnType<typeof setUp>, extra: string[] = []) {
  const r = await execa(
    'python3',
    [SCRIPT, '--dir', files.load, '--timeline', files.timeline, '--baseline', 'baseline', '--steps', 'a,b', ...extra],
    { reject: false, env: { EXEC_DOC_METRICS: files.metrics } },
  );
  const metrics = (() => {
    try {
      return readFileSync(files.metrics, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { name: string; value: number; unit: string; at?: number });
    } catch {
      return [];
    }
  })();
  const value = (name: string) => metrics.find((m) => m.name === name && m.at === undefined)?.value;
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), metrics, value };
}

describe('impact.py', () => {
  it('splits the transactions by step and compares the procedure with the baseline', async () => {
    const r = await impact(setUp(), ['--max-loss-pct', '40', '--max-lock-wait-ms', '100']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.value('baselineTps')).toBe(100);
    // 50 + 160 transactions over the 3 s of a and b.
    expect(r.value('procedureTps')).toBe(70);
    expect(r.value('throughputLossPct')).toBe(30);
    expect(r.value('baselineP99Ms')).toBe(1);
    expect(r.value('aP99Ms')).toBe(10);
    expect(r.value('bP99Ms')).toBe(2);
    expect(r.value('procedureMaxLatencyMs')).toBe(150);
    expect(r.value('aTps')).toBe(50);
    expect(r.value('bTps')).toBe(80);
    expect(r.value('longestLockWaitMs')).toBe(40);
    expect(r.value('failedTransactions')).toBe(0);
    // Second by second, for the chart: 5 seconds of load.
    const tps = r.metrics.filter((m) => m.name === 'loadTps');
    expect(tps.map((m) => [m.at! - T0, m.value])).toEqual([
      [0, 100],
      [1000, 100],
      [2000, 50],
      [3000, 80],
      [4000, 80],
      [5000, 1],
    ]);
    expect(r.stdout).toMatch(/^a +1000 +50 +50\.0 +10\.00 +10\.00 +10\.00 +0 +40$/m);
    // 200 and 210 transactions: the loss is known to ±1.96·√(1/200 + 1/210) of the ratio 0.7.
    expect(r.value('throughputLossMarginPct')).toBe(13.56);
    expect(r.stdout).toContain('throughput loss over the procedure: 30.0 % ± 13.6 % (limit 40 %)');
  });

  it('passes a loss above the limit only by less than its uncertainty: too few transactions to tell', async () => {
    // 30 % − 13.6 % = 16.4 %: under a 20 % limit, over a 16 % one.
    expect((await impact(setUp(), ['--max-loss-pct', '20'])).exitCode).toBe(0);
    expect((await impact(setUp(), ['--max-loss-pct', '16'])).exitCode).toBe(1);
  });

  it('counts throughput over the time the load ran, not the moments between two rounds', async () => {
    const r = await impact(setUp({ gap: true }), ['--max-loss-pct', '40']);
    expect(r.exitCode, r.stderr).toBe(0);
    // 144 transactions over the ~1.79 s of b the rounds ran (a round runs from its first
    // transaction's start to its last one's end): about the same 80 tps; over all 2 s it would be 72.
    expect(Math.abs(r.value('bTps')! - 80)).toBeLessThan(1);
    expect(r.value('aTps')).toBe(50);
  });

  it.each([
    [['--max-loss-pct', '10'], {}, 'throughput fell 30.0 % ± 13.6 % during the procedure (limit 10 %)'],
    [['--max-loss-pct', '40', '--max-lock-wait-ms', '30'], {}, 'a session waited 40 ms for a lock (limit 30 ms)'],
    [['--max-loss-pct', '40'], { failed: true }, '1 client transaction(s) failed, 0 client(s) aborted'],
    // pgbench's summary counts a failure the log also shows: the larger count, not the sum.
    [['--max-loss-pct', '40'], { failed: true, summaryFailed: 1 }, '1 client transaction(s) failed'],
    [['--max-loss-pct', '40'], { summaryFailed: 3 }, '3 client transaction(s) failed'],
  ] as const)('fails past a limit: %s', async (args, options, message) => {
    const r = await impact(setUp(options), [...args]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`LIMIT PASSED: ${message}`);
    // The figures are recorded on failure too.
    expect(r.value('throughputLossPct')).toBe(30);
  });

  it('refuses missing input with exit 2, naming it', async () => {
    const files = setUp();
    const noStep = await impact(files, ['--steps', 'a,zzz']);
    expect(noStep.exitCode).toBe(2);
    const other = await execa(
      'python3',
      [SCRIPT, '--dir', files.load, '--timeline', files.timeline, '--baseline', 'baseline', '--steps', 'a,zzz'],
      { reject: false },
    );
    expect(other.stderr).toContain('step zzz has not run (steps so far: baseline, a, b)');
    const noTimeline = await execa(
      'python3',
      [SCRIPT, '--dir', files.load, '--timeline', '/nonexistent', '--baseline', 'baseline', '--steps', 'a'],
      { reject: false },
    );
    expect(noTimeline.exitCode).toBe(2);
    expect(noTimeline.stderr).toContain('--timeline: no such file');
    const noLoad = await execa(
      'python3',
      [
        SCRIPT,
        '--dir',
        path.join(files.load, 'none'),
        '--timeline',
        files.timeline,
        '--baseline',
        'baseline',
        '--steps',
        'a',
      ],
      { reject: false },
    );
    expect(noLoad.stderr).toContain('no such folder (did load.sh start?)');
  });
});
