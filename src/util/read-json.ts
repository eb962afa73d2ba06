// Reads a JSON file that a person or another program wrote; where it is broken, says the line
// and column (and whether it simply ends too early, as a truncated file does).
import { readFileSync } from 'node:fs';
import { CodedError } from './coded-error.js';
import { jsonErrorOffset } from './json-error-offset.js';
import { lineStarts, positionAt } from './text-position.js';

export class JsonFileError extends CodedError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
    /** What went wrong with the file. */
    readonly kind: 'unreadable' | 'truncated' | 'syntax',
  ) {
    super('E_JSON_FILE', `${file}:${line}:${column}: ${reason}`);
  }
}

/** The parsed value, or a JsonFileError naming where the text stops being JSON. */
export function readJsonFile(file: string, what = 'JSON'): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new JsonFileError(
      file,
      1,
      1,
      code === 'ENOENT'
        ? `${what} file does not exist`
        : code === 'EACCES'
          ? `no permission to read the ${what} file`
          : `cannot read the ${what} file (${code ?? (error as Error).message})`,
      'unreadable',
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    const offset = jsonErrorOffset(text);
    const { line, column } = positionAt(lineStarts(text), offset);
    return offset >= text.length
      ? raise(
          new JsonFileError(
            file,
            line,
            column,
            `Unexpected end of the ${what} (truncated?), expected complete JSON`,
            'truncated',
          ),
        )
      : raise(
          new JsonFileError(
            file,
            line,
            column,
            `Unexpected character \`${text[offset]}\` in the ${what}, expected JSON`,
            'syntax',
          ),
        );
  }
}

function raise(error: Error): never {
  throw error;
}
