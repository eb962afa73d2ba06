// backfill: a batched, resumable data change, with progress and a clean stop on Ctrl-C.
import type { Io } from '../main.js';
import { CodedError } from '../../util/coded-error.js';
import type { DbContext } from './context.js';

export async function backfillCommand(ctx: DbContext): Promise<number> {
  const { backfill, BackfillError } = await import('../../db/backfill.js');
  const settings = ctx.options.backfill!;
  const controller = new AbortController();
  const onSignal = () => {
    ctx.io.stderr.write('\ndb: stopping after the current batch (progress is kept; run the same command to resume)\n');
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = progressRenderer(ctx.io);
  try {
    const result = await backfill({
      connectionString: ctx.url(),
      ...settings,
      signal: controller.signal,
      onProgress: bar.update,
    });
    bar.done();
    if (ctx.options.json) ctx.out(`${JSON.stringify(result, null, 2)}\n`);
    else
      ctx.out(
        result.status === 'done'
          ? `backfill ${result.name}: done, ${result.rowsDone} row(s)${result.resumed ? ` (${result.rowsThisRun} in this run, the rest before)` : ''} in ${result.batches} batch(es), ${result.durationMs} ms\n`
          : `backfill ${result.name}: paused after ${result.rowsDone} row(s); run the same command to resume\n`,
      );
    return result.status === 'done' ? 0 : 130;
  } catch (error) {
    bar.done();
    // The job's settings, or what PostgreSQL said of the SET and WHERE given (an SQLSTATE code):
    // the user's to fix, not a bug.
    const sqlState = !(error instanceof CodedError) && typeof (error as { code?: unknown }).code === 'string';
    if (error instanceof BackfillError || sqlState)
      throw new BackfillError(`backfill failed: ${(error as Error).message}`, { cause: error });
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A progress bar on a terminal; elsewhere a line every 2 s. */
function progressRenderer(io: Io): {
  update: (p: { done: number; total: number; batchSize: number; elapsedMs: number }) => void;
  done: () => void;
} {
  const tty = Boolean((io.stderr as { isTTY?: boolean }).isTTY);
  let lastLine = 0;
  let drawn = false;
  return {
    update(p) {
      const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
      const rate = p.elapsedMs > 0 ? Math.round((p.done / p.elapsedMs) * 1000) : 0;
      const text = `${p.done}/${p.total} rows (${Math.round(ratio * 100)} %), batch ${p.batchSize}, ${rate} rows/s`;
      if (tty) {
        const width = 30;
        const filled = Math.round(ratio * width);
        io.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}\x1b[K`);
        drawn = true;
      } else if (p.elapsedMs - lastLine >= 2000) {
        lastLine = p.elapsedMs;
        io.stderr.write(`db: backfill ${text}\n`);
      }
    },
    done() {
      if (drawn) io.stderr.write('\n');
      drawn = false;
    },
  };
}
