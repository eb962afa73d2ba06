// `exec-doc mcp`: the guide served over the Model Context Protocol (stdio), for AI agents.
//
// Discovery (list_procedures, read_section, the pages as resources) reads the same index and
// markdown the site publishes for agents (../agents/outputs.ts). Everything that plans or runs
// goes through the command line's own code, in this process, with `--json`: an agent gets the
// same access control, confirmations, approvals, audit trail and exit codes as a person, and the
// event stream's data as its result. Tool calls run one at a time.
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import * as z from 'zod';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CliOptions } from './parse.js';
import type { Io } from './main.js';
import { loadCorpusEntries } from '../documents/corpus.js';
import {
  markdownCopyPath,
  pageInfo,
  publishedMarkdown,
  runbooksIndex,
  type PageDoc,
  type RunbooksIndex,
} from '../agents/outputs.js';
import { readLatestRuns } from '../agents/last-runs.js';
import { projectRoot, projectVersion } from '../util/project-root.js';
import { closest } from '../util/edit-distance.js';

/** Resource addresses of the guide's pages: `exec-doc://guide/<page>.md`, as the site's .md copies. */
const GUIDE = 'exec-doc://guide';
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
/**
 * A section of the guide (`<doc-id>/<slug>`): never an option, never a file. An agent runs only
 * what the guide holds, not any markdown file a prompt points it at.
 */
const ADDRESS = z
  .string()
  .min(1)
  .max(300)
  .refine(
    (s) => /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/.test(s) && !/\.(md|mdx|markdown)$/i.test(s),
    'a section address such as database-migrations/zero-downtime-column',
  );
const PARAMS = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.number(), z.boolean()]))
  .optional()
  .describe('section parameters, as `--set name=value` (see plan for their types)');

interface Guide {
  pages: PageDoc[];
  index: RunbooksIndex;
}

