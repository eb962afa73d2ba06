// Database figures for `npm run bench` (issue: PostgreSQL migration procedures), on the embedded
// PostgreSQL: backfill throughput vs one UPDATE; lock waits and throughput of a pgbench load while
// a migration runs vs without it; rollback time of the schema+data procedure.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openPostgres } from '../src/targets/postgres.js';
import { backfill } from '../src/db/backfill.js';
import { up } from '../src/db/migrate.js';
import { loadMigrations } from '../src/db/migration-files.js';
import { resolveSection } from '../src/documents/address.js';
import { runSection } from '../src/runner/run.js';

const PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';
const ms = (n: number): string => `${n.toFixed(1)} ms`;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Per-transaction log lines of pgbench -l: client, tx, latency (µs), script, epoch seconds, µs. */
function readTransactionLogs(dir: string, prefix: string): Array<{ end: number; latencyMs: number }> {
  const out: Array<{ end: number; latencyMs: number }> = [];
  for (const file of readdirSync(dir).filter((f) => new RegExp(`^${prefix}\\.\\d+(\\.\\d+)?$`).test(f))) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length < 6) continue;
      out.push({ end: Number(f[4]) * 1000 + Number(f[5]) / 1000, latencyMs: Number(f[2]) / 1000 });
    }
  }
  return out;
}

