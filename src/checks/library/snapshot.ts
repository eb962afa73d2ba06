// "Are we back where we were?": a snapshot of the database (schema and every table's rows)
// taken at the start, and a comparison with it after a rollback.
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { CheckCannotRun, type CheckContext, type CheckDefinition } from '../types.js';
import { withPostgres } from '../support.js';

export const BASELINE_FILE = 'baseline.snapshot.json';

function baselineFile(context: CheckContext, file: string | undefined): string {
  return file ?? path.join(context.workDir, BASELINE_FILE);
}

/** The runner's baseline: taken after the setup blocks, before the first other step, of a run that has `checks` blocks. */
export async function takeBaselineFile(url: string, file: string, tables?: readonly string[]): Promise<void> {
  const { connect } = await import('../../db/connect.js');
  const { takeSnapshot, writeSnapshot } = await import('../../db/snapshot.js');
  const client = await connect(url, 'exec-doc baseline');
  try {
    writeSnapshot(file, await takeSnapshot(client, tables ? { tables } : {}));
  } finally {
    await client.end();
  }
}

/** A damaged baseline (truncated, foreign) means the comparison cannot be made: error, with its position. */
function readBaseline<T>(file: string, read: (file: string) => T): T {
  try {
    return read(file);
  } catch (error) {
    throw new CheckCannotRun((error as Error).message);
  }
}

export const snapshotBaseline: CheckDefinition<{ file?: string | undefined }> = {
  type: 'snapshot.baseline',
  title: 'Baseline snapshot taken',
  description:
    "Takes the snapshot (schema fingerprint, each table's row count and checksum) that snapshot.identical compares with after a rollback. Inside a run the runner takes it before the first step, and this check reports it.",
  settings: z.strictObject({ file: z.string().min(1).optional() }),
  pathSettings: ['file'],
  usesPostgres: true,
  async run(context, s) {
    const file = baselineFile(context, s.file);
    const { readSnapshot, takeSnapshot, writeSnapshot } = await import('../../db/snapshot.js');
    if (context.keepBaseline && existsSync(file)) {
      const kept = readBaseline(file, readSnapshot);
      return {
        status: 'pass',
        value: `${Object.keys(kept.tables).length} tables (kept)`,
        metric: Object.keys(kept.tables).length,
        unit: 'count',
        threshold: 'taken after setup, before the first step',
        detail: `the baseline taken at ${kept.takenAt} is kept: ${file}`,
      };
    }
    const snapshot = await withPostgres(context, (c) => takeSnapshot(c));
    try {
      writeSnapshot(file, snapshot);
    } catch (error) {
      throw new CheckCannotRun(
        `cannot write the baseline ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    const rows = Object.values(snapshot.tables).reduce((n, t) => n + t.rows, 0);
    return {
      status: 'pass',
      value: `${Object.keys(snapshot.tables).length} tables, ${rows} rows`,
      metric: Object.keys(snapshot.tables).length,
      unit: 'count',
      threshold: null,
      detail: `schema ${snapshot.schemaFingerprint.slice(0, 12)} saved to ${file}`,
    };
  },
};

export const snapshotIdentical: CheckDefinition<{ file?: string | undefined; dataOnly: boolean }> = {
  type: 'snapshot.identical',
  title: 'Identical to the baseline',
  description:
    "Compares the database with the baseline snapshot: every schema object, and every table's row count and content checksum. Fails naming each difference.",
  settings: z.strictObject({ file: z.string().min(1).optional(), dataOnly: z.boolean().default(false) }),
  pathSettings: ['file'],
  usesPostgres: true,
  async run(context, s) {
    const file = baselineFile(context, s.file);
    const { readSnapshot, takeSnapshot, compareSnapshots, describeDifference, describeScope } =
      await import('../../db/snapshot.js');
    if (!existsSync(file))
      throw new CheckCannotRun(
        `no baseline snapshot at ${file}: run the pre-upgrade phase (snapshot.baseline) first, or set snapshot.identical.file`,
      );
    const baseline = readBaseline(file, readSnapshot);
    // Over what the baseline covers: on a real server, only the tables the procedure changes.
    const scope = baseline.scope;
    const current = await withPostgres(context, (c) => takeSnapshot(c, scope ? { tables: scope } : {}));
    const differences = compareSnapshots(baseline, current, { dataOnly: s.dataOnly });
    const threshold = s.dataOnly ? 'every table identical (data only)' : 'schema and every table identical';
    if (differences.length === 0)
      return {
        status: 'pass',
        value: '0 differences',
        metric: 0,
        unit: 'count',
        threshold,
        detail: `identical to the baseline of ${baseline.takenAt} (${Object.keys(current.tables).length} tables; compared ${describeScope(baseline)})`,
      };
    const shown = differences.slice(0, 10).map(describeDifference);
    return {
      status: 'fail',
      value: `${differences.length} differences`,
      metric: differences.length,
      unit: 'count',
      threshold,
      detail: `${shown.join('; ')}${differences.length > shown.length ? `; and ${differences.length - shown.length} more` : ''}`,
    };
  },
};
