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

describe('backfill settings, exactly', () => {
  it('batches double while they are fast and full, up to the maximum, and halve while they are slow', async () => {
    const { url } = await database(2_000);
    const growing: number[] = [];
    const grown = await backfill({
      connectionString: url,
      name: 'grow',
      table: 'items',
      set: 'touched = touched + 1',
      batchSize: 100,
      maxBatchSize: 400,
      targetBatchMs: 600_000,
      onProgress: (p) => growing.push(p.batchSize),
    });
    // 100 + 200 + 400 × 4 = 1,900 rows; the last 100 are a partial batch (not doubled after it).
    expect(growing).toEqual([100, 200, 400, 400, 400, 400, 400]);
    expect(grown).toMatchObject({ status: 'done', rowsDone: 2_000, rowsThisRun: 2_000, batches: 7, resumed: false });

    const { url: url2 } = await database(40);
    const shrinking: Array<[number, number]> = [];
    await backfill({
      connectionString: url2,
      name: 'shrink',
      table: 'items',
      set: 'touched = touched + 1',
      batchSize: 16,
      targetBatchMs: 0,
      onProgress: (p) => shrinking.push([p.batchSize, p.done]),
    });
    expect(shrinking.slice(0, 7)).toEqual([
      [16, 16],
      [8, 24],
      [4, 28],
      [2, 30],
      [1, 31],
      [1, 32],
      [1, 33],
    ]);
    expect(shrinking.length).toBe(14);
  });

  it('progress: rows done, the total that matched at the start, and times that only grow', async () => {
    const { url, query } = await database(1_000);
    await query('update items set size = $$x$$ where id <= 400');
    const seen: Array<{ done: number; total: number; lastBatchMs: number; elapsedMs: number; name: string }> = [];
    const result = await backfill({
      connectionString: url,
      name: 'rest',
      table: 'public.items',
      set: SET,
      where: 'size is null',
      batchSize: 250,
      maxBatchSize: 250,
      sleepMs: 30,
      onProgress: (p) => seen.push(p),
    });
    expect(seen.map((p) => [p.name, p.done, p.total])).toEqual([
      ['rest', 250, 600],
      ['rest', 500, 600],
      ['rest', 600, 600],
    ]);
    for (const [i, p] of seen.entries()) {
      expect(p.lastBatchMs).toBeGreaterThanOrEqual(0);
      expect(p.elapsedMs).toBeGreaterThanOrEqual(i === 0 ? 0 : seen[i - 1]!.elapsedMs + 30);
    }
    // Three pauses of 30 ms: one after each batch.
    expect(result.durationMs).toBeGreaterThanOrEqual(90);
    expect(await query('select count(*)::int as n from items where touched = 1')).toEqual([{ n: 600 }]);
  });

  it('a finished job run again does nothing and says so; a stopped one resumes where it stopped', async () => {
    const { url, query } = await database(600);
    const controller = new AbortController();
    const first = await backfill({
      connectionString: url,
      name: 'job',
      table: 'items',
      set: SET,
      batchSize: 200,
      maxBatchSize: 200,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    expect(first).toMatchObject({ status: 'paused', rowsDone: 200, rowsThisRun: 200, batches: 1, resumed: false });
    const totals: number[] = [];
    const second = await backfill({
      connectionString: url,
      name: 'job',
      table: 'items',
      set: SET,
      batchSize: 200,
      maxBatchSize: 200,
      onProgress: (p) => totals.push(p.total),
    });
    expect(second).toMatchObject({ status: 'done', rowsDone: 600, rowsThisRun: 400, batches: 2, resumed: true });
    expect(totals).toEqual([600, 600]);
    const third = await backfill({ connectionString: url, name: 'job', table: 'items', set: SET });
    expect(third).toEqual({
      name: 'job',
      status: 'done',
      rowsDone: 600,
      rowsThisRun: 0,
      batches: 0,
      durationMs: 0,
      resumed: true,
    });
    expect(await query('select touched, count(*)::int as n from items group by touched')).toEqual([
      { touched: 1, n: 600 },
    ]);
  });

  it('resuming with any other setting is refused, naming the ones it was started with', async () => {
    const { url, query } = await database(300);
    await query('alter table items add column code text unique');
    await query('update items set code = lpad(id::text, 6, $$0$$)');
    const controller = new AbortController();
    const start = { connectionString: url, name: 'job', table: 'items', set: SET, where: 'total > 5', batchSize: 100 };
    await backfill({ ...start, signal: controller.signal, onProgress: () => controller.abort() });
    const refusal =
      'backfill `job` was started with other settings (table items, key id, set ' +
      SET +
      ', where total > 5); resume it with the same ones, or use a new --name';
    await expect(backfill({ ...start, table: 'public.items' })).rejects.toThrow(refusal);
    await expect(backfill({ ...start, set: 'touched = 2' })).rejects.toThrow(refusal);
    await expect(backfill({ ...start, where: 'total > 6' })).rejects.toThrow(refusal);
    await expect(backfill({ ...start, where: undefined })).rejects.toThrow(refusal);
    await expect(backfill({ ...start, key: 'code' })).rejects.toThrow(refusal);
    // The key it defaulted to, named: the same settings.
    expect(await backfill({ ...start, key: 'id' })).toMatchObject({ status: 'done', resumed: true });

    // Without a where clause, none is named; an empty one is the same as none.
    const plain = { connectionString: url, name: 'plain', table: 'items', set: 'touched = touched', batchSize: 100 };
    const stop = new AbortController();
    await backfill({ ...plain, signal: stop.signal, onProgress: () => stop.abort() });
    await expect(backfill({ ...plain, set: 'touched = 0' })).rejects.toThrow(
      'backfill `plain` was started with other settings (table items, key id, set touched = touched); resume',
    );
    expect(await backfill({ ...plain, where: '' })).toMatchObject({ status: 'done', resumed: true });
  });

  it('walks by another unique column, in that column type’s order (text keys in text order)', async () => {
    const { url, query } = await database(0);
    await query('create table words (w text primary key, n int not null default 0)');
    await query(`insert into words (w) select 'w' || g from generate_series(1, 250) g`);
    const result = await backfill({
      connectionString: url,
      name: 'words',
      table: 'words',
      set: 'n = n + 1',
      batchSize: 7,
      maxBatchSize: 7,
    });
    expect(result).toMatchObject({ status: 'done', rowsDone: 250, batches: 36 });
    expect(await query('select n, count(*)::int as c from words group by n')).toEqual([{ n: 1, c: 250 }]);
    const last = await query("select last_key from exec_doc.backfills where name = 'words'");
    expect(last).toEqual([{ last_key: 'w99' }]);
  });

  it('refuses names it cannot use, and records no job for them', async () => {
    const { url, query } = await database(5);
    await query('create table pair (a int, b int, primary key (a, b))');
    const base = { connectionString: url, name: 'x', set: 'touched = 1' };
    for (const table of ['items x', 'a.b.c', '1items', 'items;', ' items', 'items '])
      await expect(backfill({ ...base, table })).rejects.toThrow(
        `--table: \`${table}\` is not a table name (schema.table or table)`,
      );
    for (const key of ['id, total', 'id;', ' id', '"id"'])
      await expect(backfill({ ...base, table: 'items', key })).rejects.toThrow(
        `--key: \`${key}\` is not a column name`,
      );
    await expect(backfill({ ...base, table: 'items', key: 'nope' })).rejects.toThrow('items has no column nope');
    await expect(backfill({ ...base, table: 'pair', set: 'a = a' })).rejects.toThrow(
      'pair has a primary key of several columns; pass --key <unique column> to walk it by',
    );
    expect(await query("select to_regclass('exec_doc.backfills') is null as none")).toEqual([{ none: false }]);
    expect(await query('select count(*)::int as n from exec_doc.backfills')).toEqual([{ n: 0 }]);
  });

  it('a database that never ran a backfill has no status to show', async () => {
    const { url } = await database(1);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      expect(await backfillStatus(c)).toEqual([]);
    } finally {
      await c.end();
    }
  });

  it('names itself to the server, measures in milliseconds, and a stopped resumed job says it was resumed', async () => {
    const { url } = await database(900);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const names: string[] = [];
    const times: number[] = [];
    const controller = new AbortController();
    const options = {
      connectionString: url,
      name: 'named',
      table: 'items',
      set: SET,
      batchSize: 300,
      maxBatchSize: 300,
    };
    // Each invocation's figures are at most the time it took, measured around it.
    const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
      const t0 = performance.now();
      const result = await work();
      return [result, performance.now() - t0];
    };
    const [first, firstMs] = await timed(() =>
      backfill({ ...options, signal: controller.signal, onProgress: () => controller.abort() }),
    );
    const again = new AbortController();
    const [second, secondMs] = await timed(() =>
      backfill({
        ...options,
        signal: again.signal,
        onProgress: (p) => {
          times.push(p.elapsedMs, p.lastBatchMs);
          again.abort();
        },
      }),
    );
    // A pause after each batch keeps the job's connection open while the query looks for it.
    const [third, thirdMs] = await timed(() =>
      backfill({
        ...options,
        sleepMs: 300,
        onProgress: async () => {
          const rows = await c.query<{ name: string }>(
            "select application_name as name from pg_stat_activity where application_name like 'exec-doc backfill%'",
          );
          names.push(...rows.rows.map((r) => r.name));
        },
      }),
    );
    await c.end();
    expect(first).toMatchObject({ status: 'paused', resumed: false });
    expect(second).toMatchObject({ status: 'paused', resumed: true, rowsDone: 600, rowsThisRun: 300 });
    expect(third).toMatchObject({ status: 'done', resumed: true, rowsDone: 900 });
    for (const [r, ms] of [
      [first, firstMs],
      [second, secondMs],
      [third, thirdMs],
    ] as const)
      expect(r.durationMs).toBeLessThanOrEqual(Math.ceil(ms) + 1);
    for (const t of times) expect(t).toBeLessThanOrEqual(Math.ceil(secondMs) + 1);
    expect(names).toContain('exec-doc backfill named');
  });
});
