// The migration layouts `--format` names, in a module light enough for the command line's parser.
export const MIGRATION_FORMATS = ['auto', 'golang-migrate', 'flyway', 'sqitch'] as const;
export type MigrationFormat = (typeof MIGRATION_FORMATS)[number];
