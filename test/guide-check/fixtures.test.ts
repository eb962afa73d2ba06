// Each folder under test/fixtures/sites is a small guide with one kind of error (or none);
// expected.txt holds exactly the messages `check-docs` must give. UPDATE_FIXTURES=1 rewrites them.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkGuide } from '../../src/guide-check/check.js';
import { formatDiagnostic } from '../../src/errors/exec-doc-error.js';
import { ROOT } from '../helpers.js';

const SITES = path.join(import.meta.dirname, '..', 'fixtures', 'sites');

describe('guide check fixtures', () => {
  for (const name of readdirSync(SITES).sort()) {
    it(name, async () => {
      const dir = path.join(SITES, name);
      const result = await checkGuide({
        docsRoot: path.join(dir, 'docs'),
        displayRoot: dir,
        staticDir: path.join(ROOT, 'static'),
      });
      const actual = result.diagnostics.map(formatDiagnostic).join('\n') + '\n';
      const expectedFile = path.join(dir, 'expected.txt');
      if (process.env.UPDATE_FIXTURES || (!existsSync(expectedFile) && !process.env.CI))
        writeFileSync(expectedFile, actual);
      expect(actual).toBe(readFileSync(expectedFile, 'utf8'));
      expect(result.errors > 0).toBe(name !== 'good');
      // The counts agree with what is shown.
      expect([result.errors, result.warnings]).toEqual([
        (actual.match(/: error: /g) ?? []).length,
        (actual.match(/: warning: /g) ?? []).length,
      ]);
    });
  }

  it('the real guide passes', async () => {
    const result = await checkGuide({
      docsRoot: path.join(ROOT, 'docs'),
      displayRoot: ROOT,
      staticDir: path.join(ROOT, 'static'),
    });
    expect(result.diagnostics).toEqual([]);
    expect(result.documents.length).toBeGreaterThanOrEqual(15);
  });

  it('the AI-discovery page documents every tag of the schema', () => {
    const schema = JSON.parse(
      readFileSync(path.join(ROOT, 'static', 'schemas', 'ai-discovery-comments.schema.json'), 'utf8'),
    ) as { properties: Record<string, unknown>; required: string[] };
    const page = readFileSync(path.join(ROOT, 'docs', '400_migration-upgrade-guide_ai-discovery.mdx'), 'utf8');
    for (const tag of Object.keys(schema.properties)) {
      const row = page.split('\n').find((line) => line.startsWith(`| \`${tag}\` |`));
      expect(row, tag).toBeDefined();
      expect(row!.includes('| yes |'), `${tag} required`).toBe(schema.required.includes(tag));
    }
  });
});

describe('the rules page', () => {
  it('lists every rule of the checker, in order', async () => {
    const { GUIDE_RULES } = await import('../../src/guide-check/rules/index.js');
    const page = readFileSync(path.join(ROOT, 'docs', '400_migration-upgrade-guide_ai-discovery.mdx'), 'utf8');
    const rows = page.split('\n').filter((l) => /^\| `[a-z-]+`/.test(l));
    expect(rows).toEqual(
      GUIDE_RULES.map((r) => `| ${r.ids.map((i) => `\`${i}\``).join(', ')} | ${r.summary} | ${r.fix} |`),
    );
  });
});
