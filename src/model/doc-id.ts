import path from 'node:path';

/**
 * A document's id: its path below the docs folder without the extension
 * (`docs/guides/upgrade.mdx` → `guides/upgrade`). A file outside the docs folder is
 * addressed by its path relative to the working directory.
 */
export function docIdFromPath(absolutePath: string, docsRoot: string): string {
  const relative = path.relative(docsRoot, absolutePath);
  const base =
    relative.startsWith('..') || path.isAbsolute(relative) ? path.relative(process.cwd(), absolutePath) : relative;
  return base
    .replace(/\.(mdx?|markdown)$/i, '')
    .split(path.sep)
    .join('/');
}

/** Docusaurus drops number prefixes (`400_guide` → `guide`); such ids are accepted as aliases. */
export function stripNumberPrefixes(docId: string): string {
  return docId
    .split('/')
    .map((segment) => segment.replace(/^\d+\s*[-_.]+\s*(?=[^-_.\s])/, ''))
    .join('/');
}

/**
 * The address that runs a section from the command line: `<doc-id>/<slug>` for a document under
 * the docs folder, `<file>#<slug>` for one elsewhere (its id is a path with `..`, which no
 * `<doc-id>/<slug>` lookup finds).
 */
export function runnableAddress(section: { address: string; docId: string; file: string; slug: string }): string {
  return section.docId.startsWith('../') || section.docId === '..' || path.isAbsolute(section.docId)
    ? `${section.file}#${section.slug}`
    : section.address;
}
