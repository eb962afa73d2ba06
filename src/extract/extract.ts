// Turns a parsed markdown/MDX tree into runbooks: sections (headings holding executable
// blocks) with their ordered steps. Problems become positioned diagnostics, never exceptions.
import GithubSlugger from 'github-slugger';
import { toString } from 'mdast-util-to-string';
import type { Code, Heading, Root, RootContent, Yaml } from 'mdast';
import { parseMeta } from '../annotations/parse-meta.js';
import { generatedName, interpretAttributes, ULID, type StepAnnotation } from '../annotations/fields.js';
import type {
  CheckPhase,
  Diagnostic,
  DocumentRunbooks,
  Param,
  Position,
  Section,
  Severity,
  Step,
  StepLanguage,
} from '../model/types.js';
import { sectionContentHash } from '../model/hash.js';
import { readSettings, resolveSectionSettings } from './settings.js';
import { validateDocument } from './validate.js';
import { locateMeta, selectAnnotation } from './meta-location.js';
import { readChecksBlock } from '../checks/block.js';
import { placed } from '../model/diagnostic.js';
import { hasInterpreter } from '../languages/commands.js';
import path from 'node:path';
import type { RunmeFrontMatter } from './settings.js';

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_BACKOFF_MS = 500;

const LANGUAGE_ALIASES: Record<string, StepLanguage> = {
  sh: 'sh',
  shell: 'bash',
  shellscript: 'sh',
  bash: 'bash',
  // zsh and ksh are quoted as bash is; they run under their own shell (../languages/commands.ts).
  zsh: 'bash',
  ksh: 'bash',
  console: 'bash',
  sql: 'sql',
  psql: 'sql',
  postgres: 'sql',
  postgresql: 'sql',
  pgsql: 'sql',
  js: 'js',
  javascript: 'js',
  mjs: 'js',
  node: 'js',
  ts: 'ts',
  typescript: 'ts',
  mts: 'ts',
  python: 'python',
  py: 'python',
  python3: 'python',
  checks: 'checks',
};

export interface ExtractInput {
  tree: Root;
  /** The document's full source text (for column positions of annotations). */
  source: string;
  /** Path shown in diagnostics. */
  file: string;
  docId: string;
  /** Parsed front matter when the tree carries no YAML node (inside a Docusaurus build). */
  frontMatter?: Record<string, unknown>;
}

interface Block {
  step: Step;
  annotation: StepAnnotation;
  /** Index of the innermost heading before it in `headings`, or -1. */
  headingIndex: number;
  order: number;
  /** Position of the `rollback=` value, for reference errors. */
  rollbackAt?: Position['start'];
}

interface HeadingInfo {
  slug: string;
  title: string;
  depth: number;
  position: Position;
  /** Index of the first block after it, and one past the last block of its range. */
  firstBlock: number;
  endBlock: number;
  parents: number[];
}

type Report = (severity: Severity, ruleId: string, message: string, line: number, column: number) => void;

export function extractRunbooks(input: ExtractInput): DocumentRunbooks {
  const diagnostics: Diagnostic[] = [];
  const lines = input.source.split(/\r?\n/);
  const report: Report = (severity, ruleId, message, line, column) => {
    diagnostics.push({ file: input.file, line, column, severity, ruleId, message });
  };

  const yamlNode = input.tree.children.find((n): n is Yaml => n.type === 'yaml');
  const settings = yamlNode
    ? readSettings({ yaml: yamlNode.value, yamlStartLine: (yamlNode.position?.start.line ?? 1) + 1 })
    : readSettings({ data: input.frontMatter ?? {} });
  diagnostics.push(...settings.problems.map((p) => placed(p, { file: input.file })));
  // Front matter `id` renames the document, as in Docusaurus (the folder part stays).
  const docId = settings.id ? input.docId.replace(/[^/]*$/, settings.id) : input.docId;

  const walk = new DocumentWalk(input.file, lines, report, diagnostics, { runme: settings.runme });
  walk.collect(input.tree.children);
  const { blocks, headings } = walk;
  // A document without headings (a Runme README, a script of a page) is one section.
  if (headings.length === 0 && blocks.length > 0) {
    const title = settings.title ?? path.basename(input.file).replace(/\.(md|mdx|markdown)$/i, '');
    const first = blocks[0]!.step.position;
    headings.push({
      slug: new GithubSlugger().slug(title) || 'document',
      title,
      depth: 1,
      position: { start: { line: 1, column: 1 }, end: first.start },
      firstBlock: 0,
      endBlock: blocks.length,
      parents: [],
    });
    for (const block of blocks) block.headingIndex = 0;
  }

  for (const block of blocks) {
    if (block.headingIndex === -1) {
      report(
        'warning',
        'orphan-block',
        `Unexpected executable block \`${block.step.id}\` before the first heading: it belongs to no section and never runs; move it under a heading`,
        block.step.position.start.line,
        block.step.position.start.column,
      );
    }
  }
  for (const block of blocks) {
    if (block.step.kind === 'check' && block.step.phase === undefined)
      block.step.phase = defaultPhase(block, blocks, headings);
  }
  const paramsFor = (block: Block): Param[] => {
    const heading = headings[block.headingIndex];
    const slugs = heading ? [...heading.parents.map((i) => headings[i]!.slug), heading.slug] : [];
    return resolveSectionSettings(settings, slugs).params;
  };
  const declaresRollbacks = blocks.some((b) => b.step.rollback !== undefined || b.step.kind === 'rollback');
  validateDocument({ blocks, paramsFor, report, lines, declaresRollbacks });

  const sections = assembleSections({ blocks, headings, settings, docId, file: input.file, declaresRollbacks });
  const docTitle = settings.title ?? headings.find((h) => h.depth === 1)?.title ?? docId;
  diagnostics.sort((a, b) => a.line - b.line || a.column - b.column || a.ruleId.localeCompare(b.ruleId));
  return { file: input.file, docId, title: docTitle, sections, diagnostics };
}

