// A backup exists, is recent, and is still there: the manifests `db backup` writes, the dump
// file each names (or the clone database), newest first.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import type { BackupManifest } from '../../db/backup.js';
import { JsonFileError, readJsonFile } from '../../util/read-json.js';
import { CheckCannotRun, type CheckContext, type CheckDefinition } from '../types.js';
import { thresholdText, withPostgres } from '../support.js';

const hours = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`;

function targetDatabase(context: CheckContext): string | undefined {
  if (!context.postgres) return undefined;
  try {
    return decodeURIComponent(new URL(context.postgres.url).pathname.replace(/^\//, '')) || undefined;
  } catch {
    return undefined;
  }
}

function isManifest(value: unknown): value is BackupManifest {
  const m = value as Partial<BackupManifest> | null;
  return (
    !!m &&
    typeof m === 'object' &&
    m.format === 1 &&
    (m.method === 'pg_dump' || m.method === 'clone') &&
    typeof m.createdAt === 'string' &&
    !Number.isNaN(Date.parse(m.createdAt)) &&
    typeof m.location === 'string' &&
    typeof m.sourceDatabase === 'string'
  );
}

export const backupFresh: CheckDefinition<{
  dir?: string | undefined;
  manifest?: string | undefined;
  database?: string | undefined;
  warnAgeHours: number;
  maxAgeHours: number;
}> = {
  type: 'backup.fresh',
  title: 'A fresh backup exists',
  description:
    'The newest backup manifest written by `npm run db -- backup` (in `dir`, or the one `manifest`) for the database: younger than maxAgeHours, and its dump file (or clone database) still there.',
  settings: z.strictObject({
    dir: z.string().min(1).optional(),
    manifest: z.string().min(1).optional(),
    database: z.string().min(1).optional(),
    warnAgeHours: z.number().positive().default(12),
    maxAgeHours: z.number().positive().default(24),
  }),
  pathSettings: ['dir', 'manifest'],
  usesPostgres: true,
  async run(context, s) {
    const threshold = `${thresholdText('≥', { warn: s.warnAgeHours, fail: s.maxAgeHours }, ' h')} old`;
    if (!s.dir && !s.manifest)
      return {
        status: 'warn',
        value: 'not configured',
        threshold,
        detail:
          'no backup location configured, so nothing was checked: set backup.fresh.dir (the folder `npm run db -- backup --out <file>` writes to) in exec-doc.checks.yaml',
      };
    const files: string[] = [];
    if (s.manifest) files.push(s.manifest);
    if (s.dir) {
      let names: string[];
      try {
        names = readdirSync(s.dir);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT')
          return {
            status: 'fail',
            value: 'no backup',
            threshold,
            detail: `the backup folder ${s.dir} does not exist; take a backup: npm run db -- backup --out ${path.join(s.dir, 'before-upgrade.json')}`,
          };
        throw new CheckCannotRun(`cannot list ${s.dir}: ${code ?? (error as Error).message}`);
      }
      files.push(
        ...names
          .filter((n) => n.endsWith('.json'))
          .sort()
          .map((n) => path.join(s.dir!, n)),
      );
    }
    const database = s.database ?? targetDatabase(context);
    const damaged: string[] = [];
    const manifests: Array<{ file: string; manifest: BackupManifest }> = [];
    for (const file of files) {
      let value: unknown;
      try {
        value = readJsonFile(file, 'backup manifest');
      } catch (error) {
        if (!(error instanceof JsonFileError)) throw error;
        if (error.kind === 'unreadable' && file === s.manifest)
          return {
            status: 'fail',
            value: 'no backup',
            threshold,
            detail: `${error.message}; take a backup: npm run db -- backup --out ${file}`,
          };
        damaged.push(error.message);
        continue;
      }
      if (!isManifest(value)) {
        // Other JSON files may share the folder; a dump's manifest has these fields.
        if (file === s.manifest)
          damaged.push(
            `${file}:1:1: Unexpected content, expected a backup manifest written by \`npm run db -- backup\` (format, method, createdAt, location, sourceDatabase)`,
          );
        continue;
      }
      if (database && value.sourceDatabase !== database) continue;
      manifests.push({ file, manifest: value });
    }
    manifests.sort((a, b) => Date.parse(b.manifest.createdAt) - Date.parse(a.manifest.createdAt));
    const newest = manifests[0];
    if (!newest) {
      if (damaged.length > 0) throw new CheckCannotRun(`no readable backup manifest: ${damaged.join('; ')}`);
      return {
        status: 'fail',
        value: 'no backup',
        threshold,
        detail: `no backup of ${database ?? 'the database'} in ${s.dir ?? s.manifest}; take one: npm run db -- backup --out ${path.join(s.dir ?? path.dirname(s.manifest!), 'before-upgrade.json')}`,
      };
    }
    const ageMs = Math.max(0, Date.now() - Date.parse(newest.manifest.createdAt));
    const value = `${hours(ageMs)} old (${newest.manifest.method})`;
    const base = { value, metric: ageMs / 1000, unit: 'seconds', threshold };
    // The backup must still be where the manifest says.
    if (newest.manifest.method === 'pg_dump') {
      const dump = path.resolve(path.dirname(newest.file), newest.manifest.location);
      if (!existsSync(dump) || statSync(dump).size === 0)
        return {
          ...base,
          status: 'fail',
          detail: `${newest.file} names ${dump}, which is missing or empty; take a new backup`,
        };
    } else {
      const exists = await withPostgres(
        context,
        async (c) =>
          ((await c.query('select 1 from pg_database where datname = $1', [newest.manifest.location])).rowCount ?? 0) >
          0,
      );
      if (!exists)
        return {
          ...base,
          status: 'fail',
          detail: `${newest.file} names the clone database ${newest.manifest.location}, which no longer exists; take a new backup`,
        };
    }
    const note = damaged.length > 0 ? `; unreadable manifests ignored: ${damaged.join('; ')}` : '';
    if (ageMs >= s.maxAgeHours * 3_600_000)
      return {
        ...base,
        status: 'fail',
        detail: `the newest backup (${newest.file}) is ${hours(ageMs)} old; take a new one before starting${note}`,
      };
    if (ageMs >= s.warnAgeHours * 3_600_000 || damaged.length > 0)
      return { ...base, status: 'warn', detail: `${newest.file} is ${hours(ageMs)} old${note}` };
    return { ...base, status: 'pass', detail: `${newest.file}, taken ${newest.manifest.createdAt}` };
  },
};
