// Where each placeholder stands in JavaScript / TypeScript: code, a string or template literal,
// a regular expression literal, or a comment. The rendering (see ./render.ts) escapes every
// character that is not a letter, digit, space or `_` as \uXXXX, which means the same character in
// strings, templates and regular expressions alike, so a wrong guess here cannot open a way out.
import { contextRecorder } from './recorder.js';

export type JsContext = 'code' | 'string' | 'template' | 'regex' | 'comment';

const REGEX_AFTER_WORD = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'instanceof',
  'yield',
  'await',
]);

export function jsContexts(code: string, starts: readonly number[]): JsContext[] {
  const { out, record } = contextRecorder<JsContext>(starts, 'code');
  // Each `${` of a template opens code that ends at its matching `}`.
  const braces: Array<'code' | 'template'> = [];
  let i = 0;
  let lastSignificant = '';
  let lastWord = '';

  const scanQuoted = (quote: string, context: JsContext) => {
    i += 1;
    while (i < code.length && code[i] !== quote && code[i] !== '\n') {
      if (code[i] === '\\') {
        record(i + 1, context);
        i += 2;
      } else record(i++, context);
    }
    i += 1;
  };
  const scanTemplate = () => {
    while (i < code.length) {
      const c = code[i]!;
      if (c === '\\') {
        record(i + 1, 'template');
        i += 2;
      } else if (c === '`') {
        i += 1;
        return;
      } else if (c === '$' && code[i + 1] === '{') {
        braces.push('template');
        i += 2;
        return;
      } else record(i++, 'template');
    }
  };

  while (i < code.length) {
    const c = code[i]!;
    const next = code[i + 1];
    if (c === '/' && next === '/') {
      while (i < code.length && code[i] !== '\n') record(i++, 'comment');
      continue;
    }
    if (c === '/' && next === '*') {
      const end = code.indexOf('*/', i + 2);
      const stop = end < 0 ? code.length : end + 2;
      while (i < stop) record(i++, 'comment');
      continue;
    }
    if (c === "'" || c === '"') {
      scanQuoted(c, 'string');
      lastSignificant = c;
      continue;
    }
    if (c === '`') {
      i += 1;
      scanTemplate();
      lastSignificant = '`';
      continue;
    }
    if (
      c === '/' &&
      (lastSignificant === '' || '(,=:[!&|?{};+-*%<>~^'.includes(lastSignificant) || REGEX_AFTER_WORD.has(lastWord))
    ) {
      i += 1;
      let inClass = false;
      while (i < code.length && code[i] !== '\n' && (inClass || code[i] !== '/')) {
        if (code[i] === '\\') {
          record(i + 1, 'regex');
          i += 2;
          continue;
        }
        if (code[i] === '[') inClass = true;
        else if (code[i] === ']') inClass = false;
        record(i++, 'regex');
      }
      i += 1;
      while (/[a-z]/.test(code[i] ?? '')) i += 1;
      lastSignificant = '/';
      lastWord = '';
      continue;
    }
    if (c === '{') braces.push('code');
    if (c === '}') {
      if (braces.pop() === 'template') {
        i += 1;
        scanTemplate();
        lastSignificant = '`';
        continue;
      }
    }
    record(i, 'code');
    if (/[A-Za-z0-9_$]/.test(c)) {
      const m = /^[A-Za-z0-9_$]+/.exec(code.slice(i))!;
      lastWord = m[0];
      lastSignificant = 'a';
      i += m[0].length;
      continue;
    }
    if (!/\s/.test(c)) {
      lastSignificant = c;
      lastWord = '';
    }
    i += 1;
  }
  return out;
}
