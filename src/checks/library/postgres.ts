// Checks on the PostgreSQL target: reachable and its version, connection headroom, long
// transactions, blocked sessions, replication lag, and objects a failed migration leaves behind.
import * as z from 'zod';
import type { CheckDefinition, CheckStatus } from '../types.js';
import { CHECK_APPLICATION, gradeHigh, thresholdText, withPostgres } from '../support.js';

const seconds = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)} s`;

export const postgresReachable: CheckDefinition<{
  minMajor?: number | undefined;
  expectMajor?: number | undefined;
  warnLatencyMs: number;
}> = {
  type: 'postgres.reachable',
  title: 'Database reachable, and its version',
  description:
    'Connects to the target and reads its version; fails when it does not answer or its major version is not the expected one.',
  settings: z.strictObject({
    minMajor: z.number().int().positive().optional(),
    expectMajor: z.number().int().positive().optional(),
    warnLatencyMs: z.number().int().positive().default(500),
  }),
  usesPostgres: true,
  async run(context, s) {
    if (!context.postgres)
      return {
        status: 'error',
        detail: 'no PostgreSQL target: set DATABASE_URL (or PG* variables), or unset them to use the embedded server',
      };
    const threshold = [
      s.expectMajor !== undefined ? `major = ${s.expectMajor}` : '',
      s.minMajor !== undefined ? `major ≥ ${s.minMajor}` : '',
      `warn latency ≥ ${s.warnLatencyMs} ms`,
    ]
      .filter(Boolean)
      .join(', ');
    const started = performance.now();
    let version: string;
    try {
      version = await withPostgres(
        context,
        async (c) => (await c.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v,
      );
    } catch (error) {
      return {
        status: 'fail',
        value: 'no answer',
        threshold,
        detail: `${(error as Error).message}; check that the server runs and the connection settings (DATABASE_URL / PG*)`,
      };
    }
    const latencyMs = Math.round(performance.now() - started);
    const major = Number.parseInt(version, 10);
    const value = `PostgreSQL ${version} (${latencyMs} ms)`;
    if (s.expectMajor !== undefined && major !== s.expectMajor)
      return {
        status: 'fail',
        value,
        metric: major,
        unit: 'major',
        threshold,
        detail: `${context.postgres.description} runs PostgreSQL ${major}, expected ${s.expectMajor}; point DATABASE_URL at the upgraded server, or finish the upgrade`,
      };
    if (s.minMajor !== undefined && major < s.minMajor)
      return {
        status: 'fail',
        value,
        metric: major,
        unit: 'major',
        threshold,
        detail: `PostgreSQL ${major} is older than the required ${s.minMajor}; upgrade the server first`,
      };
    if (latencyMs >= s.warnLatencyMs)
      return {
        status: 'warn',
        value,
        metric: major,
        unit: 'major',
        threshold,
        detail: `connecting took ${latencyMs} ms; the server or the network is slow`,
      };
    return {
      status: 'pass',
      value,
      metric: major,
      unit: 'major',
      threshold,
      detail: `${context.postgres.description} answers`,
    };
  },
};

export const postgresConnections: CheckDefinition<{ warnPercent: number; failPercent: number; reserve: number }> = {
  type: 'postgres.connections',
  title: 'Open connections',
  description:
    'Open connections as a share of max_connections (minus the superuser reserve); the procedure needs a few of its own.',
  settings: z.strictObject({
    warnPercent: z.number().min(0).max(100).default(70),
    failPercent: z.number().min(0).max(100).default(90),
    reserve: z.number().int().min(0).default(5),
  }),
  usesPostgres: true,
  async run(context, s) {
    const row = await withPostgres(
      context,
      async (c) =>
        (
          await c.query<{ open: number; max: number; reserved: number }>(
            `select (select count(*)::int from pg_stat_activity where backend_type = 'client backend' and application_name <> '${CHECK_APPLICATION}') as open, current_setting('max_connections')::int as max, current_setting('superuser_reserved_connections')::int as reserved`,
          )
        ).rows[0]!,
    );
    const usable = Math.max(1, row.max - row.reserved);
    const percent = Math.round((row.open / usable) * 1000) / 10;
    const free = usable - row.open;
    const threshold = `${thresholdText('≥', { warn: s.warnPercent, fail: s.failPercent }, ' %')} or < ${s.reserve} free`;
    const value = `${row.open} of ${usable} (${percent} %)`;
    let status = gradeHigh(percent, { warn: s.warnPercent, fail: s.failPercent });
    if (free < s.reserve) status = 'fail';
    const detail =
      status === 'pass'
        ? `${free} connections free`
        : `${free} connections free; close idle clients or pause workers (a pooler's pool size counts), or raise max_connections`;
    return { status, value, metric: percent, unit: 'percent', threshold, detail };
  },
};

