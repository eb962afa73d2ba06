import type { Diagnostic } from '../model/types.js';

/** Exit codes of `exec-doc`; the README documents them. */
export const EXIT = {
  ok: 0,
  /** A step failed and the rollback completed. */
  rolledBack: 1,
  /** A step failed and the rollback failed or was incomplete. */
  rollbackIncomplete: 2,
  /** A requirement is missing; nothing ran. */
  requirementMissing: 3,
  /** Usage or document error; nothing ran. */
  usage: 64,
  /** The section is being run against the same target by another run; nothing ran (sysexits' EX_TEMPFAIL). */
  locked: 75,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export type ErrorCode =
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
  | 'E_TARGET'
  | 'E_CONFIG';

const EXIT_BY_CODE: Record<ErrorCode, ExitCode> = {
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
  E_TARGET: EXIT.requirementMissing,
  E_CONFIG: EXIT.usage,
};

/** An error raised before anything ran: the message says what happened and what to do next. */
export class ExecDocError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly diagnostics: Diagnostic[];
  /** Extra lines for the reader (closest matches, missing requirements, hints). */
  readonly details: string[];

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; diagnostics?: Diagnostic[]; details?: string[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ExecDocError';
    this.code = code;
    this.exitCode = EXIT_BY_CODE[code];
    this.diagnostics = options.diagnostics ?? [];
    this.details = options.details ?? [];
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message} [${d.ruleId}]`;
}

/** A system error's reason without its code or path: "no such file or directory". */
export function systemReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return (e?.message ?? String(error)).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}
