// Migrations on disk, in the layouts teams already have (./layouts): golang-migrate and morph
// (`<version>_<name>.up.sql`, `.down.sql`, and exec-doc's `.verify.sql`), Flyway (V/U/R files) and
// sqitch (sqitch.plan with deploy/, revert/, verify/). One model and one ledger for all.
import { CodedError } from '../util/coded-error.js';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { golangMigrate } from './layouts/golang-migrate.js';
import { flyway } from './layouts/flyway.js';
import { sqitch } from './layouts/sqitch.js';
import type { Layout } from './layouts/types.js';
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
  /** The layout it was read from. */
  format: Layout['name'];
  /** Flyway's R__: applied after the versioned ones, again when its file changes, never undone. */
  repeatable?: true;
}

export class MigrationFilesError extends CodedError {
  constructor(readonly problems: string[]) {
    super(
      'E_MIGRATION_FILES',
      `The migrations folder has ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
}

export function checksumOf(sql: string): string {
  return `sha256:${createHash('sha256').update(sql.replace(/\r\n?/g, '\n')).digest('hex')}`;
}

export { MIGRATION_FORMATS, type MigrationFormat } from './formats.js';
import type { MigrationFormat } from './formats.js';
const LAYOUTS: readonly Layout[] = [sqitch, flyway, golangMigrate];

/**
 * The migrations of a folder, in the layout it is written in: golang-migrate/morph (also exec-doc's
 * own), Flyway or sqitch, detected (sqitch.plan, then V…__ files) or chosen with `format`.
 */
export function loadMigrations(dir: string, options: { format?: MigrationFormat } = {}): Migration[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (error) {
    throw new MigrationFilesError([
      `cannot read ${dir}: ${(error as Error).message}; pass --dir <folder of migrations>`,
    ]);
  }
  const format = options.format ?? 'auto';
  const layout =
    format === 'auto'
      ? (LAYOUTS.find((l) => l.detect(dir, names)) ?? golangMigrate)
      : LAYOUTS.find((l) => l.name === format)!;
  const problems: string[] = [];
  const drafts = layout.read(dir, names, problems);
  if (format !== 'auto' && drafts.length === 0 && problems.length === 0 && names.length > 0)
    problems.push(
      `${dir}: no ${format} migrations here (it holds ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}); check --format`,
    );
  const migrations: Migration[] = [];
  for (const draft of drafts) {
    const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file, 'utf8'));
    const upFile = read(draft.files.up)!;
    const up = draft.ownTransaction ? withoutOwnTransaction(upFile) : upFile;
    const down = read(draft.files.down);
    const migration: Migration = {
      version: draft.version,
      name: draft.name,
      up,
      // Of the file as written: an applied migration must not change.
      checksum: checksumOf(upFile),
      transactional: !mustRunOutsideTransaction(up),
      files: draft.files,
      format: layout.name,
      ...(draft.repeatable ? { repeatable: true as const } : {}),
    };
    if (down !== undefined) migration.down = draft.ownTransaction ? withoutOwnTransaction(down) : down;
    const verify = read(draft.files.verify);
    if (verify !== undefined) migration.verify = draft.ownTransaction ? withoutOwnTransaction(verify) : verify;
    migrations.push(migration);
  }
  if (problems.length > 0) throw new MigrationFilesError(problems);
  return migrations.sort((a, b) => compareVersions(a.version, b.version));
}

/**
 * Orders versions: digits, or dotted digits compared part by part (1.9 < 1.10 < 2); repeatable
 * migrations (`R:<name>`) after every versioned one, by name.
 */
export function compareVersions(a: string, b: string): number {
  const ra = a.startsWith('R:');
  const rb = b.startsWith('R:');
  if (ra || rb) return ra && rb ? (a < b ? -1 : a > b ? 1 : 0) : ra ? 1 : -1;
  const pa = a.split('.').map(BigInt);
  const pb = b.split('.').map(BigInt);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? -1n;
    const y = pb[i] ?? -1n;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** A script without the BEGIN at its start and the COMMIT (or, for a verify script, ROLLBACK) at its end that it wraps itself in. */
export function withoutOwnTransaction(sql: string): string {
  let tree: { stmts?: Array<{ stmt?: unknown; stmt_location?: number; stmt_len?: number }> };
  try {
    tree = parseSync(sql) as typeof tree;
  } catch {
    return sql;
  }
  const stmts = tree.stmts ?? [];
  const kind = (s: (typeof stmts)[number] | undefined) =>
    (s?.stmt as { TransactionStmt?: { kind?: string } } | undefined)?.TransactionStmt?.kind;
  const first = stmts[0];
  const last = stmts[stmts.length - 1];
  if (
    stmts.length < 2 ||
    !['TRANS_STMT_BEGIN', 'TRANS_STMT_START'].includes(kind(first) ?? '') ||
    !['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK'].includes(kind(last) ?? '')
  )
    return sql;
  const blank = (text: string, from: number, to: number) =>
    text.slice(0, from) + text.slice(from, to).replace(/[^\n]/g, ' ') + text.slice(to);
  // Blanked, not cut: positions in messages stay those of the file. A statement's range ends
  // before its semicolon.
  const end = (s: (typeof stmts)[number]) => {
    const to = (s.stmt_location ?? 0) + (s.stmt_len ?? sql.length - (s.stmt_location ?? 0));
    return sql[to] === ';' ? to + 1 : to;
  };
  return blank(blank(sql, last!.stmt_location ?? 0, end(last!)), first!.stmt_location ?? 0, end(first!));
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
