import { describe, expect, it } from 'vitest';
import { blankHtmlComments, findHtmlComments } from '../src/markdown/html-comments.js';
import { extract } from './helpers.js';

const SOURCE = [
  '# T',
  '<!-- MEMORY_CONTEXT: HIGH - core -->',
  'text <!-- inline --> more',
  'shown as code: `<!-- TAG: x -->` and ``<!-- y -->``',
  '```html',
  '<!-- in code -->',
  '```',
  '<!--',
  '  ROLE_PINS: ["a"]',
  '-->',
  '',
].join('\n');

describe('HTML comments', () => {
  it('are found outside code with their positions', () => {
    const { comments, unterminated } = findHtmlComments(SOURCE);
    expect(unterminated).toBeUndefined();
    expect(comments.map((c) => [c.body, c.line, c.column, c.bodyLine, c.bodyColumn])).toEqual([
      ['MEMORY_CONTEXT: HIGH - core', 2, 1, 2, 6],
      ['inline', 3, 6, 3, 11],
      ['ROLE_PINS: ["a"]', 8, 1, 9, 3],
    ]);
  });

  it('are blanked without moving anything else', () => {
    const blanked = blankHtmlComments(SOURCE);
    expect(blanked.length).toBe(SOURCE.length);
    expect(blanked.split('\n')[2]).toBe('text                 more');
    expect(blanked).toContain('<!-- in code -->');
    expect(blanked).not.toContain('MEMORY_CONTEXT');
  });

  it('an unterminated comment is reported, and MDX documents with comments still parse with exact positions', async () => {
    expect(findHtmlComments('a\n<!-- open\nb').unterminated).toEqual({ line: 2, column: 1 });
    const doc = await extract(
      '<!-- CONTEXT_REFERENCE: x.mdx -->\n# T\n\n## S\n\n```bash {id=a retries=x colour=red}\ntrue\n```\n',
      'doc.mdx',
    );
    expect(doc.diagnostics.map((d) => [d.line, d.column, d.ruleId])).toEqual([
      [6, 23, 'invalid-field'],
      [6, 25, 'unknown-field'],
    ]);
  });

  it('an MDX document with a comment never closed is reported there, not at an earlier closed one', async () => {
    const source = '# T\n\n<!-- closed -->\n\n## S\n\ntext <!-- never closed\n\n```bash {id=a}\ntrue\n```\n';
    // Closed comments are blanked, the unclosed one stays for the parser to stop at.
    expect(blankHtmlComments(source).split('\n').slice(2, 7)).toEqual([
      ' '.repeat(15),
      '',
      '## S',
      '',
      'text <!-- never closed',
    ]);
    const doc = await extract(source, 'doc.mdx');
    expect(doc.sections).toEqual([]);
    expect(doc.diagnostics.map((d) => [d.line, d.column, d.ruleId, d.message])).toEqual([
      [
        7,
        6,
        'comment-unterminated',
        'Unexpected `<!--` without a closing `-->`, expected `-->` where the comment ends (for a literal `<!--` in text, write `&lt;!--`)',
      ],
    ]);
    // Another MDX error is reported too, as itself, where it is (MDX alone stops at the comment).
    const earlier = await extract('# T\n\n## S\n\na </b>\n\n<!-- never closed\n', 'doc.mdx');
    expect(earlier.diagnostics.map((d) => [d.line, d.column, d.ruleId])).toEqual([
      [5, 4, 'mdx-parse'],
      [7, 1, 'comment-unterminated'],
    ]);
  });
});