/** One pass over the tree: headings with the block ranges they hold, and each annotated code block. */
class DocumentWalk {
  readonly headings: HeadingInfo[] = [];
  readonly blocks: Block[] = [];
  /** The headings enclosing the current node, innermost last. */
  private readonly stack: number[] = [];
  private readonly slugger = new GithubSlugger();
  private previous: RootContent | undefined;
  /** How often each Runme `name` was seen: the second `x` runs as `x-2`, as in Runme. */
  private readonly names = new Map<string, number>();

  constructor(
    private readonly file: string,
    private readonly lines: string[],
    private readonly report: Report,
    private readonly diagnostics: Diagnostic[],
    private readonly document: { runme: RunmeFrontMatter },
  ) {}

  collect(nodes: RootContent[]): void {
    this.visit(nodes);
    this.closeHeadings(0);
  }

  private visit(nodes: RootContent[]): void {
    for (const node of nodes) {
      if (node.type === 'heading') {
        this.closeHeadings(node.depth);
        const info = headingInfo(node, this.slugger, this.stack.slice());
        info.firstBlock = this.blocks.length;
        this.headings.push(info);
        this.stack.push(this.headings.length - 1);
      } else if (node.type === 'code') {
        if (node.lang === 'output') this.attachOutput(node);
        else this.addBlock(node);
      } else if (node.type === 'html') {
        this.foreignAnnotation(node.value, node.position?.start ?? { line: 1, column: 1 });
      } else if ('children' in node && node.type !== 'paragraph') {
        this.visit(node.children as RootContent[]);
      }
      this.previous = node;
    }
  }

  private closeHeadings(depth: number): void {
    while (this.stack.length > 0 && this.headings[this.stack[this.stack.length - 1]!]!.depth >= depth) {
      this.headings[this.stack.pop()!]!.endBlock = this.blocks.length;
    }
  }

