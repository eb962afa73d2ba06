// The remark plugin that extracts runbooks. The CLI, the site build and the validators all
// run documents through it: one parser, one model.
import path from 'node:path';
import type { Root } from 'mdast';
import type { VFile } from 'vfile';
import { extractRunbooks } from '../../src/extract/extract.js';
import { docIdFromPath } from '../../src/model/doc-id.js';
import type { DocumentRunbooks } from '../../src/model/types.js';
import { annotateTree } from './annotate.js';

export interface RemarkExecDocOptions {
  /** Folder that doc ids are relative to (default: the process's `docs/`). */
  docsRoot?: string;
  /** Path shown in diagnostics, relative to this folder (default: the process's cwd). */
  displayRoot?: string;
  /** Put <RunbookSection> and <RunbookStep> elements into the page (the site build). */
  annotate?: boolean;
}

declare module 'vfile' {
  interface DataMap {
    /** Runbooks extracted by remark-exec-doc. */
    execDoc: DocumentRunbooks;
    /** Front matter parsed by Docusaurus, when it ran the plugin. */
    frontMatter: Record<string, unknown>;
  }
}

export default function remarkExecDoc(options: RemarkExecDocOptions = {}) {
  const docsRoot = path.resolve(options.docsRoot ?? 'docs');
  const displayRoot = path.resolve(options.displayRoot ?? '.');
  return (tree: Root, file: VFile): void => {
    const absolute = path.resolve(file.path ?? 'document.md');
    const display = path.relative(displayRoot, absolute) || absolute;
    const input = {
      tree,
      source: String(file.value ?? ''),
      file: display,
      docId: docIdFromPath(absolute, docsRoot),
      ...(file.data.frontMatter ? { frontMatter: file.data.frontMatter } : {}),
    };
    const result = extractRunbooks(input);
    file.data.execDoc = result;
    if (options.annotate) annotateTree(tree, result);
    for (const d of result.diagnostics) {
      const message = file.message(d.message, {
        place: { line: d.line, column: d.column },
        ruleId: d.ruleId,
        source: 'exec-doc',
      });
      message.fatal = d.severity === 'error' ? true : false;
    }
  };
}
