// Backups that are proven restorable. `pg_dump --format=custom` when a pg_dump at least as new
// as the server exists (older ones refuse newer servers); otherwise a clone of the database
// (CREATE DATABASE … TEMPLATE …) on the same server. A manifest beside the backup records how it
// was made and a snapshot of the source; every restore is compared with that snapshot.
import { CodedError } from '../util/coded-error.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { connect } from './connect.js';
import { runFile as run } from '../util/run-file.js';
import { takeSnapshot, compareSnapshots, describeDifference, quoteIdent, type Snapshot } from './snapshot.js';
import { writeAtomic } from '../util/fs.js';

export interface BackupManifest {
  format: 1;
  method: 'pg_dump' | 'clone';
  sourceDatabase: string;
  serverVersion: string;
  createdAt: string;
  /** For pg_dump: the dump file (relative to the manifest); for clone: the clone's database name. */
  location: string;
  /** The pg_dump used (pg_restore is taken from the same folder). */
  pgDump?: { path: string; major: number };
  snapshot: Snapshot;
}

export class BackupError extends CodedError {
  constructor(message: string, details: string[] = []) {
    super('E_BACKUP', message, { details });
  }
}

/** pg_dump programs on this machine with their major versions, newest first. */
export async function findPgDumps(
  env: NodeJS.ProcessEnv = process.env,
): Promise<Array<{ path: string; major: number }>> {
  const candidates = new Set<string>();
  for (const dir of (env.PATH ?? '').split(path.delimiter))
    if (dir && existsSync(path.join(dir, 'pg_dump'))) candidates.add(path.join(dir, 'pg_dump'));
  for (const root of ['/usr/lib/postgresql', '/usr/local/pgsql']) {
    try {
      for (const version of readdirSync(root))
        if (existsSync(path.join(root, version, 'bin', 'pg_dump')))
          candidates.add(path.join(root, version, 'bin', 'pg_dump'));
    } catch {
      // Not installed there.
    }
  }
  const found: Array<{ path: string; major: number }> = [];
  for (const candidate of candidates) {
    const r = await run(candidate, ['--version']);
    const major = /(\d+)(?:\.\d+)?/.exec(r.stdout)?.[1];
    if (r.code === 0 && major) found.push({ path: candidate, major: Number(major) });
  }
  return found.sort((a, b) => b.major - a.major);
}

const APPLICATION = 'exec-doc backup';

