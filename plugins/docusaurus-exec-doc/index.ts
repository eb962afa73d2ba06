// The Docusaurus side of exec-doc. A factory returning lifecycle methods that delegate:
//   loadContent   → checks the whole guide (the same code as `npm run check:docs`; the build
//                   fails on any error) and reads the result records: the published ones the
//                   repository carries (verification/) and this machine's runs (the newer wins);
//   contentLoaded → hands "last verified" data to the page components;
//   postBuild     → writes llms.txt, llms-full.txt, a .md copy of every page and runbooks.json.
import path from 'node:path';
import type { LoadContext, Plugin } from '@docusaurus/types';
import { checkGuide } from '../../src/guide-check/check.js';
import { formatDiagnostic } from '../../src/errors/exec-doc-error.js';
import { readLatestRuns, type LastRun } from '../../src/agents/last-runs.js';
import { writeAgentOutputs, type PageDoc } from '../../src/agents/outputs.js';

export interface ExecDocSiteOptions {
  /** The guide's folder (default: docs). */
  docsRoot?: string;
  /** Where `exec-doc run` keeps state (default: $EXEC_DOC_STATE_DIR or .exec-doc); results/ below it is read. */
  stateDir?: string;
  /** The published records, written by `exec-doc verify-guide` and committed (default: verification). */
  verificationDir?: string;
}

export interface ExecDocContent {
  pages: PageDoc[];
  lastRuns: Record<string, LastRun>;
}

export default function execDocSitePlugin(
  context: LoadContext,
  options: ExecDocSiteOptions = {},
): Plugin<ExecDocContent> {
  const docsRoot = path.resolve(context.siteDir, options.docsRoot ?? 'docs');
  const stateDir = path.resolve(context.siteDir, options.stateDir ?? process.env.EXEC_DOC_STATE_DIR ?? '.exec-doc');
  const verificationDir = path.resolve(context.siteDir, options.verificationDir ?? 'verification');
  return {
    name: 'docusaurus-exec-doc',
    async loadContent() {
      const result = await checkGuide({
        docsRoot,
        staticDir: path.join(context.siteDir, 'static'),
        displayRoot: context.siteDir,
      });
      if (result.errors > 0) {
        const lines = result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
        throw new Error(
          `exec-doc: the guide has ${result.errors} error(s); fix them (npm run check:docs shows the same list):\n${lines.join('\n')}`,
        );
      }
      const pages = result.documents.map((d) => ({
        absolutePath: d.absolutePath,
        file: d.file,
        source: d.source,
        runbooks: d.runbooks,
      }));
      return { pages, lastRuns: readLatestRuns(verificationDir, path.join(stateDir, 'results')) };
    },
    async contentLoaded({ content, actions }) {
      actions.setGlobalData({ lastRuns: content.lastRuns });
    },
    async postBuild({ outDir, content, siteConfig }) {
      if (!content) return;
      writeAgentOutputs({
        outDir,
        pages: content.pages,
        siteUrl: `${siteConfig.url}${siteConfig.baseUrl}`,
        title: siteConfig.title,
        tagline: siteConfig.tagline,
        lastRuns: content.lastRuns,
      });
    },
    getPathsToWatch() {
      return [
        path.join(docsRoot, '**/*.{md,mdx}'),
        path.join(stateDir, 'results', '**/*.json'),
        path.join(verificationDir, '**/*.json'),
      ];
    },
  };
}
