// A base backup with PostgreSQL's low-level API (see "Making a Base Backup Using the Low Level
// API" in the PostgreSQL documentation): one session calls pg_backup_start, the data directory is
// copied while the server runs, the same session calls pg_backup_stop, whose label file goes into
// the copy as backup_label. Without the archived WAL from that window the copy is not restorable.
//   node base-backup.mjs <url> <data-directory> <out>
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const [url, data, out] = process.argv.slice(2);
if (!url || !data || !out) {
  console.error('usage: node base-backup.mjs <url> <data-directory> <out>');
  process.exit(64);
}
// What the documentation says to leave out: files the server recreates, and WAL (it comes from the archive).
const SKIP_FILES = new Set(['postmaster.pid', 'postmaster.opts', 'backup_label', 'tablespace_map']);
const EMPTY_DIRS = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
]);
const client = new pg.Client({ connectionString: url, application_name: 'exec-doc base backup' });
await client.connect();
try {
  const start = await client.query(`select pg_backup_start('exec-doc base backup', true) as lsn`);
  try {
    cpSync(data, out, {
      recursive: true,
      filter: (source) => {
        const rel = path.relative(data, source);
        const parts = rel.split(path.sep);
        if (rel === '') return true;
        if (parts.length === 1 && SKIP_FILES.has(parts[0])) return false;
        if (parts.length > 1 && EMPTY_DIRS.has(parts[0])) return false;
        return !parts.at(-1).startsWith('pgsql_tmp');
      },
    });
    for (const dir of EMPTY_DIRS) mkdirSync(path.join(out, dir), { recursive: true });
  } catch (error) {
    await client.query('select pg_backup_stop(false)').catch(() => undefined);
    throw error;
  }
  // Waits until the WAL the backup needs is archived.
  const stop = await client.query('select lsn, labelfile, spcmapfile from pg_backup_stop(true)');
  const { labelfile, spcmapfile } = stop.rows[0];
  writeFileSync(path.join(out, 'backup_label'), labelfile);
  if (spcmapfile) writeFileSync(path.join(out, 'tablespace_map'), spcmapfile);
  console.log(`base backup in ${out}: WAL from ${start.rows[0].lsn} to ${stop.rows[0].lsn}, archived`);
} finally {
  await client.end();
}
