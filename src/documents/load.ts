// Reads markdown/MDX files from disk and runs them through the remark plugin.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { unified, type Processor } from 'unified';
import remarkParse from 'remark-parse';
import remarkFrontmatter from 'remark-frontmatter';
import { VFile } from 'vfile';
import type { Root } from 'mdast';
import remarkExecDoc from '../../plugins/remark-exec-doc/index.js';
import { docIdFromPath } from '../model/doc-id.js';
import { blankHtmlComments, findHtmlComments, UNTERMINATED_COMMENT } from '../markdown/html-comments.js';
import type { Diagnostic, DocumentRunbooks } from '../model/types.js';
import { lineStarts } from '../util/text-position.js';

export interface LoadOptions {
  /** Folder doc ids are relative to. */
  docsRoot: string;
  /** Folder diagnostics' paths are relative to (default: cwd). */
  displayRoot?: string;
}

type AnyProcessor = Processor<Root, Root, Root, undefined, undefined>;
const processors = new Map<string, AnyProcessor>();

async function processorFor(isMdx: boolean, options: LoadOptions): Promise<AnyProcessor> {
  const key = `${isMdx}\0${options.docsRoot}\0${options.displayRoot ?? ''}`;
  let processor = processors.get(key);
  if (!processor) {
    const base = unified().use(remarkParse).use(remarkFrontmatter, ['yaml']);
    // The MDX syntax (with acorn) loads only for .mdx documents.
    const withMdx = isMdx ? base.use((await import('remark-mdx')).default) : base;
    processor = withMdx.use(remarkExecDoc, {
      docsRoot: options.docsRoot,
      displayRoot: options.displayRoot ?? '.',
    }) as unknown as AnyProcessor;
    processors.set(key, processor);
  }
  return processor;
}

/** Extracts the runbooks of the document at `filePath`; document problems come back as diagnostics. */
export async function loadDocument(filePath: string, options: LoadOptions): Promise<DocumentRunbooks> {
  const absolute = path.resolve(filePath);
  const source = await readFile(absolute, 'utf8');
  return extractFromSource(absolute, source, options);
}

export async function extractFromSource(
  absolutePath: string,
  source: string,
  options: LoadOptions,
): Promise<DocumentRunbooks> {
  return (await parseDocument(absolutePath, source, options)).runbooks;
}

/** The document's tree (for checks beyond runbooks: links, headings) and its runbooks. */
export async function parseDocument(
  absolutePath: string,
  source: string,
  options: LoadOptions,
): Promise<{ tree: Root | undefined; runbooks: DocumentRunbooks }> {
  const isMdx = absolutePath.toLowerCase().endsWith('.mdx');
  const file = new VFile({ path: absolutePath, value: source });
  const processor = await processorFor(isMdx, options);
  const display = path.relative(path.resolve(options.displayRoot ?? '.'), absolutePath) || absolutePath;
  const parse = (text: string): Root =>
    processor.parse(isMdx ? new VFile({ path: absolutePath, value: escapeHeadingIds(blankHtmlComments(text)) }) : file);
  let tree: Root;
  try {
    tree = parse(source);
  } catch (error) {
    const diagnostics: Diagnostic[] = [];
    let failure: unknown = error;
    // MDX cannot read a comment that is never closed (`<!` starts no tag), and where it then stops
    // is not always there: the comment is reported where it opens, and the document is parsed
    // again without its `<!--` (positions kept) for any other error of its own.
    const unclosed = isMdx ? findHtmlComments(source).unterminated : undefined;
    if (unclosed) {
      diagnostics.push({
        file: display,
        ...unclosed,
        severity: 'error',
        ruleId: 'comment-unterminated',
        message: UNTERMINATED_COMMENT,
      });
      const at = lineStarts(source)[unclosed.line - 1]! + unclosed.column - 1;
      try {
        parse(`${source.slice(0, at)}    ${source.slice(at + 4)}`);
        failure = undefined;
      } catch (again) {
        failure = again;
      }
    }
    if (failure !== undefined) diagnostics.push(parseFailure(failure, display));
    diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
    const runbooks: DocumentRunbooks = {
      file: display,
      docId: docIdFromPath(absolutePath, path.resolve(options.docsRoot)),
      title: path.basename(absolutePath),
      sections: [],
      diagnostics,
    };
    return { tree: undefined, runbooks };
  }
  await processor.run(tree, file);
  return { tree, runbooks: file.data.execDoc! };
}

function parseFailure(error: unknown, file: string): Diagnostic {
  const place = (error as { place?: { line?: number; column?: number; start?: { line: number; column: number } } })
    .place;
  const point =
    place && 'start' in place && place.start ? place.start : (place as { line?: number; column?: number } | undefined);
  const reason = (error as { reason?: string }).reason ?? (error as Error).message;
  return {
    file,
    line: point?.line ?? 1,
    column: point?.column ?? 1,
    severity: 'error',
    ruleId: 'mdx-parse',
    message: `Unexpected MDX syntax: ${reason}; fix the markup (in MDX, write \`\\{\` and \`&lt;\` for literal braces and angle brackets)`,
  };
}

/**
 * MDX would read Docusaurus's `## Title {#id}` as a JavaScript expression, and rejects HTML
 * comments: prepare the source as Docusaurus does (comments are blanked, so positions hold).
 */
function escapeHeadingIds(source: string): string {
  return source.replace(/^(#{1,6}[^\n]*?)\{#([A-Za-z0-9_-]+)\}[ \t]*$/gm, '$1\\{#$2\\}');
}
