// What `exec-doc list` shows: every executable section of the guide.
import type { SectionSummary } from '../documents/summary.js';
import { table } from './format.js';

export function formatList(entries: SectionSummary[], problems: { errors: number; warnings: number }): string {
  if (entries.length === 0) return 'No executable sections found.\n';
  const rows = entries.map((e) => [
    e.address,
    String(e.steps),
    String(e.checks),
    String(e.rollbacks),
    e.requirements.filter((r) => !r.startsWith('cmd:')).join(','),
  ]);
  let out = table(['section', 'steps', 'checks', 'rollbacks', 'requires'], rows, [1, 2, 3]);
  out += `\n${entries.length} section${entries.length === 1 ? '' : 's'}`;
  if (problems.errors || problems.warnings)
    out += `; ${problems.errors} error(s), ${problems.warnings} warning(s) in the documents (see \`exec-doc validate\`)`;
  return `${out}\n`;
}
