// `npm run db -- <command>`: the migration engine from the command line, as runbook steps call it.
// The database is $DATABASE_URL (or the PG* variables); inside `exec-doc run` it is the run's target.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDurationMs } from '../annotations/duration.js';
import type { Io } from './main.js';
import { CodedError } from '../util/coded-error.js';
import type { MigrationFormat } from '../db/migration-files.js';

const COMMANDS = {
  status: 'applied, pending, edited and unknown migrations (changes nothing)',
  plan: 'the SQL that `up` would run, in order (changes nothing)',
  up: 'apply pending migrations (all, or up to --to <version>)',
  down: 'roll back the last applied migration (or --steps N, or down to --to <version>)',
  verify: "run the applied migrations' .verify.sql checks",
  lint: "check migrations for dangerous DDL (blocking locks, rewrites, missing NOT VALID, …) with PostgreSQL's parser: the --dir folder, or files given (lint a.sql b.sql; - reads standard input)",
  baseline: 'record migrations up to --to <version> as applied, without running them (an existing database)',
  backfill: 'batched, resumable data change: --name N --table T --set "col = expr" [--where cond] [--key col]',
  backup:
    'back up the database (pg_dump when one is new enough, else a clone on the server) with a manifest: --out <manifest.json>',
  restore:
    "restore a backup (--from <manifest.json>, into --into <db> or over the source) and verify it against the backup's snapshot",
  snapshot: 'write an integrity snapshot (schema fingerprint, row counts, content checksums) to --out or stdout',
  compare: 'compare a snapshot file with another (<before.json> <after.json>) or with the database now (<before.json>)',
} as const;
type Command = keyof typeof COMMANDS;

const OPTIONS = {
  dir: { type: 'string', doc: 'folder of migrations (default: migrations), in any layout --format names' },
  format: {
    type: 'string',
    doc: 'layout of --dir: auto (default: sqitch.plan → sqitch, V…__*.sql → flyway, else golang-migrate), golang-migrate (also morph), flyway, sqitch',
  },
  to: { type: 'string', doc: 'target version' },
  ledger: {
    type: 'string',
    doc: 'name of the ledger, when several migration sets share a database (default: default)',
  },
  steps: { type: 'string', doc: 'how many migrations `down` rolls back (default 1)' },
  'lock-wait': { type: 'string', doc: "longest wait for another runner's migration lock (default 30s)" },
  'lock-timeout': { type: 'string', doc: 'lock_timeout of each migration (default 2s)' },
  'statement-timeout': { type: 'string', doc: 'statement_timeout of each statement (default: none)' },
  retries: { type: 'string', doc: 'further attempts after a lock_timeout (default 5)' },
  out: { type: 'string', doc: 'file for `snapshot` (default: stdout) and the manifest of `backup`' },
  from: { type: 'string', doc: 'restore: the backup manifest' },
  into: { type: 'string', doc: 'restore: the database to restore into (default: the backed-up one, replaced)' },
  name: { type: 'string', doc: 'backfill: the job name (progress is kept under it; the same name resumes)' },
  table: { type: 'string', doc: 'backfill: the table' },
  set: { type: 'string', doc: 'backfill: the SET clause, e.g. "status = \'new\'"' },
  where: { type: 'string', doc: 'backfill: only rows that still need it, e.g. "status is null"' },
  key: { type: 'string', doc: 'backfill: unique ordered column to walk by (default: the primary key)' },
  batch: { type: 'string', doc: 'backfill: first batch size (default 1000; adapts to --batch-ms)' },
  'batch-ms': { type: 'string', doc: 'backfill: target duration of a batch (default 200ms)' },
  'max-batch': { type: 'string', doc: 'backfill: largest batch (default 50000)' },
  sleep: { type: 'string', doc: 'backfill: pause between batches, to leave room for other load (default 0)' },
  'data-only': {
    type: 'boolean',
    doc: 'compare: tables and contents only, not how the schema is printed (across PostgreSQL majors)',
  },
  'skip-lint': { type: 'boolean', doc: '`up` without linting first (lint errors otherwise stop it)' },
  strict: { type: 'boolean', doc: '`verify`: nothing to verify is a failure (exit 1), not a warning' },
  json: { type: 'boolean', doc: 'machine-readable output' },
  help: { type: 'boolean', doc: 'show this help' },
} as const;

