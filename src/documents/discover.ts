import { readdirSync } from 'node:fs';
import path from 'node:path';

const DOC_FILE = /\.(md|mdx)$/i;

/**
 * Every markdown/MDX document below `root`, sorted. Like Docusaurus, files and folders whose
 * name starts with `_` (partials) or `.` are not documents; node_modules is skipped.
 */
export function discoverDocuments(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('_') || entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && DOC_FILE.test(entry.name)) out.push(full);
    }
  };
  walk(path.resolve(root));
  return out.sort();
}
