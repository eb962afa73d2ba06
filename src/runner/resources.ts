// Resource use while a run executes: every `intervalMs` the runner reads the machine's CPU use
// (/proc/stat), the CPU time and resident memory of the running step's process tree (/proc), and
// for a PostgreSQL target the server's active sessions, lock waits and replication lag. Samples go
// to the event stream and the result record; each step's result gets their summary.
//
// The cost is bounded: one timer (unref'd), a few /proc files per tick and one small query; the
// first tick comes `intervalMs` after the run starts, so a run shorter than that samples nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { CodedError } from '../util/coded-error.js';

/** Default interval between samples; EXEC_DOC_SAMPLE_MS overrides it, 0 turns sampling off. */
export const DEFAULT_SAMPLE_MS = 250;
/** At most this many samples are kept for the record (the events carry all of them). */
export const MAX_RECORD_SAMPLES = 600;

// Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every architecture Node runs on.
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

export interface PostgresSample {
  /** Client sessions running a statement (the sampler's own excluded). */
  activeSessions: number;
  /** Sessions waiting for a lock, and the longest such wait so far. */
  lockWaits: number;
  longestLockWaitMs: number;
  /** The largest replay lag of a standby (null: no standby connected). */
  replicationLagMs: number | null;
}

export interface ResourceSample {
  /** Milliseconds since the run (this runner process) started. */
  atMs: number;
  /** The step running when the sample was taken (null between steps). */
  stepId: string | null;
  /** CPU use of the whole machine since the previous sample, 0–100 % of all its CPUs. */
  hostCpuPct: number;
  /** CPU use of the step's process tree since the previous sample, in % of one CPU (null: no process). */
  stepCpuPct: number | null;
  /** Resident memory of the step's process tree (null: no process). */
  stepRssBytes: number | null;
  postgres?: PostgresSample;
}

export interface StepResources {
  samples: number;
  peakHostCpuPct: number;
  peakStepCpuPct: number | null;
  peakStepRssBytes: number | null;
  peakActiveSessions?: number;
  peakLockWaits?: number;
  longestLockWaitMs?: number;
  maxReplicationLagMs?: number | null;
}

/** Total and idle ticks of all CPUs, from the first line of /proc/stat. */
export function readHostCpu(text = readFileSync('/proc/stat', 'latin1')): { total: number; idle: number } {
  const line = text.slice(0, text.indexOf('\n'));
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice).
  const used = values.slice(0, 8);
  const total = used.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return { total, idle: (values[3] ?? 0) + (values[4] ?? 0) };
}

/** The children of every thread of `pid` (/proc/<pid>/task/<tid>/children). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' '))
        if (child !== '' && child !== '\n') out.push(Number(child));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/**
 * CPU ticks (its own and those of the children it reaped) and resident bytes of `pid` and every
 * live descendant. Counting each live process's reaped children counts every ended process once.
 */
export function readTree(pid: number): { ticks: number; rssBytes: number; processes: number } | null {
  let ticks = 0;
  let rssBytes = 0;
  let processes = 0;
  const queue = [pid];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (seen.has(next)) continue;
    seen.add(next);
    let stat: string;
    try {
      stat = readFileSync(`/proc/${next}/stat`, 'latin1');
    } catch {
      continue;
    }
    // Fields after the command name (which may hold spaces and parentheses): state is field 3.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime stime cutime cstime are fields 14–17, rss is field 24 (1-based, counting pid and comm).
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    rssBytes += Number(f[21]) * PAGE_BYTES;
    processes += 1;
    queue.push(...childrenOf(next));
  }
  return processes === 0 ? null : { ticks, rssBytes, processes };
}

const PG_SAMPLE_SQL = `select
  count(*) filter (where a.state = 'active' and a.pid <> pg_backend_pid() and a.backend_type = 'client backend')::int as active,
  (select count(*) from pg_locks l where not l.granted)::int as waits,
  coalesce((select extract(epoch from max(now() - l.waitstart)) * 1000 from pg_locks l where not l.granted), 0)::float8 as longest,
  (select extract(epoch from max(r.replay_lag)) * 1000 from pg_stat_replication r)::float8 as lag
from pg_stat_activity a`;

export interface PostgresProbe {
  sample(): Promise<PostgresSample>;
  close(): Promise<void>;
}

/**
 * A connection of its own to the server of the run's PostgreSQL target, for the sampler. It is
 * made to the `postgres` maintenance database, not the target's: a session connected to a
 * database would keep a step from cloning it (CREATE DATABASE … TEMPLATE) or dropping it. The
 * views it reads cover the whole server. A target that is the `postgres` database itself is not
 * sampled (undefined), for the same reason.
 */
