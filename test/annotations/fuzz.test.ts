// Property-based fuzzing of the annotation parser and the extractor: no input crashes them,
// and every problem they report carries a position inside the input.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseMeta } from '../../src/annotations/parse-meta.js';
import { interpretAttributes } from '../../src/annotations/fields.js';
import { extractFromSource } from '../../src/documents/load.js';

const metaChars = fc.constantFrom(
  '{',
  '}',
  '"',
  "'",
  '=',
  ' ',
  ',',
  '\\',
  'i',
  'd',
  'x',
  'k',
  'n',
  'a',
  'm',
  'e',
  't',
  '1',
  ':',
  '[',
  ']',
  '#',
  '.',
  '-',
  '\t',
  'é',
);
const metaLike = fc.oneof(
  fc.string(),
  fc.array(metaChars, { maxLength: 40 }).map((cs) => cs.join('')),
  fc
    .tuple(
      fc.constantFrom(
        'id',
        'name',
        'kind',
        'timeout',
        'retries',
        'rollback',
        'requires',
        'output',
        'match',
        'env',
        'confirm',
        'phase',
        'foo',
      ),
      fc.string({ maxLength: 12 }),
    )
    .map(([k, v]) => `{id=a ${k}=${v}}`),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .dictionary(fc.constantFrom('id', 'name', 'kind', 'timeout', 'env', 'requires', 'retries'), fc.jsonValue())
    .map((v) => JSON.stringify(v)),
);

describe('annotation parser fuzzing', () => {
  it('never throws and positions every problem within the meta string', () => {
    fc.assert(
      fc.property(metaLike, (meta) => {
        const parsed = parseMeta(meta);
        for (const p of parsed.problems) {
          expect(p.offset).toBeGreaterThanOrEqual(0);
          expect(p.offset).toBeLessThanOrEqual(meta.length);
          expect(p.message).toMatch(/^Unexpected /);
        }
        const interpreted = interpretAttributes(parsed.attributes);
        for (const p of interpreted.problems) {
          expect(p.offset).toBeGreaterThanOrEqual(0);
          expect(p.offset).toBeLessThanOrEqual(meta.length);
          expect(p.message).toMatch(/^Unexpected /);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('extraction of documents built from random fences never throws; every diagnostic is inside the document', async () => {
    const block = fc.record({
      lang: fc.constantFrom('bash', 'sql', 'python', 'js', 'output', 'text', 'cobol', ''),
      meta: metaLike.map((m) => m.replace(/[\n\r`]/g, ' ')),
      body: fc.string({ maxLength: 30 }).map((b) => b.replace(/`/g, "'")),
    });
    const doc = fc.record({
      frontmatter: fc.option(
        fc.constantFrom(
          'exec-doc:\n  params:\n    a: {type: integer, default: x}\n',
          'exec-doc: [1, 2\n',
          'title: t\n',
          'exec-doc:\n  nope: 1\n',
        ),
        { nil: undefined },
      ),
      parts: fc.array(
        fc.oneof(
          fc.constantFrom('# Title', '## Section one', '### Sub {#sub}', 'Some *prose* here.', '> quoted', '- item'),
          block,
        ),
        { maxLength: 8 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(doc, fc.boolean(), async ({ frontmatter, parts }, mdx) => {
        const body = parts
          .map((p) => (typeof p === 'string' ? p : `\`\`\`${p.lang} ${p.meta}\n${p.body}\n\`\`\``))
          .join('\n\n');
        const source = `${frontmatter ? `---\n${frontmatter}---\n` : ''}${body}\n`;
        const lineCount = source.split('\n').length;
        const result = await extractFromSource(`/fuzz/doc.${mdx ? 'mdx' : 'md'}`, source, {
          docsRoot: '/fuzz',
          displayRoot: '/fuzz',
        });
        for (const d of result.diagnostics) {
          expect(d.line).toBeGreaterThanOrEqual(1);
          expect(d.line).toBeLessThanOrEqual(lineCount);
          expect(d.column).toBeGreaterThanOrEqual(1);
          expect(d.message.length).toBeGreaterThan(10);
        }
      }),
      { numRuns: 400 },
    );
  });
});
