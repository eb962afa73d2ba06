// Resource sampling: /proc read right, a real process tree measured, the samples of a real run in
// its events (valid against the published schema), its record and each step's result, and the
// steps so far handed to a block that names $EXEC_DOC_TIMELINE.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Ajv2020 from 'ajv/dist/2020.js';
import { readHostCpu, readTree, sampleIntervalMs, summarize, type ResourceSample } from '../../src/runner/resources.js';
import { killTree } from '../../src/process/kill-tree.js';
import { thin } from '../../src/util/thin.js';
import { ROOT, runDoc } from '../helpers.js';

const SCHEMA = JSON.parse(readFileSync(path.join(ROOT, 'static', 'schemas', 'exec-doc-events.schema.json'), 'utf8'));

const sample = (atMs: number, stepId: string | null, extra: Partial<ResourceSample> = {}): ResourceSample => ({
  atMs,
  stepId,
  hostCpuPct: 10,
  stepCpuPct: null,
  stepRssBytes: null,
  ...extra,
});

describe('reading /proc', () => {
  it('adds the busy fields of the first line of /proc/stat (guest time is inside user) and counts idle and iowait as idle', () => {
    const text = 'cpu  100 5 50 800 40 3 2 1 7 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n';
    expect(readHostCpu(text)).toEqual({ total: 100 + 5 + 50 + 800 + 40 + 3 + 2 + 1, idle: 840 });
  });

  it('measures a process tree: every live process, its memory, and CPU time that grows while a child spins', async () => {
    const child = spawn('bash', ['-c', 'sleep 30 & (timeout 3 sh -c "while :; do :; done"; sleep 30) & wait'], {
      detached: true,
      stdio: 'ignore',
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const first = readTree(child.pid!)!;
      await new Promise((r) => setTimeout(r, 500));
      const second = readTree(child.pid!)!;
      // bash, sleep, the subshell, timeout, sh.
      expect(second.processes).toBeGreaterThanOrEqual(5);
      expect(second.rssBytes).toBeGreaterThan(1_000_000);
      // 500 ms of one spinning process is about 50 ticks; a shared machine gives it less.
      expect(second.ticks - first.ticks).toBeGreaterThanOrEqual(10);
    } finally {
      killTree(child.pid!, 'SIGKILL');
    }
    expect(readTree(2 ** 22 + 1)).toBeNull();
  });
});

describe('summaries', () => {
  it("takes the peaks of a step's own samples within its time, leaving out other steps and other times", () => {
    const samples = [
      sample(100, 'a', { hostCpuPct: 90, stepCpuPct: 99, stepRssBytes: 9 }),
      sample(200, 'b', { hostCpuPct: 20, stepCpuPct: 50, stepRssBytes: 100 }),
      sample(300, 'b', {
        hostCpuPct: 40,
        stepCpuPct: 30,
        stepRssBytes: 300,
        postgres: { activeSessions: 3, lockWaits: 2, longestLockWaitMs: 45, replicationLagMs: null },
      }),
      sample(400, 'b', {
        hostCpuPct: 30,
        stepCpuPct: null,
        postgres: { activeSessions: 1, lockWaits: 0, longestLockWaitMs: 0, replicationLagMs: 12 },
      }),
      sample(900, 'b', { hostCpuPct: 100, stepCpuPct: 100 }),
    ];
    expect(summarize(samples, 'b', 150, 500)).toEqual({
      samples: 3,
      peakHostCpuPct: 40,
      peakStepCpuPct: 50,
      peakStepRssBytes: 300,
      peakActiveSessions: 3,
      peakLockWaits: 2,
      longestLockWaitMs: 45,
      maxReplicationLagMs: 12,
    });
    // No PostgreSQL sample: no PostgreSQL figures; no process: null.
    expect(summarize([sample(10, 'c')], 'c', 0, 10)).toEqual({
      samples: 1,
      peakHostCpuPct: 10,
      peakStepCpuPct: null,
      peakStepRssBytes: null,
    });
    expect(summarize(samples, 'b', 500, 800)).toBeUndefined();
  });

  it('thins evenly to the limit, keeping the first and the last', () => {
    const many = Array.from({ length: 1000 }, (_, i) => i);
    const kept = thin(many, 11);
    expect(kept).toEqual([0, 100, 200, 300, 400, 500, 599, 699, 799, 899, 999]);
    expect(thin([1, 2, 3], 11)).toEqual([1, 2, 3]);
  });

  it('reads the interval from EXEC_DOC_SAMPLE_MS: 250 by default, 0 off, at least 50, anything else refused', () => {
    expect(sampleIntervalMs({})).toBe(250);
    expect(sampleIntervalMs({ EXEC_DOC_SAMPLE_MS: '' })).toBe(250);
    expect(sampleIntervalMs({ EXEC_DOC_SAMPLE_MS: '0' })).toBe(0);
    expect(sampleIntervalMs({ EXEC_DOC_SAMPLE_MS: '10' })).toBe(50);
    expect(sampleIntervalMs({ EXEC_DOC_SAMPLE_MS: '1000' })).toBe(1000);
    for (const bad of ['-5', 'fast', '2.5'])
      expect(() => sampleIntervalMs({ EXEC_DOC_SAMPLE_MS: bad })).toThrow(
        expect.objectContaining({ code: 'E_USAGE', message: expect.stringContaining(`got "${bad}"`) }),
      );
  });
});

const DOC = `# Sampling

## Busy

\`\`\`bash {"id":"spin"}
timeout 1 sh -c 'while :; do :; done' || true
echo '{"name":"spunMs","value":1000,"unit":"ms"}' >> "$EXEC_DOC_METRICS"
\`\`\`

\`\`\`bash {"id":"unnamed"}
# Names the variable only in part: it is not given.
echo "timeline:$(env | grep -c '^EXEC_DOC_TIME')"
\`\`\`

\`\`\`bash {"id":"report"}
node -e 'const t = require(process.argv[1]); console.log(JSON.stringify(t.steps.map((s) => [s.stepId, s.metrics?.[0]?.name ?? null, (s.resources?.peakStepCpuPct ?? 0) > 50])))' "$EXEC_DOC_TIMELINE"
\`\`\`
`;

describe('a run with sampling', () => {
  it('emits valid sample events, keeps them in the record, summarizes each step, and hands the timeline only to a block naming it', async () => {
    const run = await runDoc(DOC, 'busy', { env: { ...process.env, EXEC_DOC_SAMPLE_MS: '50' } });
    expect(run.exitCode, run.record.failureReason ?? '').toBe(0);
    const samples = run.events.filter((e) => e.type === 'sample');
    expect(samples.length).toBeGreaterThanOrEqual(10);
    const ajv = new Ajv2020.default({ allErrors: true, strict: true, validateFormats: false });
    const validate = ajv.compile(SCHEMA);
    for (const event of samples) expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    const spinning = samples.filter((s) => s.type === 'sample' && s.stepId === 'spin');
    expect(Math.max(...spinning.map((s) => (s.type === 'sample' ? (s.stepCpuPct ?? 0) : 0)))).toBeGreaterThan(50);
    // The record keeps them (fewer than the limit here), with their time base.
    expect(run.record.samples?.points.length).toBe(samples.length);
    expect(Date.parse(run.record.samples!.startedAt)).toBeGreaterThanOrEqual(Date.parse(run.record.startedAt));
    const spin = run.record.steps.find((s) => s.stepId === 'spin')!;
    expect(spin.resources?.samples).toBeGreaterThanOrEqual(10);
    expect(spin.resources?.peakStepCpuPct).toBeGreaterThan(50);
    const out = readFileSync(path.join(run.runDir, 'output.log'), 'utf8');
    expect(out).toContain('timeline:0');
    // The report block saw the steps before it, with what they measured and their resources.
    expect(out).toContain('[["spin","spunMs",true],["unnamed",null,false]]');
  });

  it('takes no sample with EXEC_DOC_SAMPLE_MS=0', async () => {
    const run = await runDoc(DOC, 'busy', { env: { ...process.env, EXEC_DOC_SAMPLE_MS: '0' } });
    expect(run.exitCode).toBe(0);
    expect(run.events.some((e) => e.type === 'sample')).toBe(false);
    expect(run.record.samples).toBeUndefined();
    expect(run.record.steps.some((s) => s.resources !== undefined)).toBe(false);
  });
});

describe('a bad EXEC_DOC_SAMPLE_MS', () => {
  it('is refused as a usage error (exit 64), before the run starts', async () => {
    await expect(runDoc(DOC, 'busy', { env: { ...process.env, EXEC_DOC_SAMPLE_MS: 'often' } })).rejects.toMatchObject({
      code: 'E_USAGE',
      message: 'EXEC_DOC_SAMPLE_MS must be a whole number of milliseconds, got "often"',
    });
  });
});
