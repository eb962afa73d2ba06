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
  describeScope,
  quoteIdent,
  readSnapshot,
  SnapshotFileError,
  writeSnapshot,
  type Snapshot,
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

describe('what a snapshot holds', () => {
  it('one entry per object, each kind under its own key, ledger schema and system schemas left out', async () => {
    const { client } = await database(
      `${SETUP}\ncreate schema exec_doc; create table exec_doc.ignored (v int);\ncreate unlogged table scratch (v int);\ncreate sequence counter;\ncreate materialized view mv as select 1 as one;`,
    );
    const snapshot = await takeSnapshot(client);
    const kinds = (kind: string) => Object.keys(snapshot.schema).filter((k) => k.startsWith(`${kind} `));
    expect(kinds('schema')).toEqual(['schema public']);
    expect(snapshot.schema['schema public']).toBe('pg_database_owner');
    expect(kinds('relation')).toEqual([
      'relation public.big_orders',
      'relation public.counter',
      'relation public.customers',
      'relation public.mv',
      'relation public.orders',
      'relation public.orders_id_seq',
      'relation public.scratch',
    ]);
    expect(snapshot.schema['relation public.scratch']).toBe('r persistence=u');
    expect(snapshot.schema['relation public.counter']).toBe('S persistence=p');
    expect(snapshot.schema['relation public.big_orders']).toBe('v persistence=p');
    expect(snapshot.schema['column public.customers.mood']).toBe("mood default 'ok'::mood #3");
    expect(snapshot.schema['column public.mv.one']).toBe('integer #1');
    expect(kinds('view')).toEqual(['view public.big_orders', 'view public.mv']);
    expect(snapshot.schema['function public.touch()']).toContain('CREATE OR REPLACE FUNCTION public.touch()');
    expect(snapshot.schema['trigger public.orders.orders_touch']).toBe(
      'CREATE TRIGGER orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION touch()',
    );
    expect(snapshot.schema['index public.orders_pkey']).toBe(
      'CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)',
    );
    expect(snapshot.schema['constraint public.orders.orders_customer_fkey']).toBe(
      'FOREIGN KEY (customer) REFERENCES customers(id)',
    );
    expect(snapshot.schema['type public.mood']).toBe('ok,meh');
    expect(Object.keys(snapshot.schema).some((k) => k.includes('exec_doc') || k.includes('pg_catalog'))).toBe(false);
    expect(Object.keys(snapshot.tables)).toEqual(['public.customers', 'public.orders', 'public.scratch']);
    expect(snapshot.tables['public.scratch']).toEqual({ rows: 0, checksum: 'md5:d41d8cd98f00b204e9800998ecf8427e' });
    expect(Object.keys(snapshot.schema)).toEqual(Object.keys(snapshot.schema).sort());
    expect(snapshot).toMatchObject({ format: 1, database: expect.stringMatching(/^snapshot_/) });
    expect(snapshot.serverVersion).toMatch(/^\d+/);
    expect(snapshot.schemaFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect('scope' in snapshot).toBe(false);
    // Other schemas to leave out, when asked: the ledger schema is then in.
    const withLedger = await takeSnapshot(client, { excludeSchemas: [] });
    expect(Object.keys(withLedger.tables)).toContain('exec_doc.ignored');
    await client.end();
  });

  it('scoped to some tables: their columns, constraints, indexes, triggers and rows, nothing else', async () => {
    const { client } = await database(SETUP);
    const snapshot = await takeSnapshot(client, { tables: ['Orders', 'public.orders'] });
    expect(snapshot.scope).toEqual(['public.orders']);
    expect((await takeSnapshot(client, { tables: ['orders', 'customers'] })).scope).toEqual([
      'public.customers',
      'public.orders',
    ]);
    expect(Object.keys(snapshot.tables)).toEqual(['public.orders']);
    const keys = Object.keys(snapshot.schema);
    expect(keys.every((k) => k.includes('public.orders'))).toBe(true);
    expect(keys.filter((k) => !k.startsWith('column '))).toEqual([
      'constraint public.orders.orders_customer_fkey',
      // PostgreSQL 18 (the embedded server) names NOT NULL constraints too.
      'constraint public.orders.orders_id_not_null',
      'constraint public.orders.orders_pkey',
      'constraint public.orders.orders_total_check',
      'index public.orders_customer',
      'index public.orders_pkey',
      'relation public.orders',
      'trigger public.orders.orders_touch',
    ]);
    // A change outside the scope is not seen; one inside is.
    await client.query("insert into customers values (9999, 'new')");
    expect(compareSnapshots(snapshot, await takeSnapshot(client, { tables: ['orders'] }))).toEqual([]);
    await client.query('update orders set total = total + 1 where id = 1');
    expect(
      compareSnapshots(snapshot, await takeSnapshot(client, { tables: ['orders'] })).map(describeDifference),
    ).toEqual(['~ table public.orders: same row count, different contents']);
    await expect(takeSnapshot(client, { tables: ['orders; drop table orders'] })).rejects.toThrow(
      '`orders; drop table orders` is not a table name: expected `table` or `schema.table`',
    );
    await client.end();
  });
});

describe('comparing snapshots', () => {
  const snap = (over: Partial<Snapshot> = {}): Snapshot => ({
    format: 1,
    database: 'd',
    serverVersion: '18',
    takenAt: '2026-11-24T00:00:00Z',
    schemaFingerprint: 'sha256:x',
    schema: { 'table public.a': 'r', 'column public.a.v': 'int #1' },
    tables: { 'public.a': { rows: 2, checksum: 'md5:1' } },
    ...over,
  });

  it('names each kind of difference, in order of the objects', () => {
    const before = snap({ schema: { 'column public.a.v': 'int #1', 'index public.i': 'x', 'type public.t': 'a' } });
    const after = snap({ schema: { 'column public.a.v': 'bigint #1', 'index public.j': 'y', 'type public.t': 'a' } });
    expect(compareSnapshots(before, after).map(describeDifference)).toEqual([
      '~ column public.a.v: int #1 → bigint #1',
      '- index public.i: x',
      '+ index public.j: y',
    ]);
    expect(compareSnapshots(before, before)).toEqual([]);
    // In object order, whatever order the snapshots list them in.
    const first = snap({
      schema: { 'type public.t': 'a', 'column public.a.v': 'int #1' },
      tables: { 'public.z': { rows: 1, checksum: 'md5:z' }, 'public.a': { rows: 2, checksum: 'md5:1' } },
    });
    const second = snap({
      schema: { 'type public.t': 'b', 'column public.a.v': 'int #2', 'aaa public.new': 'x' },
      tables: { 'public.z': { rows: 2, checksum: 'md5:z' }, 'public.a': { rows: 3, checksum: 'md5:1' } },
    });
    expect(compareSnapshots(first, second).map((d) => d.object)).toEqual([
      'aaa public.new',
      'column public.a.v',
      'type public.t',
      'table public.a',
      'table public.z',
    ]);
  });

  it('rows before contents; contents only without --schema-only; tables added or removed only with --data-only', () => {
    const before = snap({
      tables: { 'public.a': { rows: 2, checksum: 'md5:1' }, 'public.b': { rows: 1, checksum: 'md5:b' } },
    });
    const after = snap({
      schema: { 'table public.a': 'r', 'column public.a.v': 'text #1' },
      tables: { 'public.a': { rows: 2, checksum: 'md5:2' }, 'public.c': { rows: 5, checksum: 'md5:c' } },
    });
    expect(compareSnapshots(before, after).map(describeDifference)).toEqual([
      '~ column public.a.v: int #1 → text #1',
      '~ table public.a: same row count, different contents',
    ]);
    expect(compareSnapshots(before, after, { dataOnly: true })).toEqual([
      { kind: 'content', object: 'table public.a', before: 'md5:1', after: 'md5:2' },
      { kind: 'removed', object: 'table public.b', before: '1 rows' },
      { kind: 'added', object: 'table public.c', after: '5 rows' },
    ]);
    expect(compareSnapshots(before, after, { schemaOnly: true }).map((d) => d.object)).toEqual(['column public.a.v']);
    const moreRows = snap({ tables: { 'public.a': { rows: 3, checksum: 'md5:9' } } });
    expect(compareSnapshots(snap(), moreRows, { schemaOnly: true })).toEqual([
      { kind: 'rows', object: 'table public.a', before: '2', after: '3' },
    ]);
    expect(describeDifference({ kind: 'rows', object: 'table public.a', before: '2', after: '3' })).toBe(
      '~ table public.a: 2 rows → 3 rows',
    );
  });

  it('snapshots of different scopes differ in their scope, first', () => {
    const whole = snap();
    const scoped = snap({ scope: ['public.a'] });
    expect(compareSnapshots(whole, scoped)[0]).toEqual({
      kind: 'changed',
      object: 'scope',
      before: 'the whole database',
      after: 'public.a',
    });
    expect(compareSnapshots(scoped, snap({ scope: ['public.a', 'public.b'] }))).toEqual([
      { kind: 'changed', object: 'scope', before: 'public.a', after: 'public.a, public.b' },
    ]);
    expect(compareSnapshots(scoped, snap({ scope: ['public.a'] }))).toEqual([]);
    expect(describeScope(scoped)).toBe('only public.a (columns, constraints, indexes, triggers, rows)');
    expect(describeScope(whole)).toBe('the whole database');
    expect(describeScope(snap({ scope: ['public.a', 'public.b'] }))).toBe(
      'only public.a, public.b (columns, constraints, indexes, triggers, rows)',
    );
    expect(quoteIdent('odd"name')).toBe('"odd""name"');
  });

  it('a snapshot file missing any of its parts is refused at 1:1; an unreadable one says why', () => {
    const dir = tempDir();
    const good = snap();
    for (const drop of ['format', 'schema', 'tables', 'schemaFingerprint'] as const) {
      const file = path.join(dir, `${drop}.json`);
      const { [drop]: _gone, ...rest } = good;
      writeFileSync(file, JSON.stringify(rest));
      expect(() => readSnapshot(file), drop).toThrow(
        `${file}:1:1: Unexpected content, expected a snapshot of format 1`,
      );
    }
    const wrong = path.join(dir, 'format2.json');
    writeFileSync(wrong, JSON.stringify({ ...good, format: 2 }));
    expect(() => readSnapshot(wrong)).toThrow(/:1:1: Unexpected content/);
    for (const value of ['null', '"text"', '[]']) {
      writeFileSync(wrong, value);
      expect(() => readSnapshot(wrong), value).toThrow(/:1:1: Unexpected content/);
    }
    const ok = path.join(dir, 'sub', 'ok.json');
    writeSnapshot(ok, good);
    expect(readSnapshot(ok)).toEqual(good);
    expect(readFileSync(ok, 'utf8').endsWith('}\n')).toBe(true);
    const missing = path.join(dir, 'missing.json');
    expect(() => readSnapshot(missing)).toThrow(SnapshotFileError);
    expect(() => readSnapshot(missing)).toThrow(new RegExp(`^${missing}:1:1: snapshot file does not exist$`));
    const notJson = path.join(dir, 'not.json');
    writeFileSync(notJson, '{"format": 1,, }');
    expect(() => readSnapshot(notJson)).toThrow(/not\.json:1:\d+: .* written by `db snapshot`$/);
  });
});
