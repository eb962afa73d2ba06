// backup and restore: a backup with its manifest, and a restore verified against the backup's snapshot.
import type { DbContext } from './context.js';

export async function backupCommand(ctx: DbContext): Promise<number> {
  const { backup } = await import('../../db/backup.js');
  const out = ctx.options.out!;
  const manifest = await backup({ connectionString: ctx.url(), manifest: out.path, env: ctx.io.env, log: ctx.log });
  const where =
    manifest.method === 'clone'
      ? `clone database ${manifest.location}`
      : `pg_dump ${manifest.pgDump!.major} → ${manifest.location}`;
  ctx.out(`backed up ${manifest.sourceDatabase} (${where}); manifest ${out.given}\n`);
  return 0;
}

export async function restoreCommand(ctx: DbContext): Promise<number> {
  const { restore } = await import('../../db/backup.js');
  const { into } = ctx.options;
  const result = await restore({
    connectionString: ctx.url(),
    manifest: ctx.options.from!.path,
    ...(into !== undefined ? { into } : {}),
    log: ctx.log,
  });
  ctx.out(`restored ${result.database}; identical to the backup (schema, row counts, contents)\n`);
  return 0;
}

export async function verifyBackupCommand(ctx: DbContext): Promise<number> {
  const { verifyBackup } = await import('../../db/backup.js');
  const result = await verifyBackup({ connectionString: ctx.url(), manifest: ctx.options.from!.path, log: ctx.log });
  ctx.out(
    `backup ${ctx.options.from!.given} restores: ${result.tables} table(s) identical to its snapshot (schema, row counts, contents); scratch database ${result.scratch} dropped\n`,
  );
  return 0;
}
