// The mutation report's arithmetic: Stryker's score (killed and timed out over the valid mutants)
// and the score of the covered ones, with the survivors in line order.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain script without types
import { summarize } from '../../scripts/mutation-report.mjs';

const mutant = (status: string, line: number, column = 1) => ({
  status,
  mutatorName: 'ConditionalExpression',
  replacement: 'true',
  location: { start: { line, column } },
});

describe('the mutation report', () => {
  it('scores a file as Stryker does and lists what survived', () => {
    const report = {
      files: {
        'src/a.ts': {
          mutants: [
            mutant('Killed', 1),
            mutant('Killed', 2),
            mutant('Timeout', 3),
            mutant('Survived', 9, 5),
            mutant('NoCoverage', 4),
            mutant('CompileError', 5),
            mutant('Ignored', 6),
            mutant('RuntimeError', 7),
          ],
        },
      },
    };
    const [row] = summarize(report);
    expect(row).toMatchObject({
      file: 'src/a.ts',
      valid: 5,
      killed: 2,
      timedOut: 1,
      survived: 1,
      noCoverage: 1,
      ignored: 1,
    });
    expect([row.score, row.scoreOfCovered]).toEqual([60, 75]);
    expect(row.survivors.map((s: { line: number; status: string }) => `${s.line}:${s.status}`)).toEqual([
      '4:NoCoverage',
      '9:Survived',
    ]);
    expect(summarize(report, ['src/b.ts'])).toEqual([{ file: 'src/b.ts', missing: true }]);
    expect(summarize({ files: { 'src/c.ts': { mutants: [mutant('CompileError', 1)] } } })[0]).toMatchObject({
      score: null,
      scoreOfCovered: null,
    });
  });
});
