// How a parameter's value is written where its placeholder stands, per language and lexical
// context. The rule: the text put in the code can never change the code's structure.
// - Shell: never the value itself, only a reference to an environment variable holding it,
//   quoted for the context ("${V}", ${V}, '"${V}"').
// - SQL: a literal quoted for its context ('' / "" doubling, E'' backslashes), a number, or an
//   identifier that matched PostgreSQL's rules for an unquoted name.
// - Python, JavaScript, TypeScript: a string literal (or its content) in which every character
//   but letters, digits, space and `_` is an escape sequence.
// Contexts where no quoting can hold (bash arithmetic, a quoted here-document, a PL/pgSQL body,
// a raw string) take numbers, booleans, identifiers, enum values and inert text only.
import type { Param } from '../model/types.js';

export const PARAM_ENV_PREFIX = 'EXEC_DOC_PARAM_';

/** Characters that mean nothing in any language's syntax, in any position. */
const INERT = /^[A-Za-z0-9_.,:@+=/-]*$/;
const INERT_EXCEPT = /--|\/\/|\/\*/;

export type Rendering = { text: string } | { problem: string };

export interface UnsafeContext {
  /** What the context is, for messages. */
  what: string;
  /** What to write instead. */
  fix: string;
  /** Code-like (numbers in parentheses when negative) or text-like. */
  code: boolean;
}

export const envName = (name: string): string => `${PARAM_ENV_PREFIX}${name}`;

export function isInert(value: string): boolean {
  return INERT.test(value) && !INERT_EXCEPT.test(value);
}

/** Whether values of `param` can go anywhere: their form is fixed by the declaration. */
export function isNarrowType(param: Param): boolean {
  return param.type !== 'string';
}

/** A value for an unsafe context, or why it cannot go there. */
export function renderUnsafe(param: Param, value: string, unsafe: UnsafeContext): Rendering {
  if (param.type === 'integer' || param.type === 'number') return { text: unsafe.code ? numberLiteral(value) : value };
  if (isNarrowType(param) || isInert(value)) return { text: value };
  return {
    problem: `parameter \`${param.name}\` stands in ${unsafe.what}, where only plain values are safe (letters, digits and . , : @ + = / -), and its value has other characters; ${unsafe.fix}`,
  };
}

/** A number as code: no leading zeros (octal in some languages), negative ones in parentheses. */
export function numberLiteral(value: string): string {
  const normal = value.replace(/^(-?)0+(?=\d)/, '$1');
  return normal.startsWith('-') ? `(${normal})` : normal;
}

/** Python: characters other than letters, digits, space and _ as \x, \u or \U escapes. */
export function pythonEscape(value: string): string {
  let out = '';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (/[A-Za-z0-9 _]/.test(ch)) out += ch;
    else if (cp < 0x100) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return out;
}

/** Python bytes: the UTF-8 bytes, other than letters, digits, space and _, as \x escapes. */
export function pythonBytesEscape(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8'))
    out += /[A-Za-z0-9 _]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `\\x${hex(byte, 2)}`;
  return out;
}

/** JavaScript: UTF-16 units other than letters, digits, space and _ as \u escapes. */
export function jsEscape(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i += 1) {
    const ch = value[i]!;
    out += /[A-Za-z0-9 _]/.test(ch) ? ch : `\\u${hex(ch.charCodeAt(0), 4)}`;
  }
  return out;
}

/** Text for a comment: no line break and nothing that closes or opens a comment. */
export function commentText(value: string): string {
  return JSON.stringify(value)
    .slice(1, -1)
    .replace(/\*\//g, '*\\/')
    .replace(/\/\*/g, '/\\*')
    .replace(/[\u2028\u2029\u0085]/g, ' ');
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
