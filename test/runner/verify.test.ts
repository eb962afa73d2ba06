// Expected output with `...`: it stands for any text on its line (or across lines), and only
// there; everything else must match exactly. Cases that must NOT match guard the wildcard.
import { describe, expect, it } from 'vitest';
import { describeMismatch, normalizeOutput, outputMatches } from '../../src/runner/verify.js';

const exact = (text: string) => ({
  mode: 'exact' as const,
  text,
  position: { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } },
});

describe('expected output with ...', () => {
  it.each([
    ['noise ...', 'noise 123'],
    ['a ... c', 'a b c'],
    ['v...', 'v20.1.0'],
    ['start\n...\nend', 'start\nline 1\nline 2\nend'],
    ['...', 'anything at all\nover lines'],
    ['x', 'x   \n\n'],
    ['version 1.5 (...)', 'version 1.5 (build 7)'],
    ['[a+b]* ...', '[a+b]* c'],
  ])('%j matches %j', (want, got) => expect(outputMatches(exact(want), got)).toBe(true));

  it.each([
    ['noise ...', 'signal 123'],
    ['a ... c', 'a b d'],
    ['v...', 'x20.1.0'],
    ['start\n...\nend', 'start\nline 1\nfinish'],
    ['... done', 'all done!'],
    ['count: ...', 'total: 3'],
    ['a.b', 'axb'],
    ['exact', 'exact and more'],
  ])('%j does not match %j', (want, got) => expect(outputMatches(exact(want), got)).toBe(false));
});

describe('output normalisation and regular expressions', () => {
  it('line endings (CRLF, CR), trailing spaces of a line and trailing blank lines do not count; leading spaces do', () => {
    expect(normalizeOutput('a  \r\nb\rc\t\n\n\n')).toBe('a\nb\nc');
    expect(outputMatches(exact('a\nb'), 'a\r\nb')).toBe(true);
    expect(outputMatches(exact('a\nb'), 'a\rb')).toBe(true);
    expect(outputMatches(exact('a'), '  a')).toBe(false);
    expect(outputMatches(exact('a b'), 'ab')).toBe(false);
    expect(outputMatches(exact('a\n\nb'), 'a\nb')).toBe(false);
  });

  it('a regex is searched anywhere, with ^ and $ at line ends', () => {
    const regex = (text: string) => ({ ...exact(text), mode: 'regex' as const });
    expect(outputMatches(regex('^ready$'), 'starting\nready\n')).toBe(true);
    expect(outputMatches(regex('^ready$'), 'not ready\n')).toBe(false);
    expect(outputMatches(regex('a.c'), 'xabcx')).toBe(true);
  });

  it('a mismatch says where the expectation is, what was expected and what came, cut at 8 lines', () => {
    const message = describeMismatch(
      { ...exact('one\ntwo'), position: { start: { line: 12, column: 1 }, end: { line: 13, column: 1 } } },
      Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n'),
    );
    expect(message).toBe(
      'output differs from the expected output (line 12); expected:\none\ntwo\ngot:\nline 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n…',
    );
    expect(describeMismatch({ ...exact('^x$'), mode: 'regex' }, 'y\r\n')).toBe('output does not match /^x$/; got:\ny');
    // Eight lines are shown whole, without the mark of a cut; so is one long line.
    const eight = Array.from({ length: 8 }, (_, i) => `line ${i + 1}`).join('\n');
    expect(describeMismatch({ ...exact('^x$'), mode: 'regex' }, eight)).toBe(
      `output does not match /^x$/; got:\n${eight}`,
    );
    const long = 'a line of more than eight characters';
    expect(describeMismatch({ ...exact('^x$'), mode: 'regex' }, long)).toBe(
      `output does not match /^x$/; got:\n${long}`,
    );
  });
});