export async function openPostgresProbe(url: string): Promise<PostgresProbe | undefined> {
  let maintenance: string;
  try {
    const parsed = new URL(url);
    if (decodeURIComponent(parsed.pathname.replace(/^\//, '')) === 'postgres') return undefined;
    parsed.pathname = '/postgres';
    maintenance = parsed.toString();
  } catch {
    return undefined;
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: maintenance, application_name: 'exec-doc sampler' });
  client.on('error', () => undefined);
  await client.connect();
  return {
    async sample() {
      const r = await client.query<{ active: number; waits: number; longest: number; lag: number | null }>(
        PG_SAMPLE_SQL,
      );
      const row = r.rows[0]!;
      return {
        activeSessions: row.active,
        lockWaits: row.waits,
        longestLockWaitMs: Math.round(row.longest),
        replicationLagMs: row.lag === null ? null : Math.round(row.lag),
      };
    },
    close: () => client.end().catch(() => undefined),
  };
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

export interface SamplerOptions {
  intervalMs: number;
  /** What is running now: the step and its process (undefined pid: no process, e.g. SQL). */
  current(): { stepId: string; pid: number | undefined } | null;
  /**
   * The PostgreSQL target's probe, opened on the first sample after the target is: null while the
   * run has no target yet, undefined when it is not to be sampled.
   */
  postgres?: () => Promise<PostgresProbe | null | undefined>;
  onSample(sample: ResourceSample): void;
}

/** Samples until stopped; `stop` waits for a sample in flight. */
export class ResourceSampler {
  readonly samples: ResourceSample[] = [];
  /** When sampling began (the time base of `atMs`), as the record gives it. */
  readonly startedAt = new Date().toISOString();
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private host = readHostCpu();
  private tree: { pid: number; ticks: number; atMs: number } | undefined;
  private inFlight: Promise<void> | undefined;
  private probe: PostgresProbe | null | undefined;
  private probeFailed = false;

  constructor(private readonly options: SamplerOptions) {
    this.timer = setInterval(() => {
      if (!this.inFlight) this.inFlight = this.tick().finally(() => (this.inFlight = undefined));
    }, options.intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const atMs = this.now();
    const host = readHostCpu();
    const dTotal = host.total - this.host.total;
    const hostCpuPct = dTotal > 0 ? round1((100 * (dTotal - (host.idle - this.host.idle))) / dTotal) : 0;
    this.host = host;
    const current = this.options.current();
    let stepCpuPct: number | null = null;
    let stepRssBytes: number | null = null;
    if (current?.pid !== undefined) {
      const tree = readTree(current.pid);
      if (tree) {
        // The first sample of a process counts from its start (its ticks so far over its age is
        // unknown here): it is measured against the previous sample's time.
        const before = this.tree?.pid === current.pid ? this.tree : { ticks: 0, atMs: this.lastAtMs() };
        const wallMs = Math.max(1, atMs - before.atMs);
        stepCpuPct = round1(Math.max(0, ((tree.ticks - before.ticks) * (1000 / TICKS_PER_SECOND) * 100) / wallMs));
        stepRssBytes = tree.rssBytes;
        this.tree = { pid: current.pid, ticks: tree.ticks, atMs };
      }
    }
    let postgres: PostgresSample | undefined;
    if (this.options.postgres && !this.probeFailed) {
      try {
        if (!this.probe) {
          this.probe = await this.options.postgres();
          // Asked again only while the run has no target yet (the factory says so by `null`).
          if (this.probe === undefined) this.probeFailed = true;
        }
        if (this.probe) postgres = await this.probe.sample();
      } catch {
        // A target that refuses a second connection is not sampled; the run is not affected.
        this.probeFailed = true;
      }
    }
    const sample: ResourceSample = {
      atMs,
      stepId: current?.stepId ?? null,
      hostCpuPct,
      stepCpuPct,
      stepRssBytes,
      ...(postgres ? { postgres } : {}),
    };
    this.samples.push(sample);
    this.options.onSample(sample);
  }

  private lastAtMs(): number {
    return this.samples.at(-1)?.atMs ?? 0;
  }

  /** Milliseconds since the sampler started (the time base of `atMs`). */
  now(): number {
    return Math.round(performance.now() - this.started);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    await this.probe?.close();
  }
}

/** The summary of the samples taken while `stepId` ran between `fromMs` and `toMs`. */
export function summarize(
  samples: readonly ResourceSample[],
  stepId: string,
  fromMs: number,
  toMs: number,
): StepResources | undefined {
  const mine = samples.filter((s) => s.stepId === stepId && s.atMs >= fromMs && s.atMs <= toMs);
  if (mine.length === 0) return undefined;
  const max = (values: number[]): number => values.reduce((a, b) => Math.max(a, b), 0);
  const cpu = mine.map((s) => s.stepCpuPct).filter((v): v is number => v !== null);
  const rss = mine.map((s) => s.stepRssBytes).filter((v): v is number => v !== null);
  const pg = mine.map((s) => s.postgres).filter((p): p is PostgresSample => p !== undefined);
  const lags = pg.map((p) => p.replicationLagMs).filter((v): v is number => v !== null);
  return {
    samples: mine.length,
    peakHostCpuPct: max(mine.map((s) => s.hostCpuPct)),
    peakStepCpuPct: cpu.length > 0 ? max(cpu) : null,
    peakStepRssBytes: rss.length > 0 ? max(rss) : null,
    ...(pg.length > 0
      ? {
          peakActiveSessions: max(pg.map((p) => p.activeSessions)),
          peakLockWaits: max(pg.map((p) => p.lockWaits)),
          longestLockWaitMs: max(pg.map((p) => p.longestLockWaitMs)),
          maxReplicationLagMs: lags.length > 0 ? max(lags) : null,
        }
      : {}),
  };
}

/** The interval from the environment: EXEC_DOC_SAMPLE_MS (0 turns sampling off). */
export function sampleIntervalMs(env: NodeJS.ProcessEnv | Record<string, string | undefined>): number {
  const raw = env.EXEC_DOC_SAMPLE_MS;
  if (raw === undefined || raw === '') return DEFAULT_SAMPLE_MS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new CodedError('E_USAGE', `EXEC_DOC_SAMPLE_MS must be a whole number of milliseconds, got "${raw}"`, {
      details: [
        'Set it to the interval between resource samples (at least 50), or 0 to turn sampling off; nothing ran',
      ],
    });
  return n === 0 ? 0 : Math.max(50, n);
}
