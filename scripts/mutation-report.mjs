// Scores and surviving mutants per module, from Stryker's JSON report (reports/mutation.json):
// `npm run test:mutation:report [-- <file>…] [--survivors]`. The score is Stryker's: mutants
// killed or timed out, over those that compiled and were not ignored; "of covered" leaves out the
// mutants no test reaches.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const INVALID = new Set(['CompileError', 'RuntimeError', 'Ignored']);

/** One row per file of the report: counts by status, the score and the score of covered mutants. */
export function summarize(report, files = Object.keys(report.files)) {
  return files.map((file) => {
    const entry = report.files[file];
    if (!entry) return { file, missing: true };
    const counts = {};
    for (const m of entry.mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
    const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
    const valid = entry.mutants.filter((m) => !INVALID.has(m.status)).length;
    const covered = valid - (counts.NoCoverage ?? 0);
    const percent = (n, d) => (d === 0 ? null : Math.round((1000 * n) / d) / 10);
    return {
      file,
      valid,
      killed: counts.Killed ?? 0,
      timedOut: counts.Timeout ?? 0,
      survived: counts.Survived ?? 0,
      noCoverage: counts.NoCoverage ?? 0,
      // Marked equivalent in the code (`// Stryker disable next-line <mutator>: <reason>`): not scored.
      ignored: counts.Ignored ?? 0,
      score: percent(detected, valid),
      scoreOfCovered: percent(detected, covered),
      survivors: entry.mutants
        .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
        .map((m) => ({
          status: m.status,
          line: m.location.start.line,
          column: m.location.start.column,
          mutator: m.mutatorName,
          replacement: m.replacement ?? '',
        }))
        .sort((a, b) => a.line - b.line || a.column - b.column),
    };
  });
}

function main(argv) {
  const showSurvivors = argv.includes('--survivors');
  const reportFile = process.env.MUTATION_REPORT ?? 'reports/mutation.json';
  let report;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch (error) {
    process.stderr.write(`cannot read ${reportFile}: ${error.message}; run \`npm run test:mutation\` first\n`);
    return 1;
  }
  const wanted = argv.filter((a) => !a.startsWith('--'));
  const rows = summarize(report, wanted.length > 0 ? wanted : undefined);
  const out = [
    '| module | mutants | killed | timed out | survived | no coverage | ignored (equivalent) | score (of covered) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    if (r.missing) {
      out.push(`| ${r.file} | not in the report | | | | | | |`);
      continue;
    }
    out.push(
      `| ${r.file} | ${r.valid} | ${r.killed} | ${r.timedOut} | ${r.survived} | ${r.noCoverage} | ${r.ignored} | ${r.score} % (${r.scoreOfCovered} %) |`,
    );
  }
  if (showSurvivors)
    for (const r of rows.filter((x) => !x.missing && x.survivors.length > 0)) {
      out.push('', `${r.file}:`);
      for (const s of r.survivors)
        out.push(`  ${s.line}:${s.column} ${s.status} ${s.mutator} ${JSON.stringify(s.replacement).slice(0, 80)}`);
    }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main(process.argv.slice(2));
