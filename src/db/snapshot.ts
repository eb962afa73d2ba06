// Integrity snapshots: the schema (every table, column, constraint, index, view, sequence,
// function, trigger and enum of the user's schemas, as PostgreSQL itself prints them) with a
// fingerprint, plus each table's row count and a content checksum that does not depend on row
// order. Comparing two snapshots says exactly what differs: the proof of a rollback or a restore.
import { CodedError } from '../util/coded-error.js';
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { LEDGER_SCHEMA } from './ledger.js';
import { JsonFileError, readJsonFile } from '../util/read-json.js';
import { writeAtomic } from '../util/fs.js';
import { TABLE_NAME } from '../model/table-name.js';

export const SNAPSHOT_FORMAT = 1;

export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  database: string;
  serverVersion: string;
  takenAt: string;
  /** sha256 over `schema` (sorted); equal fingerprints mean equal schemas. */
  schemaFingerprint: string;
  /** Object key (`table public.orders`, `index public.orders_pkey`, …) → its definition. */
  schema: Record<string, string>;
  /** `schema.table` → row count and content checksum. */
  tables: Record<string, { rows: number; checksum: string }>;
  /**
   * Only these tables (`schema.table`, sorted) and what belongs to them (columns, constraints,
   * indexes, triggers) were recorded; absent: the whole database.
   */
  scope?: string[];
}

export interface SnapshotOptions {
  /** Schemas left out besides the system ones (default: exec-doc's own ledger schema). */
  excludeSchemas?: string[];
  /** Only these tables (`table` in the current schema, or `schema.table`) and their columns, constraints, indexes and triggers. */
  tables?: readonly string[];
}

/** A problem with a table name given to scope a snapshot, or undefined. */
export function tableNameProblem(name: string): string | undefined {
  return TABLE_NAME.test(name)
    ? undefined
    : `\`${name}\` is not a table name: expected \`table\` or \`schema.table\` (letters, digits, _ and $)`;
}

/** Names as `schema.table`, an unqualified one in the session's current schema; sorted, no duplicates. */
async function qualify(client: pg.Client, names: readonly string[]): Promise<string[]> {
  const current = ((await client.query('select current_schema() as s')).rows[0] as { s: string | null }).s ?? 'public';
  return [...new Set(names.map((n) => (n.includes('.') ? n : `${current}.${n}`).toLowerCase()))].sort();
}

const SYSTEM = `n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg_temp_%' and n.nspname not like 'pg_toast_temp_%'`;