export async function serveMcp(options: CliOptions, io: Io): Promise<number> {
  const server = createMcpServer(options, io);
  // The protocol owns standard output: anything else written there (a library's console.log)
  // goes to standard error instead of corrupting the stream.
  const protocolOut = createWriteStream('', { fd: 1 });
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    (process.stderr.write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  const transport = new StdioServerTransport(io.stdin as unknown as Readable, protocolOut);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    (io.stdin as unknown as Readable).once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
  return 0;
}

/** The server with its tools and resources, not yet connected to a transport. */
export function createMcpServer(options: Pick<CliOptions, 'docs' | 'stateDir'>, io: Pick<Io, 'env'>): McpServer {
  const loadOptions = {
    docsRoot: path.resolve(options.docs),
    cacheFile: path.join(options.stateDir, 'cache', 'documents.json'),
  };
  // The guide as it is on disk now (a page may change while the server runs).
  const guide = async (): Promise<Guide> => {
    const entries = await loadCorpusEntries(loadOptions);
    const pages = entries.map((e) => ({
      absolutePath: e.path,
      file: e.doc.file,
      source: readFileSync(e.path, 'utf8'),
      runbooks: e.doc,
    }));
    // The published verification records and this machine's own runs; the newer of each wins.
    const folders = [path.join(projectRoot(), 'verification'), path.join(options.stateDir, 'results')];
    return { pages, index: runbooksIndex(pages, readLatestRuns(...folders.filter((f) => existsSync(f)))) };
  };

  // The command line, in this process, with --json: its output is the tool's result.
  let queue: Promise<unknown> = Promise.resolve();
  const cli = (argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> => {
    const call = queue.then(async () => {
      const { main } = await import('./main.js');
      let stdout = '';
      let stderr = '';
      const sink = (append: (s: string) => void) =>
        Object.assign(
          new Writable({
            write(chunk, _encoding, done) {
              append(String(chunk));
              done();
            },
          }),
          { isTTY: false, columns: 120 },
        ) as unknown as NodeJS.WriteStream;
      // The options before the positionals: the section follows `--`, so it can never be read as one.
      const full = [argv[0]!, '--json', '--docs', options.docs, '--state-dir', options.stateDir, ...argv.slice(1)];
      const exitCode = await main(full, {
        stdout: sink((s) => (stdout += s)),
        stderr: sink((s) => (stderr += s)),
        // Nobody can be asked: a step marked `confirm` needs `yes`, as `--yes` on the command line.
        stdin: Object.assign(Readable.from([]), { isTTY: false }) as unknown as NodeJS.ReadStream,
        env: io.env,
      });
      return { exitCode, stdout, stderr };
    });
    queue = call.catch(() => undefined);
    return call;
  };

  const server = new McpServer(
    { name: 'exec-doc', version: projectVersion() },
    {
      instructions:
        'The Migration & Upgrade Guide as executable procedures. Find one with list_procedures (or read the hub page exec-doc://guide/index.md and follow its MODULE_REFERENCE comments), read it with read_section, check it with plan, run it with run (a failure is rolled back and verified), and read what happened with get_result. Nothing runs without run or resume; steps marked confirm need yes=true, and an access policy may require approvals.',
    },
  );

  /** A run or resume: its events, and the record of how it ended. */
  const fromRun = (r: { exitCode: number; stdout: string; stderr: string }): CallToolResult => {
    const lines = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const error = lines.find((l) => 'error' in l);
    if (error) return result({ exitCode: r.exitCode, ...error }, true);
    const runId = lines.find((l) => typeof l.runId === 'string')?.runId as string | undefined;
    if (runId === undefined)
      return failure(
        r.exitCode === 64 ? 'E_USAGE' : 'E_NOT_STARTED',
        'nothing ran',
        r.stderr
          .split('\n')
          .map((l) => l.replace(/^exec-doc: /, ''))
          .filter(Boolean),
      );
    const end = lines.find((l) => l.type === 'run.end');
    const recordFile = runId ? path.join(options.stateDir, 'runs', runId, 'result.json') : undefined;
    const record =
      recordFile && existsSync(recordFile) ? (JSON.parse(readFileSync(recordFile, 'utf8')) as unknown) : null;
    return result({
      exitCode: r.exitCode,
      runId: runId ?? null,
      status: end?.status ?? null,
      record,
      events: lines.filter((l) => l.type !== 'step.output'),
      notices: r.stderr
        .split('\n')
        .map((l) => l.replace(/^exec-doc: /, ''))
        .filter(Boolean),
    });
  };

  server.registerTool(
    'list_procedures',
    {
      title: 'List or search the procedures',
      description:
        "Every executable section of the guide, or those matching a query (words matched against addresses, titles, summaries and the pages' AI-discovery keywords), best match first.",
      inputSchema: { query: z.string().max(500).optional().describe('words to look for, e.g. "not null column"') },
    },
    async ({ query }) => {
      const { index } = await guide();
      const words = (query ?? '')
        .toLowerCase()
        .split(/[^a-z0-9_-]+/)
        .filter((w) => w.length > 1);
      const scored = index.sections
        .map((s) => {
          const text = [s.address, s.title, s.summary, ...s.keywords, ...s.steps.map((step) => step.id)]
            .join(' ')
            .toLowerCase();
          return { s, score: words.filter((w) => text.includes(w)).length };
        })
        .filter(({ score }) => words.length === 0 || score > 0)
        .sort((a, b) => b.score - a.score || a.s.address.localeCompare(b.s.address));
      return result({
        count: scored.length,
        sections: scored.map(({ s }) => ({
          address: s.address,
          title: s.title,
          summary: s.summary,
          keywords: s.keywords,
          page: `${GUIDE}/${markdownCopyPath(s.page.split('#')[0] || '/')}`,
          rehearsalOnly: s.rehearsalOnly,
          requirements: s.requirements,
          params: s.params.map((p) => ({ name: p.name, type: p.type, required: p.required, secret: p.secret })),
          steps: s.steps.length,
          lastVerified: s.lastVerified,
        })),
      });
    },
  );

  server.registerTool(
    'read_section',
    {
      title: 'Read a procedure',
      description:
        'One section as structured markdown (its prose and blocks, links rewritten to exec-doc:// resources) with its metadata: steps, rollbacks, parameters, requirements, target, last verified run.',
      inputSchema: { section: ADDRESS.describe('a section address from list_procedures') },
    },
    async ({ section }) => {
      const { pages, index } = await guide();
      const entry = index.sections.find((s) => s.address === section);
      if (!entry) return unknownSection(section, index);
      const page = pages.find((p) => p.runbooks.sections.some((s) => s.address === section))!;
      const heading = page.runbooks.sections.find((s) => s.address === section)!;
      const lines = page.source.split('\n');
      const start = heading.position.start.line - 1;
      const end = lines.findIndex(
        (l, i) => i > start && /^#{1,6}\s/.test(l) && l.match(/^#+/)![0].length <= heading.depth,
      );
      const routes = new Map(pages.map((p) => [path.resolve(p.absolutePath), pageInfo(p).route]));
      const markdown = publishedMarkdown(
        lines.slice(start, end < 0 ? undefined : end).join('\n'),
        page.absolutePath,
        routes,
        GUIDE,
      );
      return result({ ...entry, markdown });
    },
  );

  server.registerTool(
    'plan',
    {
      title: 'Plan a procedure',
      description:
        'What a run would do, executing nothing: the order of steps, each rollback, the checks that verify a rollback, requirements, parameters (given values are validated), the target and what the caller may do there.',
      inputSchema: {
        section: ADDRESS,
        params: PARAMS,
        disposable: z.boolean().optional().describe('the server in DATABASE_URL is a scratch copy'),
      },
    },
    async ({ section, params, disposable }) =>
      fromCli(await cli(['plan', ...sets(params), ...(disposable ? ['--disposable'] : []), '--', section])),
  );

  server.registerTool(
    'run',
    {
      title: 'Run a procedure',
      description:
        'Runs a section: requirements checked first, each step timed and verified; on failure the completed steps are rolled back in reverse order and the rollback is verified. Returns the exit code (0 success, 1 failed and rolled back, 2 rollback incomplete, 3 requirement missing, 64 bad input, 75 locked, 77 refused), the run id, the result record and the step events.',
      inputSchema: {
        section: ADDRESS,
        params: PARAMS,
        yes: z
          .boolean()
          .optional()
          .describe('confirm the steps marked `confirm` (dangerous ones); without it they are refused'),
        disposable: z.boolean().optional(),
        failBefore: z
          .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/))
          .max(20)
          .optional()
          .describe('a rollback drill: fail these steps on purpose before they run'),
        approvals: z
          .array(z.string().min(1))
          .max(10)
          .optional()
          .describe('approval files for confirm steps on a protected target'),
      },
    },
    async ({ section, params, yes, disposable, failBefore, approvals }) =>
      fromRun(
        await cli([
          'run',
          ...sets(params),
          ...(yes ? ['--yes'] : []),
          ...(disposable ? ['--disposable'] : []),
          ...(failBefore ?? []).flatMap((s) => ['--fail-before', s]),
          ...(approvals ?? []).flatMap((a) => ['--approval', a]),
          '--',
          section,
        ]),
      ),
  );

  server.registerTool(
    'resume',
    {
      title: 'Resume a run',
      description:
        'Continues a run whose runner died, without redoing completed steps, or (rollback=true) rolls it back. Secret parameters must be given again.',
      inputSchema: {
        runId: z.string().regex(RUN_ID),
        rollback: z.boolean().optional(),
        yes: z.boolean().optional(),
        params: PARAMS,
      },
    },
    async ({ runId, rollback, yes, params }) =>
      fromRun(
        await cli([
          'resume',
          ...sets(params),
          ...(rollback ? ['--rollback'] : []),
          ...(yes ? ['--yes'] : []),
          '--',
          runId,
        ]),
      ),
  );

  server.registerTool(
    'rollback',
    {
      title: 'Roll back a run that succeeded',
      description:
        "Undoes a finished run that succeeded: its steps' rollbacks in reverse order, then the checks that prove the system is back. Exit 0 when everything was undone and verified, 2 when not.",
      inputSchema: { runId: z.string().regex(RUN_ID), params: PARAMS },
    },
    async ({ runId, params }) => fromRun(await cli(['rollback', ...sets(params), '--', runId])),
  );

  server.registerTool(
    'check',
    {
      title: 'Run a validation phase',
      description:
        'The checks of a phase (pre-upgrade: is it safe to begin; post-upgrade: did it work; post-rollback: are we back where we started), with each result.',
      inputSchema: { phase: z.enum(['pre-upgrade', 'post-upgrade', 'post-rollback']) },
    },
    async ({ phase }) => fromCli(await cli(['check', '--format', 'json', '--', phase])),
  );

  server.registerTool(
    'get_result',
    {
      title: 'Read the result of a run',
      description:
        'The result record of a run: status, exit code, every step with its duration and output excerpt, what was undone and what was not, the parameters (secrets masked).',
      inputSchema: { runId: z.string().regex(RUN_ID) },
    },
    async ({ runId }) => {
      const file = path.join(options.stateDir, 'runs', runId, 'result.json');
      if (!existsSync(file))
        return failure('E_UNKNOWN_RUN', `No run \`${runId}\` in ${options.stateDir}`, [
          "Run ids are in the run tool's result (runId) and in the run.start event.",
        ]);
      return result(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>);
    },
  );

  server.registerResource(
    'guide-page',
    new ResourceTemplate(`${GUIDE}/{page}`, {
      list: async () => {
        const { pages } = await guide();
        return {
          resources: pages.map((p) => {
            const info = pageInfo(p);
            return {
              uri: `${GUIDE}/${markdownCopyPath(info.route)}`,
              name: info.title,
              description: info.description,
              mimeType: 'text/markdown',
            };
          }),
        };
      },
    }),
    {
      title: 'A page of the guide',
      description: 'A guide page as markdown, as the site publishes it for agents',
      mimeType: 'text/markdown',
    },
    async (uri) => {
      const { pages } = await guide();
      const routes = new Map(pages.map((p) => [path.resolve(p.absolutePath), pageInfo(p).route]));
      const page = pages.find((p) => `${GUIDE}/${markdownCopyPath(pageInfo(p).route)}` === uri.href);
      if (!page) throw new Error(`No page ${uri.href}; list the resources to see the pages`);
      const text = publishedMarkdown(pageInfo(page).markdown, page.absolutePath, routes, GUIDE);
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text }] };
    },
  );

  server.registerResource(
    'runbooks-index',
    `${GUIDE}/runbooks.json`,
    {
      title: 'The runbook index',
      description: 'Every executable section with its steps, rollbacks, requirements and parameters',
      mimeType: 'application/json',
    },
    async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify((await guide()).index, null, 2) }],
    }),
  );

  return server;
}

