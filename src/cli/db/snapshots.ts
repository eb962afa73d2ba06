// snapshot and compare: integrity snapshots of a database, and their differences.
import type { DbContext } from './context.js';

export async function snapshotCommand(ctx: DbContext): Promise<number> {
  const { writeSnapshot } = await import('../../db/snapshot.js');
  const now = await snapshotNow(ctx, ctx.options.tables);
  const out = ctx.options.out;
  if (out) {
    writeSnapshot(out.path, now);
    ctx.io.stderr.write(
      `db: snapshot of ${now.database}${now.scope ? ` (only ${now.scope.join(', ')})` : ''}: ${Object.keys(now.tables).length} table(s), schema ${now.schemaFingerprint.slice(0, 19)}… → ${out.given}\n`,
    );
  } else ctx.out(`${JSON.stringify(now, null, 2)}\n`);
  return 0;
}

/** compare <before.json> <after.json> reads two files; compare <before.json> the database now. */
export async function compareCommand(ctx: DbContext): Promise<number> {
  const { compareSnapshots, describeDifference, describeScope, readSnapshot } = await import('../../db/snapshot.js');
  const [beforeFile, afterFile] = ctx.files;
  const before = readSnapshot(beforeFile!);
  // The database now, over what the earlier snapshot covered.
  const after = afterFile !== undefined ? readSnapshot(afterFile) : await snapshotNow(ctx, before.scope);
  const differences = compareSnapshots(before, after, {
    dataOnly: ctx.options.dataOnly,
    schemaOnly: ctx.options.schemaOnly,
  });
  const summary =
    afterFile !== undefined
      ? 'identical\n'
      : `identical: schema ${after.schemaFingerprint.slice(0, 19)}…, ${Object.keys(after.tables).length} table(s) with the same rows${before.scope ? `; compared ${describeScope(before)}` : ''}\n`;
  if (ctx.options.json) ctx.out(`${JSON.stringify({ identical: differences.length === 0, differences }, null, 2)}\n`);
  else
    ctx.out(
      differences.length === 0
        ? summary
        : `${differences.length} difference(s):\n${differences.map((d) => `  ${describeDifference(d)}\n`).join('')}`,
    );
  return differences.length === 0 ? 0 : 1;
}

async function snapshotNow(ctx: DbContext, tables?: readonly string[]) {
  const pg = (await import('pg')).default;
  const { takeSnapshot } = await import('../../db/snapshot.js');
  const client = new pg.Client({ connectionString: ctx.url() });
  await client.connect();
  return takeSnapshot(client, tables ? { tables } : {}).finally(() => client.end());
}
