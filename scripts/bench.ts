// `npm run bench`: ratios measured side by side in one run (the machines are shared and noisy,
// so absolute times drift; interleaved rounds and medians keep the comparison fair).
//
//   1. runner overhead: 100 trivial steps through exec-doc vs the same commands run one by one
//      with `bash -c` (target ≤ 1.15×), in-process and end to end through the CLI;
//   2. extraction of 1,000 generated MDX documents vs a bare mdast-util-from-markdown parse of
//      the same files (target ≤ 1.5×);
//   3. `exec-doc list` on that corpus with a warm cache (target < 150 ms).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { mdxjs } from 'micromark-extension-mdxjs';
import { mdxFromMarkdown } from 'mdast-util-mdx';
import { frontmatter } from 'micromark-extension-frontmatter';
import { frontmatterFromMarkdown } from 'mdast-util-frontmatter';
import { extractFromSource } from '../src/documents/load.js';
import { runSection } from '../src/runner/run.js';
import { resolveSection } from '../src/documents/address.js';
import { discoverDocuments } from '../src/documents/discover.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'exec-doc.js');
const WORK = path.join(os.tmpdir(), 'exec-doc-bench');
const STEPS = 100;
const DOCS = 1000;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const ms = (n: number): string => `${n.toFixed(1)} ms`;
const time = async (fn: () => Promise<unknown> | unknown): Promise<number> => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};
const lines: string[] = [];
const say = (line: string): void => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};
/** The headline figures of this run, written to BENCHMARKS.md's table: [measure, figure]. */
const figures: Array<[string, string]> = [];

// ---------------------------------------------------------------------------------------------
// 1. Runner overhead

function stepCommand(i: number): string {
  return `echo "step ${i}"`;
}

function overheadDocument(): string {
  const blocks = Array.from(
    { length: STEPS },
    (_, i) => `\`\`\`bash {id=s${i} rollback=none}\n${stepCommand(i)}\n\`\`\`\n`,
  );
  return `# Overhead\n\n## Hundred steps\n\n${blocks.join('\n')}`;
}

/** The baseline: each command with `bash -c` (same flags exec-doc uses), one after the other. */
function bashOneByOne(): Promise<void> {
  return new Promise((resolve, reject) => {
    let i = 0;
    const next = (): void => {
      if (i === STEPS) return resolve();
      const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', stepCommand(i++)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.resume();
      child.stderr.resume();
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? next() : reject(new Error(`bash exited ${code}`))));
    };
    next();
  });
}

