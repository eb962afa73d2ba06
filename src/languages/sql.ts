// Runs SQL blocks with `pg` on the section's PostgreSQL target. Each block gets its own
// connection, closed after it (steps are isolated, and a later step may need the database to
// itself: CREATE DATABASE … TEMPLATE, DROP DATABASE); a timeout or an interrupt cancels the
// statement on the server.
import pg from 'pg';
import { formatResults } from './sql-format.js';

export interface SqlResult {
  ok: boolean;
  output: string;
  error?: string;
  timedOut: boolean;
  interrupted: boolean;
  durationMs: number;
}

// Every value as the server's own text, exactly as psql shows it.
const rawTypes = { getTypeParser: () => (value: string) => value };

export class SqlSession {
  private client: pg.Client | undefined;

  constructor(private readonly connectionString: string) {}

  private async connect(): Promise<pg.Client> {
    if (!this.client) {
      const client = new pg.Client({
        connectionString: this.connectionString,
        types: rawTypes as never,
        connectionTimeoutMillis: 15_000,
      });
      client.on('error', () => {
        // A dropped connection surfaces on the next query; reconnect then.
        this.client = undefined;
      });
      await client.connect();
      this.client = client;
    }
    return this.client;
  }

  /**
   * Runs a block. `settings` are set first for the session (current_setting('exec_doc.<name>')
   * reads a parameter inside PL/pgSQL), with standard_conforming_strings on, so that a backslash
   * in a quoted value is plain text, as PostgreSQL has had it by default since 9.1.
   */
  async run(
    code: string,
    options: { timeoutMs: number; signal?: AbortSignal; settings?: ReadonlyArray<readonly [string, string]> },
  ): Promise<SqlResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let client: pg.Client;
    try {
      client = await this.connect();
    } catch (error) {
      return {
        ok: false,
        output: '',
        error: `could not connect to PostgreSQL: ${(error as Error).message}`,
        timedOut: false,
        interrupted: false,
        durationMs: elapsed(),
      };
    }
    const backendPid = (client as unknown as { processID?: number }).processID;
    let timedOut = false;
    let interrupted = false;
    const cancel = () => void this.cancelBackend(backendPid);
    const timer = setTimeout(() => {
      timedOut = true;
      cancel();
    }, options.timeoutMs);
    const onAbort = () => {
      interrupted = true;
      cancel();
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const settings: ReadonlyArray<readonly [string, string]> = [
        ['standard_conforming_strings', 'on'],
        ...(options.settings ?? []),
      ];
      await client.query(
        `select ${settings.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, false)`).join(', ')}`,
        settings.flat(),
      );
      const result = await client.query({ text: code, rowMode: 'array' });
      const results = Array.isArray(result) ? (result as pg.QueryResult[]) : [result];
      return {
        ok: !timedOut && !interrupted,
        output: formatResults(results),
        timedOut,
        interrupted,
        durationMs: elapsed(),
      };
    } catch (error) {
      return {
        ok: false,
        output: '',
        error: describePgError(error, code),
        timedOut,
        interrupted,
        durationMs: elapsed(),
      };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      await this.close();
    }
  }

  /** Cancels the running statement from a second connection (the first is busy). */
  private async cancelBackend(pid: number | undefined): Promise<void> {
    if (pid === undefined) return;
    const side = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: 5000 });
    try {
      await side.connect();
      await side.query('select pg_cancel_backend($1)', [pid]);
    } catch {
      // Best effort: if the server is gone, the query fails on its own.
    } finally {
      await side.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

/** PostgreSQL's message, with the failing line of the block and a caret under the position. */
export function describePgError(error: unknown, code: string): string {
  const e = error as { message?: string; position?: string; code?: string; detail?: string; hint?: string };
  const lines = [`${e.message ?? String(error)}${e.code ? ` (SQLSTATE ${e.code})` : ''}`];
  if (e.position) {
    const offset = Number(e.position) - 1;
    const before = code.slice(0, offset);
    const lineNumber = before.split('\n').length;
    const lineStart = before.lastIndexOf('\n') + 1;
    const lineText = code.split('\n')[lineNumber - 1] ?? '';
    lines.push(`LINE ${lineNumber}: ${lineText}`, `${' '.repeat(`LINE ${lineNumber}: `.length + offset - lineStart)}^`);
  }
  if (e.detail) lines.push(`DETAIL: ${e.detail}`);
  if (e.hint) lines.push(`HINT: ${e.hint}`);
  return lines.join('\n');
}
