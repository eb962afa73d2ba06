// Checks the whole guide: AI-discovery comments and the files and anchors they reference,
// relative links and their anchors, heading levels, the TL;DR anchor of every guide, and the
// runbook annotations (the engine's own diagnostics). The same function serves
// `npm run check:docs` and the site build; every problem is `file:line:column`.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Root, RootContent, Link, Definition } from 'mdast';
import type { Diagnostic, DocumentRunbooks, Severity } from '../model/types.js';
import { discoverDocuments } from '../documents/discover.js';
import { parseDocument } from '../documents/load.js';
import { outline, type OutlineEntry } from '../extract/extract.js';
import { readDiscoveryComments, type TagValue } from './comments.js';

export interface GuideCheckOptions {
  docsRoot: string;
  /** Folder served at the site root (for `pathname:///…` links). */
  staticDir?: string;
  /** Paths in messages are relative to this folder (default: cwd). */
  displayRoot?: string;
}

export interface CheckedDocument {
  file: string;
  absolutePath: string;
  source: string;
  outline: OutlineEntry[];
  tags: TagValue[];
  runbooks: DocumentRunbooks;
}

export interface GuideCheckResult {
  documents: CheckedDocument[];
  diagnostics: Diagnostic[];
  errors: number;
  warnings: number;
}

interface LinkAt {
  url: string;
  line: number;
  column: number;
}

export async function checkGuide(options: GuideCheckOptions): Promise<GuideCheckResult> {
  const docsRoot = path.resolve(options.docsRoot);
  const displayRoot = path.resolve(options.displayRoot ?? '.');
  const diagnostics: Diagnostic[] = [];
  const documents: Array<CheckedDocument & { links: LinkAt[] }> = [];
  for (const absolutePath of discoverDocuments(docsRoot)) {
    const source = readFileSync(absolutePath, 'utf8');
    const { tree, runbooks } = await parseDocument(absolutePath, source, { docsRoot, displayRoot });
    const file = path.relative(displayRoot, absolutePath) || absolutePath;
    diagnostics.push(...runbooks.diagnostics);
    const { tags, problems } = readDiscoveryComments(source);
    for (const p of problems)
      diagnostics.push({
        file,
        line: p.line,
        column: p.column,
        severity: 'error',
        ruleId: p.ruleId,
        message: p.message,
      });
    documents.push({
      file,
      absolutePath,
      source,
      outline: tree ? outline(tree) : [],
      tags,
      runbooks,
      links: tree ? links(tree) : [],
    });
  }

  const byPath = new Map(documents.map((d) => [d.absolutePath, d]));
  const report = (
    doc: { file: string },
    severity: Severity,
    ruleId: string,
    message: string,
    line: number,
    column: number,
  ) => diagnostics.push({ file: doc.file, line, column, severity, ruleId, message });

  /** Why `target` (relative to `from`'s folder) does not resolve, or undefined when it does. */
  const unresolved = (from: CheckedDocument, target: string, base: string): string | undefined => {
    const [filePart, anchor] = splitAnchor(target);
    const targetDoc = filePart === '' ? from : byPath.get(path.resolve(base, decodeURIComponent(filePart)));
    if (!targetDoc) {
      const shown = path.relative(displayRoot, path.resolve(base, filePart));
      return existsSync(path.resolve(base, filePart))
        ? undefined
        : `\`${filePart}\` does not exist (looked for ${shown})`;
    }
    if (anchor && !targetDoc.outline.some((h) => h.slug === anchor)) {
      const near = targetDoc.outline
        .map((h) => h.slug)
        .filter((s) => s.includes(anchor) || anchor.includes(s))
        .slice(0, 3);
      return `\`${targetDoc.file}\` has no heading with anchor \`#${anchor}\`${near.length ? ` (did you mean ${near.map((n) => `#${n}`).join(', ')}?)` : ''}`;
    }
    return undefined;
  };

  const anchorKeys = new Map<string, CheckedDocument>();
  for (const doc of documents) {
    for (const tag of doc.tags) {
      if (tag.tag === 'CONTEXT_REFERENCE' || tag.tag === 'MODULE_REFERENCE') {
        // References name documents relative to the docs folder.
        const problem = unresolved(doc, String(tag.value), docsRoot);
        if (problem)
          report(
            doc,
            'error',
            'comment-dangling-reference',
            `Unexpected ${tag.tag} \`${tag.raw}\`: ${problem}; create it or fix the reference`,
            tag.line,
            tag.column,
          );
      }
      if (tag.tag === 'ANCHOR_KEY') {
        const other = anchorKeys.get(String(tag.value));
        if (other)
          report(
            doc,
            'error',
            'comment-duplicate-anchor-key',
            `Unexpected ANCHOR_KEY \`${tag.raw}\`, already used by ${other.file}; expected keys unique in the guide`,
            tag.line,
            tag.column,
          );
        else anchorKeys.set(String(tag.value), doc);
      }
    }
    for (const link of doc.links) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link.url) && !link.url.startsWith('pathname://')) continue;
      if (link.url.startsWith('/')) continue;
      if (link.url.startsWith('pathname://')) {
        const target = path.join(path.resolve(options.staticDir ?? 'static'), link.url.replace(/^pathname:\/\//, ''));
        if (!existsSync(target))
          report(
            doc,
            'error',
            'broken-link',
            `Unexpected link to \`${link.url}\`: no such file in the static folder (${path.relative(displayRoot, target)})`,
            link.line,
            link.column,
          );
        continue;
      }
      const problem = unresolved(doc, link.url, path.dirname(doc.absolutePath));
      if (problem)
        report(
          doc,
          'error',
          link.url.includes('#') && !problem.includes('does not exist') ? 'broken-anchor' : 'broken-link',
          `Unexpected link \`${link.url}\`: ${problem}`,
          link.line,
          link.column,
        );
    }
    let previous = 0;
    for (const heading of doc.outline) {
      if (previous > 0 && heading.depth > previous + 1) {
        report(
          doc,
          'error',
          'heading-skip',
          `Unexpected h${heading.depth} after h${previous}, expected at most h${previous + 1} (heading levels must not skip)`,
          heading.line,
          heading.column,
        );
      }
      previous = heading.depth;
    }
    if (!doc.outline.some((h) => h.slug === 'tldr')) {
      report(
        doc,
        'error',
        'missing-tldr',
        'Unexpected guide without a TL;DR section, expected a heading `## TL;DR` (anchor #tldr) near the top',
        1,
        1,
      );
    }
  }

  diagnostics.sort((a, b) =>
    a.file < b.file
      ? -1
      : a.file > b.file
        ? 1
        : a.line - b.line || a.column - b.column || a.ruleId.localeCompare(b.ruleId),
  );
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  return {
    documents: documents.map(({ links: _links, ...doc }) => doc),
    diagnostics,
    errors,
    warnings: diagnostics.length - errors,
  };
}

function splitAnchor(url: string): [string, string | undefined] {
  const hash = url.indexOf('#');
  return hash < 0 ? [url, undefined] : [url.slice(0, hash), url.slice(hash + 1)];
}

function links(tree: Root): LinkAt[] {
  const out: LinkAt[] = [];
  const walk = (nodes: RootContent[]): void => {
    for (const node of nodes) {
      if (node.type === 'link' || node.type === 'definition') {
        const n = node as Link | Definition;
        out.push({ url: n.url, line: n.position?.start.line ?? 1, column: n.position?.start.column ?? 1 });
      }
      if ('children' in node) walk(node.children as RootContent[]);
    }
  };
  walk(tree.children);
  return out;
}
