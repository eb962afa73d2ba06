// Check results for people (a table), for programs (JSON) and for monitoring (Prometheus text
// format). The last results of every phase are kept in <state-dir>/checks/last.json, and the
// Prometheus file is rendered from all of them, so a scraper sees each phase's latest answer.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeAtomic } from '../util/fs.js';
import type { CheckResult, CheckStatus } from './types.js';
import { totals } from './run.js';

const COLORS: Record<CheckStatus, string> = { pass: '\x1b[32m', warn: '\x1b[33m', fail: '\x1b[31m', error: '\x1b[35m' };

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** One line per check (status, name, value, threshold, duration), then the detail of anything not passing. */
export function formatChecksTable(
  results: CheckResult[],
  options: { color?: boolean; title?: string; totalMs?: number } = {},
): string {
  const paint = (status: CheckStatus, text: string) => (options.color ? `${COLORS[status]}${text}\x1b[0m` : text);
  const rows = results.map(
    (r) => [r.name, clip(r.value ?? '-', 40), clip(r.threshold ?? '-', 48), formatDuration(r.durationMs)] as const,
  );
  const widths = [0, 1, 2].map((i) =>
    Math.max(['CHECK', 'VALUE', 'THRESHOLD'][i]!.length, ...rows.map((row) => row[i]!.length)),
  );
  const line = (status: string, cells: readonly string[]) =>
    `  ${status}  ${cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ')}`.trimEnd();
  const out: string[] = [];
  if (options.title) out.push(options.title);
  out.push(line('STATUS', ['CHECK', 'VALUE', 'THRESHOLD', 'TIME']));
  results.forEach((r, i) => {
    out.push(line(paint(r.status, r.status.toUpperCase().padEnd(6)), rows[i]!));
    if (r.status !== 'pass') out.push(`          ${r.detail}`);
  });
  const t = totals(results);
  out.push(
    `${results.length} checks: ${t.pass} pass, ${t.warn} warn, ${t.fail} fail, ${t.error} error${options.totalMs !== undefined ? ` in ${formatDuration(options.totalMs)}` : ''}`,
  );
  return `${out.join('\n')}\n`;
}

export interface ScopeResults {
  /** A phase (`pre-upgrade`) or a runbook step (`<section>#<step-id>`). */
  scope: string;
  finishedAt: string;
  results: CheckResult[];
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (pairs: Record<string, string>) =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;

/** Prometheus text exposition format (0.0.4) of the last results of each scope. */
export function formatPrometheus(scopes: ScopeResults[]): string {
  const sorted = [...scopes].sort((a, b) => a.scope.localeCompare(b.scope));
  const out: string[] = [];
  const family = (name: string, help: string, lines: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...lines);
  };
  family(
    'exec_doc_check_status',
    "1 for the status of the check's last result, 0 for the others.",
    sorted.flatMap((s) =>
      s.results.flatMap((r) =>
        (['pass', 'warn', 'fail', 'error'] as const).map(
          (status) =>
            `exec_doc_check_status${labels({ scope: s.scope, check: r.name, type: r.type, status })} ${r.status === status ? 1 : 0}`,
        ),
      ),
    ),
  );
  family(
    'exec_doc_check_value',
    'The value the check measured last, in the unit label.',
    sorted.flatMap((s) =>
      s.results
        .filter((r) => r.metric !== null)
        .map(
          (r) =>
            `exec_doc_check_value${labels({ scope: s.scope, check: r.name, type: r.type, unit: r.unit ?? '' })} ${r.metric}`,
        ),
    ),
  );
  family(
    'exec_doc_check_duration_seconds',
    'How long the check took last.',
    sorted.flatMap((s) =>
      s.results.map(
        (r) =>
          `exec_doc_check_duration_seconds${labels({ scope: s.scope, check: r.name, type: r.type })} ${r.durationMs / 1000}`,
      ),
    ),
  );
  family(
    'exec_doc_checks_last_run_timestamp_seconds',
    'When the checks of the scope last finished (Unix time).',
    sorted.map(
      (s) =>
        `exec_doc_checks_last_run_timestamp_seconds${labels({ scope: s.scope })} ${Date.parse(s.finishedAt) / 1000}`,
    ),
  );
  family(
    'exec_doc_checks_failed',
    'Checks of the scope whose last result was fail or error.',
    sorted.map(
      (s) => `exec_doc_checks_failed${labels({ scope: s.scope })} ${totals(s.results).fail + totals(s.results).error}`,
    ),
  );
  return `${out.join('\n')}\n`;
}

export const lastResultsFile = (stateDir: string) => path.join(stateDir, 'checks', 'last.json');
export const defaultPrometheusFile = (stateDir: string) => path.join(stateDir, 'checks', 'last.prom');

function readLast(file: string): ScopeResults[] {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as { scopes?: ScopeResults[] };
    return Array.isArray(value.scopes) ? value.scopes : [];
  } catch {
    // Missing or damaged: the latest results start it again.
    return [];
  }
}

/** Keeps `entry` as the last results of its scope and rewrites the Prometheus file from all scopes. */
export function recordLastResults(
  stateDir: string,
  entry: ScopeResults,
  prometheusFile?: string | null,
): { lastFile: string; prometheusFile: string } {
  const lastFile = lastResultsFile(stateDir);
  const scopes = readLast(lastFile).filter((s) => s.scope !== entry.scope);
  scopes.push(entry);
  scopes.sort((a, b) => a.scope.localeCompare(b.scope));
  writeAtomic(lastFile, `${JSON.stringify({ scopes }, null, 2)}\n`);
  const prom = prometheusFile ?? defaultPrometheusFile(stateDir);
  writeAtomic(prom, formatPrometheus(scopes));
  return { lastFile, prometheusFile: prom };
}