async function runnerOverhead(rounds: number): Promise<void> {
  const dir = path.join(WORK, 'overhead');
  rmSync(dir, { recursive: true, force: true });
  const docsRoot = path.join(dir, 'docs');
  mkdirSync(docsRoot, { recursive: true });
  writeFileSync(path.join(docsRoot, 'overhead.md'), overheadDocument());
  const stateDir = path.join(dir, '.exec-doc');
  const corpus = { docsRoot, cacheFile: path.join(stateDir, 'cache', 'documents.json') };
  const shellLoop = Array.from(
    { length: STEPS },
    (_, i) => `bash -e -o pipefail -c '${stepCommand(i)}' > /dev/null`,
  ).join('\n');

  const inProcess = { baseline: [] as number[], execDoc: [] as number[], nodeSpawn: [] as number[] };
  const endToEnd = { baseline: [] as number[], execDoc: [] as number[] };
  // The floor of the end-to-end ratio: Node starting, and the same 100 processes started through
  // exec-doc's launcher by a fresh Node that does nothing else (no document, plan, state or events).
  const floor = { nodeStart: [] as number[], launches: [] as number[] };
  const launchesScript = [
    `import { runProcess } from ${JSON.stringify(path.join(ROOT, 'dist', 'src', 'process', 'process.js'))};`,
    `for (const command of ${JSON.stringify(Array.from({ length: STEPS }, (_, i) => stepCommand(i)))}) {`,
    `  const r = await runProcess({ file: 'bash', args: ['-e', '-o', 'pipefail', '-c', command],`,
    `    cwd: process.cwd(), env: { PATH: process.env.PATH ?? '' }, timeoutMs: 60000, onOutput() {} });`,
    `  if (r.exitCode !== 0) process.exit(1);`,
    `}`,
  ].join('\n');
  // Warm up both paths once (JIT, page cache).
  await bashOneByOne();
  const execDocRun = async (): Promise<void> => {
    // The path `exec-doc run overhead/hundred-steps` takes: resolve the section through the
    // document cache (re-parsed when the file changes), plan, run, checkpoint, events, record.
    const { section, path: documentPath } = await resolveSection('overhead/hundred-steps', corpus);
    const outcome = await runSection({ section, documentPath, docsRoot, stateDir, env: process.env });
    if (outcome.exitCode !== 0) throw new Error(`bench run failed: ${outcome.status}`);
  };
  await execDocRun();
  const perRound: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate which side goes first (ABBA), so neither always runs on a warmer machine.
    if (round % 2 === 0) {
      inProcess.baseline.push(await time(bashOneByOne));
      inProcess.execDoc.push(await time(execDocRun));
    } else {
      inProcess.execDoc.push(await time(execDocRun));
      inProcess.baseline.push(await time(bashOneByOne));
    }
    perRound.push(inProcess.execDoc[round]! / inProcess.baseline[round]!);
    // The same run with steps spawned by Node rather than the launcher (EXEC_DOC_LAUNCHER=spawn).
    const launcherSetting = process.env.EXEC_DOC_LAUNCHER;
    process.env.EXEC_DOC_LAUNCHER = 'spawn';
    inProcess.nodeSpawn.push(await time(execDocRun));
    if (launcherSetting === undefined) delete process.env.EXEC_DOC_LAUNCHER;
    else process.env.EXEC_DOC_LAUNCHER = launcherSetting;
    if (process.env.BENCH_SKIP_E2E) continue;
    endToEnd.baseline.push(await time(() => spawnSync('bash', ['-c', shellLoop], { stdio: 'ignore' })));
    floor.nodeStart.push(await time(() => spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' })));
    floor.launches.push(
      await time(() => {
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', launchesScript], { stdio: 'ignore' });
        if (r.status !== 0) throw new Error(`the launches alone exited ${r.status}`);
      }),
    );
    endToEnd.execDoc.push(
      await time(() => {
        const r = spawnSync(
          process.execPath,
          [BIN, 'run', 'overhead/hundred-steps', '--docs', docsRoot, '--state-dir', stateDir],
          { stdio: 'ignore', env: { ...process.env, CI: 'true' } },
        );
        if (r.status !== 0) throw new Error(`exec-doc exited ${r.status}`);
      }),
    );
  }
  const ratio = median(perRound);
  say(`runner overhead, ${STEPS} trivial bash steps, ${rounds} interleaved rounds (ABBA):`);
  say(
    `  in process   bash -c one by one ${ms(median(inProcess.baseline))}  exec-doc runSection ${ms(median(inProcess.execDoc))}  median per-round ratio ${ratio.toFixed(3)}x (ratio of medians ${(median(inProcess.execDoc) / median(inProcess.baseline)).toFixed(3)}x)  (target <= 1.15x) ${ratio <= 1.15 ? 'PASS' : 'FAIL'}`,
  );
  const spawnRatio = median(inProcess.nodeSpawn) / median(inProcess.baseline);
  say(
    `  in process   steps spawned by Node instead of the launcher ${ms(median(inProcess.nodeSpawn))}  ratio of medians ${spawnRatio.toFixed(3)}x`,
  );
  figures.push([
    `runner overhead in process with Node's spawn instead of the launcher (EXEC_DOC_LAUNCHER=spawn)`,
    `${spawnRatio.toFixed(2)}×`,
  ]);
  const e2e = median(endToEnd.execDoc) / median(endToEnd.baseline);
  figures.push([
    `runner overhead in process: ${STEPS} trivial steps vs bash -c one by one (target ≤ 1.15×)`,
    `${ratio.toFixed(2)}×`,
  ]);
  if (endToEnd.execDoc.length > 0)
    figures.push([
      `exec-doc run of ${STEPS} trivial steps vs a shell loop of bash -c (goal ≤ 2×)`,
      `${e2e.toFixed(1)}× (${ms(median(endToEnd.execDoc))} vs ${ms(median(endToEnd.baseline))})`,
    ]);
  say(
    `  end to end   shell loop of bash -c ${ms(median(endToEnd.baseline))}  exec-doc run (CLI) ${ms(median(endToEnd.execDoc))}  ratio ${e2e.toFixed(3)}x  (includes Node start-up and module loading)`,
  );
  if (floor.launches.length > 0) {
    const floorRatio = median(floor.launches) / median(endToEnd.baseline);
    say(
      `  floor        node -e 0 ${ms(median(floor.nodeStart))}  Node starting ${STEPS} processes through the launcher and nothing else ${ms(median(floor.launches))}  ratio to the shell loop ${floorRatio.toFixed(3)}x  (what is left for exec-doc's own work within 2x: ${ms(2 * median(endToEnd.baseline) - median(floor.launches))})`,
    );
    figures.push([
      `floor of the end-to-end ratio: Node starting ${STEPS} processes through the launcher, nothing else, vs the shell loop`,
      `${floorRatio.toFixed(2)}× (${ms(median(floor.launches))}; node -e 0 alone ${ms(median(floor.nodeStart))})`,
    ]);
  }
}

// ---------------------------------------------------------------------------------------------
// 2 and 3. Extraction and list

/** Deterministic pseudo-random numbers, so every bench run parses the same corpus. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) % 2 ** 32;
    return state / 2 ** 32;
  };
}

function corpusDocument(n: number, random: () => number): string {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  const words = [
    'upgrade',
    'schema',
    'replica',
    'index',
    'backfill',
    'rollback',
    'verify',
    'lock',
    'table',
    'service',
    'package',
    'container',
    'window',
    'traffic',
    'snapshot',
  ];
  const sentence = () => Array.from({ length: 8 + Math.floor(random() * 12) }, () => pick(words)).join(' ');
  const sections: string[] = [];
  for (let s = 0; s < 3; s++) {
    const id = `d${n}s${s}`;
    sections.push(
      [
        `## Procedure ${s + 1}: ${pick(words)} the ${pick(words)}`,
        '',
        `${sentence()}. See [the reference](./doc-${(n + 1) % DOCS}.mdx) and **${pick(words)}** before you start.`,
        '',
        `- ${sentence()}`,
        `- ${sentence()}`,
        '',
        `\`\`\`sql {id=${id}-check kind=check}`,
        `select count(*) from ${pick(words)}_${s} where id > \${{ params.limit }};`,
        '```',
        '',
        '```output',
        ' count',
        '-------',
        '...',
        '```',
        '',
        `\`\`\`bash {id=${id}-step rollback=${id}-undo timeout=2m retries=1}`,
        `echo "${sentence()}"`,
        `test -n "$HOME"`,
        '```',
        '',
        `\`\`\`bash {id=${id}-undo kind=rollback}`,
        `echo "undo ${s}"`,
        '```',
        '',
        '```js',
        `// An example, not executed: ${sentence()}`,
        'console.log(1);',
        '```',
        '',
        `| step | effect |\n|---|---|\n| ${pick(words)} | ${sentence()} |`,
        '',
      ].join('\n'),
    );
  }
  return [
    '---',
    `title: Document ${n}`,
    'exec-doc:',
    '  params:',
    '    limit: { type: integer, default: 10, min: 0 }',
    '---',
    '',
    `# Document ${n}`,
    '',
    `${sentence()}.`,
    '',
    ...sections,
  ].join('\n');
}

function writeCorpus(): string {
  const docs = path.join(WORK, 'corpus', 'docs');
  rmSync(path.join(WORK, 'corpus'), { recursive: true, force: true });
  mkdirSync(docs, { recursive: true });
  const random = lcg(72);
  for (let n = 0; n < DOCS; n++) writeFileSync(path.join(docs, `doc-${n}.mdx`), corpusDocument(n, random));
  return docs;
}

async function extraction(rounds: number): Promise<void> {
  const docsRoot = writeCorpus();
  const files = discoverDocuments(docsRoot).map((file) => ({ file, source: readFileSync(file, 'utf8') }));
  const bare = (): void => {
    for (const { source } of files)
      fromMarkdown(source, {
        extensions: [mdxjs(), frontmatter(['yaml'])],
        mdastExtensions: [mdxFromMarkdown(), frontmatterFromMarkdown(['yaml'])],
      });
  };
  const ours = async (): Promise<void> => {
    for (const { file, source } of files) {
      const doc = await extractFromSource(file, source, { docsRoot, displayRoot: docsRoot });
      if (doc.sections.length !== 3 || doc.diagnostics.some((d) => d.severity === 'error'))
        throw new Error(`unexpected extraction of ${file}: ${JSON.stringify(doc.diagnostics[0])}`);
    }
  };
  bare();
  await ours();
  const samples = { bare: [] as number[], ours: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    samples.bare.push(await time(bare));
    samples.ours.push(await time(ours));
  }
  const ratio = median(samples.ours) / median(samples.bare);
  say(
    `extraction of ${DOCS} generated MDX documents (${(files.reduce((n, f) => n + f.source.length, 0) / 1e6).toFixed(1)} MB), median of ${rounds} interleaved rounds:`,
  );
  say(
    `  mdast-util-from-markdown (MDX + front matter) ${ms(median(samples.bare))}  exec-doc extraction ${ms(median(samples.ours))}  ratio ${ratio.toFixed(3)}x  (target <= 1.5x) ${ratio <= 1.5 ? 'PASS' : 'FAIL'}`,
  );

  // 3. `exec-doc list` with a warm cache: first run fills it, the timed runs read it.
  const stateDir = path.join(WORK, 'corpus', '.exec-doc');
  const list = () => {
    const r = spawnSync(process.execPath, [BIN, 'list', '--docs', docsRoot, '--state-dir', stateDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    if (r.status !== 0 || !r.stdout.includes(`${DOCS * 3} sections`)) throw new Error(`list failed: ${r.stderr}`);
  };
  const cold = await time(list);
  const warm: number[] = [];
  for (let i = 0; i < 11; i++) warm.push(await time(list));
  const starts: number[] = [];
  for (let i = 0; i < 5; i++) starts.push(await time(() => spawnSync(process.execPath, ['-e', '0'])));
  const node = median(starts);
  const w = median(warm);
  figures.push([`warm exec-doc list on ${DOCS} documents (goal < 150 ms)`, ms(w)]);
  say(
    `exec-doc list on ${DOCS} documents: cold cache ${ms(cold)}, warm cache ${ms(w)} (median of 11; \`node -e 0\` alone ${ms(node)})  (target < 150 ms) ${w < 150 ? 'PASS' : 'FAIL'}`,
  );
  // `exec-doc plan` of one section of that corpus, warm (agents call it before every run).
  const listed = spawnSync(process.execPath, [BIN, 'list', '--json', '--docs', docsRoot, '--state-dir', stateDir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const address = (JSON.parse(listed.stdout) as { sections: Array<{ address: string }> }).sections[DOCS]!.address;
  const plan = () => {
    const r = spawnSync(process.execPath, [BIN, 'plan', address, '--docs', docsRoot, '--state-dir', stateDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`plan failed: ${r.stderr}`);
  };
  const plans: number[] = [];
  for (let i = 0; i < 11; i++) plans.push(await time(plan));
  const p = median(plans);
  figures.push([`warm exec-doc plan of one section of ${DOCS} documents (goal < 150 ms)`, ms(p)]);
  say(
    `exec-doc plan of one section of ${DOCS} documents, warm cache: ${ms(p)} (median of 11)  (target < 150 ms) ${p < 150 ? 'PASS' : 'FAIL'}`,
  );
}

// ---------------------------------------------------------------------------------------------
// 4. The site: check:docs on the real guide (target < 3 s) and the site build.

async function site(): Promise<void> {
  const checks: number[] = [];
  for (let i = 0; i < 5; i++) {
    checks.push(
      await time(() => {
        const r = spawnSync(process.execPath, [BIN, 'check-docs'], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
          encoding: 'utf8',
        });
        if (r.status !== 0) throw new Error(`check-docs failed: ${r.stdout}${r.stderr}`);
      }),
    );
  }
  const check = median(checks);
  const docs = discoverDocuments(path.join(ROOT, 'docs')).length;
  say(
    `npm run check:docs on the real guide (${docs} documents): median of 5 ${ms(check)}  (target < 3 s) ${check < 3000 ? 'PASS' : 'FAIL'}`,
  );
  const outDir = path.join(WORK, 'site-build');
  const build = () =>
    time(() => {
      const r = spawnSync('npx', ['docusaurus', 'build', '--out-dir', outDir], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`site build failed: ${r.stdout}${r.stderr}`);
    });
  // Cold: without Docusaurus's generated files and webpack's persistent cache; then warm.
  rmSync(path.join(ROOT, '.docusaurus'), { recursive: true, force: true });
  rmSync(path.join(ROOT, 'node_modules', '.cache'), { recursive: true, force: true });
  const cold = await build();
  const warm = await build();
  say(`site build (docusaurus build, ${docs} documents): cold ${ms(cold)}, warm cache ${ms(warm)}`);
}

// ---------------------------------------------------------------------------------------------
// 5. Validation: the full pre-upgrade phase on the embedded default (target < 5 s; the
// requirement is < 2 min), as an operator runs it: a new process that starts the embedded
// PostgreSQL, runs the 15 checks of the shipped configuration at once, and removes the server.

async function validation(rounds: number): Promise<void> {
  const totals: number[] = [];
  const phases: number[] = [];
  const sums: number[] = [];
  let slowest = { name: '', durationMs: 0 };
  const stateDir = path.join(WORK, 'validation');
  const env = { ...process.env, DATABASE_URL: '', PGHOST: '', PGDATABASE: '', NO_COLOR: '1' };
  for (let i = 0; i < rounds; i++) {
    let out = '';
    totals.push(
      await time(() => {
        const r = spawnSync(
          process.execPath,
          [BIN, 'check', 'pre-upgrade', '--format', 'json', '--state-dir', stateDir],
          { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
        );
        if (r.status !== 0) throw new Error(`check pre-upgrade exited ${r.status}: ${r.stdout}${r.stderr}`);
        out = r.stdout;
      }),
    );
    const report = JSON.parse(out) as { durationMs: number; results: Array<{ name: string; durationMs: number }> };
    phases.push(report.durationMs);
    sums.push(report.results.reduce((n, r) => n + r.durationMs, 0));
    for (const r of report.results) if (r.durationMs > slowest.durationMs) slowest = r;
  }
  const total = median(totals);
  say(
    `exec-doc check pre-upgrade on the embedded default (15 checks), median of ${rounds}: whole command ${ms(total)} (checks ${ms(median(phases))}, their durations add up to ${ms(median(sums))}: concurrency ${(median(sums) / median(phases)).toFixed(2)}x; slowest ${slowest.name} ${ms(slowest.durationMs)})  (target < 5 s; ${(120_000 / total).toFixed(0)}x under the 2 min requirement) ${total < 5000 ? 'PASS' : 'FAIL'}`,
  );
}

// BENCH_ONLY=overhead,extraction,site,validation,db,app,infra,fullstack,hosts,audit,snapshot,sampling,impact runs a subset.
const only = new Set(
  (
    process.env.BENCH_ONLY ??
    'overhead,extraction,site,validation,db,app,infra,fullstack,hosts,audit,snapshot,sampling,impact'
  )
    .split(',')
    .map((s) => s.trim()),
);
say(`exec-doc bench — node ${process.version}, ${os.cpus().length} cpus, ${new Date().toISOString().slice(0, 10)}`);
if (only.has('overhead')) await runnerOverhead(Number(process.env.BENCH_ROUNDS ?? 15));
if (only.has('audit')) {
  const { auditBench } = await import('./bench-audit.js');
  auditBench(say);
}
if (only.has('snapshot')) {
  const { snapshotBench } = await import('./bench-snapshot.js');
  await snapshotBench(say);
}
if (only.has('sampling')) {
  const { samplingBench } = await import('./bench-sampling.js');
  figures.push(...(await samplingBench(say, Number(process.env.BENCH_SAMPLING_ROUNDS ?? 5))));
}
if (only.has('impact')) {
  const { impactBench } = await import('./bench-impact.js');
  figures.push(...impactBench(say, ROOT, Number(process.env.BENCH_IMPACT_ROUNDS ?? 1)));
}
if (only.has('extraction')) await extraction(Number(process.env.BENCH_EXTRACT_ROUNDS ?? 3));
if (only.has('site')) await site();
if (only.has('validation')) await validation(Number(process.env.BENCH_VALIDATION_ROUNDS ?? 5));
if (only.has('db') && !process.env.BENCH_SKIP_DB) {
  const { databaseBench } = await import('./bench-db.js');
  await databaseBench(say, ROOT);
}
if (only.has('app') || only.has('infra') || only.has('fullstack')) {
  const { procedureBench } = await import('./bench-procedures.js');
  const rounds = Number(process.env.BENCH_PROCEDURE_ROUNDS ?? 3);
  if (only.has('app'))
    await procedureBench(say, ROOT, {
      docId: 'application-upgrades',
      slugs: ['upgrade-python-packages', 'deploy-a-new-release', 'update-the-configuration'],
      rounds,
    });
  // The package procedure needs root (the machine's dpkg); the container one Podman and HAProxy.
  if (only.has('infra') && process.getuid?.() === 0)
    await procedureBench(say, ROOT, {
      docId: 'infrastructure-upgrades',
      slugs: ['upgrade-a-system-package', 'upgrade-a-container-image'],
      rounds,
    });
  // The whole upgrade (database, application, configuration, container) rolled back as one; the
  // requirement is under 5 minutes. Podman needs root here.
  if (only.has('fullstack') && process.getuid?.() === 0)
    await procedureBench(say, ROOT, {
      docId: 'rollback',
      slugs: ['full-stack-upgrade'],
      rounds,
      rollbackTargetMs: 300_000,
    });
}
// Many hosts: five network namespaces with sshd, reached by Ansible (root, ansible-core, openssh-server).
if (
  only.has('hosts') &&
  process.getuid?.() === 0 &&
  spawnSync('sh', ['-c', 'command -v ansible-playbook']).status === 0
) {
  const { hostsBench } = await import('./bench-hosts.js');
  await hostsBench(say, ROOT, Number(process.env.BENCH_HOSTS_ROUNDS ?? 3));
}
mkdirSync(WORK, { recursive: true });
writeFileSync(path.join(WORK, 'last-bench.txt'), `${lines.join('\n')}\n`);
// The figures table in BENCHMARKS.md always holds the latest run of each measure (BENCH_WRITE=0: leave it).
if (process.env.BENCH_WRITE !== '0' && figures.length > 0) {
  const { updateFiguresTable } = await import('./bench-table.js');
  const file = path.join(ROOT, 'BENCHMARKS.md');
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, ${os.platform()} ${os.release()}, Node ${process.version}`;
  writeFileSync(
    file,
    updateFiguresTable(readFileSync(file, 'utf8'), figures, {
      date: new Date().toISOString().slice(0, 10),
      machine,
      command: `BENCH_ONLY=${[...only].join(',')} npm run bench`,
    }),
  );
  say(`BENCHMARKS.md: ${figures.length} figure(s) of the table updated`);
}
