// `${{ params.NAME }}` in a block: found once, placed in its lexical context, and written so that
// a value is data in every language (./render.ts says how). The validator warns about uses that
// no quoting can make safe; the runner renders, or refuses before anything runs.
import type { Param, StepLanguage } from '../model/types.js';
import { rulesFor } from './languages.js';
import { envName, isNarrowType, renderUnsafe } from './render.js';

export { PARAM_ENV_PREFIX, envName } from './render.js';

export const PLACEHOLDER = /\$\{\{\s*([^}]*?)\s*\}\}/g;
const PARAM_REF = /^params\.([A-Za-z_][A-Za-z0-9_]*)$/;

export interface PlaceholderUse {
  /** The placeholder as written. */
  raw: string;
  /** The parameter it names, or null when it is not `params.<name>`. */
  name: string | null;
  /** Offset in the block's code. */
  offset: number;
  /** The lexical context (language-specific: `word`, `double`, `string`, `code`, …). */
  context: string;
}

/** Every placeholder of a block, with where it stands. */
export function findPlaceholders(lang: StepLanguage, code: string): PlaceholderUse[] {
  const matches = [...code.matchAll(PLACEHOLDER)];
  if (matches.length === 0) return [];
  // Lexed with each placeholder masked as letters of the same length: `}}` and quotes inside a
  // placeholder are not the language's.
  let masked = '';
  let last = 0;
  for (const m of matches) {
    masked += code.slice(last, m.index) + 'x'.repeat(m[0].length);
    last = m.index + m[0].length;
  }
  masked += code.slice(last);
  const contexts = rulesFor(lang).contexts(
    masked,
    matches.map((m) => m.index),
  );
  return matches.map((m, i) => ({
    raw: m[0],
    name: PARAM_REF.exec(m[1] ?? '')?.[1] ?? null,
    offset: m.index,
    context: contexts[i]!,
  }));
}

const PROGRAM_LANGUAGES: readonly StepLanguage[] = ['python', 'js', 'ts'];

/**
 * A secret in Python, JavaScript or TypeScript is never written into the code, which is the
 * process's command line (`ps` shows it): it is read from the environment where it stands. That
 * is an expression, so it can stand only where code does, not inside a string literal.
 */
function secretUse(lang: StepLanguage, param: Param, context: string): { text: string } | { problem: string } | null {
  if (!param.secret || !PROGRAM_LANGUAGES.includes(lang)) return null;
  if (context !== 'code')
    return {
      problem: `secret parameter \`${param.name}\` stands inside a ${context === 'comment' ? 'comment' : 'string literal'}, where its value would be written into the program's command line (other users see it in \`ps\`); use it as an expression instead (\`password = \${{ params.${param.name} }}\`), which reads it from the environment`,
    };
  return {
    text:
      lang === 'python'
        ? `__import__("os").environ["${envName(param.name)}"]`
        : `process.env["${envName(param.name)}"]`,
  };
}

export interface UnsafeUse {
  use: PlaceholderUse;
  message: string;
}

/** Uses whose values cannot be quoted where they stand (only a narrower type makes them safe). */
export function unsafeUses(lang: StepLanguage, code: string, params: readonly Param[]): UnsafeUse[] {
  const rules = rulesFor(lang);
  const out: UnsafeUse[] = [];
  for (const use of findPlaceholders(lang, code)) {
    const unsafe = rules.unsafe[use.context];
    const param = params.find((p) => p.name === use.name);
    // A secret where it cannot be read from the environment is the validator's error (secret-placeholder).
    if (param?.secret && PROGRAM_LANGUAGES.includes(lang)) continue;
    if (!unsafe || !param || isNarrowType(param)) continue;
    out.push({
      use,
      message: `Unexpected string parameter \`${param.name}\` in ${unsafe.what}: a value there could change the command; ${unsafe.fix}. Until then only plain values are accepted when it runs`,
    });
  }
  return out;
}

export interface RenderedCode {
  code: string;
  /** Why a value cannot be placed (nothing should run). */
  problems: string[];
}

/** The block's code with every known parameter's value written for where it stands. */
export function renderPlaceholders(
  lang: StepLanguage,
  code: string,
  params: readonly Param[],
  values: Readonly<Record<string, string>>,
): RenderedCode {
  const rules = rulesFor(lang);
  const problems: string[] = [];
  let out = '';
  let last = 0;
  for (const use of findPlaceholders(lang, code)) {
    const param = params.find((p) => p.name === use.name);
    const value = use.name === null ? undefined : values[use.name];
    out += code.slice(last, use.offset);
    last = use.offset + use.raw.length;
    if (!param || value === undefined) {
      // Undeclared or unset: the validator reports it; the text stays as written.
      out += use.raw;
      continue;
    }
    const secret = secretUse(lang, param, use.context);
    if (secret) {
      if ('problem' in secret) {
        problems.push(secret.problem);
        out += use.raw;
      } else out += secret.text;
      continue;
    }
    const unsafe = rules.unsafe[use.context];
    if (unsafe) {
      const r = renderUnsafe(param, value, unsafe);
      if ('problem' in r) {
        problems.push(r.problem);
        out += use.raw;
      } else out += r.text;
      continue;
    }
    out += rules.render(use.context, param, value);
  }
  return { code: out + code.slice(last), problems };
}

/** The environment variables that carry parameter values to a process (EXEC_DOC_PARAM_<name>). */
export function paramEnvironment(values: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [envName(name), value]));
}

/** Server-side settings a SQL block can read: current_setting('exec_doc.<name>'). */
export function sqlSettings(values: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(values)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => [`exec_doc.${name.toLowerCase()}`, value]);
}