  private addBlock(given: Code): void {
    // ```{"name":"x"} with no language: markdown reads the annotation as the language (Runme does not).
    const node: Code =
      given.lang?.startsWith('{') === true
        ? { ...given, lang: null, meta: `${given.lang}${given.meta ? ` ${given.meta}` : ''}` }
        : given;
    const start = node.position?.start ?? { line: 1, column: 1 };
    const selected = selectAnnotation(node.meta ?? '');
    if (!selected) return;
    const metaColumn = locateMeta(this.lines[start.line - 1] ?? '', node.meta ?? '', start.column) + selected.offset;
    const at = (offset: number) => ({ line: start.line, column: metaColumn + offset });
    const parsed = parseMeta(selected.text);
    const { annotation, problems } = interpretAttributes(parsed.attributes);
    for (const p of [...parsed.problems, ...problems])
      this.report(p.severity ?? 'error', p.ruleId, p.message, at(p.offset).line, at(p.offset).column);
    // Runme's `ignore=true` / `transform=false`: plain text, whatever else the annotation says.
    if (annotation.ignore === true || annotation.transform === false) return;
    // A cell Runme saved with only its ULID: it answers to the name Runme generates for it.
    let generated = false;
    if (annotation.id !== undefined && ULID.test(annotation.id) && !annotation.idFromName) {
      const name = generatedName(node.value);
      if (name !== '') {
        annotation.id = name;
        annotation.idFromName = true;
        generated = true;
      }
    }
    if (annotation.id !== undefined && annotation.idFromName) {
      const seen = (this.names.get(annotation.id) ?? 0) + 1;
      this.names.set(annotation.id, seen);
      if (seen > 1) {
        const renamed = `${annotation.id}-${seen}`;
        if (!generated)
          this.report(
            'warning',
            'duplicate-name',
            `Unexpected second block named \`${annotation.id}\`: it runs as \`${renamed}\`, as in Runme; give it a name of its own`,
            start.line,
            metaColumn,
          );
        annotation.id = renamed;
      }
    }
    const serious = [...parsed.problems, ...problems].filter((p) => (p.severity ?? 'error') === 'error');
    if (annotation.id === undefined) {
      if (parsed.attributes.length > 0 && serious.length === 0 && !annotation.excluded)
        this.report(
          'warning',
          'missing-id',
          'Unexpected annotated block without an id: it is an example and never runs; add `id=<name>` to make it a step',
          start.line,
          metaColumn,
        );
      return;
    }
    // No language: a shell block, as Runme guesses with its bias towards shell. Any other language
    // runs with its interpreter (../languages/commands.ts says which, and `plan` says if it is missing).
    const languageId = (node.lang ?? '').toLowerCase();
    const lang: StepLanguage = languageId === '' ? 'sh' : (LANGUAGE_ALIASES[languageId] ?? 'program');
    const step = buildStep(node, { ...annotation, id: annotation.id }, lang, selected.text);
    if (languageId !== lang) step.languageId = languageId;
    if (lang === 'program' && annotation.interpreter === undefined && !hasInterpreter(languageId))
      this.report(
        'warning',
        'no-interpreter',
        `Unexpected language \`${node.lang}\` for executable block \`${step.id}\`: no interpreter is known for it, so it runs with \`cat\` (it is shown, as Runme shows it); name one with \`interpreter=\`, or use sh, bash, sql, js, ts, python or checks`,
        start.line,
        start.column,
      );
    this.applyRunme(step, annotation, start.line, metaColumn);
    const problemAt = (ruleId: string, message: string) =>
      this.report('error', ruleId, message, start.line, metaColumn);
    if (annotation.match !== undefined) {
      if (step.expectOutput)
        problemAt(
          'duplicate-output',
          `Unexpected \`match\` together with \`output\` on \`${step.id}\`, expected one of them`,
        );
      else step.expectOutput = { mode: 'regex', text: annotation.match, position: step.position };
    }
    if (lang === 'checks') {
      if (step.kind !== 'check')
        problemAt(
          'checks-kind',
          `Unexpected kind=${step.kind} on the checks block \`${step.id}\`, expected kind=check (a checks block only looks; leave kind out or write kind=check)`,
        );
      const where = { file: this.file, line: start.line + 1, indent: start.column - 1 };
      const read = readChecksBlock(node.value);
      this.diagnostics.push(...read.problems.map((p) => placed(p, where)));
      if (read.usesPostgres) step.usesPostgres = true;
    }
    const block: Block = {
      step,
      annotation,
      headingIndex: this.stack.length ? this.stack[this.stack.length - 1]! : -1,
      order: this.blocks.length,
    };
    const rollbackAttr = parsed.attributes.find((a) => a.key === 'rollback');
    if (rollbackAttr) block.rollbackAt = at(rollbackAttr.valueOffset);
    this.blocks.push(block);
  }

