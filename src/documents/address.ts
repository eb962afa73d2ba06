// Finds the section an operator named: `<doc-id>/<heading-slug>`, a bare slug that is unique,
// or `<path-to-any-md-or-mdx-file>#<heading-slug>` for documents outside the docs folder.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DocumentRunbooks, Section } from '../model/types.js';
import { ExecDocError, formatDiagnostic } from '../errors/exec-doc-error.js';
import { closest } from '../util/edit-distance.js';
import { docIdFromPath, stripNumberPrefixes } from '../model/doc-id.js';
import type { LoadOptions } from './load.js';
import { loadCorpusEntries, type CorpusOptions } from './corpus.js';

export interface Resolved {
  section: Section;
  document: DocumentRunbooks;
  /** Absolute path of the document (section.file is the path as displayed). */
  path: string;
}

export async function resolveSection(address: string, options: CorpusOptions): Promise<Resolved> {
  const hash = address.indexOf('#');
  if (hash >= 0) return resolveInFile(address.slice(0, hash), address.slice(hash + 1), options);
  if (/\.(md|mdx)$/i.test(address) && existsSync(address)) return resolveInFile(address, '', options);

  const entries = await loadCorpusEntries(options);
  const all = entries.flatMap((entry) =>
    entry.doc.sections.map((section) => ({ section, document: entry.doc, path: entry.path })),
  );
  const matches = all.filter(({ section, path: file }) => {
    // The short id is the address; the file's own id (and without number prefixes) stays an alias,
    // so addresses written before a document got an `id:` keep working.
    const fileId = fileDocId(file, options.docsRoot);
    const aliases = [
      section.address,
      `${stripNumberPrefixes(section.docId)}/${section.slug}`,
      `${fileId}/${section.slug}`,
      `${stripNumberPrefixes(fileId)}/${section.slug}`,
    ];
    return aliases.includes(address) || (!address.includes('/') && section.slug === address);
  });
  if (matches.length === 1) return checked(matches[0]!);
  if (matches.length > 1) {
    throw new ExecDocError('E_UNKNOWN_SECTION', `\`${address}\` names ${matches.length} sections; say which one`, {
      details: matches.map((m) => m.section.address),
    });
  }
  // A document of that id whose errors kept the section from being read: show its errors.
  const docId = address.includes('/') ? address.slice(0, address.lastIndexOf('/')) : undefined;
  const named =
    docId === undefined
      ? undefined
      : entries.find((e) =>
          [e.doc.docId, fileDocId(e.path, options.docsRoot)].some(
            (id) => id === docId || stripNumberPrefixes(id) === docId,
          ),
        );
  if (named) checked({ section: undefined as never, document: named.doc, path: named.path });
  const addresses = all.map((m) => m.section.address);
  const near = closest(address, addresses, Math.max(3, Math.floor(address.length / 3)), 5);
  const shownRoot = path.relative('.', options.docsRoot) || '.';
  throw new ExecDocError('E_UNKNOWN_SECTION', `No section \`${address}\` in ${shownRoot}`, {
    details:
      near.length > 0
        ? ['Closest matches:', ...near.map((a) => `  ${a}`)]
        : addresses.length > 0
          ? ['Run `exec-doc list` to see the sections.']
          : [`${shownRoot} holds no executable sections.`],
  });
}

async function resolveInFile(file: string, slug: string, options: LoadOptions): Promise<Resolved> {
  if (!existsSync(file))
    throw new ExecDocError('E_UNKNOWN_SECTION', `No such file: ${file}`, {
      details: ['Give a path to a .md or .mdx file, e.g. docs/guide.mdx#section'],
    });
  if (statSync(file).isDirectory())
    throw new ExecDocError('E_USAGE', `${file} is a folder, expected a .md or .mdx file`, {
      details: [
        `Give a document and a section, e.g. ${path.join(file, 'guide.md')}#section, or --docs ${file} and <doc-id>/<section>`,
      ],
    });
  const { loadDocument } = await import('./load.js');
  const document = await loadDocument(file, options);
  const found = document.sections.filter((s) => s.slug === slug);
  const absolute = path.resolve(file);
  if (found.length === 1) return checked({ section: found[0]!, document, path: absolute });
  if (slug === '' && document.sections.length === 1)
    return checked({ section: document.sections[0]!, document, path: absolute });
  // A section the errors kept from being read: the errors are the answer.
  checked({ section: undefined as never, document, path: absolute });
  const slugs = document.sections.map((s) => s.slug);
  const near = slug ? closest(slug, slugs, Math.max(3, Math.floor(slug.length / 3)), 5) : slugs;
  throw new ExecDocError(
    'E_UNKNOWN_SECTION',
    slug
      ? `No section \`#${slug}\` in ${path.relative('.', file) || file}`
      : `${file} has ${slugs.length} sections; add #<section>`,
    {
      details:
        near.length > 0
          ? [slug ? 'Closest matches:' : 'Sections:', ...near.map((s) => `  ${file}#${s}`)]
          : ['It holds no executable sections.'],
    },
  );
}

/** A document with errors runs nothing: half a procedure is worse than none. */
function checked(resolved: Resolved): Resolved {
  const errors = resolved.document.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    throw new ExecDocError(
      'E_DOCUMENT',
      `${resolved.document.file} has ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing ran`,
      { diagnostics: errors, details: errors.map(formatDiagnostic) },
    );
  }
  return resolved;
}

/** The id a document (absolute path) has from its path alone, before its front matter's `id:` replaces it. */
function fileDocId(file: string, docsRoot: string): string {
  return docIdFromPath(file, docsRoot);
}
