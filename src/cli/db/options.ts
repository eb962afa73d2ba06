// `npm run db` as data: its commands and options in one table that also produces --help, and a
// pure parse that returns what to do (every value checked and typed) or the text to print.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDurationMs } from '../../annotations/duration.js';
import { MIGRATION_FORMATS, type MigrationFormat } from '../../db/formats.js';
import { EXIT } from '../../util/coded-error.js';
import { tableNameProblem } from '../../db/snapshot.js';

export const DB_COMMANDS = {
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
  'verify-backup':
    "prove a backup restorable without touching the source: restore --from <manifest.json> into a scratch database on the same server, compare it with the backup's snapshot, drop the scratch database",
  snapshot: 'write an integrity snapshot (schema fingerprint, row counts, content checksums) to --out or stdout',
  compare: 'compare a snapshot file with another (<before.json> <after.json>) or with the database now (<before.json>)',
} as const;
export type DbCommand = keyof typeof DB_COMMANDS;

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
  from: { type: 'string', doc: 'restore, verify-backup: the backup manifest' },
  into: { type: 'string', doc: 'restore: the database to restore into (default: the backed-up one, replaced)' },
  name: { type: 'string', doc: 'backfill: the job name (progress is kept under it; the same name resumes)' },
  table: {
    type: 'string',
    multiple: true,
    doc: 'backfill: the table; snapshot: only this table and its columns, constraints, indexes and triggers (repeatable): the proof stays cheap on a database with thousands of tables',
  },
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
  'schema-only': {
    type: 'boolean',
    doc: "compare: the schema and each table's row count, not the rows' contents (a table a load keeps writing)",
  },
  'skip-lint': { type: 'boolean', doc: '`up` without linting first (lint errors otherwise stop it)' },
  strict: { type: 'boolean', doc: '`verify`: nothing to verify is a failure (exit 1), not a warning' },
  json: { type: 'boolean', doc: 'machine-readable output' },
  help: { type: 'boolean', doc: 'show this help' },
} as const;

export interface BackfillSettings {
  name: string;
  table: string;
  set: string;
  where?: string;
  key?: string;
  batchSize: number;
  maxBatchSize: number;
  targetBatchMs: number;
  sleepMs: number;
}

export interface DbOptions {
  /** The migrations folder, absolute. */
  dir: string;
  format: MigrationFormat;
  to?: string;
  ledger?: string;
  steps?: number;
  lockWaitMs: number;
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  retries: number;
  /** Files as the user wrote them (for messages) and as opened (absolute). */
  out?: { given: string; path: string };
  from?: { given: string; path: string };
  into?: string;
  /** backfill only. */
  backfill?: BackfillSettings;
  /** snapshot, backup: only these tables. */
  tables?: string[];
  dataOnly: boolean;
  schemaOnly: boolean;
  skipLint: boolean;
  strict: boolean;
  json: boolean;
}

export type ParsedDb =
  | { kind: 'command'; command: DbCommand; files: string[]; options: DbOptions }
  | { kind: 'output'; text: string; exitCode: number };

export function dbHelp(): string {
  const width = Math.max(...Object.keys(OPTIONS).map((k) => k.length)) + 12;
  const commandWidth = Math.max(...Object.keys(DB_COMMANDS).map((k) => k.length)) + 2;
  return [
    'Usage: npm run db -- <command> [options]',
    '',
    'Versioned PostgreSQL migrations with a checksummed ledger, an advisory lock, one transaction per',
    'migration (except CONCURRENTLY), and lock_timeout retries. The database is $DATABASE_URL or the PG* variables.',
    '',
    'Commands:',
    ...Object.entries(DB_COMMANDS).map(([name, doc]) => `  ${name.padEnd(commandWidth)}${doc}`),
    '',
    'Options:',
    ...Object.entries(OPTIONS).map(
      ([name, o]) => `  ${`--${name}${o.type === 'string' ? ' <value>' : ''}`.padEnd(width)}${o.doc}`,
    ),
    '',
    'Exit codes: 0 success; 1 a migration failed, was refused (edited or unknown migrations) or a check failed; 3 no database; 64 usage error; 70 a bug in exec-doc; 130 a backfill stopped by Ctrl-C (run it again to resume).',
    '',
  ].join('\n');
}

class UsageProblem {
  constructor(readonly message: string) {}
}

/**
 * Reads the command line; runs nothing. Relative paths are taken from `base` (under `npm run`, the
 * folder npm was invoked from).
 */
export function parseDbCli(argv: string[], base: string): ParsedDb {
  try {
    return parse(argv, base);
  } catch (error) {
    if (!(error instanceof UsageProblem)) throw error;
    return { kind: 'output', text: `db: ${error.message}\nSee \`npm run db -- --help\`.\n`, exitCode: EXIT.usage };
  }
}

