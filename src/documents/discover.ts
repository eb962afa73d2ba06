import { walkFiles } from '../util/walk-files.js';

const DOC_FILE = /\.(md|mdx)$/i;
// Like Docusaurus: names starting with `_` (partials) or `.` are not documents.
const visible = (entry: { name: string }): boolean =>
  !entry.name.startsWith('_') && !entry.name.startsWith('.') && entry.name !== 'node_modules';

/** Every markdown/MDX document below `root`, sorted. */
export function discoverDocuments(root: string): string[] {
  return walkFiles(root, (entry) => visible(entry) && DOC_FILE.test(entry.name), visible);
}
