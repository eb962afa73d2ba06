// The pieces values are written with, one by one (the property test runs them in real interpreters).
import { describe, expect, it } from 'vitest';
import {
  commentText,
  isInert,
  jsEscape,
  numberLiteral,
  pythonBytesEscape,
  pythonEscape,
  renderUnsafe,
} from '../../src/placeholders/render.js';
import type { Param } from '../../src/model/types.js';

const param = (type: Param['type']): Param => ({ name: 'p', type, required: true, secret: false });
const unsafe = (code: boolean) => ({ what: 'a place', fix: 'do this', code });

describe('rendering values', () => {
  it('numbers lose leading zeros and are parenthesised when negative', () => {
    expect(['7', '007', '-5', '-007', '0', '0.5', '-0.25', '1e3'].map(numberLiteral)).toEqual([
      '7',
      '7',
      '(-5)',
      '(-7)',
      '0',
      '0.5',
      '(-0.25)',
      '1e3',
    ]);
  });

  it('Python: letters, digits, space and _ as they are; the rest as \\x, \\u or \\U escapes', () => {
    expect(pythonEscape('a_B 9')).toBe('a_B 9');
    expect(pythonEscape('"\'\\\n{')).toBe('\\x22\\x27\\x5c\\x0a\\x7b');
    expect(pythonEscape('é€😀')).toBe('\\xe9\\u20ac\\U0001f600');
    expect(pythonBytesEscape('a é')).toBe('a \\xc3\\xa9');
  });

  it('JavaScript: every other UTF-16 unit as \\u escapes', () => {
    expect(jsEscape('a_B 9')).toBe('a_B 9');
    expect(jsEscape('`${x}\'"/\u2028')).toBe('\\u0060\\u0024\\u007bx\\u007d\\u0027\\u0022\\u002f\\u2028');
    expect(jsEscape('😀')).toBe('\\ud83d\\ude00');
  });

  it('comments: no line break, nothing that closes or opens a comment', () => {
    expect(commentText('a\nb */ c /* d')).toBe('a\\nb *\\/ c /\\* d');
    expect(commentText('x\u2028y\u0085z')).toBe('x y z');
  });

  it('inert values: letters, digits and . , : @ + = / - only, no comment starters', () => {
    for (const v of ['', 'orders', 'my-app', 'v1.2.3', 'a@b', 'x=1', 'a/b', 'a+b', 'a,b:c'])
      expect(isInert(v), v).toBe(true);
    for (const v of ['a b', "it's", 'a;b', '$x', 'a--', '//x', '/*', 'a\nb', 'a[1]', '(x)'])
      expect(isInert(v), v).toBe(false);
  });

  it('unsafe places take numbers, narrow types and inert text only', () => {
    expect(renderUnsafe(param('integer'), '-3', unsafe(true))).toEqual({ text: '(-3)' });
    expect(renderUnsafe(param('number'), '-3', unsafe(false))).toEqual({ text: '-3' });
    expect(renderUnsafe(param('identifier'), 'orders', unsafe(true))).toEqual({ text: 'orders' });
    expect(renderUnsafe(param('enum'), 'blue', unsafe(true))).toEqual({ text: 'blue' });
    expect(renderUnsafe(param('string'), 'plain-1', unsafe(true))).toEqual({ text: 'plain-1' });
    const refused = renderUnsafe(param('string'), 'a;b', unsafe(true));
    expect(refused).toEqual({
      problem: expect.stringContaining('parameter `p` stands in a place, where only plain values are safe'),
    });
    expect((refused as { problem: string }).problem).toContain('do this');
  });
});
