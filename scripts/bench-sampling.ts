// What resource sampling costs: the same run with sampling off, at the default interval and at the
// finest one, side by side (rounds alternate the order); the runner's own CPU time per second of
// run, and one PostgreSQL sample's time on the embedded server.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extractFromSource } from '../src/documents/load.js';
import { runSection } from '../src/runner/run.js';
import { openPostgres } from '../src/targets/postgres.js';
import { openPostgresProbe } from '../src/runner/resources.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const STEPS = 40;

export async function samplingBench(say: (line: string) => void, rounds = 5): Promise<Array<[string, string]>> {
  const dir = path.join(os.tmpdir(), 'exec-doc-bench', 'sampling');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'sampling.md');
  // A block that runs a while (so samples are taken), then a burst of short ones.
  const blocks = Array.from({ length: STEPS }, (_, i) => `\`\`\`bash {id=s${i} rollback=none}\nsleep 0.05\n\`\`\`\n`);
  const source = `# Sampling\n\n## Forty steps\n\n${blocks.join('\n')}`;
  writeFileSync(file, source);
  const doc = await extractFromSource(file, source, { docsRoot: dir, displayRoot: dir });
  const section = doc.sections[0]!;
  const intervals = ['0', '250', '50'];
  const cpu: Record<string, number[]> = { '0': [], '250': [], '50': [] };
  const wall: Record<string, number[]> = { '0': [], '250': [], '50': [] };
  const samples: Record<string, number[]> = { '0': [], '250': [], '50': [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? intervals : [...intervals].reverse();
    for (const interval of order) {
      const before = process.cpuUsage();
      const started = performance.now();
      const outcome = await runSection({
        section,
        documentPath: file,
        docsRoot: dir,
        stateDir: path.join(dir, `.state-${interval}`),
        env: { ...process.env, EXEC_DOC_SAMPLE_MS: interval },
      });
      const ms = performance.now() - started;
      const used = process.cpuUsage(before);
      if (outcome.exitCode !== 0) throw new Error(`sampling bench: run exited ${outcome.exitCode}`);
      wall[interval]!.push(ms);
      cpu[interval]!.push((used.user + used.system) / 1000);
      samples[interval]!.push(outcome.record.samples?.points.length ?? 0);
    }
  }
  const perSecond = (interval: string) => median(cpu[interval]!) / (median(wall[interval]!) / 1000);
  const off = perSecond('0');
  const at250 = perSecond('250');
  const at50 = perSecond('50');
  say(
    `resource sampling, ${STEPS} steps of 50 ms, median of ${rounds} (rounds alternate the order): runner CPU per second of run — off ${off.toFixed(1)} ms, every 250 ms (default) ${at250.toFixed(1)} ms (${median(samples['250']!)} samples), every 50 ms ${at50.toFixed(1)} ms (${median(samples['50']!)} samples); run time off ${median(wall['0']!).toFixed(0)} ms, 250 ms ${median(wall['250']!).toFixed(0)} ms, 50 ms ${median(wall['50']!).toFixed(0)} ms`,
  );
  // The PostgreSQL side: one sample's query on the embedded server.
  const server = await openPostgres(
    { kind: 'postgres', urlEnv: 'EXEC_DOC_BENCH_NO_URL', database: 'bench' },
    { runId: `bench-sampling-${process.pid}`, env: {} },
  );
  let queryMs = 0;
  try {
    const probe = (await openPostgresProbe(server.url))!;
    for (let i = 0; i < 20; i++) await probe.sample();
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await probe.sample();
      times.push(performance.now() - t);
    }
    await probe.close();
    queryMs = median(times);
  } finally {
    await server.release({ keep: false, forResume: false });
  }
  say(
    `  one PostgreSQL sample (sessions, lock waits, replication lag) on the embedded server, median of 200: ${queryMs.toFixed(2)} ms; at the default interval ${((queryMs / 250) * 100).toFixed(2)} % of the sampler's time`,
  );
  return [
    [
      'resource sampling: runner CPU per second of run, off vs every 250 ms (default) vs every 50 ms',
      `${off.toFixed(1)} / ${at250.toFixed(1)} / ${at50.toFixed(1)} ms`,
    ],
    ['resource sampling: one PostgreSQL sample on the embedded server', `${queryMs.toFixed(2)} ms`],
  ];
}