  /** Another doc-test tool's annotation (txm, Doc Detective): said, so nobody thinks it ran. */
  private foreignAnnotation(html: string, at: { line: number; column: number }): void {
    const tool = /^<!--\s*!test\b/.test(html)
      ? 'txm'
      : /^<!--\s*(test|step)\s*[{(]/.test(html)
        ? 'Doc Detective'
        : undefined;
    if (!tool) return;
    this.report(
      'warning',
      'foreign-annotation',
      `Unexpected ${tool} annotation, not understood (this comment changes nothing): exec-doc runs the blocks whose info string names them (\`\`\`sh {name=step}\`) and compares output with a following \`\`\`output block or \`output=\``,
      at.line,
      at.column,
    );
  }

  /** Runme's attributes and document options on a step: interpreter, shell, cwd, session prompts, tags. */
  private applyRunme(step: Step, annotation: StepAnnotation, line: number, column: number): void {
    const { runme } = this.document;
    const shell = step.lang === 'sh' || step.lang === 'bash';
    if (annotation.interpreter !== undefined) {
      if (step.lang === 'sql' || step.lang === 'checks')
        this.report(
          'warning',
          'interpreter-ignored',
          `Unexpected \`interpreter\` on the ${step.lang} block \`${step.id}\`: exec-doc runs ${step.lang === 'sql' ? "SQL on the section's PostgreSQL target" : 'checks'} itself; remove it`,
          line,
          column,
        );
      else step.interpreter = annotation.interpreter;
    } else if (shell && runme.shell !== undefined) step.interpreter = runme.shell;
    // The document's and the block's folders combine (`..` under `/tmp/x` is `/tmp`); an absolute one wins.
    if (runme.cwd !== undefined && !(step.cwd !== undefined && path.isAbsolute(step.cwd)))
      step.cwd = path.join(runme.cwd, step.cwd ?? '.');
    if (annotation.background) step.background = true;
    if (annotation.interactive) step.interactive = true;
    if (annotation.excluded) step.excludeFromRunAll = true;
    const tags = annotation.tags ?? runme.tags;
    if (tags && tags.length > 0) step.tags = tags;
    if (shell) {
      // Undeclared, a shared session treats the `export` lines as `auto` when it runs (../runner/prompt-env.ts).
      const skip = annotation.skipPrompts === true || runme.skipPrompts === true;
      const declared = annotation.promptEnv;
      if (declared !== undefined) step.promptEnv = declared !== 'never' && skip ? 'skip' : declared;
      else if (skip) step.promptEnv = 'skip';
    } else if (annotation.promptEnv !== undefined)
      this.report(
        'warning',
        'prompt-env-not-shell',
        `Unexpected \`promptEnv\` on the ${step.languageId ?? step.lang} block \`${step.id}\`: only shell blocks' \`export\` lines are prompted for; remove it`,
        line,
        column,
      );
  }

  /** An ```output block is the expected output of the executable block right before it. */
  private attachOutput(node: Code): void {
    const start = node.position?.start ?? { line: 1, column: 1 };
    const last = this.blocks[this.blocks.length - 1];
    const previous = this.previous;
    const adjacent =
      previous?.type === 'code' &&
      last !== undefined &&
      previous.position?.start.line === last.step.position.start.line;
    if (!adjacent || !last) {
      this.report(
        'warning',
        'orphan-output',
        'Unexpected ```output block that does not directly follow an executable block, expected it right after the block whose output it shows',
        start.line,
        start.column,
      );
      return;
    }
    if (last.step.expectOutput) {
      this.report(
        'error',
        'duplicate-output',
        `Unexpected \`\`\`output block for \`${last.step.id}\`, which already declares \`output\` or \`match\`, expected one of them`,
        start.line,
        start.column,
      );
      return;
    }
    last.step.expectOutput = { mode: 'exact', text: node.value, position: toPosition(node.position) };
  }
}

/** A step from its block and annotation, defaults filled in. */
function buildStep(node: Code, annotation: StepAnnotation & { id: string }, lang: StepLanguage, meta: string): Step {
  const step: Step = {
    id: annotation.id,
    kind: annotation.kind ?? (lang === 'checks' ? 'check' : 'step'),
    lang,
    code: node.value,
    timeoutMs: annotation.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retries: annotation.retries ?? 0,
    backoffMs: annotation.backoffMs ?? DEFAULT_BACKOFF_MS,
    expectExitCode: annotation.expectExitCode ?? 0,
    requires: annotation.requires ?? [],
    env: annotation.env ?? {},
    meta,
    position: toPosition(node.position),
  };
  if (annotation.phase !== undefined) step.phase = annotation.phase;
  if (annotation.rollback !== undefined) step.rollback = annotation.rollback;
  if (annotation.confirm !== undefined) step.confirm = annotation.confirm;
  if (annotation.idempotent) step.idempotent = true;
  if (annotation.fixture) step.fixture = true;
  if (annotation.cwd !== undefined) step.cwd = annotation.cwd;
  if (annotation.output !== undefined)
    step.expectOutput = { mode: 'exact', text: annotation.output, position: step.position };
  return step;
}

/**
 * Every heading that holds steps is a section: its blocks, plus the rollback partners they name
 * from elsewhere in the document, in document order.
 */
function assembleSections(input: {
  blocks: Block[];
  headings: HeadingInfo[];
  settings: ReturnType<typeof readSettings>;
  docId: string;
  file: string;
  declaresRollbacks: boolean;
}): Section[] {
  const { blocks, headings, settings, docId, file, declaresRollbacks } = input;
  const byId = new Map(blocks.map((b) => [b.step.id, b]));
  const sections: Section[] = [];
  for (const [headingIndex, heading] of headings.entries()) {
    const own = blocks.slice(heading.firstBlock, heading.endBlock);
    // The document title groups procedures; it is a runbook only when blocks sit directly under it.
    const direct = own.filter((b) => b.headingIndex === headingIndex);
    if (!own.some((b) => b.step.kind !== 'rollback') || (heading.depth === 1 && direct.length === 0)) continue;
    const included = new Map(own.map((b) => [b.step.id, b]));
    for (const block of own) {
      const partner = typeof block.step.rollback === 'string' ? byId.get(block.step.rollback) : undefined;
      if (partner && !included.has(partner.step.id)) included.set(partner.step.id, partner);
    }
    const steps = [...included.values()].sort((a, b) => a.order - b.order).map((b) => b.step);
    const parentSlugs = heading.parents.map((i) => headings[i]!.slug);
    const { params, target, rehearsalOnly, touches, session, strictRollback, hosts } = resolveSectionSettings(
      settings,
      [...parentSlugs, heading.slug],
    );
    const sharedSession = session === 'shared' || (settings.runme.declared && session !== 'isolated');
    const section: Omit<Section, 'contentHash'> = {
      address: `${docId}/${heading.slug}`,
      docId,
      file,
      slug: heading.slug,
      title: heading.title,
      depth: heading.depth,
      parents: parentSlugs,
      steps,
      params,
      target,
      position: heading.position,
      ...(settings.tags?.length ? { tags: settings.tags } : {}),
      ...(rehearsalOnly ? { rehearsalOnly: true as const } : {}),
      ...(touches.length > 0 ? { touches } : {}),
      ...(hosts ? { hosts } : {}),
      ...(!declaresRollbacks && !strictRollback ? { noRollbacks: true as const } : {}),
      ...(sharedSession ? { sharedSession: true as const } : {}),
    };
    sections.push({ ...section, contentHash: sectionContentHash(section) });
  }
  return sections;
}

function headingInfo(node: Heading, slugger: GithubSlugger, parents: number[]): HeadingInfo {
  const { title, slug } = headingSlug(node, slugger);
  return { slug, title, depth: node.depth, position: toPosition(node.position), firstBlock: 0, endBlock: 0, parents };
}

/** A heading's title and anchor, as Docusaurus makes them: `{#custom-id}`, else github-slugger. */
export function headingSlug(node: Heading, slugger: GithubSlugger): { title: string; slug: string } {
  const text = toString(node).trim();
  // Inside a Docusaurus build its own heading plugin has already moved `{#id}` into the node's data.
  const given =
    (node.data as { id?: unknown; hProperties?: { id?: unknown } } | undefined)?.hProperties?.id ??
    (node.data as { id?: unknown } | undefined)?.id;
  if (typeof given === 'string' && given !== '') {
    slugger.slug(given);
    return { title: text.replace(/\s*\\?\{#[A-Za-z0-9_-]+\\?\}\s*$/, ''), slug: given };
  }
  const explicit = /\s*\\?\{#([A-Za-z0-9_-]+)\\?\}\s*$/.exec(text);
  if (explicit) {
    slugger.slug(explicit[1]!);
    return { title: text.slice(0, explicit.index).trim(), slug: explicit[1]! };
  }
  return { title: text, slug: slugger.slug(text) };
}

export interface OutlineEntry {
  depth: number;
  title: string;
  slug: string;
  line: number;
  column: number;
}

/** Every heading of a document with its anchor, in order. */
export function outline(tree: Root): OutlineEntry[] {
  const slugger = new GithubSlugger();
  const out: OutlineEntry[] = [];
  const walk = (nodes: RootContent[]): void => {
    for (const node of nodes) {
      if (node.type === 'heading')
        out.push({
          depth: node.depth,
          ...headingSlug(node, slugger),
          line: node.position?.start.line ?? 1,
          column: node.position?.start.column ?? 1,
        });
      else if ('children' in node && node.type !== 'paragraph') walk(node.children as RootContent[]);
    }
  };
  walk(tree.children);
  return out;
}

function defaultPhase(block: Block, blocks: Block[], headings: HeadingInfo[]): CheckPhase {
  const heading = headings[block.headingIndex];
  const from = heading ? heading.firstBlock : 0;
  const before = blocks.slice(from, block.order);
  return before.some((b) => b.step.kind === 'step') ? 'post' : 'pre';
}

function toPosition(position: Code['position']): Position {
  return {
    start: { line: position?.start.line ?? 1, column: position?.start.column ?? 1 },
    end: { line: position?.end.line ?? 1, column: position?.end.column ?? 1 },
  };
}

export type { Block };
