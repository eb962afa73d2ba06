// What the build writes for AI agents: llms.txt (llmstxt.org), llms-full.txt, a clean .md copy
// of every page, and runbooks.json (valid against static/schemas/runbooks.schema.json).
// Everything is sorted and carries no timestamps, so the same docs give the same bytes.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { DocumentRunbooks, Param, Section } from '../model/types.js';
import { buildPlan, requirementsOf } from '../plan/plan.js';
import type { LastRun } from './last-runs.js';

export interface PageDoc {
  absolutePath: string;
  file: string;
  source: string;
  runbooks: DocumentRunbooks;
}

interface PageInfo {
  /** Route of the page, e.g. `/quick-start` (`/` for the hub). */
  route: string;
  title: string;
  description: string;
  /** The page as clean markdown: no front matter, a title heading. */
  markdown: string;
  position: number;
}

const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/;

/** Route, title and clean markdown of a page, as Docusaurus serves it (docs at the site root). */
export function pageInfo(page: PageDoc): PageInfo {
  const match = FRONT_MATTER.exec(page.source);
  const front = (match ? (parseYaml(match[1]!) as Record<string, unknown> | null) : null) ?? {};
  const body = match ? page.source.slice(match[0].length) : page.source;
  const slug =
    typeof front.slug === 'string' ? front.slug : `/${typeof front.id === 'string' ? front.id : page.runbooks.docId}`;
  const title = typeof front.title === 'string' ? front.title : page.runbooks.title;
  const trimmed = body.replace(/^\s+/, '');
  const markdown = `${/^(<!--[\s\S]*?-->\s*)*# /.test(trimmed) ? trimmed : `# ${title}\n\n${trimmed}`}`.replace(
    /\s*$/,
    '\n',
  );
  return {
    route: slug.startsWith('/') ? slug : `/${slug}`,
    title,
    description: typeof front.description === 'string' ? front.description : '',
    markdown,
    position: typeof front.sidebar_position === 'number' ? front.sidebar_position : 1000,
  };
}

/** File of a page's .md copy inside the build: `/` → index.md, `/x` → x.md. */
export const markdownCopyPath = (route: string): string =>
  route === '/' ? 'index.md' : `${route.replace(/^\/|\/$/g, '')}.md`;

export interface RunbooksIndex {
  schemaVersion: 1;
  sections: Array<{
    address: string;
    docId: string;
    title: string;
    /** The first paragraph of prose under the section's heading. */
    summary: string;
    /** From the page: its ANCHOR_KEY, ROLE_PINS and front matter tags. */
    keywords: string[];
    page: string;
    file: string;
    line: number;
    contentHash: string;
    command: string;
    target: Section['target'];
    /** Runs only on a disposable target (its steps need its fixtures); refused on a real server. */
    rehearsalOnly: boolean;
    /** The tables it changes (names or `${{ params.x }}`): a rollback on a real server is proven over these. */
    touches: string[];
    requirements: string[];
    params: Array<Omit<Param, 'default'> & { default?: string | number | boolean }>;
    steps: Array<{
      id: string;
      kind: string;
      lang: string;
      phase: string | null;
      line: number;
      timeoutMs: number;
      retries: number;
      rollback: string | null;
      requires: string[];
      confirm: boolean;
      /** The question a `confirm` step asks, or null. */
      confirmQuestion: string | null;
      /** Part of the rehearsal (sample schema and data, or a check of them): skipped on a real server. */
      fixture: boolean;
      code: string;
    }>;
    rollbacks: Array<{ step: string; rollback: string | null }>;
    /** The last run of this exact content, if any: when, how, how long (null: never verified, or changed since). */
    lastVerified: { runId: string; status: string; exitCode: number; finishedAt: string; durationMs: number } | null;
  }>;
}

