// Steps hand values to later steps by writing KEY=VALUE lines to the file named by
// $EXEC_DOC_ENV: no hidden shell state, and it survives a resume.
import { readFileSync } from 'node:fs';

export const HANDOFF_ENV = 'EXEC_DOC_ENV';
const LINE = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

export interface HandoffRead {
  values: Record<string, string>;
  problems: string[];
}

export function readHandoff(file: string): HandoffRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { values: {}, problems: [] };
  }
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
  return { values, problems };
}
