// What every `db` command handler is given: the parsed options, masked output, and the database.
import type { Io } from '../main.js';
import { CodedError } from '../../util/coded-error.js';
import type { MigrateOptions } from '../../db/migrate.js';
import type { DbOptions } from './options.js';

export interface DbContext {
  io: Io;
  options: DbOptions;
  /** Positional files, absolute (`-` is standard input). */
  files: string[];
  /** Standard output with every secret of the connection string masked. */
  out: (text: string) => void;
  /** A progress or diagnostic line on standard error (`db: ` prefix added), masked. */
  log: (line: string) => void;
  /** The database's connection string; a clear error (exit 3) when none is configured. */
  url: () => string;
  /** The migration engine's settings, with the --dir migrations loaded (`withMigrations`). */
  migrateOptions: (withMigrations?: boolean) => Promise<MigrateOptions>;
}

export type DbHandler = (ctx: DbContext) => Promise<number>;

export function noDatabase(): CodedError {
  return new CodedError(
    'E_TARGET',
    'no database: set DATABASE_URL (or PGHOST/PGDATABASE); `exec-doc run` sets it for the steps of a section',
  );
}
