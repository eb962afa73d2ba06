// Migrations on disk: `<version>_<name>.up.sql`, with an optional `.down.sql` and `.verify.sql`
// beside it. The version is digits (a sequence number or a timestamp) and orders them.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { splitSql } from './sql-split.js';

export interface Migration {
  version: string;
  name: string;
  up: string;
  down?: string;
  verify?: string;
  /** sha256 of the up script (line endings normalised): an applied migration must not change. */
  checksum: string;
  /** False when the script must run outside a transaction (CONCURRENTLY, or declared). */
  transactional: boolean;
  files: { up: string; down?: string; verify?: string };
}

export class MigrationFilesError extends Error {
  constructor(readonly problems: string[]) {
    super(`The migrations folder has ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'MigrationFilesError';
  }
}

const FILE = /^(\d+)_([A-Za-z0-9][A-Za-z0-9_-]*)\.(up|down|verify)\.sql$/;
export const NO_TRANSACTION_MARKER = '-- exec-doc:no-transaction';

export function checksumOf(sql: string): string {
  return `sha256:${createHash('sha256').update(sql.replace(/\r\n?/g, '\n')).digest('hex')}`;
}

export function loadMigrations(dir: string): Migration[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.sql')).sort();
  } catch (error) {
    throw new MigrationFilesError([`cannot read ${dir}: ${(error as Error).message}; pass --dir <folder with NNNN_name.up.sql files>`]);
  }
  const problems: string[] = [];
  const byVersion = new Map<string, { name: string; files: Partial<Record<'up' | 'down' | 'verify', string>> }>();
  for (const file of names) {
    const match = FILE.exec(file);
    if (!match) {
      problems.push(`${path.join(dir, file)}: unexpected file name, expected <digits>_<name>.up.sql (or .down.sql, .verify.sql)`);
      continue;
    }
    const [, version, name, kind] = match as unknown as [string, string, string, 'up' | 'down' | 'verify'];
    const entry = byVersion.get(version) ?? { name, files: {} };
    if (entry.name !== name) problems.push(`${path.join(dir, file)}: version ${version} is already used by \`${entry.name}\`; give each migration its own version`);
    entry.files[kind] = path.join(dir, file);
    byVersion.set(version, entry);
  }
  const migrations: Migration[] = [];
  for (const [version, entry] of byVersion) {
    if (!entry.files.up) {
      problems.push(`${path.join(dir, `${version}_${entry.name}`)}: no .up.sql; every migration needs one`);
      continue;
    }
    const up = readFileSync(entry.files.up, 'utf8');
    const migration: Migration = {
      version,
      name: entry.name,
      up,
      checksum: checksumOf(up),
      transactional: !mustRunOutsideTransaction(up),
      files: { up: entry.files.up },
    };
    if (entry.files.down) {
      migration.down = readFileSync(entry.files.down, 'utf8');
      migration.files.down = entry.files.down;
    }
    if (entry.files.verify) {
      migration.verify = readFileSync(entry.files.verify, 'utf8');
      migration.files.verify = entry.files.verify;
    }
    migrations.push(migration);
  }
  if (problems.length > 0) throw new MigrationFilesError(problems);
  return migrations.sort((a, b) => compareVersions(a.version, b.version));
}

export function compareVersions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** CONCURRENTLY (and a few others) refuse to run inside a transaction block. */
function mustRunOutsideTransaction(sql: string): boolean {
  if (sql.includes(NO_TRANSACTION_MARKER)) return true;
  return splitSql(sql).some((s) => /\bconcurrently\b/i.test(s.text) || /^(vacuum|alter\s+system|create\s+database|drop\s+database)\b/i.test(stripLeadingComments(s.text)));
}

function stripLeadingComments(text: string): string {
  return text.replace(/^(\s*(--[^\n]*\n|\/\*[\s\S]*?\*\/))*\s*/, '');
}
