// Builds an index without blocking writers (CREATE INDEX CONCURRENTLY), with the means of keeping
// its cost off the load beside it: a lower CPU priority for the server process doing the work
// (--nice, its Linux niceness), its memory (--maintenance-work-mem) and its parallel workers
// (--parallel-workers; 0 keeps all the work in the one backend that --nice lowers).
//
// Each attempt waits at most --lock-timeout-ms for its locks, so that sessions queued behind it
// wait no longer than that; an attempt that times out leaves an INVALID index, dropped before the
// next attempt. $DATABASE_URL names the server.
//
//   node build-index.mjs --table T --column C --name I [--nice 19] [--maintenance-work-mem 64MB]
//                        [--parallel-workers 0] [--lock-timeout-ms 100] [--retries 20]
//
// Exit codes: 0 built (or already there and valid), 1 not built, 64 bad usage.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';

const usage = (message) => {
  console.error(`build-index.mjs: ${message}`);
  console.error(
    'usage: node build-index.mjs --table T --column C --name I [--nice 0-19] [--maintenance-work-mem 64MB] [--parallel-workers N] [--lock-timeout-ms N] [--retries N]',
  );
  process.exit(64);
};
let values;
try {
  ({ values } = parseArgs({
    options: {
      table: { type: 'string' },
      column: { type: 'string' },
      name: { type: 'string' },
      nice: { type: 'string', default: '0' },
      'maintenance-work-mem': { type: 'string', default: '' },
      'parallel-workers': { type: 'string', default: '' },
      'lock-timeout-ms': { type: 'string', default: '100' },
      retries: { type: 'string', default: '20' },
    },
  }));
} catch (error) {
  usage(error.message);
}
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
for (const key of ['table', 'column', 'name'])
  if (!IDENT.test(values[key] ?? ''))
    usage(`--${key} must be a lower-case SQL name, got ${JSON.stringify(values[key] ?? '')}`);
const whole = (key, min, max) => {
  const n = Number(values[key]);
  if (!Number.isInteger(n) || n < min || n > max)
    usage(`--${key} must be a whole number from ${min} to ${max}, got "${values[key]}"`);
  return n;
};
const nice = whole('nice', 0, 19);
const lockTimeoutMs = whole('lock-timeout-ms', 1, 600000);
const retries = whole('retries', 1, 1000);
const workers = values['parallel-workers'] === '' ? undefined : whole('parallel-workers', 0, 64);
const memory = values['maintenance-work-mem'];
if (memory !== '' && !/^[1-9][0-9]*(kB|MB|GB)$/.test(memory))
  usage(`--maintenance-work-mem must look like 64MB, got "${memory}"`);
if (!process.env.DATABASE_URL) usage('DATABASE_URL names the server');

const quote = (name) => `"${name}"`;
const client = new pg.Client({ connectionString: process.env.DATABASE_URL, application_name: 'exec-doc build-index' });
await client.connect();
let code = 1;
try {
  const { pid: backend, addr } = (
    await client.query('select pg_backend_pid() as pid, host(inet_server_addr()) as addr')
  ).rows[0];
  if (nice > 0) {
    // The backend is a process of the server's host: only a server reached over a socket or the
    // loopback, whose backend this machine sees as a postgres process, is changed. A pid of a remote
    // server could name an unrelated process here.
    let local = addr === null || addr === '127.0.0.1' || addr === '::1';
    try {
      local &&= readFileSync(`/proc/${backend}/cmdline`, 'latin1').startsWith('postgres');
    } catch {
      local = false;
    }
    if (!local) {
      console.error(
        `build-index.mjs: the server (${addr ?? 'socket'}) is not a process of this host, so its backend's priority cannot be lowered from here; run on the database host, or with --nice 0`,
      );
      throw Object.assign(new Error('reported'), { reported: true });
    }
    try {
      os.setPriority(backend, nice);
      console.log(`backend ${backend}: niceness ${nice}`);
    } catch (error) {
      console.error(
        `build-index.mjs: cannot lower the priority of backend ${backend} (${error.message}); run it on the database host, or with --nice 0`,
      );
      throw Object.assign(new Error('reported'), { reported: true });
    }
  }
  if (memory !== '') await client.query(`select set_config('maintenance_work_mem', $1, false)`, [memory]);
  if (workers !== undefined)
    await client.query(`select set_config('max_parallel_maintenance_workers', $1, false)`, [String(workers)]);
  await client.query(`select set_config('lock_timeout', $1, false)`, [`${lockTimeoutMs}ms`]);
  for (let attempt = 1; attempt <= retries; attempt++) {
    const existing = await client.query(
      'select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = $1',
      [values.name],
    );
    if (existing.rows[0]?.valid) {
      console.log(`index ${values.name} is there and valid`);
      code = 0;
      break;
    }
    try {
      if (existing.rows.length > 0) await client.query(`drop index concurrently if exists ${quote(values.name)}`);
      const started = performance.now();
      await client.query(
        `create index concurrently ${quote(values.name)} on ${quote(values.table)} (${quote(values.column)})`,
      );
      console.log(`index ${values.name} built in ${Math.round(performance.now() - started)} ms (attempt ${attempt})`);
      code = 0;
      break;
    } catch (error) {
      // 55P03 lock_not_available: lock_timeout expired; anything else is not retried.
      if (error.code !== '55P03') throw error;
      const delayMs = Math.min(2000, 50 * 2 ** attempt);
      console.log(`attempt ${attempt}: a lock was not granted within ${lockTimeoutMs} ms; again in ${delayMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  if (code !== 0) console.error(`build-index.mjs: ${values.name} not built after ${retries} attempts`);
} catch (error) {
  if (!error.reported) console.error(`build-index.mjs: ${error.message}`);
} finally {
  await client.end();
}
process.exitCode = code;
