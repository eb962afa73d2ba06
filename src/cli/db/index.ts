// `npm run db -- <command>`: the migration engine from the command line, as runbook steps call it.
// The database is $DATABASE_URL (or the PG* variables); inside `exec-doc run` it is the run's target.
// Parse (pure, options.ts) → check the files named → one handler per command → one place that
// turns errors into exit codes.
import type { Io } from '../main.js';
import { CodedError, EXIT } from '../../util/coded-error.js';
import type { MigrateOptions } from '../../db/migrate.js';
import { noDatabase, type DbContext, type DbHandler } from './context.js';
import { parseDbCli, type DbCommand, type DbOptions } from './options.js';

export { dbHelp } from './options.js';

const HANDLERS: Record<DbCommand, () => Promise<DbHandler>> = {
  status: async () => (await import('./migrations.js')).statusCommand,
  plan: async () => (await import('./migrations.js')).planCommand,
  up: async () => (await import('./migrations.js')).upCommand,
  down: async () => (await import('./migrations.js')).downCommand,
  verify: async () => (await import('./migrations.js')).verifyCommand,
  baseline: async () => (await import('./migrations.js')).baselineCommand,
  lint: async () => (await import('./lint.js')).lintCommand,
  snapshot: async () => (await import('./snapshots.js')).snapshotCommand,
  compare: async () => (await import('./snapshots.js')).compareCommand,
  backfill: async () => (await import('./backfill.js')).backfillCommand,
  backup: async () => (await import('./backup.js')).backupCommand,
  restore: async () => (await import('./backup.js')).restoreCommand,
  'verify-backup': async () => (await import('./backup.js')).verifyBackupCommand,
};

export async function dbMain(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
): Promise<number> {
  // Under `npm run`, the process runs in the package root; paths are meant from where npm was invoked.
  const parsed = parseDbCli(argv, io.env.INIT_CWD ?? process.cwd());
  if (parsed.kind === 'output') {
    (parsed.exitCode === 0 ? io.stdout : io.stderr).write(parsed.text);
    return parsed.exitCode;
  }
  const { command, files, options } = parsed;
  const { configuredUrl, DEFAULT_TARGET } = await import('../../targets/url.js');
  const url = configuredUrl(DEFAULT_TARGET, io.env);
  let mask = (text: string) => text;
  try {
    await checkFiles(command, files, options);
    if (url) {
      const { connectionStringSecrets, createMasker } = await import('../../secrets/masker.js');
      mask = createMasker(connectionStringSecrets(url));
    }
    const ctx = context(io, options, files, url, (text) => mask(text));
    return await (
      await HANDLERS[command]()
    )(ctx);
  } catch (error) {
    return exitFor(error, io, mask);
  }
}

/** Every file named is checked before the database is touched: a backup must not run for minutes and then fail to write its manifest. */
async function checkFiles(command: DbCommand, files: string[], options: DbOptions): Promise<void> {
  const writable = (command === 'snapshot' || command === 'backup') && options.out ? options.out.path : undefined;
  const readable =
    command === 'restore' || command === 'verify-backup'
      ? { file: options.from!.path, what: '--from: the backup manifest written by `db backup`' }
      : command === 'compare' && files.length === 1
        ? { file: files[0]!, what: 'the snapshot written by `db snapshot`' }
        : undefined;
  if (writable === undefined && readable === undefined) return;
  const { requireFile, requireWritableFile } = await import('../preflight.js');
  if (writable !== undefined) requireWritableFile(writable, '--out');
  if (readable !== undefined) requireFile(readable.file, readable.what);
}

function context(
  io: Io,
  options: DbOptions,
  files: string[],
  url: string | undefined,
  mask: (text: string) => string,
): DbContext {
  const log = (line: string) => io.stderr.write(mask(`db: ${line}\n`));
  const requireUrl = () => {
    if (!url) throw noDatabase();
    return url;
  };
  let migrations: MigrateOptions['migrations'] | undefined;
  return {
    io,
    options,
    files,
    out: (text) => io.stdout.write(mask(text)),
    log,
    url: requireUrl,
    async migrateOptions() {
      const connectionString = requireUrl();
      if (!migrations) {
        const { loadMigrations } = await import('../../db/migration-files.js');
        migrations = loadMigrations(options.dir, { format: options.format });
      }
      return {
        connectionString,
        migrations,
        ...(options.ledger !== undefined ? { ledger: options.ledger } : {}),
        lockWaitMs: options.lockWaitMs,
        lockTimeoutMs: options.lockTimeoutMs,
        statementTimeoutMs: options.statementTimeoutMs,
        retries: options.retries,
        log,
      };
    },
  };
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', '28P01', '3D000']);

/** The one place errors become exit codes: coded errors by their table, anything else is a bug (70). */
function exitFor(error: unknown, io: Io, mask: (text: string) => string): number {
  if (error instanceof CodedError) {
    io.stderr.write(
      mask(`db: ${error.message}\n${error.details.map((d) => `  ${d.split('\n').join('\n  ')}\n`).join('')}`),
    );
    return error.exitCode;
  }
  const code = (error as { code?: string }).code;
  if (code !== undefined && CONNECTION_CODES.has(code)) {
    io.stderr.write(mask(`db: cannot connect to the database: ${(error as Error).message}; check DATABASE_URL\n`));
    return EXIT.requirementMissing;
  }
  io.stderr.write(mask(`db: internal error (please report it): ${(error as Error).stack ?? String(error)}\n`));
  return EXIT.internalError;
}