export function dbHelp(): string {
  const width = Math.max(...Object.keys(OPTIONS).map((k) => k.length)) + 12;
  return [
    'Usage: npm run db -- <command> [options]',
    '',
    'Versioned PostgreSQL migrations with a checksummed ledger, an advisory lock, one transaction per',
    'migration (except CONCURRENTLY), and lock_timeout retries. The database is $DATABASE_URL or the PG* variables.',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, doc]) => `  ${name.padEnd(10)}${doc}`),
    '',
    'Options:',
    ...Object.entries(OPTIONS).map(
      ([name, o]) => `  ${`--${name}${o.type === 'string' ? ' <value>' : ''}`.padEnd(width)}${o.doc}`,
    ),
    '',
    'Exit codes: 0 success; 1 a migration failed, was refused (edited or unknown migrations) or a check failed; 3 no database; 64 usage error; 130 a backfill stopped by Ctrl-C (run it again to resume).',
    '',
  ].join('\n');
}

export async function dbMain(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
): Promise<number> {
  const usage = (message: string): number => {
    io.stderr.write(`db: ${message}\nSee \`npm run db -- --help\`.\n`);
    return 64;
  };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, { type: o.type }])),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return usage((error as Error).message.split('\n')[0]!);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const [command, ...extra] = parsed.positionals;
  const files = command === 'compare' ? extra.splice(0, 2) : command === 'lint' ? extra.splice(0) : [];
  if (values.help || command === 'help') {
    io.stdout.write(dbHelp());
    return 0;
  }
  if (!command || !(command in COMMANDS))
    return usage(
      command
        ? `unknown command \`${command}\`, expected one of ${Object.keys(COMMANDS).join(', ')}`
        : 'missing command',
    );
  if (extra.length > 0) return usage(`unexpected argument \`${extra[0]}\``);
  const duration = (name: string, fallback: number): number | string => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const ms = parseDurationMs(String(raw));
    return ms === undefined ? `--${name} takes a duration such as 500ms, 2s or 1m` : ms;
  };
  const numbers = {
    lockWaitMs: duration('lock-wait', 30_000),
    lockTimeoutMs: duration('lock-timeout', 2_000),
    statementTimeoutMs: duration('statement-timeout', 0),
  };
  for (const value of Object.values(numbers)) if (typeof value === 'string') return usage(value);
  const retries = values.retries === undefined ? 5 : Number(values.retries);
  if (!Number.isInteger(retries) || retries < 0) return usage('--retries takes a whole number');
  const steps = values.steps === undefined ? undefined : Number(values.steps);
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1))
    return usage('--steps takes a whole number of at least 1');
  if (values.to !== undefined && !/^\d+(\.\d+)*$/.test(String(values.to)))
    return usage('--to takes a version (digits, or dotted digits such as 1.2)');
  const { MIGRATION_FORMATS } = await import('../db/migration-files.js');
  const format = String(values.format ?? 'auto') as (typeof MIGRATION_FORMATS)[number];
  if (!MIGRATION_FORMATS.includes(format))
    return usage(`--format takes ${MIGRATION_FORMATS.join(', ')}, not \`${String(values.format)}\``);
  if (command === 'baseline' && values.to === undefined) return usage('baseline needs --to <version>');
  if (command === 'backfill' && (values.name === undefined || values.table === undefined || values.set === undefined))
    return usage('backfill needs --name, --table and --set');
  if (command === 'backup' && values.out === undefined) return usage('backup needs --out <manifest.json>');
  if (command === 'restore' && values.from === undefined) return usage('restore needs --from <manifest.json>');
  if (command === 'compare' && files.length === 0)
    return usage('compare needs a snapshot file: compare <before.json> [<after.json>]');

  // Under `npm run`, the process runs in the package root; paths are meant from where npm was invoked.
  const base = io.env.INIT_CWD ?? process.cwd();
  const resolve = (p: string) => path.resolve(base, p);
  if (command === 'compare' && files.length === 2)
    return compareFiles(
      resolve(files[0]!),
      resolve(files[1]!),
      { json: values.json === true, dataOnly: values['data-only'] === true },
      io,
    );
  if (command === 'lint')
    return lintCommand(
      files.length > 0 ? files.map((f) => (f === '-' ? f : resolve(f))) : resolve(String(values.dir ?? 'migrations')),
      values.json === true,
      io,
      format,
    );

  // Every file named is checked before the database is touched: a backup must not run for minutes
  // and then fail to write its manifest.
  const { requireFile, requireWritableFile } = await import('./preflight.js');
  try {
    if ((command === 'snapshot' || command === 'backup') && typeof values.out === 'string')
      requireWritableFile(resolve(values.out), '--out');
    if (command === 'restore')
      requireFile(resolve(String(values.from)), '--from: the backup manifest written by `db backup`');
    if (command === 'compare') requireFile(resolve(files[0]!), 'the snapshot written by `db snapshot`');
  } catch (error) {
    io.stderr.write(`db: ${(error as Error).message}\n`);
    return 64;
  }

  const { configuredUrl } = await import('../targets/postgres.js');
  const url = configuredUrl({ kind: 'postgres', urlEnv: 'DATABASE_URL', database: 'postgres' }, io.env);
  if (!url) {
    io.stderr.write(
      'db: no database: set DATABASE_URL (or PGHOST/PGDATABASE); `exec-doc run` sets it for the steps of a section\n',
    );
    return 3;
  }
  const { loadMigrations, compareVersions } = await import('../db/migration-files.js');
  const needsMigrations = !['snapshot', 'compare', 'backfill', 'backup', 'restore'].includes(command);
  const migrate = await import('../db/migrate.js');
  const { connectionStringSecrets, createMasker } = await import('../secrets/masker.js');
  const mask = createMasker(connectionStringSecrets(url));
  const dir = resolve(String(values.dir ?? 'migrations'));
  const out = (text: string) => io.stdout.write(mask(text));
  try {
    const migrations = needsMigrations ? loadMigrations(dir, { format }) : [];
    const options = {
      connectionString: url,
      migrations,
      ...(values.ledger !== undefined ? { ledger: String(values.ledger) } : {}),
      lockWaitMs: numbers.lockWaitMs as number,
      lockTimeoutMs: numbers.lockTimeoutMs as number,
      statementTimeoutMs: numbers.statementTimeoutMs as number,
      retries,
      log: (line: string) => io.stderr.write(mask(`db: ${line}\n`)),
    };
    switch (command as Command) {
      case 'status': {
        const state = await migrate.status(options);
        if (values.json)
          out(
            `${JSON.stringify({ applied: state.applied, pending: state.pending.map((m) => ({ version: m.version, name: m.name, transactional: m.transactional })), drift: state.drift.map((d) => ({ version: d.row.version, name: d.row.name, applied: d.row.checksum, file: d.migration.checksum })), unknown: state.unknown }, null, 2)}\n`,
          );
        else {
          for (const row of state.applied)
            out(
              `applied  ${row.version}_${row.name}  ${row.appliedAt}  ${row.durationMs} ms${row.baseline ? '  (baseline)' : ''}\n`,
            );
          for (const m of state.pending)
            out(
              `pending  ${m.version}_${m.name}${m.transactional ? '' : '  (outside a transaction)'}${m.repeatable ? '  (repeatable: applied again whenever it changes)' : ''}\n`,
            );
          for (const d of state.drift)
            out(`EDITED   ${d.row.version}_${d.row.name}  the file changed after it was applied\n`);
          for (const r of state.unknown) out(`UNKNOWN  ${r.version}_${r.name}  applied, but no file describes it\n`);
          out(
            `${state.applied.length} applied, ${state.pending.length} pending${state.drift.length + state.unknown.length ? `, ${state.drift.length} edited, ${state.unknown.length} unknown` : ''}\n`,
          );
        }
        return state.drift.length + state.unknown.length > 0 ? 1 : 0;
      }
      case 'plan': {
        const state = await migrate.status(options);
        migrate.assertConsistent(state);
        const todo = state.pending.filter(
          (m) => values.to === undefined || compareVersions(m.version, String(values.to)) <= 0,
        );
        if (values.json)
          out(
            `${JSON.stringify(
              todo.map((m) => ({ version: m.version, name: m.name, transactional: m.transactional, sql: m.up })),
              null,
              2,
            )}\n`,
          );
        else {
          for (const m of todo)
            out(
              `-- ${m.version}_${m.name} (${m.transactional ? 'one transaction' : 'outside a transaction'}; lock_timeout ${options.lockTimeoutMs} ms)\n${m.up.trimEnd()}\n\n`,
            );
          out(`${todo.length} migration(s) would be applied\n`);
        }
        return 0;
      }
      case 'up':
      case 'down': {
        if (command === 'up' && !values['skip-lint']) {
          const { lintMigrations, formatFinding } = await import('../db/lint/index.js');
          // What this `up` applies, linted after the applied ones (whose schema it judges type changes by).
          const todo = new Set(
            (await migrate.status(options)).pending.filter(
              (m) => values.to === undefined || compareVersions(m.version, String(values.to)) <= 0,
            ),
          );
          const ordered = [...migrations.filter((m) => !todo.has(m)), ...migrations.filter((m) => todo.has(m))];
          const lintedFiles = new Set([...todo].map((m) => m.files.up));
          const errors = (
            await lintMigrations(
              ordered.map((m) => ({ up: m.up, files: { up: m.files.up } })),
              { sameRunFrom: ordered.length - todo.size },
            )
          ).filter((f) => f.severity === 'error' && lintedFiles.has(f.file));
          if (errors.length > 0) {
            io.stderr.write(
              `db: the linter found ${errors.length} error(s) in pending migrations; nothing was applied\n${errors.map((f) => `  ${formatFinding(f)}\n`).join('')}  Fix them, accept one with \`-- lint-ignore: <rule>\` in the file, or pass --skip-lint.\n`,
            );
            return 1;
          }
        }
        const results =
          command === 'up'
            ? await migrate.up({ ...options, ...(values.to !== undefined ? { to: String(values.to) } : {}) })
            : await migrate.down({
                ...options,
                ...(values.to !== undefined ? { to: String(values.to) } : {}),
                ...(steps !== undefined ? { steps } : {}),
              });
        if (values.json) out(`${JSON.stringify(results, null, 2)}\n`);
        else
          out(
            results.length === 0
              ? `nothing to ${command === 'up' ? 'apply' : 'roll back'}\n`
              : results
                  .map(
                    (r) =>
                      `${command === 'up' ? 'applied' : 'rolled back'} ${r.version}_${r.name} in ${r.durationMs} ms${r.attempts > 1 ? ` (${r.attempts} attempts)` : ''}\n`,
                  )
                  .join(''),
          );
        return 0;
      }
      case 'verify': {
        const results = await migrate.verify(options);
        if (results.length === 0) {
          // Nothing was checked: never reported as success that was not seen.
          io.stderr.write(
            `db: nothing verified: no applied migration has a .verify.sql${values.strict ? '' : ' (a warning; --strict makes it a failure)'}\n`,
          );
          if (values.json) out(`${JSON.stringify([], null, 2)}\n`);
          return values.strict ? 1 : 0;
        }
        if (values.json) out(`${JSON.stringify(results, null, 2)}\n`);
        else
          out(
            results.map((r) => `${r.ok ? 'ok    ' : 'FAILED'} ${r.version}_${r.name}: ${r.detail}\n`).join('') +
              `${results.filter((r) => r.ok).length}/${results.length} verified\n`,
          );
        return results.every((r) => r.ok) ? 0 : 1;
      }
      case 'snapshot':
      case 'compare': {
        const pg = (await import('pg')).default;
        const { takeSnapshot, compareSnapshots, describeDifference, readSnapshot, writeSnapshot } =
          await import('../db/snapshot.js');
        const before = command === 'compare' ? readSnapshot(resolve(files[0]!)) : undefined;
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        const now = await takeSnapshot(client).finally(() => client.end());
        if (command === 'snapshot') {
          if (typeof values.out === 'string') {
            writeSnapshot(resolve(values.out), now);
            io.stderr.write(
              `db: snapshot of ${now.database}: ${Object.keys(now.tables).length} table(s), schema ${now.schemaFingerprint.slice(0, 19)}… → ${values.out}\n`,
            );
          } else out(`${JSON.stringify(now, null, 2)}\n`);
          return 0;
        }
        const differences = compareSnapshots(before!, now, { dataOnly: values['data-only'] === true });
        if (values.json) out(`${JSON.stringify({ identical: differences.length === 0, differences }, null, 2)}\n`);
        else
          out(
            differences.length === 0
              ? `identical: schema ${now.schemaFingerprint.slice(0, 19)}…, ${Object.keys(now.tables).length} table(s) with the same rows\n`
              : `${differences.length} difference(s):\n${differences.map((d) => `  ${describeDifference(d)}\n`).join('')}`,
          );
        return differences.length === 0 ? 0 : 1;
      }
      case 'backfill': {
        const batchMs = duration('batch-ms', 200);
        const sleepMs = duration('sleep', 0);
        if (typeof batchMs === 'string') return usage(batchMs);
        if (typeof sleepMs === 'string') return usage(sleepMs);
        const batch = values.batch === undefined ? 1000 : Number(values.batch);
        if (!Number.isInteger(batch) || batch < 1) return usage('--batch takes a whole number of at least 1');
        const maxBatch = values['max-batch'] === undefined ? 50_000 : Number(values['max-batch']);
        if (!Number.isInteger(maxBatch) || maxBatch < batch)
          return usage('--max-batch takes a whole number, at least --batch');
        const { backfill, BackfillError } = await import('../db/backfill.js');
        const controller = new AbortController();
        const onSignal = () => {
          io.stderr.write(
            '\ndb: stopping after the current batch (progress is kept; run the same command to resume)\n',
          );
          controller.abort();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        const bar = progressRenderer(io);
        try {
          const result = await backfill({
            connectionString: url,
            name: String(values.name),
            table: String(values.table),
            set: String(values.set),
            ...(values.where !== undefined ? { where: String(values.where) } : {}),
            ...(values.key !== undefined ? { key: String(values.key) } : {}),
            batchSize: batch,
            maxBatchSize: maxBatch,
            targetBatchMs: batchMs,
            sleepMs,
            signal: controller.signal,
            onProgress: bar.update,
          });
          bar.done();
          if (values.json) out(`${JSON.stringify(result, null, 2)}\n`);
          else
            out(
              result.status === 'done'
                ? `backfill ${result.name}: done, ${result.rowsDone} row(s)${result.resumed ? ` (${result.rowsThisRun} in this run, the rest before)` : ''} in ${result.batches} batch(es), ${result.durationMs} ms\n`
                : `backfill ${result.name}: paused after ${result.rowsDone} row(s); run the same command to resume\n`,
            );
          return result.status === 'done' ? 0 : 130;
        } catch (error) {
          bar.done();
          if (error instanceof BackfillError || (error as { code?: string }).code) {
            io.stderr.write(mask(`db: backfill failed: ${(error as Error).message}\n`));
            return 1;
          }
          throw error;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }
      case 'backup':
      case 'restore': {
        const { backup, restore, BackupError } = await import('../db/backup.js');
        try {
          if (command === 'backup') {
            const manifest = await backup({
              connectionString: url,
              manifest: resolve(String(values.out)),
              env: io.env,
              log: options.log,
            });
            out(
              `backed up ${manifest.sourceDatabase} (${manifest.method === 'clone' ? `clone database ${manifest.location}` : `pg_dump ${manifest.pgDump!.major} → ${manifest.location}`}); manifest ${values.out}\n`,
            );
          } else {
            const result = await restore({
              connectionString: url,
              manifest: resolve(String(values.from)),
              ...(values.into !== undefined ? { into: String(values.into) } : {}),
              log: options.log,
            });
            out(`restored ${result.database}; identical to the backup (schema, row counts, contents)\n`);
          }
          return 0;
        } catch (error) {
          if (!(error instanceof BackupError)) throw error;
          io.stderr.write(mask(`db: ${error.message}\n${error.details.map((d) => `  ${d}\n`).join('')}`));
          return 1;
        }
      }
      case 'baseline': {
        const marked = await migrate.baseline({ ...options, version: String(values.to) });
        out(`recorded as applied without running: ${marked.join(', ')}\n`);
        return 0;
      }
    }
  } catch (error) {
    // Errors a user can act on carry a code; one table gives the exit code. Anything else is a bug.
    if (error instanceof CodedError) {
      io.stderr.write(
        mask(`db: ${error.message}\n${error.details.map((d) => `  ${d.split('\n').join('\n  ')}\n`).join('')}`),
      );
      return error.exitCode;
    }
    const code = (error as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '28P01' || code === '3D000') {
      io.stderr.write(mask(`db: cannot connect to the database: ${(error as Error).message}; check DATABASE_URL\n`));
      return 3;
    }
    throw error;
  }
  return 0;
}

async function compareFiles(
  beforeFile: string,
  afterFile: string,
  options: { json: boolean; dataOnly: boolean },
  io: Io,
): Promise<number> {
  const { compareSnapshots, describeDifference, readSnapshot } = await import('../db/snapshot.js');
  const json = options.json;
  try {
    const differences = compareSnapshots(readSnapshot(beforeFile), readSnapshot(afterFile), {
      dataOnly: options.dataOnly,
    });
    io.stdout.write(
      json
        ? `${JSON.stringify({ identical: differences.length === 0, differences }, null, 2)}\n`
        : differences.length === 0
          ? 'identical\n'
          : `${differences.length} difference(s):\n${differences.map((d) => `  ${describeDifference(d)}\n`).join('')}`,
    );
    return differences.length === 0 ? 0 : 1;
  } catch (error) {
    io.stderr.write(`db: ${(error as Error).message}\n`);
    return 64;
  }
}

/** Lints a migrations folder, or files in the order given (`-` is standard input), as Squawk does. */
async function lintCommand(
  source: string | string[],
  json: boolean,
  io: Io,
  format: MigrationFormat = 'auto',
): Promise<number> {
  const { loadMigrations, MigrationFilesError } = await import('../db/migration-files.js');
  const { lintMigrations, lintSql, formatFinding } = await import('../db/lint/index.js');
  let findings;
  try {
    if (typeof source === 'string') findings = await lintMigrations(loadMigrations(source, { format }));
    else {
      const { readFileSync } = await import('node:fs');
      const schema = new Map();
      findings = [];
      for (const file of source) {
        let sql: string;
        try {
          sql = file === '-' ? await readAll(io.stdin) : readFileSync(file, 'utf8');
        } catch (error) {
          io.stderr.write(
            `db: cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}; pass SQL files, or - for standard input\n`,
          );
          return 64;
        }
        findings.push(
          ...(await lintSql(sql, file === '-' ? '<stdin>' : file, { schema, rollback: /\.down\.sql$/.test(file) })),
        );
      }
    }
  } catch (error) {
    if (error instanceof MigrationFilesError) {
      io.stderr.write(`db: ${error.message}\n`);
      return 64;
    }
    throw error;
  }
  const errors = findings.filter((f) => f.severity === 'error').length;
  if (json) io.stdout.write(`${JSON.stringify({ errors, warnings: findings.length - errors, findings }, null, 2)}\n`);
  else
    io.stdout.write(
      `${findings.map((f) => `${formatFinding(f)}\n`).join('')}lint: ${errors} error(s), ${findings.length - errors} warning(s)\n`,
    );
  return errors > 0 ? 1 : 0;
}

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

/** A progress bar on a terminal; elsewhere a line every 2 s. */
function progressRenderer(io: Io): {
  update: (p: { done: number; total: number; batchSize: number; elapsedMs: number }) => void;
  done: () => void;
} {
  const tty = Boolean((io.stderr as { isTTY?: boolean }).isTTY);
  let lastLine = 0;
  let drawn = false;
  return {
    update(p) {
      const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
      const rate = p.elapsedMs > 0 ? Math.round((p.done / p.elapsedMs) * 1000) : 0;
      const text = `${p.done}/${p.total} rows (${Math.round(ratio * 100)} %), batch ${p.batchSize}, ${rate} rows/s`;
      if (tty) {
        const width = 30;
        const filled = Math.round(ratio * width);
        io.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}\x1b[K`);
        drawn = true;
      } else if (p.elapsedMs - lastLine >= 2000) {
        lastLine = p.elapsedMs;
        io.stderr.write(`db: backfill ${text}\n`);
      }
    },
    done() {
      if (drawn) io.stderr.write('\n');
      drawn = false;
    },
  };
}