/** The first paragraph of prose after the heading at `line` (1-based) of `source`: no code, no lists, no comments. */
export function sectionSummary(source: string, line: number): string {
  const lines = source.split('\n').slice(line);
  const paragraph: string[] = [];
  let fence = false;
  for (const raw of lines) {
    const text = raw.trim();
    if (/^(```|~~~)/.test(text)) {
      if (paragraph.length) break;
      fence = !fence;
      continue;
    }
    if (fence) continue;
    if (/^#{1,6}\s/.test(text)) break;
    if (
      text === '' ||
      text.startsWith('<!--') ||
      text.startsWith('|') ||
      /^[-*]\s/.test(text) ||
      /^\d+\.\s/.test(text)
    ) {
      if (paragraph.length) break;
      continue;
    }
    paragraph.push(text);
  }
  return paragraph.join(' ').replace(/\s+/g, ' ').slice(0, 600);
}

function pageKeywords(page: PageDoc): string[] {
  const out = new Set<string>();
  const anchor = /<!--\s*ANCHOR_KEY:\s*([^\s]+)\s*-->/.exec(page.source);
  if (anchor) out.add(anchor[1]!);
  const pins = /<!--\s*ROLE_PINS:\s*(\[[^\]]*\])\s*-->/.exec(page.source);
  if (pins) {
    try {
      for (const p of JSON.parse(pins[1]!) as string[]) out.add(p);
    } catch {
      // check-docs reports a malformed value; the index just leaves it out.
    }
  }
  for (const section of page.runbooks.sections) for (const t of section.tags ?? []) out.add(t);
  return [...out];
}

export function runbooksIndex(pages: PageDoc[], lastRuns: Record<string, LastRun> = {}): RunbooksIndex {
  const sections = pages.flatMap((page) => {
    const info = pageInfo(page);
    const keywords = pageKeywords(page);
    return page.runbooks.sections.map((section) => {
      const plan = buildPlan(section);
      return {
        address: section.address,
        docId: section.docId,
        title: section.title,
        summary: sectionSummary(page.source, section.position.start.line),
        keywords,
        page: `${info.route === '/' ? '' : info.route}#${section.slug}`,
        file: section.file,
        line: section.position.start.line,
        contentHash: section.contentHash,
        command: `npm run exec-doc -- ${section.address}`,
        target: section.target,
        rehearsalOnly: section.rehearsalOnly === true,
        touches: section.touches ?? [],
        requirements: plan.requirements,
        // A secret's value is never published (secrets have no default by construction; be explicit).
        params: section.params.map((p) => (p.secret ? (({ default: _d, ...rest }) => rest)(p) : p)),
        steps: section.steps.map((s) => ({
          id: s.id,
          kind: s.kind,
          lang: s.lang,
          phase: s.phase ?? null,
          line: s.position.start.line,
          timeoutMs: s.timeoutMs,
          retries: s.retries,
          rollback: typeof s.rollback === 'string' ? s.rollback : null,
          requires: requirementsOf(s),
          confirm: s.confirm !== undefined,
          confirmQuestion: s.confirm ?? null,
          fixture: s.fixture === true,
          code: s.code,
        })),
        rollbacks: plan.forward
          .filter((s) => s.kind === 'step' || s.kind === 'setup')
          .map((s) => ({ step: s.id, rollback: plan.rollbackOf.get(s.id)?.id ?? null })),
        lastVerified: lastVerifiedOf(lastRuns[section.address], section.contentHash),
      };
    });
  });
  sections.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return { schemaVersion: 1, sections };
}

/**
 * A page's markdown as published: links to other documents' sources (`./x.mdx#a`), `pathname:///`
 * links to static files and the AI-discovery references become addresses on the published site
 * (the .md copy of the document, the file), so that what an agent reads resolves where it reads it.
 */
