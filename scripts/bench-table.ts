// The table of headline figures at the top of BENCHMARKS.md, between two markers: each run of
// `npm run bench` replaces the rows of what it measured (with the date, machine and command) and
// keeps the others as they were, so the table always shows the latest run of every measure.
export const START = '<!-- bench:figures:start -->';
export const END = '<!-- bench:figures:end -->';
const HEADER = '| measure | figure | measured |\n|---|---|---|';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function updateFiguresTable(
  markdown: string,
  figures: ReadonlyArray<readonly [string, string]>,
  run: { date: string; machine: string; command: string },
): string {
  const start = markdown.indexOf(START);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start)
    throw new Error(`BENCHMARKS.md has no figures table: add the lines ${START} and ${END} where it goes`);
  const rows = new Map<string, string>();
  for (const line of markdown.slice(start + START.length, end).split('\n')) {
    const m = /^\| (.+?) \| .* \| .* \|$/.exec(line);
    if (m && !line.startsWith('| measure |') && !line.startsWith('|---')) rows.set(m[1]!, line);
  }
  const when = cell(`${run.date}, ${run.machine}: \`${run.command}\``);
  for (const [measure, figure] of figures) rows.set(cell(measure), `| ${cell(measure)} | ${cell(figure)} | ${when} |`);
  const table = [HEADER, ...rows.values()].join('\n');
  return `${markdown.slice(0, start + START.length)}\n${table}\n${markdown.slice(end)}`;
}
