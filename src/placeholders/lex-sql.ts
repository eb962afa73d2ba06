// Where each placeholder stands in PostgreSQL SQL: code, a string constant ('…', E'…', U&'…'),
// a quoted identifier ("…"), a dollar-quoted body ($$…$$, usually PL/pgSQL), or a comment.
// Follows PostgreSQL's lexical rules (scan.l): nested block comments, '' and "" doubling,
// backslash escapes only in E'…', dollar tags that cannot follow an identifier character.
import { contextRecorder } from './recorder.js';

export type SqlContext = 'code' | 'string' | 'escape-string' | 'unicode-string' | 'identifier' | 'dollar' | 'comment';

const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

export function sqlContexts(code: string, starts: readonly number[]): SqlContext[] {
  const { out, record } = contextRecorder<SqlContext>(starts, 'code');
  let i = 0;
  while (i < code.length) {
    const c = code[i]!;
    const next = code[i + 1];
    if (c === '-' && next === '-') {
      while (i < code.length && code[i] !== '\n') record(i++, 'comment');
      continue;
    }
    if (c === '/' && next === '*') {
      let depth = 0;
      while (i < code.length) {
        if (code.startsWith('/*', i)) {
          depth += 1;
          i += 2;
        } else if (code.startsWith('*/', i)) {
          depth -= 1;
          i += 2;
          if (depth === 0) break;
        } else record(i++, 'comment');
      }
      continue;
    }
    const identifierBefore = i > 0 && /[A-Za-z0-9_$\u0080-\uffff]/.test(code[i - 1]!);
    if (!identifierBefore && (c === 'E' || c === 'e') && next === "'") {
      i = quoted(code, i + 1, "'", true, (at) => record(at, 'escape-string'));
      continue;
    }
    if (!identifierBefore && (c === 'U' || c === 'u') && next === '&' && (code[i + 2] === "'" || code[i + 2] === '"')) {
      i = quoted(code, i + 2, code[i + 2]!, false, (at) => record(at, 'unicode-string'));
      continue;
    }
    if (c === "'") {
      i = quoted(code, i, "'", false, (at) => record(at, 'string'));
      continue;
    }
    if (c === '"') {
      i = quoted(code, i, '"', false, (at) => record(at, 'identifier'));
      continue;
    }
    if (c === '$' && !identifierBefore) {
      const tag = DOLLAR_TAG.exec(code.slice(i, i + 64))?.[0];
      if (tag) {
        const end = code.indexOf(tag, i + tag.length);
        const stop = end < 0 ? code.length : end;
        for (i += tag.length; i < stop; i += 1) record(i, 'dollar');
        i = end < 0 ? code.length : end + tag.length;
        continue;
      }
    }
    record(i, 'code');
    i += 1;
  }
  return out;
}

/** Scans a quoted run from its opening quote at `open`; returns the index after the closing one. */
function quoted(code: string, open: number, quote: string, backslash: boolean, record: (at: number) => void): number {
  let i = open + 1;
  while (i < code.length) {
    if (backslash && code[i] === '\\') {
      record(i + 1);
      i += 2;
      continue;
    }
    if (code[i] === quote) {
      if (code[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    record(i++);
  }
  return i;
}
