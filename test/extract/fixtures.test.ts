// Each folder under test/fixtures/extract holds a real document and what extracting it must
// give: the sections with their steps, and every diagnostic as `file:line:column: …`.
// UPDATE_FIXTURES=1 rewrites the expectations (then read the diff).
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractFromSource } from '../../src/documents/load.js';
import { formatDiagnostic } from '../../src/errors/exec-doc-error.js';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'extract');

describe('extraction fixtures', () => {
  for (const name of readdirSync(FIXTURES).sort()) {
    it(name, async () => {
      const dir = path.join(FIXTURES, name);
      const input = readdirSync(dir).find((f) => f.startsWith('input.'))!;
      const file = path.join(dir, input);
      const source = readFileSync(file, 'utf8');
      const doc = await extractFromSource(file, source, { docsRoot: dir, displayRoot: dir });
      const actual = {
        docId: doc.docId,
        sections: doc.sections.map((s) => ({
          address: s.address,
          steps: s.steps.map(
            (step) =>
              `${step.id} ${step.kind}${step.phase ? `:${step.phase}` : ''} ${step.lang}${step.rollback === null ? ' rollback=none' : step.rollback ? ` rollback=${step.rollback}` : ''}${step.expectOutput ? ` output:${step.expectOutput.mode}` : ''} @${step.position.start.line}`,
          ),
          params: s.params.map((p) => p.name),
        })),
        diagnostics: doc.diagnostics.map(formatDiagnostic),
      };
      const expectedFile = path.join(dir, 'expected.json');
      if (process.env.UPDATE_FIXTURES || (!existsSync(expectedFile) && !process.env.CI))
        writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
      expect(
        existsSync(expectedFile),
        `${expectedFile} is missing: run the tests once outside CI (or with UPDATE_FIXTURES=1) and commit it`,
      ).toBe(true);
      expect(actual).toEqual(JSON.parse(readFileSync(expectedFile, 'utf8')));
      if (name.startsWith('good-')) expect(doc.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      else expect(doc.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    });
  }
});
