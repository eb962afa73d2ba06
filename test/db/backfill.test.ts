// Backfills on a real PostgreSQL: complete, adaptive, throttled, stopped cleanly, killed with
// SIGKILL mid-way and resumed, with every row changed exactly once.
import { spawn } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useEmbeddedServer } from './pg-helpers.js';
import { backfill, backfillStatus, BackfillError } from '../../src/db/backfill.js';
import { ROOT } from '../helpers.js';

const server = useEmbeddedServer('backfill');

async function database(
  rows: number,
): Promise<{ url: string; query: (sql: string) => Promise<Record<string, unknown>[]> }> {
  const { url, query } =
    await server.database(`create table items (id bigint primary key, total int not null, size text, touched int not null default 0);
    insert into items select g, g % 1000, null, 0 from generate_series(1, ${rows}) g;`);
  return { url, query: async (sql: string) => (await query(sql)).rows as Record<string, unknown>[] };
}

const SET = "size = case when total >= 500 then 'large' else 'small' end, touched = touched + 1";

describe('backfill', () => {
  it('changes every matching row exactly once, in adaptive batches, reporting progress', async () => {
    const { url, query } = await database(20_000);
    const progress: number[] = [];
    const result = await backfill({
      connectionString: url,
      name: 'size',
      table: 'items',
      set: SET,
      where: 'size is null',
      batchSize: 500,
      targetBatchMs: 200,
      onProgress: (p) => progress.push(p.done),
    });
    expect(result).toMatchObject({ status: 'done', rowsDone: 20_000, rowsThisRun: 20_000, resumed: false });
    expect(progress[progress.length - 1]).toBe(20_000);
    expect(progress.length).toBe(result.batches);
    expect(result.batches).toBeLessThan(40);
    expect(await query('select touched, count(*)::int as n from items group by touched')).toEqual([
      { touched: 1, n: 20_000 },
    ]);
    expect(await query("select count(*)::int as n from items where size = 'large'")).toEqual([{ n: 10_000 }]);
    expect(
      (await backfill({ connectionString: url, name: 'size', table: 'items', set: SET, where: 'size is null' }))
        .rowsThisRun,
    ).toBe(0);
  });

  it('resumes after the process was killed with SIGKILL: no row missed, none done twice', async () => {
    const { url, query } = await database(6_000);
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'bin', 'db.js'),
        'backfill',
        '--name',
        'size',
        '--table',
        'items',
        '--set',
        SET,
        '--where',
        'size is null',
        '--batch',
        '200',
        '--max-batch',
        '200',
        '--sleep',
        '40ms',
      ],
      { env: { ...process.env, DATABASE_URL: url }, stdio: 'ignore' },
    );
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const exists = await query("select to_regclass('exec_doc.backfills') is not null as present");
      if (!exists[0]!.present) continue;
      const status = await query(
        "select coalesce((select rows_done from exec_doc.backfills where name = 'size'), 0)::int as done",
      );
      if ((status[0]!.done as number) >= 1000) break;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const before = (await query("select rows_done::int as done from exec_doc.backfills where name = 'size'"))[0]!
      .done as number;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(6_000);
    // Progress and data moved together: exactly the rows recorded as done were changed.
    expect((await query('select count(*)::int as n from items where touched = 1'))[0]!.n).toBe(before);
    const result = await backfill({
      connectionString: url,
      name: 'size',
      table: 'items',
      set: SET,
      where: 'size is null',
    });
    expect(result).toMatchObject({ status: 'done', resumed: true, rowsDone: 6_000, rowsThisRun: 6_000 - before });
    expect(await query('select touched, count(*)::int as n from items group by touched')).toEqual([
      { touched: 1, n: 6_000 },
    ]);
  }, 60_000);

  it('stops cleanly after the current batch, and refuses to resume with other settings', async () => {
    const { url, query } = await database(3_000);
    const controller = new AbortController();
    const paused = await backfill({
      connectionString: url,
      name: 'slow',
      table: 'items',
      set: SET,
      batchSize: 100,
      targetBatchMs: 5000,
      sleepMs: 10,
      signal: controller.signal,
      onProgress: (p) => p.done >= 500 && controller.abort(),
    });
    expect(paused.status).toBe('paused');
    expect(paused.rowsDone).toBeGreaterThanOrEqual(500);
    expect(paused.rowsDone).toBeLessThan(3_000);
    expect((await query('select count(*)::int as n from items where touched = 1'))[0]!.n).toBe(paused.rowsDone);
    await expect(backfill({ connectionString: url, name: 'slow', table: 'items', set: 'touched = 7' })).rejects.toThrow(
      BackfillError,
    );
    await backfill({
      connectionString: url,
      name: 'slow',
      table: 'items',
      set: SET,
      batchSize: 100,
      targetBatchMs: 5000,
    });
    expect(await query('select touched, count(*)::int as n from items group by touched')).toEqual([
      { touched: 1, n: 3_000 },
    ]);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    expect(await backfillStatus(c)).toEqual([
      { name: 'slow', table: 'items', rowsDone: 3_000, total: 3_000, finished: true },
    ]);
    await c.end();
  });

  it('explains a table it cannot walk', async () => {
    const { url, query } = await database(10);
    await query('create table nokey (v int)');
    await expect(backfill({ connectionString: url, name: 'x', table: 'nokey', set: 'v = 1' })).rejects.toThrow(
      'nokey has no primary key; pass --key <unique column> to walk it by',
    );
    await expect(
      backfill({ connectionString: url, name: 'x', table: 'items; drop table items', set: 'v = 1' }),
    ).rejects.toThrow(/is not a table name/);
  });
});

describe('backfill atomicity', () => {
  it('a batch and its progress are one transaction: when recording progress fails, the batch is not applied either', async () => {
    const { url, query } = await database(5_000);
    // Creates the progress table; then a trigger makes the fourth batch's progress update fail.
    await backfill({
      connectionString: url,
      name: 'warm-up',
      table: 'items',
      set: 'touched = touched',
      where: 'false',
      batchSize: 500,
    });
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`create function fail_after_1500() returns trigger language plpgsql as $$ begin if new.name = 'atomic' and new.rows_done > 1500 then raise exception 'injected: cannot record progress'; end if; return new; end $$;
      create trigger fail_after_1500 before update on exec_doc.backfills for each row execute function fail_after_1500();`);
    await c.end();
    await expect(
      backfill({
        connectionString: url,
        name: 'atomic',
        table: 'items',
        set: SET,
        where: 'size is null',
        batchSize: 500,
        maxBatchSize: 500,
      }),
    ).rejects.toThrow(/injected: cannot record progress/);
    const changed = Number((await query('select count(*) as n from items where touched = 1'))[0]!.n);
    const recorded = Number(
      (await query("select rows_done from exec_doc.backfills where name = 'atomic'"))[0]!.rows_done,
    );
    expect(recorded).toBe(1500);
    expect(changed).toBe(recorded);
  });
});
