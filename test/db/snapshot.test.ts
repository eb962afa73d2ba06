// Integrity snapshots on a real PostgreSQL: rollback identity, detection of every kind of
// change, independence from row order, and honest errors for damaged snapshot files.
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useEmbeddedServer } from './pg-helpers.js';
import {
  takeSnapshot,
  compareSnapshots,
  describeDifference,
  readSnapshot,
  SnapshotFileError,
} from '../../src/db/snapshot.js';
import { loadMigrations } from '../../src/db/migration-files.js';
import { up, down } from '../../src/db/migrate.js';
import { dbMain } from '../../src/cli/db/index.js';
import { captureIo, tempDir } from '../helpers.js';

const server = useEmbeddedServer('snapshot');

async function database(setup: string): Promise<{ url: string; client: pg.Client }> {
  const { url } = await server.database(setup);
  const client = new pg.Client({ connectionString: url });
  // The server stops after the tests: a connection left open then is not a test failure.
  client.on('error', () => undefined);
  await client.connect();
  return { url, client };
}

const SETUP = `create type mood as enum ('ok', 'meh');
create table customers (id int primary key, name text not null, mood mood default 'ok');
create table orders (id bigserial primary key, customer int references customers(id), total numeric(10,2) check (total >= 0));
create index orders_customer on orders (customer);
create view big_orders as select * from orders where total > 100;
create function touch() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger orders_touch before update on orders for each row execute function touch();
insert into customers select g, 'c' || g from generate_series(1, 200) g;
insert into orders (customer, total) select 1 + g % 200, g from generate_series(1, 2000) g;`;

describe('snapshots', () => {
  it('prove that up then down leaves schema and data identical', async () => {
    const { url, client } = await database(SETUP);
    const dir = path.join(tempDir(), 'migrations');
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, '0001_flag.up.sql'),
      'alter table orders add column flagged boolean not null default false;\nupdate orders set flagged = total > 1500;\ncreate index concurrently_not_needed on orders (flagged);',
    );
    writeFileSync(
      path.join(dir, '0001_flag.down.sql'),
      'drop index concurrently_not_needed;\nalter table orders drop column flagged;',
    );
    const before = await takeSnapshot(client);
    expect(Object.keys(before.tables)).toEqual(['public.customers', 'public.orders']);
    expect(before.tables['public.orders']!.rows).toBe(2000);
    await up({ connectionString: url, migrations: loadMigrations(dir) });
    const during = await takeSnapshot(client);
    const changes = compareSnapshots(before, during).map(describeDifference);
    expect(changes).toContain('+ column public.orders.flagged: boolean not null default false #4');
    expect(changes).toContain(
      '+ index public.concurrently_not_needed: CREATE INDEX concurrently_not_needed ON public.orders USING btree (flagged)',
    );
    expect(changes).toContain('~ table public.orders: same row count, different contents');
    await down({ connectionString: url, migrations: loadMigrations(dir) });
    expect(compareSnapshots(before, await takeSnapshot(client))).toEqual([]);
    await client.end();
  });

  it('see every kind of change, and not the physical order of rows', async () => {
    const a = await database(SETUP);
    const b = await database(
      SETUP.replace(
        "insert into customers select g, 'c' || g from generate_series(1, 200) g;",
        "insert into customers select g, 'c' || g from generate_series(200, 1, -1) g;",
      ),
    );
    const sa = await takeSnapshot(a.client);
    expect(compareSnapshots(sa, await takeSnapshot(b.client))).toEqual([]);
    await b.client.query("update customers set name = 'changed' where id = 7");
    await b.client.query('delete from orders where id = 1');
    await b.client.query('alter table customers alter column name drop not null');
    await b.client.query("alter type mood add value 'great'");
    await b.client.query('alter table orders drop constraint orders_total_check');
    const diff = compareSnapshots(sa, await takeSnapshot(b.client)).map(describeDifference);
    expect(diff).toEqual([
      '~ column public.customers.name: text not null #2 → text #2',
      // PostgreSQL 18 keeps NOT NULL as a named constraint as well.
      '- constraint public.customers.customers_name_not_null: NOT NULL name',
      '- constraint public.orders.orders_total_check: CHECK ((total >= (0)::numeric))',
      '~ type public.mood: ok,meh → ok,meh,great',
      '~ table public.customers: same row count, different contents',
      '~ table public.orders: 2000 rows → 1999 rows',
    ]);
    await a.client.end();
    await b.client.end();
  });

  it('files: written by `db snapshot`, compared by `db compare`, and a truncated one is a positioned error', async () => {
    const { url, client } = await database(SETUP);
    const file = path.join(tempDir(), 'before.json');
    const streams = () => {
      const io = captureIo({ DATABASE_URL: url });
      return { io, out: io.out, err: io.err };
    };
    const s1 = streams();
    expect(await dbMain(['snapshot', '--out', file], s1.io)).toBe(0);
    expect(s1.err()).toMatch(/snapshot of snapshot_\d+_\d+: 2 table\(s\), schema sha256:/);
    const same = streams();
    expect(await dbMain(['compare', file], same.io)).toBe(0);
    expect(same.out()).toMatch(/^identical: schema sha256:\w+…, 2 table\(s\) with the same rows\n$/);
    await client.query("insert into customers values (999, 'new')");
    const changed = streams();
    expect(await dbMain(['compare', file, '--json'], changed.io)).toBe(1);
    expect(JSON.parse(changed.out())).toEqual({
      identical: false,
      differences: [{ kind: 'rows', object: 'table public.customers', before: '200', after: '201' }],
    });
    // --schema-only: the same rows changed in place are not a difference; a row more still is.
    await client.query("update customers set name = 'changed' where id = 1");
    const before = path.join(tempDir(), 'before-update.json');
    expect(await dbMain(['snapshot', '--out', before], streams().io)).toBe(0);
    await client.query("update customers set name = 'changed again' where id = 1");
    const contentOnly = streams();
    expect(await dbMain(['compare', before, '--schema-only'], contentOnly.io)).toBe(0);
    const contentFull = streams();
    expect(await dbMain(['compare', before], contentFull.io)).toBe(1);
    expect(contentFull.out()).toContain('same row count, different contents');
    await client.query("insert into customers values (1000, 'another')");
    expect(await dbMain(['compare', before, '--schema-only'], streams().io)).toBe(1);
    const both = streams();
    expect(await dbMain(['compare', before, '--schema-only', '--data-only'], both.io)).toBe(64);
    expect(both.err()).toContain('--schema-only and --data-only exclude each other');
    const elsewhere = streams();
    expect(await dbMain(['snapshot', '--schema-only'], elsewhere.io)).toBe(64);
    expect(elsewhere.err()).toContain('--schema-only is for compare, not snapshot');
    const text = readFileSync(file, 'utf8');
    const truncated = path.join(tempDir(), 'truncated.json');
    writeFileSync(truncated, text.slice(0, Math.floor(text.length / 2)));
    expect(() => readSnapshot(truncated)).toThrow(SnapshotFileError);
    const bad = streams();
    expect(await dbMain(['compare', truncated, file], bad.io)).toBe(64);
    expect(bad.err()).toMatch(
      /truncated\.json:\d+:\d+: Unexpected end of the snapshot \(truncated\?\), expected complete JSON; take the snapshot again\n$/,
    );
    const foreign = path.join(tempDir(), 'foreign.json');
    writeFileSync(foreign, '{"hello": 1}');
    expect(() => readSnapshot(foreign)).toThrow(
      /foreign\.json:1:1: Unexpected content, expected a snapshot of format 1/,
    );
    await client.end();
  });
});
