// Less than a section: one named block, or the blocks of a tag. Each selection has an address
// that finds it again in its file (what `resume` does), with the same content hash.
import { describe, expect, it } from 'vitest';
import { resolveSection } from '../../src/documents/address.js';
import { fragmentOf } from '../../src/documents/select.js';
import { writeDoc } from '../helpers.js';

const SOURCE = `# Doc

## One {#one}

\`\`\`sh {name=a tag=x rollback=undo-a}
echo a
\`\`\`

\`\`\`sh {name=undo-a kind=rollback}
echo undo a
\`\`\`

\`\`\`sh {name=b tag=y}
echo b
\`\`\`

## Two {#two}

\`\`\`sh {name=c tag=x excludeFromRunAll=true}
echo c
\`\`\`

\`\`\`sh {name=d tag=x}
echo d
\`\`\`
`;

describe('selections', () => {
  const { file, dir } = writeDoc(SOURCE);
  const options = { docsRoot: dir, displayRoot: dir };

  it('one block: with its rollback partner; a rollback block named alone runs as a step', async () => {
    const a = (await resolveSection(`${file}#a`, options)).section;
    expect(a.address).toBe('doc/one#a');
    expect(a.steps.map((s) => [s.id, s.kind])).toEqual([
      ['a', 'step'],
      ['undo-a', 'rollback'],
    ]);
    const undo = (await resolveSection(`${file}#one#undo-a`, options)).section;
    expect(undo.steps.map((s) => [s.id, s.kind])).toEqual([['undo-a', 'step']]);
    // Excluded from its section's runs, but it runs when named.
    const c = (await resolveSection(`${file}#c`, options)).section;
    expect(c.steps.map((s) => [s.id, s.excludeFromRunAll ?? false])).toEqual([['c', false]]);
  });

  it('tags: across the document or within a section, excluded blocks left out, in document order', async () => {
    const all = (await resolveSection(file, { ...options, tags: ['x'] })).section;
    expect(all.address).toBe('doc/#tag=x');
    expect(all.steps.map((s) => s.id)).toEqual(['a', 'undo-a', 'd']);
    const within = (await resolveSection(`${file}#two`, { ...options, tags: ['x', 'y'] })).section;
    expect(within.address).toBe('doc/two#tag=x,y');
    expect(within.steps.map((s) => s.id)).toEqual(['d']);
    await expect(resolveSection(`${file}#one`, { ...options, tags: ['z'] })).rejects.toThrow(
      'No block of doc/one carries the tag `z`',
    );
  });

  it('finds each selection again from its address, unchanged (as resume does)', async () => {
    for (const [address, tags] of [
      [`${file}#a`, undefined],
      [`${file}#one#undo-a`, undefined],
      [file, ['x']],
      [`${file}#two`, ['x']],
      [`${file}#one`, undefined],
    ] as const) {
      const first = (await resolveSection(address, { ...options, ...(tags ? { tags } : {}) })).section;
      const again = (await resolveSection(`${file}#${fragmentOf(first.address)}`, options)).section;
      expect(again.address, address).toBe(first.address);
      expect(again.contentHash, address).toBe(first.contentHash);
    }
    expect(fragmentOf('guides/doc/one#a')).toBe('one#a');
    expect(fragmentOf('guides/doc/#tag=x')).toBe('#tag=x');
  });
});