export const postgresLongTransactions: CheckDefinition<{ warnSeconds: number; failSeconds: number }> = {
  type: 'postgres.long-transactions',
  title: 'Long-running transactions',
  description:
    'The oldest open transaction of any other session: it holds locks and stops vacuum, and a migration would queue behind it.',
  settings: z.strictObject({
    warnSeconds: z.number().positive().default(60),
    failSeconds: z.number().positive().default(300),
  }),
  usesPostgres: true,
  async run(context, s) {
    const rows = await withPostgres(
      context,
      async (c) =>
        (
          await c.query<{
            pid: number;
            usename: string | null;
            application_name: string;
            state: string | null;
            age: number;
          }>(
            `select pid, usename, application_name, state, extract(epoch from now() - xact_start)::float8 as age
         from pg_stat_activity where xact_start is not null and application_name <> '${CHECK_APPLICATION}' and backend_type = 'client backend'
        order by xact_start limit 5`,
          )
        ).rows,
    );
    const threshold = thresholdText('≥', { warn: s.warnSeconds, fail: s.failSeconds }, ' s');
    const oldest = rows[0];
    if (!oldest)
      return {
        status: 'pass',
        value: 'none open',
        metric: 0,
        unit: 'seconds',
        threshold,
        detail: 'no other session has a transaction open',
      };
    oldest.age = Math.max(0, oldest.age);
    const status = gradeHigh(oldest.age, { warn: s.warnSeconds, fail: s.failSeconds });
    const who = (r: (typeof rows)[number]) =>
      `pid ${r.pid}${r.usename ? ` (${r.usename}${r.application_name ? `, ${r.application_name}` : ''})` : ''} ${r.state ?? ''} for ${seconds(r.age)}`.replace(
        / +/g,
        ' ',
      );
    const detail =
      status === 'pass'
        ? `oldest: ${who(oldest)}`
        : `${rows
            .filter((r) => r.age >= s.warnSeconds)
            .map(who)
            .join('; ')}; let them finish, or end them with pg_terminate_backend(pid) once their owner agrees`;
    return { status, value: seconds(oldest.age), metric: oldest.age, unit: 'seconds', threshold, detail };
  },
};

type BlockingSettings = { warnCount: number; failCount: number; minWaitSeconds: number };

