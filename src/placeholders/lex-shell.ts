// Where each placeholder stands in a POSIX shell / bash script: which quoting is open, whether it
// is arithmetic (bash evaluates `a[$(cmd)]` there), a here-document, a comment. The placeholders
// themselves were masked to letters of the same length before this runs (see ./scan.ts).
import { contextRecorder } from './recorder.js';

export type ShellContext =
  'word' | 'double' | 'single' | 'ansi-c' | 'heredoc' | 'heredoc-literal' | 'arith' | 'comment';

type Frame =
  | { kind: 'word'; close: ')' | '`' | null; depth: number }
  | { kind: 'double' | 'single' | 'ansi-c' }
  | { kind: 'arith'; close: '))' | ']' | 'line'; depth: number }
  | { kind: 'brace'; start: number; depth: number }
  | { kind: 'dbracket'; start: number; uses: number[] };

const ARITH_TEST = /\s-(?:eq|ne|lt|le|gt|ge)\s/;
// `${name op word}`: the word after these operators is expanded like a quoted word; anything
// else inside `${…}` (a subscript, an offset) is arithmetic.
const BRACE_WORD = /^[#!]?(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])(?::?[-=+?]|##?|%%?|\/[\/#%]?|\^\^?|,,?)/;
const KEYWORDS_BEFORE_COMMAND = new Set(['then', 'do', 'else', 'elif', 'if', 'while', 'until', '!', 'time']);

export function shellContexts(code: string, starts: readonly number[]): ShellContext[] {
  const recorder = contextRecorder<ShellContext>(starts, 'word');
  const out = recorder.out;
  const stack: Frame[] = [{ kind: 'word', close: null, depth: 0 }];
  const heredocs: Array<{ delimiter: string; literal: boolean; stripTabs: boolean }> = [];
  const top = () => stack[stack.length - 1]!;
  let i = 0;

  const record = (context: ShellContext) => {
    const index = recorder.indexAt(i);
    if (index === undefined) return;
    out[index] = context;
    const dbracket = [...stack].reverse().find((f) => f.kind === 'dbracket') as
      Extract<Frame, { kind: 'dbracket' }> | undefined;
    if (dbracket) dbracket.uses.push(index);
  };
  // Whether a command may start at `i`: after a separator, an opening, or a keyword.
  const atCommandStart = (): boolean => {
    let j = i - 1;
    while (j >= 0 && (code[j] === ' ' || code[j] === '\t')) j -= 1;
    if (j < 0 || ';&|(\n{'.includes(code[j]!)) return true;
    const word = /([A-Za-z!]+)$/.exec(code.slice(Math.max(0, j - 8), j + 1))?.[1];
    const before = j - (word?.length ?? 0);
    return word !== undefined && KEYWORDS_BEFORE_COMMAND.has(word) && (before < 0 || /[\s;&|(]/.test(code[before]!));
  };
  const atWordStart = () => i === 0 || /[\s;&|()<>]/.test(code[i - 1]!);

  while (i < code.length) {
    const frame = top();
    const c = code[i]!;
    const next = code[i + 1];

    if (frame.kind === 'single') {
      record('single');
      if (c === "'") stack.pop();
      i += 1;
      continue;
    }
    if (frame.kind === 'ansi-c') {
      record('ansi-c');
      if (c === '\\') i += 2;
      else {
        if (c === "'") stack.pop();
        i += 1;
      }
      continue;
    }
    if (frame.kind === 'arith') {
      record('arith');
      if (frame.close === 'line' && (c === '\n' || c === ';')) {
        stack.pop();
        continue;
      }
      if (c === '(') frame.depth += 1;
      else if (c === ')' && frame.depth > 0) frame.depth -= 1;
      else if (frame.close === '))' && c === ')' && next === ')' && frame.depth === 0) {
        stack.pop();
        i += 2;
        continue;
      } else if (frame.close === ']' && c === ']') {
        stack.pop();
        i += 1;
        continue;
      }
      if (c === '$' && next === '(' && code[i + 2] !== '(') {
        stack.push({ kind: 'word', close: ')', depth: 0 });
        i += 2;
        continue;
      }
      i += 1;
      continue;
    }

    // Expansions open in unquoted words, double quotes, `${…}` and `[[ … ]]` alike.
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '$' && next === '(' && code[i + 2] === '(') {
      stack.push({ kind: 'arith', close: '))', depth: 0 });
      i += 3;
      continue;
    }
    if (c === '$' && next === '(') {
      stack.push({ kind: 'word', close: ')', depth: 0 });
      i += 2;
      continue;
    }
    if (c === '$' && next === '[') {
      stack.push({ kind: 'arith', close: ']', depth: 0 });
      i += 2;
      continue;
    }
    if (c === '$' && next === '{') {
      stack.push({ kind: 'brace', start: i + 2, depth: 0 });
      i += 2;
      continue;
    }
    if (c === '`' && !(frame.kind === 'word' && frame.close === '`')) {
      stack.push({ kind: 'word', close: '`', depth: 0 });
      i += 1;
      continue;
    }

    if (frame.kind === 'double') {
      record('double');
      if (c === '"') stack.pop();
      i += 1;
      continue;
    }
    if (frame.kind === 'brace') {
      const inner = code.slice(frame.start, i);
      record(BRACE_WORD.test(inner) ? 'word' : 'arith');
      if (c === '{') frame.depth += 1;
      else if (c === '}') {
        if (frame.depth === 0) stack.pop();
        else frame.depth -= 1;
      } else if (c === '"') stack.push({ kind: 'double' });
      else if (c === "'" && BRACE_WORD.test(inner)) stack.push({ kind: 'single' });
      i += 1;
      continue;
    }

    // An unquoted word: top level, inside $( ), ` `, or [[ ]].
    if (c === '#' && atWordStart()) {
      while (i < code.length && code[i] !== '\n') {
        record('comment');
        i += 1;
      }
      continue;
    }
    if (c === "'") {
      stack.push({ kind: 'single' });
      i += 1;
      continue;
    }
    if (c === '$' && next === "'") {
      stack.push({ kind: 'ansi-c' });
      i += 2;
      continue;
    }
    if (c === '"') {
      stack.push({ kind: 'double' });
      i += 1;
      continue;
    }
    if (frame.kind === 'word' && frame.close === '`' && c === '`') {
      stack.pop();
      i += 1;
      continue;
    }
    if (frame.kind === 'word' && frame.close === ')' && c === ')' && frame.depth === 0) {
      stack.pop();
      i += 1;
      continue;
    }
    if (frame.kind === 'dbracket' && c === ']' && next === ']') {
      // `[[ a -eq b ]]` evaluates its operands as arithmetic: so does bash with `a[$(cmd)]`.
      if (ARITH_TEST.test(code.slice(frame.start, i)))
        for (const index of frame.uses) if (out[index] === 'word' || out[index] === 'double') out[index] = 'arith';
      stack.pop();
      i += 2;
      continue;
    }
    if (c === '(' && next === '(' && atCommandStart()) {
      stack.push({ kind: 'arith', close: '))', depth: 0 });
      i += 2;
      continue;
    }
    if (c === '[' && next === '[' && atWordStart()) {
      stack.push({ kind: 'dbracket', start: i + 2, uses: [] });
      i += 2;
      continue;
    }
    if (c === 'l' && code.startsWith('let', i) && /\s/.test(code[i + 3] ?? '') && atCommandStart()) {
      stack.push({ kind: 'arith', close: 'line', depth: 0 });
      i += 3;
      continue;
    }
    if (frame.kind === 'word' && c === '(') frame.depth += 1;
    if (frame.kind === 'word' && c === ')' && frame.depth > 0) frame.depth -= 1;
    if (c === '<' && next === '<' && code[i + 2] !== '<') {
      const m = /^<<(-?)[ \t]*(?:'([^'\n]*)'|"([^"\n]*)"|\\?([A-Za-z0-9_.-]+))/.exec(code.slice(i));
      if (m) {
        const quoted = m[2] ?? m[3];
        heredocs.push({
          delimiter: quoted ?? m[4]!,
          literal: quoted !== undefined || m[0].includes('\\'),
          stripTabs: m[1] === '-',
        });
        i += m[0].length;
        continue;
      }
    }
    if (c === '\n' && heredocs.length > 0 && stack.length === 1) {
      i += 1;
      // Bodies follow the line that named them, one after another.
      for (const doc of heredocs.splice(0)) {
        while (i < code.length) {
          const end = code.indexOf('\n', i);
          const lineEnd = end < 0 ? code.length : end;
          const line = code.slice(i, lineEnd);
          if ((doc.stripTabs ? line.replace(/^\t+/, '') : line) === doc.delimiter) {
            i = end < 0 ? code.length : end + 1;
            break;
          }
          for (; i < lineEnd; i += 1) record(doc.literal ? 'heredoc-literal' : 'heredoc');
          i = end < 0 ? code.length : end + 1;
        }
      }
      continue;
    }
    record('word');
    i += 1;
  }
  return out;
}
