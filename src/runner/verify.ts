// Checks a step's output against what the document expects.
import type { ExpectedOutput } from '../model/types.js';

/** Trailing spaces, carriage returns and trailing blank lines do not count. */
export function normalizeOutput(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n+$/, '');
}

/** `exact` with `...` matching any text (including line breaks); `regex` searched anywhere (multiline). */
export function outputMatches(expected: ExpectedOutput, actual: string): boolean {
  if (expected.mode === 'regex') return new RegExp(expected.text, 'm').test(actual);
  const want = normalizeOutput(expected.text);
  const got = normalizeOutput(actual);
  if (!want.includes('...')) return want === got;
  const pattern = want.split('...').map(escapeRegExp).join('[\\s\\S]*?');
  return new RegExp(`^${pattern}$`).test(got);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A short, readable account of an output mismatch. */
export function describeMismatch(expected: ExpectedOutput, actual: string): string {
  const got = normalizeOutput(actual);
  const shown = got.split('\n').slice(0, 8).join('\n') + (got.split('\n').length > 8 ? '\n…' : '');
  if (expected.mode === 'regex') return `output does not match /${expected.text}/; got:\n${shown}`;
  return `output differs from the expected output (line ${expected.position.start.line}); expected:\n${normalizeOutput(expected.text)}\ngot:\n${shown}`;
}
