// status, plan, up, down, verify and baseline: the versioned migrations of --dir against the ledger.
import type { DbContext } from './context.js';
import type { Migration } from '../../db/migration-files.js';

export async function statusCommand(ctx: DbContext): Promise<number> {
  const migrate = await import('../../db/migrate.js');
  const state = await migrate.status(await ctx.migrateOptions());
  if (ctx.options.json) {
    ctx.out(
      `${JSON.stringify(
        {
          applied: state.applied,
          pending: state.pending.map((m) => ({ version: m.version, name: m.name, transactional: m.transactional })),
          drift: state.drift.map((d) => ({
            version: d.row.version,
            name: d.row.name,
            applied: d.row.checksum,
            file: d.migration.checksum,
          })),
          unknown: state.unknown,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    for (const row of state.applied)
      ctx.out(
        `applied  ${row.version}_${row.name}  ${row.appliedAt}  ${row.durationMs} ms${row.baseline ? '  (baseline)' : ''}\n`,
      );
    for (const m of state.pending)
      ctx.out(
        `pending  ${m.version}_${m.name}${m.transactional ? '' : '  (outside a transaction)'}${m.repeatable ? '  (repeatable: applied again whenever it changes)' : ''}\n`,
      );
    for (const d of state.drift)
      ctx.out(`EDITED   ${d.row.version}_${d.row.name}  the file changed after it was applied\n`);
    for (const r of state.unknown) ctx.out(`UNKNOWN  ${r.version}_${r.name}  applied, but no file describes it\n`);
    const problems = state.drift.length + state.unknown.length;
    ctx.out(
      `${state.applied.length} applied, ${state.pending.length} pending${problems ? `, ${state.drift.length} edited, ${state.unknown.length} unknown` : ''}\n`,
    );
  }
  return state.drift.length + state.unknown.length > 0 ? 1 : 0;
}

/** The pending migrations `up` would apply: all, or those up to --to (`plan` first refuses a drifted ledger). */
async function pendingUpTo(ctx: DbContext, requireConsistent = true): Promise<Migration[]> {
  const migrate = await import('../../db/migrate.js');
  const { compareVersions } = await import('../../db/migration-files.js');
  const state = await migrate.status(await ctx.migrateOptions());
  if (requireConsistent) migrate.assertConsistent(state);
  const to = ctx.options.to;
  return state.pending.filter((m) => to === undefined || compareVersions(m.version, to) <= 0);
}

export async function planCommand(ctx: DbContext): Promise<number> {
  const todo = await pendingUpTo(ctx);
  if (ctx.options.json)
    ctx.out(
      `${JSON.stringify(
        todo.map((m) => ({ version: m.version, name: m.name, transactional: m.transactional, sql: m.up })),
        null,
        2,
      )}\n`,
    );
  else {
    for (const m of todo)
      ctx.out(
        `-- ${m.version}_${m.name} (${m.transactional ? 'one transaction' : 'outside a transaction'}; lock_timeout ${ctx.options.lockTimeoutMs} ms)\n${m.up.trimEnd()}\n\n`,
      );
    ctx.out(`${todo.length} migration(s) would be applied\n`);
  }
  return 0;
}

/** Lint errors in what `up` would apply stop it before anything is applied. */
async function lintBeforeUp(ctx: DbContext): Promise<number | undefined> {
  const { lintMigrations, formatFinding } = await import('../../db/lint/index.js');
  const { migrations } = await ctx.migrateOptions();
  // What this `up` applies, linted after the applied ones (whose schema it judges type changes by).
  const todo = new Set(await pendingUpTo(ctx, false));
  const ordered = [...migrations.filter((m) => !todo.has(m)), ...migrations.filter((m) => todo.has(m))];
  const lintedFiles = new Set([...todo].map((m) => m.files.up));
  const errors = (
    await lintMigrations(
      ordered.map((m) => ({ up: m.up, files: { up: m.files.up } })),
      { sameRunFrom: ordered.length - todo.size },
    )
  ).filter((f) => f.severity === 'error' && lintedFiles.has(f.file));
  if (errors.length === 0) return undefined;
  ctx.io.stderr.write(
    `db: the linter found ${errors.length} error(s) in pending migrations; nothing was applied\n${errors.map((f) => `  ${formatFinding(f)}\n`).join('')}  Fix them, accept one with \`-- lint-ignore: <rule>\` in the file, or pass --skip-lint.\n`,
  );
  return 1;
}

export async function upCommand(ctx: DbContext): Promise<number> {
  if (!ctx.options.skipLint) {
    const refused = await lintBeforeUp(ctx);
    if (refused !== undefined) return refused;
  }
  const migrate = await import('../../db/migrate.js');
  const { to } = ctx.options;
  const results = await migrate.up({ ...(await ctx.migrateOptions()), ...(to !== undefined ? { to } : {}) });
  return reportApplied(ctx, results, 'applied');
}

export async function downCommand(ctx: DbContext): Promise<number> {
  const migrate = await import('../../db/migrate.js');
  const { to, steps } = ctx.options;
  const results = await migrate.down({
    ...(await ctx.migrateOptions()),
    ...(to !== undefined ? { to } : {}),
    ...(steps !== undefined ? { steps } : {}),
  });
  return reportApplied(ctx, results, 'rolled back');
}

function reportApplied(
  ctx: DbContext,
  results: Array<{ version: string; name: string; durationMs: number; attempts: number }>,
  verb: 'applied' | 'rolled back',
): number {
  if (ctx.options.json) ctx.out(`${JSON.stringify(results, null, 2)}\n`);
  else if (results.length === 0) ctx.out(`nothing to ${verb === 'applied' ? 'apply' : 'roll back'}\n`);
  else
    ctx.out(
      results
        .map(
          (r) =>
            `${verb} ${r.version}_${r.name} in ${r.durationMs} ms${r.attempts > 1 ? ` (${r.attempts} attempts)` : ''}\n`,
        )
        .join(''),
    );
  return 0;
}

export async function verifyCommand(ctx: DbContext): Promise<number> {
  const migrate = await import('../../db/migrate.js');
  const results = await migrate.verify(await ctx.migrateOptions());
  if (results.length === 0) {
    // Nothing was checked: never reported as success that was not seen.
    const strict = ctx.options.strict;
    ctx.io.stderr.write(
      `db: nothing verified: no applied migration has a .verify.sql${strict ? '' : ' (a warning; --strict makes it a failure)'}\n`,
    );
    if (ctx.options.json) ctx.out(`${JSON.stringify([], null, 2)}\n`);
    return strict ? 1 : 0;
  }
  if (ctx.options.json) ctx.out(`${JSON.stringify(results, null, 2)}\n`);
  else
    ctx.out(
      results.map((r) => `${r.ok ? 'ok    ' : 'FAILED'} ${r.version}_${r.name}: ${r.detail}\n`).join('') +
        `${results.filter((r) => r.ok).length}/${results.length} verified\n`,
    );
  return results.every((r) => r.ok) ? 0 : 1;
}

export async function baselineCommand(ctx: DbContext): Promise<number> {
  const migrate = await import('../../db/migrate.js');
  const marked = await migrate.baseline({ ...(await ctx.migrateOptions()), version: ctx.options.to! });
  ctx.out(`recorded as applied without running: ${marked.join(', ')}\n`);
  return 0;
}