function sets(params: Record<string, string | number | boolean> | undefined): string[] {
  return Object.entries(params ?? {}).flatMap(([name, value]) => ['--set', `${name}=${String(value)}`]);
}

function result(data: Record<string, unknown>, isError = false): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(data, null, 2) }], structuredContent: data, isError };
}

function failure(code: string, message: string, details: string[]): CallToolResult {
  return result({ error: { code, message, details } }, true);
}

function unknownSection(section: string, index: RunbooksIndex): CallToolResult {
  // The same suggestions the command line gives for an unknown section (../documents/address.ts).
  const near = closest(
    section,
    index.sections.map((s) => s.address),
    Math.max(3, Math.floor(section.length / 3)),
    5,
  );
  return failure('E_UNKNOWN_SECTION', `No section \`${section}\``, [
    ...(near.length > 0 ? ['Closest matches:', ...near.map((a) => `  ${a}`)] : []),
    'list_procedures lists them all.',
  ]);
}

/** A plan or check: the command's JSON, or its error. */
function fromCli(r: { exitCode: number; stdout: string; stderr: string }): CallToolResult {
  const data = lastJson(r.stdout);
  if (data && typeof data === 'object' && 'error' in data) return result({ exitCode: r.exitCode, ...data }, true);
  if (!data) return failure('E_INTERNAL', 'exec-doc gave no result', [r.stderr.trim()]);
  return result({ exitCode: r.exitCode, ...(data as Record<string, unknown>) }, r.exitCode !== 0 && r.exitCode !== 1);
}

function lastJson(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    const last = trimmed
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop();
    return last ? JSON.parse(last) : undefined;
  }
}
