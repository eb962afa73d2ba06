// Finds the section an operator named: `<doc-id>/<heading-slug>`, a bare slug that is unique,
// or `<path-to-any-md-or-mdx-file>#<heading-slug>` for documents outside the docs folder.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DocumentRunbooks, Section } from '../model/types.js';
import { ExecDocError, formatDiagnostic } from '../errors/exec-doc-error.js';
import { closest } from '../util/edit-distance.js';
import { docIdFromPath, stripNumberPrefixes } from '../model/doc-id.js';
import type { LoadOptions } from './load.js';
import { loadCorpusEntries, loadMatchingDocuments, type CorpusOptions } from './corpus.js';
import { blockSelection, documentTags, tagSelection } from './select.js';

/** What to run of the section: the blocks carrying one of these tags (`--tag`). */
export interface SelectOptions {
  tags?: readonly string[];
}

export interface Resolved {
  section: Section;
  document: DocumentRunbooks;
  /** Absolute path of the document (section.file is the path as displayed). */
  path: string;
}

export async function resolveSection(address: string, options: CorpusOptions & SelectOptions): Promise<Resolved> {
  const hash = address.indexOf('#');
  const head = hash < 0 ? address : address.slice(0, hash);
  const fragment = hash < 0 ? undefined : address.slice(hash + 1);
  if (fragment !== undefined && (existsSync(head) || /\.(md|mdx|markdown)$/i.test(head)))
    return resolveInFile(head, fragment, options);
  if (fragment === undefined && /\.(md|mdx|markdown)$/i.test(address) && existsSync(address))
    return resolveInFile(address, '', options);
  const found = await resolveInCorpus(head, options);
  return narrow(found, fragment, options.tags);
}

/** Whether `address` names the section at `sectionAddress` (`<docId>/<slug>`) of the document `file`. */
function names(address: string, sectionAddress: string, file: string, docsRoot: string): boolean {
  const cut = sectionAddress.lastIndexOf('/');
  const docId = sectionAddress.slice(0, cut);
  const slug = sectionAddress.slice(cut + 1);
  if (!address.includes('/')) return slug === address;
  // Every alias ends with the slug: most sections are ruled out before any id is computed.
  if (!address.endsWith(`/${slug}`)) return false;
  // The short id is the address; the file's own id (and without number prefixes) stays an alias,
  // so addresses written before a document got an `id:` keep working.
  const fileId = fileDocId(file, docsRoot);
  return [
    sectionAddress,
    `${stripNumberPrefixes(docId)}/${slug}`,
    `${fileId}/${slug}`,
    `${stripNumberPrefixes(fileId)}/${slug}`,
  ].includes(address);
}