/** The same server, another database (for CREATE/DROP DATABASE, which cannot run connected to the target). */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export async function backup(options: {
  connectionString: string;
  manifest: string;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}): Promise<BackupManifest> {
  const client = await connect(options.connectionString, APPLICATION);
  let snapshot: Snapshot;
  let database: string;
  let serverVersion: string;
  try {
    snapshot = await takeSnapshot(client, { excludeSchemas: [] });
    database = snapshot.database;
    serverVersion = (await client.query("select current_setting('server_version_num')::int / 10000 as major")).rows[0]
      .major as string;
  } finally {
    await client.end();
  }
  const serverMajor = Number(serverVersion);
  const dumps = await findPgDumps(options.env);
  const usable = dumps.find((d) => d.major >= serverMajor);
  const base = {
    format: 1 as const,
    sourceDatabase: database,
    serverVersion: snapshot.serverVersion,
    createdAt: new Date().toISOString(),
    snapshot,
  };
  let manifest: BackupManifest;
  if (usable) {
    const dumpFile = `${path.basename(options.manifest).replace(/\.json$/, '')}.dump`;
    const target = path.join(path.dirname(path.resolve(options.manifest)), dumpFile);
    const r = await run(usable.path, [
      '--format=custom',
      '--no-owner',
      `--file=${target}`,
      `--dbname=${options.connectionString}`,
    ]);
    if (r.code !== 0) throw new BackupError(`pg_dump failed (exit ${r.code})`, [r.stderr.trim()]);
    manifest = { ...base, method: 'pg_dump', location: dumpFile, pgDump: usable };
  } else {
    const newest = dumps[0];
    options.log?.(
      `${newest ? `pg_dump ${newest.major} (${newest.path}) cannot dump a PostgreSQL ${serverMajor} server: pg_dump must be at least the server's major` : 'no pg_dump on this machine'}; making a clone of the database on the same server instead`,
    );
    const clone = `${database}_backup_${Date.now().toString(36)}`;
    const admin = await connect(withDatabase(options.connectionString, 'postgres'), APPLICATION);
    try {
      await requireExclusive(admin, database, 'a clone backup');
      await admin.query(`create database ${quoteIdent(clone)} template ${quoteIdent(database)}`);
    } finally {
      await admin.end();
    }
    manifest = { ...base, method: 'clone', location: clone };
  }
  writeAtomic(path.resolve(options.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Restores a backup into `into` (default: replacing the source database), then proves it matches. */
export async function restore(options: {
  connectionString: string;
  manifest: string;
  into?: string;
  log?: (line: string) => void;
}): Promise<{ database: string; verified: true }> {
  const manifest = readManifest(options.manifest);
  const target = options.into ?? manifest.sourceDatabase;
  const admin = await connect(withDatabase(options.connectionString, 'postgres'), APPLICATION);
  try {
    await requireExclusive(admin, target, 'a restore');
    await admin.query(`drop database if exists ${quoteIdent(target)}`);
    if (manifest.method === 'clone') {
      await requireExclusive(admin, manifest.location, 'a restore from a clone');
      await admin.query(`create database ${quoteIdent(target)} template ${quoteIdent(manifest.location)}`);
    } else {
      await admin.query(`create database ${quoteIdent(target)}`);
    }
  } finally {
    await admin.end();
  }
  if (manifest.method === 'pg_dump') {
    const restoreBin = manifest.pgDump ? path.join(path.dirname(manifest.pgDump.path), 'pg_restore') : 'pg_restore';
    const dumpFile = path.join(path.dirname(path.resolve(options.manifest)), manifest.location);
    const r = await run(restoreBin, [
      '--no-owner',
      '--exit-on-error',
      `--dbname=${withDatabase(options.connectionString, target)}`,
      dumpFile,
    ]);
    if (r.code !== 0) throw new BackupError(`pg_restore failed (exit ${r.code})`, [r.stderr.trim()]);
  }
  const client = await connect(withDatabase(options.connectionString, target), APPLICATION);
  try {
    const differences = compareSnapshots(manifest.snapshot, await takeSnapshot(client, { excludeSchemas: [] }));
    if (differences.length > 0)
      throw new BackupError(
        `the restored database ${target} does not match the backup`,
        differences.map(describeDifference),
      );
  } finally {
    await client.end();
  }
  options.log?.(
    `restored ${target} from ${manifest.method === 'clone' ? `clone ${manifest.location}` : manifest.location} and verified it against the backup's snapshot`,
  );
  return { database: target, verified: true };
}

function readManifest(file: string): BackupManifest {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(path.resolve(file), 'utf8')) as BackupManifest;
  } catch (error) {
    throw new BackupError(
      `cannot read the backup manifest ${file} (${(error as Error).message}); pass the .json written by \`db backup\``,
    );
  }
  if (manifest.format !== 1 || (manifest.method !== 'pg_dump' && manifest.method !== 'clone'))
    throw new BackupError(`${file} is not a backup manifest written by \`db backup\``);
  return manifest;
}

/**
 * A backup proven restorable without touching its source: restored into a scratch database on the
 * same server, compared with the backup's snapshot, and the scratch database dropped on every path.
 */
export async function verifyBackup(options: {
  connectionString: string;
  manifest: string;
  log?: (line: string) => void;
}): Promise<{ scratch: string; tables: number }> {
  const manifest = readManifest(options.manifest);
  // A name over 63 bytes is cut by PostgreSQL the same way in CREATE and DROP.
  const scratch = `${manifest.sourceDatabase}_verify_${Date.now().toString(36)}`;
  try {
    await restore({ connectionString: options.connectionString, manifest: options.manifest, into: scratch });
  } finally {
    const admin = await connect(withDatabase(options.connectionString, 'postgres'), APPLICATION);
    try {
      await admin.query(`drop database if exists ${quoteIdent(scratch)}`);
    } finally {
      await admin.end();
    }
  }
  return { scratch, tables: Object.keys(manifest.snapshot.tables).length };
}

/** CREATE DATABASE … TEMPLATE and DROP DATABASE need a database nobody else is connected to. */
async function requireExclusive(admin: pg.Client, database: string, what: string): Promise<void> {
  const others = await admin.query(
    `select pid, coalesce(application_name, '') as app from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
    [database],
  );
  if (others.rows.length > 0) {
    throw new BackupError(
      `${what} needs ${database} without other connections; ${others.rows.length} session(s) are connected`,
      [
        ...(others.rows as Array<{ pid: number; app: string }>).map((r) => `pid ${r.pid}${r.app ? ` (${r.app})` : ''}`),
        'Stop the application (or: select pg_terminate_backend(pid) …) and run again.',
      ],
    );
  }
}