export function publishedMarkdown(
  markdown: string,
  sourceFile: string,
  routes: ReadonlyMap<string, string>,
  base: string,
): string {
  const published = (target: string): string | undefined => {
    const [file, anchor] = target.split('#') as [string, string | undefined];
    if (!/\.mdx?$/.test(file)) return undefined;
    const route = routes.get(path.resolve(path.dirname(sourceFile), file));
    return route === undefined ? undefined : `${base}/${markdownCopyPath(route)}${anchor ? `#${anchor}` : ''}`;
  };
  return markdown
    .replace(/\]\(pathname:\/\/\/([^)\s]+)\)/g, (_m, p: string) => `](${base}/${p})`)
    .replace(/\]\((\.{1,2}\/[^)\s]+|[^)\s:#]+\.mdx?(?:#[^)\s]*)?)\)/g, (m, target: string) => {
      const url = published(target);
      return url ? `](${url})` : m;
    })
    .replace(/<!--\s*(CONTEXT_REFERENCE|MODULE_REFERENCE):\s*([^\s]+)\s*-->/g, (m, tag: string, target: string) => {
      const url = published(target);
      return url ? `<!-- ${tag}: ${url} -->` : m;
    });
}

function lastVerifiedOf(
  run: LastRun | undefined,
  contentHash: string,
): RunbooksIndex['sections'][number]['lastVerified'] {
  // A run that could not start verified nothing.
  if (!run || run.contentHash !== contentHash || run.status === 'requirements-missing') return null;
  return {
    runId: run.runId,
    status: run.status,
    exitCode: run.exitCode,
    finishedAt: run.finishedAt,
    durationMs: run.durationMs,
  };
}

export function writeAgentOutputs(input: {
  outDir: string;
  pages: PageDoc[];
  siteUrl: string;
  title: string;
  tagline: string;
  /** The last run of each section (from the result records), for `lastVerified`. */
  lastRuns?: Record<string, LastRun>;
}): void {
  const base = input.siteUrl.replace(/\/$/, '');
  const infos = input.pages.map((page) => ({ page, info: pageInfo(page) }));
  const routes = new Map(infos.map(({ page, info }) => [path.resolve(page.absolutePath), info.route]));
  const pages = infos
    .map(({ page, info }) => ({
      page,
      info: { ...info, markdown: publishedMarkdown(info.markdown, page.absolutePath, routes, base) },
      procedures: page.runbooks.sections.length,
    }))
    .sort((a, b) => a.info.position - b.info.position || a.info.route.localeCompare(b.info.route));
  for (const { info } of pages) {
    const file = path.join(input.outDir, markdownCopyPath(info.route));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, info.markdown);
  }
  const hub = pages.find((p) => p.info.route === '/');
  const llms = [
    `# ${input.title}`,
    '',
    `> ${input.tagline}`,
    '',
    'Every procedure in this guide is executable: `npm run exec-doc -- <section>` plans, runs, verifies and rolls it back. The machine-readable index of all procedures is runbooks.json (JSON Schema: /schemas/runbooks.schema.json). Pages marked "reference only" describe practice and hold no executable procedure yet.',
    '',
    '## Guides',
    '',
    ...pages.map(
      ({ info, procedures }) =>
        `- [${info.title}](${base}/${markdownCopyPath(info.route)})${info.description ? `: ${info.description}` : ''}${info.route === '/' ? '' : procedures > 0 ? ` (${procedures} executable procedure${procedures === 1 ? '' : 's'})` : ' (reference only: no executable procedure on this page yet)'}`,
    ),
    '',
    '## Machine-readable',
    '',
    `- [runbooks.json](${base}/runbooks.json): every executable section with its steps, rollbacks, requirements and parameters`,
    `- [Run events schema](${base}/schemas/exec-doc-events.schema.json): the NDJSON stream of \`exec-doc run --json\``,
    `- [AI-discovery comments schema](${base}/schemas/ai-discovery-comments.schema.json): the HTML comments every guide carries`,
    '',
  ];
  writeFileSync(path.join(input.outDir, 'llms.txt'), llms.join('\n'));
  const full = [hub, ...pages.filter((p) => p !== hub)]
    .filter((p): p is (typeof pages)[number] => p !== undefined)
    .map(({ info }) => `<!-- source: ${base}/${markdownCopyPath(info.route)} -->\n${info.markdown}`);
  writeFileSync(path.join(input.outDir, 'llms-full.txt'), full.join('\n'));
  writeFileSync(
    path.join(input.outDir, 'runbooks.json'),
    `${JSON.stringify(runbooksIndex(input.pages, input.lastRuns ?? {}), null, 2)}\n`,
  );
}
