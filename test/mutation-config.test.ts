// The mutation set (stryker.config.mjs) names some functions by line range, found by name as the
// code moves (`span`). A range that does not start at a function, or cuts one, would mutate the
// wrong lines without a word.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const FUNCTION_START = /^(export )?(async )?function \w+|^ {2}(private )?(async )?\w+\(.*\)(: .+)? \{$/;

describe('the mutation set', () => {
  it('each line range starts at a function and ends where one ends', async () => {
    const config = (await import(path.join(ROOT, 'stryker.config.mjs'))) as { default: { mutate: string[] } };
    const ranges = config.default.mutate.filter((m) => /:\d+-\d+$/.test(m));
    expect(ranges.length).toBeGreaterThan(0);
    for (const entry of ranges) {
      const [, file, from, to] = /^(.+):(\d+)-(\d+)$/.exec(entry)!;
      const lines = readFileSync(path.join(ROOT, file!), 'utf8').split('\n');
      const first = lines[Number(from) - 1] ?? '';
      const last = lines[Number(to) - 1] ?? '';
      const after = lines[Number(to)] ?? '';
      expect(first, `${entry}: the first line`).toMatch(FUNCTION_START);
      // It ends with a function's closing brace, followed by a blank line.
      expect(last, `${entry}: the last line`).toMatch(/^( {2})?\}$/);
      expect(after, `${entry}: the line after`).toBe('');
    }
  });
});
