// lint: a migrations folder, or files in the order given (`-` is standard input), as Squawk does.
import { readFileSync } from 'node:fs';
import { CodedError } from '../../util/coded-error.js';
import type { LintFinding } from '../../db/lint/types.js';
import type { DbContext } from './context.js';

export async function lintCommand(ctx: DbContext): Promise<number> {
  const { loadMigrations } = await import('../../db/migration-files.js');
  const { lintMigrations, lintSql, formatFinding } = await import('../../db/lint/index.js');
  let findings: LintFinding[];
  if (ctx.files.length === 0)
    findings = await lintMigrations(loadMigrations(ctx.options.dir, { format: ctx.options.format }));
  else {
    // Files share one schema model, so a later file is judged by what the earlier ones created.
    const schema = new Map();
    findings = [];
    for (const file of ctx.files) {
      const sql = file === '-' ? await readAll(ctx.io.stdin) : readSql(file);
      findings.push(
        ...(await lintSql(sql, file === '-' ? '<stdin>' : file, { schema, rollback: /\.down\.sql$/.test(file) })),
      );
    }
  }
  const errors = findings.filter((f) => f.severity === 'error').length;
  if (ctx.options.json)
    ctx.io.stdout.write(`${JSON.stringify({ errors, warnings: findings.length - errors, findings }, null, 2)}\n`);
  else
    ctx.io.stdout.write(
      `${findings.map((f) => `${formatFinding(f)}\n`).join('')}lint: ${errors} error(s), ${findings.length - errors} warning(s)\n`,
    );
  return errors > 0 ? 1 : 0;
}

function readSql(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CodedError('E_USAGE', `cannot read ${file}: ${reason}; pass SQL files, or - for standard input`, {
      cause: error,
    });
  }
}

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}
