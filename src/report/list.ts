// What `exec-doc list` shows: every executable section of the guide.
import type { SectionSummary } from '../documents/summary.js';
import type { DocumentRunbooks, Step } from '../model/types.js';
import { formatDiagnostic } from '../errors/exec-doc-error.js';
import { table } from './format.js';

export function formatList(entries: SectionSummary[], problems: { errors: number; warnings: number }): string {
  const found =
    problems.errors || problems.warnings
      ? `${problems.errors} error(s), ${problems.warnings} warning(s) in the documents (see \`exec-doc validate\`)`
      : '';
  // A guide whose every document fails to parse has no sections: the errors are why.
  if (entries.length === 0) return `No executable sections found${found ? `; ${found}` : ''}.\n`;
  const rows = entries.map((e) => [
    e.address,
    String(e.steps),
    String(e.checks),
    String(e.rollbacks),
    e.requirements.filter((r) => !r.startsWith('cmd:')).join(','),
  ]);
  let out = table(['section', 'steps', 'checks', 'rollbacks', 'requires'], rows, [1, 2, 3]);
  out += `\n${entries.length} section${entries.length === 1 ? '' : 's'}`;
  if (found) out += `; ${found}`;
  return `${out}\n`;
}

/** The first line of a block that is not blank or a comment, as Runme shows a block. */
function firstLine(step: Step): string {
  const line =
    step.code
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '' && !l.startsWith('#') && !l.startsWith('//') && !l.startsWith('--')) ?? '';
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

function flags(step: Step): string {
  return [
    step.kind !== 'step' ? step.kind : '',
    step.excludeFromRunAll ? 'only-by-name' : '',
    step.background ? 'background' : '',
    step.interactive ? 'interactive' : '',
    step.tags?.length ? `tag:${step.tags.join(',')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** `list <file>`: each section of one document and its blocks, with the names `run` takes. */
export function formatFileList(document: DocumentRunbooks, file: string): string {
  const out: string[] = [];
  for (const d of document.diagnostics) out.push(formatDiagnostic(d));
  if (document.sections.length === 0) out.push(`${file}: no executable blocks.`);
  for (const section of document.sections) {
    out.push(`${file}#${section.slug}  ${section.title}  (line ${section.position.start.line})`);
    const rows = section.steps.map((s) => [
      s.id,
      s.languageId !== undefined ? s.languageId || '(none)' : s.lang,
      flags(s),
      firstLine(s),
    ]);
    out.push(
      table(['block', 'lang', '', 'first line'], rows)
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  const blocks = new Set(document.sections.flatMap((s) => s.steps.map((step) => step.id))).size;
  out.push(
    `${document.sections.length} section${document.sections.length === 1 ? '' : 's'}, ${blocks} block${blocks === 1 ? '' : 's'}; run one with \`exec-doc run ${file}#<block>\``,
  );
  return `${out.join('\n')}\n`;
}

export function fileListJson(document: DocumentRunbooks, file: string): unknown {
  return {
    file,
    title: document.title,
    sections: document.sections.map((section) => ({
      address: section.address,
      run: `${file}#${section.slug}`,
      title: section.title,
      line: section.position.start.line,
      blocks: section.steps.map((s) => ({
        id: s.id,
        run: `${file}#${s.id}`,
        kind: s.kind,
        lang: s.lang,
        ...(s.languageId !== undefined ? { languageId: s.languageId } : {}),
        line: s.position.start.line,
        firstLine: firstLine(s),
        tags: s.tags ?? [],
        excludeFromRunAll: s.excludeFromRunAll === true,
        background: s.background === true,
        interactive: s.interactive === true,
      })),
    })),
    diagnostics: document.diagnostics,
  };
}