async function resolveInCorpus(address: string, options: CorpusOptions): Promise<Resolved> {
  const wanted = (sectionAddress: string, file: string) => names(address, sectionAddress, file, options.docsRoot);
  // Warm cache: only the document holding the section is parsed (agents plan one section of a large guide).
  const quick = loadMatchingDocuments(options, wanted);
  const quickMatches = quick?.matches.flatMap((entry) =>
    entry.doc.sections
      .filter((section) => wanted(section.address, entry.path))
      .map((section) => ({ section, document: entry.doc, path: entry.path })),
  );
  if (quickMatches?.length === 1) return checked(quickMatches[0]!);
  const entries = await loadCorpusEntries(options);
  const all = entries.flatMap((entry) =>
    entry.doc.sections.map((section) => ({ section, document: entry.doc, path: entry.path })),
  );
  const matches = all.filter(({ section, path: file }) => wanted(section.address, file));
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

/** A section narrowed to one block (`#<block>`) or to tagged blocks (`#tag=a,b`, `--tag`). */
function narrow(resolved: Resolved, selector: string | undefined, tags: readonly string[] | undefined): Resolved {
  const { document, section } = resolved;
  const fromSelector = selector?.startsWith('tag=') ? selector.slice(4).split(',').filter(Boolean) : undefined;
  const wanted = fromSelector ?? (tags && tags.length > 0 ? tags : undefined);
  if (selector !== undefined && fromSelector === undefined) {
    const one = blockSelection(document, selector, section);
    if (!one || !section.steps.some((s) => s.id === selector)) throw unknownBlock(selector, section, document);
    return { ...resolved, section: one };
  }
  if (!wanted) return resolved;
  const tagged = tagSelection(document, wanted, section);
  if (!tagged) throw noTagged(wanted, document, section);
  return { ...resolved, section: tagged };
}

function unknownBlock(id: string, section: Section, document: DocumentRunbooks): ExecDocError {
  const ids = section.steps.map((s) => s.id);
  const near = closest(id, ids, Math.max(3, Math.floor(id.length / 3)), 5);
  return new ExecDocError('E_UNKNOWN_SECTION', `No block \`${id}\` in ${section.address} (${document.file})`, {
    details: [
      near.length > 0 ? 'Closest matches:' : 'Its blocks:',
      ...(near.length > 0 ? near : ids).map((i) => `  ${i}`),
    ],
  });
}

function noTagged(tags: readonly string[], document: DocumentRunbooks, section?: Section): ExecDocError {
  const known = documentTags(document);
  return new ExecDocError(
    'E_UNKNOWN_SECTION',
    `No block ${section ? `of ${section.address} ` : `in ${document.file} `}carries the tag ${tags.map((t) => `\`${t}\``).join(' or ')}`,
    {
      details: [
        known.length > 0 ? `Tags in ${document.file}: ${known.join(', ')}` : `No block in ${document.file} has a tag.`,
      ],
    },
  );
}

async function resolveInFile(file: string, fragment: string, options: LoadOptions & SelectOptions): Promise<Resolved> {
  const hash = fragment.indexOf('#');
  const slug = hash < 0 ? fragment : fragment.slice(0, hash);
  const selector = hash < 0 ? undefined : fragment.slice(hash + 1);
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
  if (found.length === 1)
    return narrow(checked({ section: found[0]!, document, path: absolute }), selector, options.tags);
  const wanted = selector?.startsWith('tag=') ? selector.slice(4).split(',').filter(Boolean) : options.tags;
  if (slug === '' && wanted && wanted.length > 0) {
    // The tagged blocks of the whole document, as `runme run --tag` runs them.
    checked({ section: undefined as never, document, path: absolute });
    const tagged = tagSelection(document, wanted);
    if (!tagged) throw noTagged(wanted, document);
    return { section: tagged, document, path: absolute };
  }
  if (slug === '' && document.sections.length === 1)
    return checked({ section: document.sections[0]!, document, path: absolute });
  // `doc.md#<block>`: one block, as `runme run <name>` runs it.
  if (slug !== '' && selector === undefined) {
    const one = blockSelection(document, slug);
    if (one) return checked({ section: one, document, path: absolute });
  }
  // A section the errors kept from being read: the errors are the answer.
  checked({ section: undefined as never, document, path: absolute });
  const slugs = document.sections.map((s) => s.slug);
  const names = [...slugs, ...new Set(document.sections.flatMap((s) => s.steps.map((step) => step.id)))];
  const near = slug ? closest(slug, names, Math.max(3, Math.floor(slug.length / 3)), 5) : slugs;
  throw new ExecDocError(
    'E_UNKNOWN_SECTION',
    slug
      ? `No section or block \`#${slug}\` in ${path.relative('.', file) || file}`
      : slugs.length === 0
        ? `${file} holds no executable block`
        : `${file} has ${slugs.length} sections; add #<section> or #<block>, or --tag <name>`,
    {
      details:
        near.length > 0
          ? [slug ? 'Closest matches:' : 'Sections:', ...near.map((s) => `  ${file}#${s}`)]
          : names.length > 0
            ? [
                'Its sections and blocks:',
                ...names.slice(0, 20).map((s) => `  ${file}#${s}`),
                `  (\`exec-doc list ${file}\` shows them all)`,
              ]
            : [
                'A block runs when its info string names it: ```sh {name=build} (Runme) or ```sh {id=build}; a block without a name is an example.',
              ],
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
