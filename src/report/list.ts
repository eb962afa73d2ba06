// What `exec-doc list` shows: every executable section of the guide.
import type { DocumentRunbooks } from '../model/types.js';
import { buildPlan } from '../runner/plan.js';
import { table } from './format.js';

export interface ListEntry {
  address: string;
  title: string;
  file: string;
  line: number;
  steps: number;
  checks: number;
  rollbacks: number;
  requirements: string[];
  params: string[];
  contentHash: string;
}

export function listEntries(docs: DocumentRunbooks[]): ListEntry[] {
  return docs
    .flatMap((doc) =>
      doc.sections.map((section) => {
        const plan = buildPlan(section);
        return {
          address: section.address,
          title: section.title,
          file: section.file,
          line: section.position.start.line,
          steps: section.steps.filter((s) => s.kind === 'step' || s.kind === 'setup').length,
          checks: section.steps.filter((s) => s.kind === 'check').length,
          rollbacks: section.steps.filter((s) => s.kind === 'rollback').length,
          requirements: plan.requirements,
          params: section.params.map((p) => p.name),
          contentHash: section.contentHash,
        };
      }),
    )
    .sort((a, b) => a.address.localeCompare(b.address));
}

export function formatList(entries: ListEntry[], problems: { errors: number; warnings: number }): string {
  if (entries.length === 0) return 'No executable sections found.\n';
  const rows = entries.map((e) => [e.address, String(e.steps), String(e.checks), String(e.rollbacks), e.requirements.filter((r) => !r.startsWith('cmd:')).join(',')]);
  let out = table(['section', 'steps', 'checks', 'rollbacks', 'requires'], rows, [1, 2, 3]);
  out += `\n${entries.length} section${entries.length === 1 ? '' : 's'}`;
  if (problems.errors || problems.warnings) out += `; ${problems.errors} error(s), ${problems.warnings} warning(s) in the documents (see \`exec-doc validate\`)`;
  return `${out}\n`;
}