export const postgresBlockingLocks: CheckDefinition<BlockingSettings> = {
  type: 'postgres.blocking-locks',
  title: 'Blocking locks',
  description:
    'Sessions waiting for a lock another session holds; a migration taking a lock would queue behind the holder and block everyone after it. With minWaitSeconds, only sessions whose statement has waited at least that long count (under load, clients updating the same rows wait for each other for milliseconds all the time).',
  settings: z.strictObject({
    warnCount: z.number().int().min(1).default(1),
    failCount: z.number().int().min(1).default(1),
    minWaitSeconds: z.number().min(0).default(0),
  }),
  usesPostgres: true,
  async run(context, s) {
    const waiting = await withPostgres(
      context,
      async (c) =>
        (
          await c.query<{
            pid: number;
            blockers: number[];
            wait: number;
            relation: string | null;
            mode: string | null;
          }>(
            `select a.pid, pg_blocking_pids(a.pid) as blockers, extract(epoch from now() - coalesce(a.state_change, now()))::float8 as wait,
              (select l.relation::regclass::text from pg_locks l where l.pid = a.pid and not l.granted and l.relation is not null limit 1) as relation,
              (select l.mode from pg_locks l where l.pid = a.pid and not l.granted limit 1) as mode
         from pg_stat_activity a where cardinality(pg_blocking_pids(a.pid)) > 0 and a.application_name <> '${CHECK_APPLICATION}' order by a.pid`,
          )
        ).rows,
    );
    const rows = waiting.filter((row) => row.wait >= s.minWaitSeconds);
    const threshold = `${thresholdText('≥', { warn: s.warnCount, fail: s.failCount }, ' blocked sessions')}${s.minWaitSeconds > 0 ? ` waiting ≥ ${seconds(s.minWaitSeconds)}` : ''}`;
    const status = gradeHigh(rows.length, { warn: s.warnCount, fail: s.failCount });
    const detail =
      rows.length === 0
        ? 'no session waits for a lock'
        : `${rows.map((r) => `pid ${r.pid} waits ${seconds(r.wait)}${r.mode ? ` for ${r.mode}` : ''}${r.relation ? ` on ${r.relation}` : ''}, blocked by pid ${r.blockers.join(', ')}`).join('; ')}; find what the blocking session is doing (pg_stat_activity) and let it finish or end it before starting`;
    return { status, value: `${rows.length} blocked`, metric: rows.length, unit: 'count', threshold, detail };
  },
};

type LagSettings = {
  warnSeconds: number;
  failSeconds: number;
  warnBytes?: number | undefined;
  failBytes?: number | undefined;
  expectStandbys?: number | undefined;
};

const worst = (...statuses: CheckStatus[]): CheckStatus =>
  statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'pass';

