// Where each placeholder stands in Python source: code, a string literal (with its prefix:
// raw, bytes, f-string), the expression part of an f-string, or a comment.
import { contextRecorder } from './recorder.js';

export type PythonContext = 'code' | 'string' | 'bytes' | 'raw' | 'fstring' | 'fexpr' | 'comment';

interface StringFrame {
  quote: string;
  raw: boolean;
  bytes: boolean;
  f: boolean;
}

const PREFIX = /^([rRbBuUfF]{0,2})('''|"""|'|")/;

export function pythonContexts(code: string, starts: readonly number[]): PythonContext[] {
  const { out, record } = contextRecorder<PythonContext>(starts, 'code');
  let i = 0;
  // f-string expression parts nest: each holds the string it sits in and its bracket depth.
  const fexprs: Array<{ string: StringFrame; depth: number }> = [];
  let string: StringFrame | null = null;

  while (i < code.length) {
    const c = code[i]!;
    if (string) {
      if (c === '\\') {
        record(i + 1, contextOf(string));
        i += 2;
        continue;
      }
      if (code.startsWith(string.quote, i)) {
        i += string.quote.length;
        string = null;
        continue;
      }
      if (string.f && c === '{') {
        if (code[i + 1] === '{') {
          i += 2;
          continue;
        }
        fexprs.push({ string, depth: 0 });
        string = null;
        i += 1;
        continue;
      }
      record(i, contextOf(string));
      i += 1;
      continue;
    }
    const inFexpr = fexprs.length > 0;
    if (c === '#') {
      while (i < code.length && code[i] !== '\n') record(i++, inFexpr ? 'fexpr' : 'comment');
      continue;
    }
    const identifierBefore = i > 0 && /[A-Za-z0-9_]/.test(code[i - 1]!);
    const m = identifierBefore ? null : PREFIX.exec(code.slice(i, i + 5));
    if (m && (m[1] === '' || /^(?:[rR][bBfF]?|[bBfF][rR]?|[uU])$/.test(m[1]!))) {
      const prefix = m[1]!.toLowerCase();
      string = { quote: m[2]!, raw: prefix.includes('r'), bytes: prefix.includes('b'), f: prefix.includes('f') };
      i += m[0].length;
      continue;
    }
    if (inFexpr) {
      const frame = fexprs[fexprs.length - 1]!;
      record(i, 'fexpr');
      if ('([{'.includes(c)) frame.depth += 1;
      else if (')]'.includes(c) || (c === '}' && frame.depth > 0)) frame.depth -= 1;
      else if (c === '}') {
        fexprs.pop();
        string = frame.string;
      }
      i += 1;
      continue;
    }
    record(i, 'code');
    i += 1;
  }
  return out;
}

function contextOf(string: StringFrame): PythonContext {
  if (string.raw) return 'raw';
  if (string.bytes) return 'bytes';
  return string.f ? 'fstring' : 'string';
}