export async function takeSnapshot(client: pg.Client, options: SnapshotOptions = {}): Promise<Snapshot> {
  const exclude = options.excludeSchemas ?? [LEDGER_SCHEMA];
  for (const name of options.tables ?? []) {
    const problem = tableNameProblem(name);
    if (problem) throw new CodedError('E_USAGE', problem);
  }
  const scope = options.tables ? await qualify(client, options.tables) : null;
  // Scoped: objects of the named tables only (`c` is the table); schemas, views, functions and types are left out.
  const inScope = () => `($2::text[] is null or n.nspname || '.' || c.relname = any($2::text[]))`;
  const unscoped = '$2::text[] is null';
  const where = `${SYSTEM} and not (n.nspname = any($1))`;
  const q = async <T>(sql: string): Promise<T[]> => (await client.query(sql, [exclude, scope])).rows as T[];
  const schema: Record<string, string> = {};
  const add = (rows: Array<{ key: string; def: string | null }>) => {
    for (const r of rows) schema[r.key] = r.def ?? '';
  };
  add(
    await q(
      `select 'schema ' || n.nspname as key, coalesce(pg_get_userbyid(n.nspowner), '') as def from pg_namespace n where ${where} and ${unscoped}`,
    ),
  );
  add(
    await q(`select 'column ' || n.nspname || '.' || c.relname || '.' || a.attname as key,
                      format_type(a.atttypid, a.atttypmod) || case when a.attnotnull then ' not null' else '' end || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') || ' #' || a.attnum as def
                 from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
                 left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
                where ${where} and ${inScope()} and c.relkind in ('r', 'p', 'v', 'm', 'f') and a.attnum > 0 and not a.attisdropped`),
  );
  add(
    await q(`select 'relation ' || n.nspname || '.' || c.relname as key, c.relkind::text || coalesce(' persistence=' || c.relpersistence::text, '') as def
                 from pg_class c join pg_namespace n on n.oid = c.relnamespace where ${where} and ${inScope()} and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')`),
  );
  add(
    await q(`select 'constraint ' || n.nspname || '.' || c.relname || '.' || con.conname as key, pg_get_constraintdef(con.oid) || case when con.convalidated then '' else ' (not validated)' end as def
                 from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace where ${where} and ${inScope()}`),
  );
  add(
    await q(`select 'index ' || n.nspname || '.' || i.relname as key, pg_get_indexdef(i.oid) || case when x.indisvalid then '' else ' (INVALID)' end as def
                 from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid join pg_namespace n on n.oid = i.relnamespace where ${where} and ${inScope()}`),
  );
  add(
    await q(`select 'view ' || n.nspname || '.' || c.relname as key, pg_get_viewdef(c.oid, true) as def
                 from pg_class c join pg_namespace n on n.oid = c.relnamespace where ${where} and ${unscoped} and c.relkind in ('v', 'm')`),
  );
  add(
    await q(`select 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' as key, pg_get_functiondef(p.oid) as def
                 from pg_proc p join pg_namespace n on n.oid = p.pronamespace where ${where} and ${unscoped} and p.prokind in ('f', 'p')`),
  );
  add(
    await q(`select 'trigger ' || n.nspname || '.' || c.relname || '.' || t.tgname as key, pg_get_triggerdef(t.oid) as def
                 from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace where ${where} and ${inScope()} and not t.tgisinternal`),
  );
  add(
    await q(`select 'type ' || n.nspname || '.' || t.typname as key, string_agg(e.enumlabel, ',' order by e.enumsortorder) as def
                 from pg_type t join pg_namespace n on n.oid = t.typnamespace join pg_enum e on e.enumtypid = t.oid where ${where} and ${unscoped} group by n.nspname, t.typname`),
  );

  const tables: Snapshot['tables'] = {};
  const relations = await q<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where ${where} and ${inScope()} and c.relkind in ('r', 'p') order by 1, 2`,
  );
  for (const { schema: s, name } of relations) {
    const ident = `${quoteIdent(s)}.${quoteIdent(name)}`;
    // Each row's md5, sorted, hashed again: equal for equal contents whatever the physical order.
    const result = await client.query(
      `select count(*)::bigint as rows, md5(coalesce(string_agg(h, '' order by h), '')) as checksum from (select md5(t::text) as h from ${ident} t) x`,
    );
    const row = result.rows[0] as { rows: string; checksum: string };
    tables[`${s}.${name}`] = { rows: Number(row.rows), checksum: `md5:${row.checksum}` };
  }
  const sortedSchema = Object.fromEntries(Object.entries(schema).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const meta = (
    await client.query(`select current_database() as database, current_setting('server_version') as version`)
  ).rows[0] as { database: string; version: string };
  return {
    format: SNAPSHOT_FORMAT,
    database: meta.database,
    serverVersion: meta.version,
    takenAt: new Date().toISOString(),
    schemaFingerprint: `sha256:${createHash('sha256').update(JSON.stringify(sortedSchema)).digest('hex')}`,
    schema: sortedSchema,
    tables,
    ...(scope ? { scope } : {}),
  };
}

/** What a snapshot covers, for messages: `the whole database`, or the tables. */
export function describeScope(snapshot: Pick<Snapshot, 'scope'>): string {
  return snapshot.scope
    ? `only ${snapshot.scope.join(', ')} (columns, constraints, indexes, triggers, rows)`
    : 'the whole database';
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export interface SnapshotDifference {
  kind: 'added' | 'removed' | 'changed' | 'rows' | 'content';
  object: string;
  before?: string;
  after?: string;
}

/**
 * Every difference between two snapshots, sorted; empty when they describe the same database state.
 * `dataOnly` compares tables and their contents but not how the schema is printed (it changes
 * between PostgreSQL majors: across an upgrade, compare data); `schemaOnly` compares the schema and
 * each table's row count but not the rows' contents (a table a load keeps writing).
 */
export function compareSnapshots(
  before: Snapshot,
  after: Snapshot,
  options: { dataOnly?: boolean; schemaOnly?: boolean } = {},
): SnapshotDifference[] {
  const out: SnapshotDifference[] = [];
  const scopeOf = (x: Snapshot) => (x.scope ? x.scope.join(', ') : 'the whole database');
  if (scopeOf(before) !== scopeOf(after))
    out.push({ kind: 'changed', object: 'scope', before: scopeOf(before), after: scopeOf(after) });
  const keys = options.dataOnly
    ? []
    : [...new Set([...Object.keys(before.schema), ...Object.keys(after.schema)])].sort();
  for (const key of keys) {
    const a = before.schema[key];
    const b = after.schema[key];
    if (a === undefined) out.push({ kind: 'added', object: key, after: b! });
    else if (b === undefined) out.push({ kind: 'removed', object: key, before: a });
    else if (a !== b) out.push({ kind: 'changed', object: key, before: a, after: b });
  }
  const tables = [...new Set([...Object.keys(before.tables), ...Object.keys(after.tables)])].sort();
  for (const table of tables) {
    const a = before.tables[table];
    const b = after.tables[table];
    if (!a || !b) {
      // Reported as an added/removed relation above, unless only data is compared.
      if (options.dataOnly)
        out.push(
          a
            ? { kind: 'removed', object: `table ${table}`, before: `${a.rows} rows` }
            : { kind: 'added', object: `table ${table}`, after: `${b!.rows} rows` },
        );
      continue;
    }
    if (a.rows !== b.rows)
      out.push({ kind: 'rows', object: `table ${table}`, before: String(a.rows), after: String(b.rows) });
    else if (a.checksum !== b.checksum && !options.schemaOnly)
      out.push({ kind: 'content', object: `table ${table}`, before: a.checksum, after: b.checksum });
  }
  return out;
}

export function describeDifference(d: SnapshotDifference): string {
  switch (d.kind) {
    case 'added':
      return `+ ${d.object}: ${d.after}`;
    case 'removed':
      return `- ${d.object}: ${d.before}`;
    case 'changed':
      return `~ ${d.object}: ${d.before} → ${d.after}`;
    case 'rows':
      return `~ ${d.object}: ${d.before} rows → ${d.after} rows`;
    case 'content':
      return `~ ${d.object}: same row count, different contents`;
  }
}

export class SnapshotFileError extends CodedError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    reason: string,
  ) {
    super('E_SNAPSHOT_FILE', `${file}:${line}:${column}: ${reason}`);
  }
}

/** Writes a snapshot file (folders created; replaced atomically), as readSnapshot reads it. */
export function writeSnapshot(file: string, snapshot: Snapshot): void {
  writeAtomic(file, `${JSON.stringify(snapshot, null, 2)}\n`);
}

/** Reads a snapshot file; a truncated or foreign file is a positioned error, never a crash. */
export function readSnapshot(file: string): Snapshot {
  let value: unknown;
  try {
    value = readJsonFile(file, 'snapshot');
  } catch (error) {
    if (!(error instanceof JsonFileError)) throw error;
    const fix =
      error.kind === 'unreadable'
        ? ''
        : error.kind === 'truncated'
          ? '; take the snapshot again'
          : ' written by `db snapshot`';
    throw new SnapshotFileError(file, error.line, error.column, `${error.reason}${fix}`);
  }
  const s = value as Partial<Snapshot>;
  if (
    !s ||
    typeof s !== 'object' ||
    s.format !== SNAPSHOT_FORMAT ||
    typeof s.schema !== 'object' ||
    typeof s.tables !== 'object' ||
    typeof s.schemaFingerprint !== 'string'
  ) {
    throw new SnapshotFileError(
      file,
      1,
      1,
      `Unexpected content, expected a snapshot of format ${SNAPSHOT_FORMAT} (fields format, schemaFingerprint, schema, tables) written by \`db snapshot\``,
    );
  }
  return s as Snapshot;
}