export const postgresReplicationLag: CheckDefinition<LagSettings> = {
  type: 'postgres.replication-lag',
  title: 'Replication lag',
  description:
    'On a primary, how far each standby is behind in replay (time, and WAL bytes when warnBytes/failBytes are set); on a standby, how old its last replayed transaction is while WAL waits to be replayed. A server without replication passes with 0 standbys, unless expectStandbys says otherwise.',
  settings: z.strictObject({
    warnSeconds: z.number().positive().default(10),
    failSeconds: z.number().positive().default(60),
    warnBytes: z.number().int().positive().optional(),
    failBytes: z.number().int().positive().optional(),
    expectStandbys: z.number().int().min(0).optional(),
  }),
  usesPostgres: true,
  async run(context, s) {
    const threshold = [
      thresholdText('≥', { warn: s.warnSeconds, fail: s.failSeconds }, ' s'),
      s.warnBytes !== undefined || s.failBytes !== undefined
        ? thresholdText('≥', { warn: s.warnBytes, fail: s.failBytes }, ' bytes')
        : '',
      s.expectStandbys !== undefined ? `${s.expectStandbys} standbys` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return withPostgres(context, async (c) => {
      const recovery = (await c.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r;
      if (recovery) {
        const row = (
          await c.query<{ lag: number | null; paused: boolean; behind: boolean }>(
            `select extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 as lag,
                  pg_get_wal_replay_pause_state() <> 'not paused' as paused,
                  pg_last_wal_receive_lsn() is distinct from pg_last_wal_replay_lsn() as behind`,
          )
        ).rows[0]!;
        // With everything received replayed, an idle primary is not lag.
        const lag = !row.behind || row.lag === null ? 0 : Math.max(0, row.lag);
        const status = gradeHigh(lag, { warn: s.warnSeconds, fail: s.failSeconds });
        return {
          status,
          value: `standby, ${seconds(lag)} behind`,
          metric: lag,
          unit: 'seconds',
          threshold,
          detail:
            status === 'pass'
              ? 'this server is a standby and keeps up'
              : `this standby is ${seconds(lag)} behind${row.paused ? ' and its replay is paused (select pg_wal_replay_resume())' : ''}; wait for it to catch up`,
        };
      }
      const rows = (
        await c.query<{ name: string; state: string; lag: number | null; bytes: number | null }>(
          `select coalesce(nullif(application_name, ''), client_addr::text, pid::text) as name, state,
                extract(epoch from coalesce(replay_lag, '0'::interval))::float8 as lag,
                greatest(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::float8 as bytes
           from pg_stat_replication order by 1`,
        )
      ).rows;
      if (s.expectStandbys !== undefined && rows.length < s.expectStandbys) {
        return {
          status: 'fail',
          value: `${rows.length} standbys`,
          metric: null,
          unit: 'seconds',
          threshold,
          detail: `${rows.length} standbys connected, expected ${s.expectStandbys}; check that the standbys run and reach the primary`,
        };
      }
      if (rows.length === 0)
        return {
          status: 'pass',
          value: 'no replication',
          metric: 0,
          unit: 'seconds',
          threshold,
          detail: 'no standby is connected to this server (and it is not a standby)',
        };
      const lag = Math.max(...rows.map((r) => r.lag ?? 0));
      const bytes = Math.max(...rows.map((r) => r.bytes ?? 0));
      const status = worst(
        gradeHigh(lag, { warn: s.warnSeconds, fail: s.failSeconds }),
        gradeHigh(bytes, { warn: s.warnBytes, fail: s.failBytes }),
      );
      const list = rows
        .map((r) => `${r.name} ${r.state}, ${seconds(r.lag ?? 0)} and ${Math.round(r.bytes ?? 0)} bytes behind`)
        .join('; ');
      return {
        status,
        value: `${seconds(lag)}, ${Math.round(bytes)} bytes (${rows.length} standbys)`,
        metric: lag,
        unit: 'seconds',
        threshold,
        detail: status === 'pass' ? list : `${list}; wait until the standbys catch up before changing the schema`,
      };
    });
  },
};

export const postgresIntegrity: CheckDefinition<{ allowNotValid: boolean }> = {
  type: 'postgres.integrity',
  title: 'No invalid indexes or unvalidated constraints',
  description:
    'Indexes left INVALID by a failed CREATE INDEX CONCURRENTLY and constraints still NOT VALID: what an interrupted migration leaves behind.',
  settings: z.strictObject({ allowNotValid: z.boolean().default(false) }),
  usesPostgres: true,
  async run(context, s) {
    const rows = await withPostgres(
      context,
      async (c) =>
        (
          await c.query<{ kind: string; name: string }>(
            `select 'index' as kind, x.indexrelid::regclass::text as name from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace
        where not x.indisvalid and n.nspname not in ('pg_catalog', 'information_schema')
       union all
       select 'constraint', con.conrelid::regclass::text || '.' || con.conname from pg_constraint con join pg_namespace n on n.oid = con.connamespace
        where not con.convalidated and n.nspname not in ('pg_catalog', 'information_schema')
       order by 1, 2`,
          )
        ).rows,
    );
    const invalid = rows.filter((r) => r.kind === 'index');
    const notValid = rows.filter((r) => r.kind === 'constraint');
    const counted = invalid.length + (s.allowNotValid ? 0 : notValid.length);
    const threshold = s.allowNotValid
      ? 'fail on any invalid index'
      : 'fail on any invalid index or NOT VALID constraint';
    const parts = [
      invalid.length
        ? `invalid indexes: ${invalid.map((r) => r.name).join(', ')} (drop and recreate them CONCURRENTLY)`
        : '',
      notValid.length
        ? `constraints not validated: ${notValid.map((r) => r.name).join(', ')} (ALTER TABLE … VALIDATE CONSTRAINT …)`
        : '',
    ].filter(Boolean);
    return {
      status: counted > 0 ? 'fail' : 'pass',
      value: `${invalid.length} invalid, ${notValid.length} not valid`,
      metric: counted,
      unit: 'count',
      threshold,
      detail: parts.join('; ') || 'every index is valid and every constraint validated',
    };
  },
};
