// One shape for every problem found in a user's files (documents, front matter, annotations,
// checks blocks, AI-discovery comments, SQL migrations), printed by one formatter, as vfile
// messages are in the unified ecosystem. Where a problem is found before its file position is
// known (inside a block's code, inside an annotation), the finder reports a `Problem` relative to
// what it read, and the caller places it with `placed`.
import path from 'node:path';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  file: string;
  /** 1-based, of the first character. */
  line: number;
  column: number;
  /** Where it ends, when the finder knows. */
  endLine?: number;
  endColumn?: number;
  severity: Severity;
  /** A stable id: `annotation-syntax`, `index-not-concurrent`, … */
  ruleId: string;
  message: string;
  /** What to write instead (the SQL linter's safe pattern). */
  fix?: string;
}

/** A problem at a line and column of the text its finder read (1-based), not yet placed in a file. */
export interface Problem {
  line: number;
  column: number;
  ruleId: string;
  message: string;
  fix?: string;
}

/** A problem at an offset of a one-line string (an annotation), not yet placed in a file. */
export interface OffsetProblem {
  offset: number;
  ruleId: string;
  message: string;
  /** Default `error`. */
  severity?: Severity;
}

/**
 * A relative problem as a diagnostic of `file`, the text it was found in starting at line `line`
 * (default 1) with every line indented by `indent` columns (default 0).
 */
export function placed(
  problem: Problem,
  at: { file: string; line?: number; indent?: number; severity?: Severity },
): Diagnostic {
  return {
    file: at.file,
    line: (at.line ?? 1) + problem.line - 1,
    column: problem.column + (at.indent ?? 0),
    severity: at.severity ?? 'error',
    ruleId: problem.ruleId,
    message: problem.message,
    ...(problem.fix !== undefined ? { fix: problem.fix } : {}),
  };
}

/**
 * A formatter: `file:line:column: severity: message [rule]`, and the fix on a line of its own
 * (labelled `fixLabel`, default `fix`). Paths inside `relativeTo` are shown relative to it.
 */
export function diagnosticFormatter(
  options: { relativeTo?: string; fixLabel?: string } = {},
): (d: Diagnostic) => string {
  return (d) => {
    let file = d.file;
    if (options.relativeTo !== undefined && !file.startsWith('<')) {
      const relative = path.relative(options.relativeTo, file);
      if (!relative.startsWith('..')) file = relative;
    }
    const head = `${file}:${d.line}:${d.column}: ${d.severity}: ${d.message} [${d.ruleId}]`;
    return d.fix === undefined ? head : `${head}\n    ${options.fixLabel ?? 'fix'}: ${d.fix}`;
  };
}

/** A diagnostic as `file:line:column: severity: message [rule]` (and its fix), the path as it is. */
export const formatDiagnostic: (d: Diagnostic) => string = diagnosticFormatter();
