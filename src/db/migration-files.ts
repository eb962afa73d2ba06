// Migrations on disk: `<version>_<name>.up.sql`, with an optional `.down.sql` and `.verify.sql`
// beside it. The version is digits (a sequence number or a timestamp) and orders them.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadModule, parseSync } from 'libpg-query';
import { NO_TRANSACTION_MARKER, runsOutsideTransaction } from './lint/index.js';
import { statementsOf } from './lint/ast.js';

// PostgreSQL's parser (WASM) decides which scripts leave the transaction; loaded once, here.
await loadModule();

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

/**
 * Whether a script must run outside a transaction block, as PostgreSQL's parser reads its
 * statements (CREATE/DROP INDEX CONCURRENTLY, REINDEX … CONCURRENTLY, VACUUM, …) or as the file
 * says (`-- exec-doc:no-transaction`, morph's `-- morph:nontransactional`): never from words in a
 * comment or a string. A script that does not parse runs in a transaction, where it fails whole.
 */
export function mustRunOutsideTransaction(sql: string): boolean {
  let tree: { stmts?: Array<{ stmt?: unknown; stmt_location?: number }> };
  try {
    tree = parseSync(sql) as typeof tree;
  } catch {
    return NO_TRANSACTION_MARKER.test(sql);
  }
  return runsOutsideTransaction(sql, statementsOf(tree, sql));
}
