// Where the user's PostgreSQL is, read from the environment, and how to show it: no client
// library loaded (a shell-only run must not pay for pg and execa).
import os from 'node:os';
import type { PostgresTarget } from '../model/types.js';

/** A section's PostgreSQL unless its front matter says otherwise: $DATABASE_URL, else the embedded server. */
export const DEFAULT_TARGET: PostgresTarget = { kind: 'postgres', urlEnv: 'DATABASE_URL', database: 'postgres' };

/** The connection string the user configured, or undefined when the embedded server should be used. */
export function configuredUrl(target: PostgresTarget, env: NodeJS.ProcessEnv): string | undefined {
  const url = env[target.urlEnv];
  if (url) return url;
  if (!env.PGHOST && !env.PGDATABASE) return undefined;
  const user = encodeURIComponent(env.PGUSER ?? os.userInfo().username);
  const password = env.PGPASSWORD ? `:${encodeURIComponent(env.PGPASSWORD)}` : '';
  const host = env.PGHOST ?? 'localhost';
  const hostPart = host.startsWith('/') ? `localhost` : host;
  const socket = host.startsWith('/') ? `?host=${encodeURIComponent(host)}` : '';
  return `postgresql://${user}${password}@${hostPart}:${env.PGPORT ?? '5432'}/${encodeURIComponent(env.PGDATABASE ?? user)}${socket}`;
}

/** `postgresql://user:***@host:5432/db`: the connection string without its password. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    parsed.searchParams.delete('password');
    return parsed.toString();
  } catch {
    return '(unparseable connection string)';
  }
}
