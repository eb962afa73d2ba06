// What a layout reads from a folder: each migration's version, name and scripts, as files.
export interface MigrationDraft {
  /** Digits, or dotted digits (Flyway's 1.1); `R:<name>` for a repeatable migration. */
  version: string;
  name: string;
  files: { up: string; down?: string; verify?: string };
  /** Flyway's R__ migrations: applied after the versioned ones, and again whenever they change. */
  repeatable?: true;
  /** The scripts manage their own transaction (sqitch's BEGIN … COMMIT): it is lifted off so that `db up` runs them in its own, with the ledger. */
  ownTransaction?: true;
}

export interface Layout {
  name: 'golang-migrate' | 'flyway' | 'sqitch';
  /** Whether the folder looks like this layout. */
  detect(dir: string, names: readonly string[]): boolean;
  read(dir: string, names: readonly string[], problems: string[]): MigrationDraft[];
}
