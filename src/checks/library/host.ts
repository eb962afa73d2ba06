// Resources of the machine for the planned operation: free disk where the data (or backups)
// live, at least a multiple of the database's size, and available memory beyond what an index
// build (maintenance_work_mem) will take.
import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import * as z from 'zod';
import { CheckCannotRun, type CheckContext, type CheckDefinition } from '../types.js';
import { formatBytes, withPostgres } from '../support.js';

const MiB = 1024 * 1024;

async function databaseBytes(context: CheckContext): Promise<number | null> {
  if (!context.postgres) return null;
  try {
    return await withPostgres(context, async (c) =>
      Number(
        (await c.query<{ size: string }>('select pg_database_size(current_database())::text as size')).rows[0]!.size,
      ),
    );
  } catch {
    return null;
  }
}

export const diskSpace: CheckDefinition<{
  path?: string | undefined;
  minFreeMiB: number;
  warnFreeMiB: number;
  databaseSizeFactor: number;
}> = {
  type: 'host.disk-space',
  title: 'Disk space for the operation',
  description:
    "Free space on the file system of `path` (default: the embedded server's data directory, else the working directory): at least minFreeMiB and databaseSizeFactor × the database's size (a rewrite, a backup or a restore needs a copy).",
  settings: z.strictObject({
    path: z.string().min(1).optional(),
    minFreeMiB: z.number().min(0).default(1024),
    warnFreeMiB: z.number().min(0).default(5120),
    databaseSizeFactor: z.number().min(0).default(2),
  }),
  pathSettings: ['path'],
  usesPostgres: true,
  async run(context, s) {
    const where = s.path ?? context.postgres?.dataDir ?? process.cwd();
    let stats: ReturnType<typeof statfsSync>;
    try {
      stats = statfsSync(where);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CheckCannotRun(
        code === 'ENOENT'
          ? `\`${where}\` does not exist; set host.disk-space.path to the folder that will hold the data`
          : code === 'EACCES'
            ? `no permission to read \`${where}\``
            : `cannot read the file system of \`${where}\`: ${(error as Error).message}`,
      );
    }
    const free = Number(stats.bavail) * Number(stats.bsize);
    const dbBytes = await databaseBytes(context);
    const fromDatabase = dbBytes === null ? 0 : dbBytes * s.databaseSizeFactor;
    const required = Math.max(s.minFreeMiB * MiB, fromDatabase);
    const threshold = `fail < ${formatBytes(required)}${dbBytes === null ? '' : ` (max of ${s.minFreeMiB} MiB and ${s.databaseSizeFactor} × database ${formatBytes(dbBytes)})`}, warn < ${formatBytes(Math.max(required, s.warnFreeMiB * MiB))}`;
    const status = free < required ? 'fail' : free < s.warnFreeMiB * MiB ? 'warn' : 'pass';
    const value = `${formatBytes(free)} free`;
    const detail =
      status === 'pass'
        ? `on the file system of ${where}`
        : `only ${formatBytes(free)} free on the file system of ${where}; free space (old backups, logs, WAL archives) or move the work to a larger volume`;
    return { status, value, metric: free, unit: 'bytes', threshold, detail };
  },
};

function availableMemory(): number {
  try {
    const text = readFileSync('/proc/meminfo', 'utf8');
    const kib = /^MemAvailable:\s+(\d+) kB/m.exec(text);
    if (kib) return Number(kib[1]) * 1024;
  } catch {
    // Not Linux: fall through to what Node knows.
  }
  return os.freemem();
}

export const memoryHeadroom: CheckDefinition<{
  minAvailableMiB: number;
  warnAvailableMiB: number;
  maintenanceWorkers: number;
}> = {
  type: 'host.memory',
  title: 'Memory headroom',
  description:
    'Available memory (MemAvailable) beyond what the operation takes: minAvailableMiB, and maintenanceWorkers × maintenance_work_mem for index builds and VACUUM.',
  settings: z.strictObject({
    minAvailableMiB: z.number().min(0).default(256),
    warnAvailableMiB: z.number().min(0).default(1024),
    maintenanceWorkers: z.number().int().min(0).default(1),
  }),
  usesPostgres: true,
  async run(context, s) {
    const available = availableMemory();
    let maintenance = 0;
    if (context.postgres) {
      try {
        maintenance = await withPostgres(context, async (c) =>
          Number(
            (await c.query<{ b: string }>("select pg_size_bytes(current_setting('maintenance_work_mem'))::text as b"))
              .rows[0]!.b,
          ),
        );
      } catch {
        maintenance = 0;
      }
    }
    const required = s.minAvailableMiB * MiB + s.maintenanceWorkers * maintenance;
    const warnBelow = Math.max(required, s.warnAvailableMiB * MiB);
    const threshold = `fail < ${formatBytes(required)}${maintenance ? ` (${s.minAvailableMiB} MiB + ${s.maintenanceWorkers} × maintenance_work_mem ${formatBytes(maintenance)})` : ''}, warn < ${formatBytes(warnBelow)}`;
    const status = available < required ? 'fail' : available < warnBelow ? 'warn' : 'pass';
    const detail =
      status === 'pass'
        ? `${formatBytes(os.totalmem())} in total`
        : `only ${formatBytes(available)} available of ${formatBytes(os.totalmem())}; stop what can wait, or lower maintenance_work_mem for the operation`;
    return {
      status,
      value: `${formatBytes(available)} available`,
      metric: available,
      unit: 'bytes',
      threshold,
      detail,
    };
  },
};
