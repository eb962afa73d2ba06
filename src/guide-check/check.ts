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
import { GUIDE_RULES, type GuideContext, type LinkAt } from './rules/index.js';
import { placed } from '../model/diagnostic.js';

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
    // A comment never closed stops an MDX parse there too: said once.
    const said = new Set(runbooks.diagnostics.map((d) => `${d.line}:${d.column}:${d.ruleId}`));
    diagnostics.push(
      ...problems.filter((p) => !said.has(`${p.line}:${p.column}:${p.ruleId}`)).map((p) => placed(p, { file })),
    );
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
  const context: GuideContext = {
    docsRoot,
    displayRoot,
    staticDir: path.resolve(options.staticDir ?? 'static'),
    report: (doc, ruleId, message, line, column, severity: Severity = 'error') =>
      diagnostics.push({ file: doc.file, line, column, severity, ruleId, message }),
    unresolved(from, target, base) {
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
    },
  };
  for (const rule of GUIDE_RULES) rule.check(documents, context);

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
