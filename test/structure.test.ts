// Dependencies point down: every folder of src/ and plugins/ has a layer, and a module imports
// (at run time: type-only imports do not count) only from folders of lower layers. A new folder
// must be placed here; a new upward import or cycle fails with the file that makes it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

// Lowest first. Folders in one layer do not import each other.
const LAYERS: string[][] = [
  ['src/util'],
  ['src/model', 'src/secrets'],
  [
    'src/errors',
    'src/process',
    'src/targets',
    'src/markdown',
    'src/languages',
    'src/placeholders',
    'src/events',
    'src/annotations',
  ],
  ['src/db', 'src/security', 'src/hosts'],
  ['src/checks'],
  ['src/plan', 'src/extract'],
  ['src/results', 'plugins/remark-exec-doc'],
  ['src/documents'],
  ['src/runner', 'src/site', 'src/theme', 'src/agents'],
  ['src/report', 'src/guide-check'],
  ['src/cli', 'plugins/docusaurus-exec-doc'],
  ['src'],
];
const rank = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)));
const folderOf = (file: string) => path.relative(ROOT, path.dirname(file)).split(path.sep).slice(0, 2).join('/');

function imports(): Array<{ file: string; from: string; to: string }> {
  const out: Array<{ file: string; from: string; to: string }> = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/\.(ts|tsx|mts)$/.test(entry.name)) {
        const source = readFileSync(file, 'utf8');
        for (const m of source.matchAll(
          /(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g,
        )) {
          if (m[1]) continue;
          const target = path.join(path.dirname(file), (m[2] ?? m[3])!);
          const from = folderOf(file);
          const to = folderOf(target);
          if (from !== to) out.push({ file: path.relative(ROOT, file), from, to });
        }
      }
    }
  };
  walk(path.join(ROOT, 'src'));
  walk(path.join(ROOT, 'plugins'));
  return out;
}

describe('the structure', () => {
  it('every folder has a layer', () => {
    const folders = [
      ...readdirSync(path.join(ROOT, 'src'), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => `src/${e.name}`),
      ...readdirSync(path.join(ROOT, 'plugins'), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => `plugins/${e.name}`),
    ];
    expect(
      folders.filter((f) => !rank.has(f)),
      'add these folders to LAYERS in test/structure.test.ts',
    ).toEqual([]);
  });

  it('imports point down only (so there is no cycle)', () => {
    const upward = imports()
      .filter(({ from, to }) => !(rank.get(from)! > rank.get(to)!))
      .map(({ file, to }) => `${file} imports from ${to}`);
    expect(upward).toEqual([]);
  });
});
