// Renders query results as text, in psql's aligned format, so a step's output can be
// matched like any other command's.
import type { QueryResult } from 'pg';

export function formatResults(results: QueryResult[]): string {
  return results.map(formatResult).join('');
}

// int2, int4, int8, oid, float4, float8, numeric: right-aligned as psql does.
const NUMERIC_OIDS = new Set([20, 21, 23, 26, 700, 701, 1700]);

function formatResult(result: QueryResult): string {
  if (!result.fields || result.fields.length === 0) return `${commandTag(result)}\n`;
  const names = result.fields.map((f) => f.name);
  // Rows come in array mode with every value as PostgreSQL's own text (see ./sql.ts).
  const rows = (result.rows as unknown[][]).map((row) =>
    names.map((_, i) => (row[i] === null || row[i] === undefined ? '' : String(row[i]))),
  );
  const widths = names.map((name, i) => Math.max(width(name), ...rows.map((r) => width(r[i]!))));
  const numeric = result.fields.map((f) => NUMERIC_OIDS.has(f.dataTypeID));
  const pad = (text: string, i: number) => {
    const fill = ' '.repeat(Math.max(0, widths[i]! - width(text)));
    return numeric[i] ? fill + text : text + fill;
  };
  const line = (cells: string[]) =>
    cells
      .map((c) => ` ${c} `)
      .join('|')
      .replace(/\s+$/, '');
  const header = line(names.map((n, i) => center(n, widths[i]!)));
  const rule = widths.map((w) => '-'.repeat(w + 2)).join('+');
  const body = rows.map((r) => line(r.map(pad)));
  const count = `(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`;
  return [header, rule, ...body, count].join('\n') + '\n';
}

function commandTag(result: QueryResult): string {
  const count = result.rowCount ?? 0;
  switch (result.command) {
    case 'INSERT':
      return `INSERT 0 ${count}`;
    case 'UPDATE':
    case 'DELETE':
    case 'SELECT':
    case 'MERGE':
    case 'COPY':
    case 'MOVE':
    case 'FETCH':
      return `${result.command} ${count}`;
    default:
      return result.command ?? '';
  }
}

const width = (text: string): number => [...text].length;

function center(text: string, w: number): string {
  const total = w - width(text);
  const left = Math.floor(total / 2);
  return ' '.repeat(left) + text + ' '.repeat(total - left);
}
