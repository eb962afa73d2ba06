// What a rollback proof costs on a database with many tables: a whole-database snapshot against
// one scoped to the table a procedure changes (`touches`, `db snapshot --table`), side by side in
// one run on the embedded PostgreSQL, rounds alternating so that drift hits both.
import pg from 'pg';
import { openPostgres } from '../src/targets/postgres.js';
import { takeSnapshot } from '../src/db/snapshot.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function snapshotBench(say: (line: string) => void, tables = 2000, rows = 100, rounds = 5): Promise<void> {
  const server = await openPostgres(
    { kind: 'postgres', urlEnv: 'EXEC_DOC_BENCH_NO_URL', database: 'bench' },
    { runId: `bench-snapshot-${process.pid}`, env: {} },
  );
  const client = new pg.Client({ connectionString: server.url });
  try {
    await client.connect();
    await client.query(`do $$ begin
      for i in 1..${tables} loop
        execute format('create table t%s (id bigint primary key, v text not null, at timestamptz default now())', i);
        execute format('create index t%s_v on t%s (v)', i, i);
        execute format('insert into t%s (id, v) select g, md5(g::text) from generate_series(1, ${rows}) g', i);
      end loop; end $$`);
    const whole: number[] = [];
    const scoped: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      const all = await takeSnapshot(client);
      whole.push(performance.now() - t);
      t = performance.now();
      const one = await takeSnapshot(client, { tables: ['t42'] });
      scoped.push(performance.now() - t);
      if (Object.keys(all.tables).length !== tables || Object.keys(one.tables).length !== 1)
        throw new Error('snapshot bench: unexpected table count');
    }
    const w = median(whole);
    const s = median(scoped);
    say(
      `rollback proof on a database of ${tables} tables × ${rows} rows (each with a primary key and an index), median of ${rounds}: whole-database snapshot ${w.toFixed(0)} ms, scoped to the one table a procedure changes ${s.toFixed(1)} ms (${(w / s).toFixed(0)}x less)`,
    );
  } finally {
    await client.end().catch(() => undefined);
    await server.release();
  }
}
