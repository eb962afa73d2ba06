import type { Diagnostic } from '../model/types.js';
import { CodedError, type ErrorCode } from '../util/coded-error.js';

export { EXIT, EXIT_BY_CODE, CodedError, type ErrorCode, type ExitCode } from '../util/coded-error.js';

/** An error raised before anything ran: the message says what happened and what to do next. */
export class ExecDocError extends CodedError {
  readonly diagnostics: Diagnostic[];

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; diagnostics?: Diagnostic[]; details?: string[] } = {},
  ) {
    super(code, message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      ...(options.details ? { details: options.details } : {}),
    });
    this.diagnostics = options.diagnostics ?? [];
  }
}

export { formatDiagnostic } from '../model/diagnostic.js';

/** A system error's reason without its code or path: "no such file or directory". */
export function systemReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return (e?.message ?? String(error)).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}
