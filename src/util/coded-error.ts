// One shape for the errors a user can act on: a code, a message that says what happened and what
// to do, detail lines, and the original error kept as `cause`. One table maps codes to exit codes
// for both command lines; an error without a code is a bug (exit 70).
export type ErrorCode =
  // exec-doc: nothing ran
  | 'E_USAGE'
  | 'E_DOCUMENT'
  | 'E_UNKNOWN_SECTION'
  | 'E_PARAM'
  | 'E_CONFIRM'
  | 'E_REQUIREMENT'
  | 'E_RUN_NOT_FOUND'
  | 'E_RUN_LOCKED'
  | 'E_RESUME_INTERRUPTED'
  | 'E_SECTION_LOCKED'
  | 'E_RUN_CHANGED'
  | 'E_RUN_FINISHED'
  | 'E_RUN_UNFINISHED'
  | 'E_REHEARSAL_ONLY'
  | 'E_TARGET'
  | 'E_CONFIG'
  // files a command reads
  | 'E_JSON_FILE'
  | 'E_SNAPSHOT_FILE'
  | 'E_MIGRATION_FILES'
  | 'E_LOCK_FILE'
  // the database tools
  | 'E_DRIFT'
  | 'E_UNKNOWN_APPLIED'
  | 'E_LOCKED'
  | 'E_LOCK_TIMEOUT'
  | 'E_MIGRATION_FAILED'
  | 'E_NO_DOWN'
  | 'E_VERIFY_FAILED'
  | 'E_REFUSED'
  | 'E_BACKUP'
  | 'E_BACKFILL'
  // a check that could not answer
  | 'E_CHECK_CANNOT_RUN'
  // security: policy, identities, approvals, the audit trail, secrets
  | 'E_POLICY'
  | 'E_KEY'
  | 'E_SECRET'
  | 'E_DENIED'
  | 'E_TOKEN'
  | 'E_APPROVAL'
  | 'E_AUDIT'
  | 'E_HOSTS';

/** Exit codes; the READMEs document them. */
export const EXIT = {
  ok: 0,
  /** A step failed and the rollback completed (db: a migration or a check failed, or was refused). */
  rolledBack: 1,
  /** A step failed and the rollback failed or was incomplete. */
  rollbackIncomplete: 2,
  /** A requirement is missing; nothing ran. */
  requirementMissing: 3,
  /** Usage or document error; nothing ran. */
  usage: 64,
  /** The section is being run against the same target by another run; nothing ran (sysexits' EX_TEMPFAIL). */
  locked: 75,
  /** A bug in exec-doc, never a user's mistake (sysexits' EX_SOFTWARE). */
  internalError: 70,
  /** Refused by the access policy, a missing approval or an untrusted identity; nothing ran (sysexits' EX_NOPERM). */
  denied: 77,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_BY_CODE: Record<ErrorCode, ExitCode> = {
  E_USAGE: EXIT.usage,
  E_DOCUMENT: EXIT.usage,
  E_UNKNOWN_SECTION: EXIT.usage,
  E_PARAM: EXIT.usage,
  E_CONFIRM: EXIT.usage,
  E_REQUIREMENT: EXIT.requirementMissing,
  E_RUN_NOT_FOUND: EXIT.usage,
  E_RUN_LOCKED: EXIT.usage,
  E_RESUME_INTERRUPTED: EXIT.usage,
  E_SECTION_LOCKED: EXIT.locked,
  E_RUN_CHANGED: EXIT.usage,
  E_RUN_FINISHED: EXIT.usage,
  E_RUN_UNFINISHED: EXIT.usage,
  E_REHEARSAL_ONLY: EXIT.usage,
  E_TARGET: EXIT.requirementMissing,
  E_CONFIG: EXIT.usage,
  E_JSON_FILE: EXIT.usage,
  E_SNAPSHOT_FILE: EXIT.usage,
  E_MIGRATION_FILES: EXIT.usage,
  E_LOCK_FILE: EXIT.usage,
  E_DRIFT: EXIT.rolledBack,
  E_UNKNOWN_APPLIED: EXIT.rolledBack,
  E_LOCKED: EXIT.rolledBack,
  E_LOCK_TIMEOUT: EXIT.rolledBack,
  E_MIGRATION_FAILED: EXIT.rolledBack,
  E_NO_DOWN: EXIT.rolledBack,
  E_VERIFY_FAILED: EXIT.rolledBack,
  E_REFUSED: EXIT.rolledBack,
  E_BACKUP: EXIT.rolledBack,
  E_BACKFILL: EXIT.rolledBack,
  E_CHECK_CANNOT_RUN: EXIT.requirementMissing,
  E_POLICY: EXIT.usage,
  E_KEY: EXIT.usage,
  E_SECRET: EXIT.usage,
  E_DENIED: EXIT.denied,
  E_TOKEN: EXIT.denied,
  E_APPROVAL: EXIT.denied,
  E_AUDIT: EXIT.denied,
  E_HOSTS: EXIT.usage,
};

export class CodedError extends Error {
  readonly code: ErrorCode;
  /** Extra lines for the reader (closest matches, what to do next). */
  readonly details: string[];

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? [];
  }

  get exitCode(): ExitCode {
    return EXIT_BY_CODE[this.code];
  }
}
