import { describe, expect, it } from 'vitest';
import { formatMs, table, paint } from '../../src/report/format.js';
import { createLineMasker, createMasker } from '../../src/secrets/masker.js';
import { docIdFromPath, stripNumberPrefixes } from '../../src/model/doc-id.js';
import { closest, editDistance } from '../../src/util/edit-distance.js';

describe('formatting', () => {
  it('durations carry their unit', () => {
    expect([0, 999, 1000, 12_345, 60_000, 185_000].map(formatMs)).toEqual([
      '0 ms',
      '999 ms',
      '1.0 s',
      '12.3 s',
      '1 min 00 s',
      '3 min 05 s',
    ]);
  });

  it('tables pad columns and right-align numbers', () => {
    expect(
      table(
        ['name', 'n'],
        [
          ['a', '1'],
          ['bbb', '22'],
        ],
        [1],
      ),
    ).toBe('name   n\n----  --\na      1\nbbb   22\n');
  });

  it('colours only when asked', () => {
    expect(paint(false).red('x')).toBe('x');
    expect(paint(true).red('x')).toBe('\x1b[31mx\x1b[39m');
  });
});

describe('masking', () => {
  it('hides every secret, the longest first', () => {
    const mask = createMasker(['abc', 'abcdef']);
    expect(mask('x abcdef y abc')).toBe('x *** y ***');
  });

  it('catches a secret split across two chunks of a stream', () => {
    const out: string[] = [];
    const stream = createLineMasker(createMasker(['topsecret']), (t) => out.push(t));
    stream.write('the value is top');
    stream.write('secret\nnext');
    stream.flush();
    expect(out.join('')).toBe('the value is ***\nnext');
  });
});

describe('doc ids and suggestions', () => {
  it('derive ids from paths and accept Docusaurus number prefixes as aliases', () => {
    expect(docIdFromPath('/site/docs/guides/upgrade.mdx', '/site/docs')).toBe('guides/upgrade');
    expect(stripNumberPrefixes('400_migration-upgrade-guide/01-intro')).toBe('migration-upgrade-guide/intro');
  });

  it('suggests the closest names', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closest('guide/upgrade-databse', ['guide/upgrade-database', 'guide/rollback', 'other/thing'], 5)).toEqual([
      'guide/upgrade-database',
    ]);
    expect(closest('rollback', ['guide/upgrade-database', 'guide/rollback'], 2)).toEqual(['guide/rollback']);
  });
});

describe('terminal lines', () => {
  it('are cut to the width by visible characters, keeping colour codes whole', async () => {
    const { truncate } = await import('../../src/report/terminal.js');
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('abcdefghijkl', 6)).toBe('abcde…\x1b[0m');
    expect(truncate('\x1b[31mabcdefghijkl\x1b[39m', 6)).toBe('\x1b[31mabcde…\x1b[0m');
    expect(truncate('\x1b[31mabc\x1b[39m', 3)).toBe('\x1b[31mabc\x1b[39m');
  });
});
