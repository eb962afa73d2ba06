// Runme's `promptEnv`: a shell block's top-level `export NAME=value` lines are parameters. The
// environment's value wins when set (`auto`); otherwise a person at a terminal is asked, with
// the written value as the default; without one, the written value is used. A line whose value is
// a message rather than a value (`export PROJECT=Enter your project id`) needs an answer or the
// environment: without either the step fails before it starts and says which variable.
//
// The value never goes into the code: the line becomes `export NAME` and the value arrives in the
// environment, so no answer can change the command.
import type { PromptEnvMode } from '../model/types.js';

export interface ExportLine {
  name: string;
  /** 0-based line index in the code. */
  line: number;
  /** The value as written (unquoted), or undefined for a message. */
  value?: string;
  /** The text after `=` when it is a message (bare words with spaces). */
  message?: string;
}

/** Asks for a value; undefined when nobody answered (the default is then used). */
export type AskValue = (name: string, hint: { defaultValue?: string; message?: string }) => Promise<string | undefined>;

const EXPORT = /^export[ \t]+([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
const BARE = /^[^\s$`"'\\;&|<>(){}*?[\]#]+$/;
const MESSAGE = /^[^$`"'\\;&|<>(){}*?[\]#]+$/;

/** The `export` lines Runme treats as prompts: at the start of a line, with a literal value. */
export function exportLines(code: string): ExportLine[] {
  const out: ExportLine[] = [];
  let heredoc: string | undefined;
  for (const [index, text] of code.split('\n').entries()) {
    // Lines inside a here-document are data, not statements.
    if (heredoc !== undefined) {
      if (text.replace(/^\t+/, '') === heredoc) heredoc = undefined;
      continue;
    }
    const start = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(text);
    if (start) heredoc = start[2];
    const m = EXPORT.exec(text.replace(/\s+$/, ''));
    if (!m) continue;
    const [, name, raw] = m as unknown as [string, string, string];
    const double = /^"([^"$`\\]*)"$/.exec(raw);
    const single = /^'([^']*)'$/.exec(raw);
    if (double) out.push({ name, line: index, value: double[1]! });
    else if (single) out.push({ name, line: index, value: single[1]! });
    else if (raw === '' || BARE.test(raw)) out.push({ name, line: index, value: raw });
    else if (MESSAGE.test(raw)) out.push({ name, line: index, message: raw.trim() });
  }
  return out;
}

export interface ResolvedExports {
  /** The code with each resolved line turned into `export NAME`. */
  code: string;
  /** The values, for the step's environment. */
  env: Record<string, string>;
  /** Variables that got no value (a message, nobody to ask, not in the environment). */
  missing: ExportLine[];
}

export async function resolveExports(
  code: string,
  mode: PromptEnvMode,
  env: Readonly<Record<string, string | undefined>>,
  ask?: AskValue,
): Promise<ResolvedExports> {
  if (mode === 'never') return { code, env: {}, missing: [] };
  const lines = code.split('\n');
  const values: Record<string, string> = {};
  const missing: ExportLine[] = [];
  for (const found of exportLines(code)) {
    const current = env[found.name];
    let value: string | undefined;
    if (current !== undefined && mode !== 'always') value = current;
    else {
      const canAsk = ask !== undefined && mode !== 'skip';
      const answer = canAsk
        ? await ask(found.name, {
            ...((current ?? found.value) !== undefined ? { defaultValue: (current ?? found.value)! } : {}),
            ...(found.message !== undefined ? { message: found.message } : {}),
          })
        : undefined;
      value = answer ?? current ?? found.value;
    }
    if (value === undefined) {
      missing.push(found);
      continue;
    }
    values[found.name] = value;
    lines[found.line] = `export ${found.name}`;
  }
  return { code: lines.join('\n'), env: values, missing };
}