export async function databaseBench(say: (line: string) => void, root: string): Promise<void> {
  const server = await openPostgres(
    { kind: 'postgres', urlEnv: 'EXEC_DOC_BENCH_NO_URL', database: 'bench' },
    { runId: `bench-${process.pid}`, env: {} },
  );
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    // 1. Backfill vs one UPDATE, on two identical 1,000,000-row tables.
    await client.query(`create table a (id bigint primary key, total int not null, size text);
                        insert into a select g, g % 1000, null from generate_series(1, 1000000) g;
                        create table b (like a including all); insert into b select * from a;`);
    await client.query('vacuum analyze a');
    await client.query('vacuum analyze b');
    // A checkpoint before each timed operation, so neither pays for the other's dirty pages.
    await client.query('checkpoint');
    const [, updateMs] = await timed(() =>
      client.query(`update b set size = case when total >= 500 then 'large' else 'small' end`),
    );
    await client.query('checkpoint');
    const [result, backfillMs] = await timed(() =>
      backfill({
        connectionString: server.url,
        name: 'bench',
        table: 'a',
        set: `size = case when total >= 500 then 'large' else 'small' end`,
        where: 'size is null',
        batchSize: 5000,
        targetBatchMs: 500,
      }),
    );
    if (result.rowsDone !== 1_000_000) throw new Error(`backfill did ${result.rowsDone} rows`);
    const ratio = updateMs / backfillMs;
    say(
      `backfill of 1,000,000 rows vs one UPDATE of the same rows: UPDATE ${ms(updateMs)}, backfill ${ms(backfillMs)} in ${result.batches} batches; throughput ratio ${ratio.toFixed(2)}x  (target >= 0.5x) ${ratio >= 0.5 ? 'PASS' : 'FAIL'}`,
    );

    // 2. A pgbench load (TPC-B-like, 4 clients), 12 s without and 12 s with a zero-downtime migration.
    const env = {
      ...process.env,
      PGHOST: '127.0.0.1',
      PGPORT: String(server.embedded!.port),
      PGUSER: 'postgres',
      PGDATABASE: 'bench',
    };
    const init = await run(PGBENCH, ['-i', '-s', '10', '-q'], env);
    if (init.code !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
    const logDir = path.join(os.tmpdir(), `exec-doc-bench-pgbench-${process.pid}`);
    rmSync(logDir, { recursive: true, force: true });
    mkdirSync(logDir);
    const migrations = path.join(logDir, 'migrations');
    mkdirSync(migrations);
    writeFileSync(path.join(migrations, '0001_note.up.sql'), 'alter table pgbench_accounts add column note text;');
    writeFileSync(
      path.join(migrations, '0002_index.up.sql'),
      'create index concurrently pgbench_accounts_abalance on pgbench_accounts (abalance);',
    );
    writeFileSync(
      path.join(migrations, '0003_check.up.sql'),
      'alter table pgbench_accounts add constraint abalance_sane check (abalance > -100000000) not valid;',
    );
    writeFileSync(
      path.join(migrations, '0004_validate.up.sql'),
      'alter table pgbench_accounts validate constraint abalance_sane;',
    );
    const load = (prefix: string) =>
      run(PGBENCH, ['-c', '4', '-j', '2', '-T', '12', '-n', '-l', `--log-prefix=${path.join(logDir, prefix)}`], env);
    const baseline = await load('base');
    const migrationWindow: { start: number; end: number } = { start: 0, end: 0 };
    const withMigration = load('mig');
    await new Promise((r) => setTimeout(r, 3000));
    migrationWindow.start = Date.now();
    await up({
      connectionString: server.url,
      migrations: loadMigrations(migrations),
      lockTimeoutMs: 100,
      retries: 20,
      backoffMs: 50,
    });
    migrationWindow.end = Date.now();
    const loaded = await withMigration;
    const tps = (text: string) => Number(/tps = ([\d.]+)/.exec(text)?.[1] ?? 'NaN');
    const base = readTransactionLogs(logDir, 'base');
    const during = readTransactionLogs(logDir, 'mig').filter(
      (t) => t.end >= migrationWindow.start && t.end - t.latencyMs <= migrationWindow.end,
    );
    const windowSeconds = (migrationWindow.end - migrationWindow.start) / 1000;
    // Throughput: transactions finished during the migration window vs the same length of the baseline run.
    const baseRate = base.length / 12;
    const duringRate = during.length / Math.max(windowSeconds, 0.001);
    const loss = 1 - duringRate / baseRate;
    const p99 = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length * 0.99)] ?? 0;
    const baseMax = Math.max(...base.map((t) => t.latencyMs));
    const duringMax = Math.max(...during.map((t) => t.latencyMs));
    say(
      `pgbench (scale 10, 4 clients): ${tps(baseline.stdout).toFixed(0)} tps without a migration, ${tps(loaded.stdout).toFixed(0)} tps over a run with one`,
    );
    say(
      `  during the migration (${(windowSeconds * 1000).toFixed(0)} ms: add column, CREATE INDEX CONCURRENTLY, CHECK NOT VALID, VALIDATE): ${during.length} transactions; throughput loss ${(loss * 100).toFixed(1)} %  (target < 3 %) ${loss < 0.03 ? 'PASS' : 'FAIL'}`,
    );
    say(
      `  longest transaction during it ${ms(duringMax)} (p99 ${ms(p99(during.map((t) => t.latencyMs)))}); without a migration: longest ${ms(baseMax)} (p99 ${ms(p99(base.map((t) => t.latencyMs)))}); extra wait ${ms(Math.max(0, duringMax - baseMax))}  (target < 100 ms) ${duringMax - baseMax < 100 ? 'PASS' : 'FAIL'}`,
    );
    rmSync(logDir, { recursive: true, force: true });
  } finally {
    await client.end();
    await server.release();
  }

  // 3. Rollback time of the schema+data procedure: fail its last step, time the rollback.
  const docsRoot = path.join(root, 'docs');
  const { section, path: documentPath } = await resolveSection('database-migrations/data-migration', {
    docsRoot,
    displayRoot: root,
  });
  let rollbackMs = -1;
  const outcome = await runSection({
    section,
    documentPath,
    docsRoot,
    stateDir: path.join(os.tmpdir(), `exec-doc-bench-rollback-${process.pid}`),
    env: { ...process.env, EXEC_DOC_FAIL_BEFORE: 'data-filled' },
    listeners: [(e) => e.type === 'rollback.end' && (rollbackMs = e.durationMs)],
  });
  const verified =
    outcome.record.steps.find((s) => s.phase === 'verify' && s.stepId === 'data-identical')?.status === 'passed';
  say(
    `rollback of the schema+data procedure (backfill of 20,000 rows, then 3 migrations): ${ms(rollbackMs)}, database verified identical: ${verified ? 'yes' : 'NO'} (exit ${outcome.exitCode})  (target < 30 s) ${rollbackMs < 30_000 && verified ? 'PASS' : 'FAIL'}`,
  );
}
