// HTML comments in markdown/MDX source, outside fenced code blocks. MDX rejects `<!-- -->`
// (Docusaurus strips them before parsing), so the loader blanks them out; the guide checker
// reads them, since that is where the AI-discovery comments live.

export interface HtmlComment {
  /** Text between `<!--` and `-->`, trimmed. */
  body: string;
  /** 1-based position of `<!--`. */
  line: number;
  column: number;
  /** 1-based position where the body starts (after `<!--` and spaces). */
  bodyLine: number;
  bodyColumn: number;
}

import { lineStarts } from '../util/text-position.js';

const FENCE = /^( {0,3})(`{3,}|~{3,})/;

/** Every comment outside fenced code, in order. An unterminated one is reported with `unterminated`. */
export function findHtmlComments(source: string): {
  comments: HtmlComment[];
  unterminated?: { line: number; column: number };
} {
  const comments: HtmlComment[] = [];
  const lines = source.split('\n');
  let fence: string | undefined;
  let open: { line: number; column: number; text: string } | undefined;
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]!;
    if (!open) {
      const marker = FENCE.exec(text);
      if (fence) {
        if (marker && marker[2]![0] === fence[0] && marker[2]!.length >= fence.length && text.trim() === marker[2])
          fence = undefined;
        continue;
      }
      if (marker) {
        fence = marker[2];
        continue;
      }
    }
    let from = 0;
    const code = inlineCodeSpans(text);
    while (from <= text.length) {
      if (!open) {
        let start = text.indexOf('<!--', from);
        // `<!-- x -->` written as inline code is an example, not a comment.
        while (start >= 0 && code.some(([a, b]) => start >= a && start < b)) start = text.indexOf('<!--', start + 4);
        if (start < 0) break;
        open = { line: index + 1, column: start + 1, text: '' };
        from = start + 4;
      }
      const end = text.indexOf('-->', from);
      if (end < 0) {
        open.text += `${text.slice(from)}\n`;
        break;
      }
      open.text += text.slice(from, end);
      comments.push(toComment(open));
      open = undefined;
      from = end + 3;
    }
  }
  return open ? { comments, unterminated: { line: open.line, column: open.column } } : { comments };
}

/** [start, end) ranges of inline code on one line: a run of backticks up to the next run of the same length. */
function inlineCodeSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const runs = [...text.matchAll(/`+/g)];
  for (let i = 0; i < runs.length; i++) {
    const open = runs[i]!;
    const close = runs.slice(i + 1).findIndex((r) => r[0].length === open[0].length);
    if (close < 0) continue;
    const end = runs[i + 1 + close]!;
    spans.push([open.index!, end.index! + end[0].length]);
    i = i + 1 + close;
  }
  return spans;
}

function toComment(open: { line: number; column: number; text: string }): HtmlComment {
  const leading = open.text.length - open.text.trimStart().length;
  const before = open.text.slice(0, leading);
  const newlines = before.split('\n').length - 1;
  const bodyLine = open.line + newlines;
  const bodyColumn = newlines === 0 ? open.column + 4 + leading : before.length - before.lastIndexOf('\n');
  return { body: open.text.trim(), line: open.line, column: open.column, bodyLine, bodyColumn };
}

/** What is said of a `<!--` that is never closed, wherever it is found. */
export const UNTERMINATED_COMMENT =
  'Unexpected `<!--` without a closing `-->`, expected `-->` where the comment ends (for a literal `<!--` in text, write `&lt;!--`)';

/**
 * `source` with every closed comment outside code replaced by spaces (line breaks kept): positions
 * do not move. One that is never closed stays, so that a parser stops there, not at an earlier one.
 */
export function blankHtmlComments(source: string): string {
  if (!source.includes('<!--')) return source;
  const { comments } = findHtmlComments(source);
  if (comments.length === 0) return source;
  const starts = lineStarts(source);
  const chars = source.split('');
  for (const c of comments) {
    let i = starts[c.line - 1]! + c.column - 1;
    // Blank from `<!--` through the matching `-->`.
    const end = source.indexOf('-->', i + 4) + 3;
    for (; i < end; i++) if (chars[i] !== '\n') chars[i] = ' ';
  }
  return chars.join('');
}
