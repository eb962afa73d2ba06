// Expected output with `...`: it stands for any text on its line (or across lines), and only
// there; everything else must match exactly. Cases that must NOT match guard the wildcard.
import { describe, expect, it } from 'vitest';
import { outputMatches } from '../../src/runner/verify.js';

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
