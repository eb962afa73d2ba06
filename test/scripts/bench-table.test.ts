// BENCHMARKS.md's figures table as `npm run bench` rewrites it: measured rows replaced, others kept.
import { describe, expect, it } from 'vitest';
import { END, START, updateFiguresTable } from '../../scripts/bench-table.js';

const doc = (rows: string[]) =>
  `# B\n\nintro\n\n${START}\n| measure | figure | measured |\n|---|---|---|\n${rows.join('\n')}${rows.length ? '\n' : ''}${END}\n\n## History\n`;

describe('updateFiguresTable', () => {
  it('replaces the rows measured, keeps the others in place, appends new ones, and leaves the rest of the file alone', () => {
    const before = doc(['| a | 1 | 2026-01-01, m: `x` |', '| b | 2 | 2026-01-01, m: `x` |']);
    const after = updateFiguresTable(
      before,
      [
        ['b', '3'],
        ['c | d', '4'],
      ],
      { date: '2026-11-24', machine: '2 × cpu', command: 'BENCH_ONLY=x npm run bench' },
    );
    expect(after).toBe(
      doc([
        '| a | 1 | 2026-01-01, m: `x` |',
        '| b | 3 | 2026-11-24, 2 × cpu: `BENCH_ONLY=x npm run bench` |',
        '| c \\| d | 4 | 2026-11-24, 2 × cpu: `BENCH_ONLY=x npm run bench` |',
      ]),
    );
    // Running again with the same figures changes nothing.
    expect(
      updateFiguresTable(after, [['b', '3']], {
        date: '2026-11-24',
        machine: '2 × cpu',
        command: 'BENCH_ONLY=x npm run bench',
      }),
    ).toBe(after);
  });

  it('says where the markers go when the file has none', () => {
    expect(() => updateFiguresTable('# B\n', [['a', '1']], { date: 'd', machine: 'm', command: 'c' })).toThrow(
      /add the lines <!-- bench:figures:start --> and <!-- bench:figures:end -->/,
    );
  });
});
