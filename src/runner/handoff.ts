// Steps hand values to later steps by writing KEY=VALUE lines to the file named by
// $EXEC_DOC_ENV: no hidden shell state, and it survives a resume.
import { existsSync, readFileSync } from 'node:fs';

export const HANDOFF_ENV = 'EXEC_DOC_ENV';
const LINE = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

export interface HandoffRead {
  /** Whether the step wrote the file at all. */
  existed: boolean;
  values: Record<string, string>;
  problems: string[];
}

export function readHandoff(file: string): HandoffRead {
  // Most steps hand nothing on: a stat is much cheaper than a failed read's exception.
  if (!existsSync(file)) return { existed: false, values: {}, problems: [] };
  const text = readFileSync(file, 'utf8');
  const values: Record<string, string> = {};
  const problems: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const match = LINE.exec(line);
    if (!match) {
      problems.push(`$${HANDOFF_ENV} line ${index + 1}: expected KEY=VALUE, got \`${line.slice(0, 40)}\``);
      return;
    }
    values[match[1]!] = match[2]!;
  });
  return { existed: true, values, problems };
}