function parse(argv: string[], base: string): ParsedDb {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(OPTIONS).map(([k, o]) => [k, { type: o.type, ...('multiple' in o ? { multiple: true } : {}) }]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageProblem((error as Error).message.split('\n')[0]!);
  }
  const { table: tables, ...single } = parsed.values as Record<string, string | boolean | undefined> & {
    table?: string[];
  };
  const values: Record<string, string | boolean | undefined> = single;
  const text = (name: string): string | undefined => (values[name] === undefined ? undefined : String(values[name]));
  const [command, ...extra] = parsed.positionals;
  const files = command === 'compare' ? extra.splice(0, 2) : command === 'lint' ? extra.splice(0) : [];
  if (values.help || command === 'help') return { kind: 'output', text: dbHelp(), exitCode: 0 };
  if (!command || !(command in DB_COMMANDS))
    throw new UsageProblem(
      command
        ? `unknown command \`${command}\`, expected one of ${Object.keys(DB_COMMANDS).join(', ')}`
        : 'missing command',
    );
  if (extra.length > 0) throw new UsageProblem(`unexpected argument \`${extra[0]}\``);

  const duration = (name: string, fallback: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const ms = parseDurationMs(raw);
    if (ms === undefined) throw new UsageProblem(`--${name} takes a duration such as 500ms, 2s or 1m`);
    return ms;
  };
  const whole = (name: string, fallback: number | undefined, least: number, what: string): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < least) throw new UsageProblem(`--${name} takes ${what}`);
    return n;
  };
  const lockWaitMs = duration('lock-wait', 30_000);
  const lockTimeoutMs = duration('lock-timeout', 2_000);
  const statementTimeoutMs = duration('statement-timeout', 0);
  const retries = whole('retries', 5, 0, 'a whole number')!;
  const steps = whole('steps', undefined, 1, 'a whole number of at least 1');
  const to = text('to');
  if (to !== undefined && !/^\d+(\.\d+)*$/.test(to))
    throw new UsageProblem('--to takes a version (digits, or dotted digits such as 1.2)');
  const format = (text('format') ?? 'auto') as MigrationFormat;
  if (!MIGRATION_FORMATS.includes(format))
    throw new UsageProblem(`--format takes ${MIGRATION_FORMATS.join(', ')}, not \`${text('format')}\``);

  const needs = (ok: boolean, message: string) => {
    if (!ok) throw new UsageProblem(message);
  };
  needs(command !== 'baseline' || to !== undefined, 'baseline needs --to <version>');
  needs(
    command !== 'backfill' || (values.name !== undefined && tables !== undefined && values.set !== undefined),
    'backfill needs --name, --table and --set',
  );
  needs(command !== 'backfill' || tables!.length === 1, 'backfill takes one --table');
  needs(
    tables === undefined || ['backfill', 'snapshot'].includes(command),
    `--table is for backfill and snapshot, not ${command}${command === 'compare' ? ' (it compares the tables the snapshot file covers)' : command === 'backup' ? ' (a backup holds the whole database, so that a restore brings back everything that refers to the table)' : ''}`,
  );
  for (const t of command === 'backfill' ? [] : (tables ?? [])) {
    const problem = tableNameProblem(t);
    if (problem) throw new UsageProblem(`--table ${problem}`);
  }
  needs(command !== 'backup' || values.out !== undefined, 'backup needs --out <manifest.json>');
  needs(
    (command !== 'restore' && command !== 'verify-backup') || values.from !== undefined,
    `${command} needs --from <manifest.json>`,
  );
  needs(
    values.into === undefined || command === 'restore',
    `--into is for restore, not ${command}${command === 'verify-backup' ? ' (it restores into a scratch database it names and drops)' : ''}`,
  );
  needs(
    command !== 'compare' || files.length > 0,
    'compare needs a snapshot file: compare <before.json> [<after.json>]',
  );
  needs(
    values['schema-only'] !== true || (command === 'compare' && values['data-only'] !== true),
    command === 'compare'
      ? '--schema-only and --data-only exclude each other: give one (or neither, to compare everything)'
      : `--schema-only is for compare, not ${command}`,
  );

  const resolve = (p: string) => path.resolve(base, p);
  const file = (name: string) => {
    const given = text(name);
    return given === undefined ? {} : { [name]: { given, path: resolve(given) } };
  };
  const options: DbOptions = {
    dir: resolve(text('dir') ?? 'migrations'),
    format,
    ...(to !== undefined ? { to } : {}),
    ...(text('ledger') !== undefined ? { ledger: text('ledger')! } : {}),
    ...(steps !== undefined ? { steps } : {}),
    lockWaitMs,
    lockTimeoutMs,
    statementTimeoutMs,
    retries,
    ...file('out'),
    ...file('from'),
    ...(text('into') !== undefined ? { into: text('into')! } : {}),
    ...(command === 'backfill' ? { backfill: backfillSettings(text, tables![0]!, duration, whole) } : {}),
    ...(command !== 'backfill' && tables ? { tables } : {}),
    dataOnly: values['data-only'] === true,
    schemaOnly: values['schema-only'] === true,
    skipLint: values['skip-lint'] === true,
    strict: values.strict === true,
    json: values.json === true,
  };
  return {
    kind: 'command',
    command: command as DbCommand,
    files: files.map((f) => (f === '-' ? f : resolve(f))),
    options,
  };
}

function backfillSettings(
  text: (name: string) => string | undefined,
  table: string,
  duration: (name: string, fallback: number) => number,
  whole: (name: string, fallback: number, least: number, what: string) => number | undefined,
): BackfillSettings {
  const batchSize = whole('batch', 1000, 1, 'a whole number of at least 1')!;
  const maxBatchSize = whole('max-batch', 50_000, batchSize, 'a whole number, at least --batch')!;
  return {
    name: text('name')!,
    table,
    set: text('set')!,
    ...(text('where') !== undefined ? { where: text('where')! } : {}),
    ...(text('key') !== undefined ? { key: text('key')! } : {}),
    batchSize,
    maxBatchSize,
    targetBatchMs: duration('batch-ms', 200),
    sleepMs: duration('sleep', 0),
  };
}
