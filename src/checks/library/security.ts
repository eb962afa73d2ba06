// Security checks: who can read or change the files that hold secrets or decide what runs, the
// scripts procedures call, whether a remote PostgreSQL connection is encrypted, and whether a
// procedure runs with more PostgreSQL privilege than it needs.
import { lstatSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { CheckCannotRun, type CheckDefinition } from '../types.js';
import { withPostgres } from '../support.js';
import { folderProblem, governingFileProblem, octal } from '../../security/files.js';

function modeOf(file: string): number | string {
  try {
    return statSync(file).mode;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'missing' : `unreadable (${code})`;
  }
}

export const securityPermissions: CheckDefinition<{ secrets: string[]; private: string[]; governing: string[] }> = {
  type: 'security.permissions',
  title: 'Permissions of secrets, state and policy',
  description:
    'Secret files (private keys, tokens, password files) are readable by their owner only; private paths (state folders, audit logs) are closed to group and others; governing files (the policy, checks configuration, scripts) cannot be changed by group or others.',
  settings: z.strictObject({
    secrets: z.array(z.string().min(1)).default([]),
    private: z.array(z.string().min(1)).default([]),
    governing: z.array(z.string().min(1)).default([]),
  }),
  pathSettings: ['secrets', 'private', 'governing'],
  usesPostgres: false,
  async run(_context, s) {
    const total = s.secrets.length + s.private.length + s.governing.length;
    if (total === 0)
      return {
        status: 'warn',
        value: 'nothing configured',
        detail: 'list files under secrets, private and governing to check them',
      };
    const problems: string[] = [];
    for (const file of s.secrets) {
      const mode = modeOf(file);
      if (typeof mode === 'string') problems.push(`${file}: ${mode}`);
      else if ((mode & 0o077) !== 0)
        problems.push(`${file}: secret readable or writable by group/others (${octal(mode)}); chmod 600`);
    }
    for (const file of s.private) {
      const mode = modeOf(file);
      // Nothing there yet is nothing exposed (exec-doc creates its state folders private).
      if (mode === 'missing') continue;
      if (typeof mode === 'string') problems.push(`${file}: ${mode}`);
      else if ((mode & 0o077) !== 0)
        problems.push(
          `${file}: open to group/others (${octal(mode)}); chmod ${(mode & 0o40000) !== 0 ? '700' : '600'}`,
        );
    }
    for (const file of s.governing) {
      let isDir = false;
      try {
        isDir = statSync(file).isDirectory();
      } catch {
        problems.push(`${file}: missing`);
        continue;
      }
      const problem = isDir
        ? (folderProblem(file) ??
          ((statSync(file).mode & 0o022) !== 0
            ? `writable by group/others (${octal(statSync(file).mode)})`
            : undefined))
        : governingFileProblem(file);
      if (problem) problems.push(`${file}: ${problem}`);
    }
    return problems.length === 0
      ? {
          status: 'pass',
          value: `${total} path(s) as they should be`,
          metric: 0,
          unit: 'problems',
          detail: 'secrets owner-only, private paths closed, governing files unchangeable by others',
        }
      : {
          status: 'fail',
          value: `${problems.length} of ${total} path(s)`,
          metric: problems.length,
          unit: 'problems',
          detail: problems.join('; '),
        };
  },
};

/** Every file below `dir` (not following links), at most `limit`. */
function filesBelow(dir: string, limit: number): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (out.length >= limit) return;
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) {
        out.push(p);
        walk(p);
      } else if (entry.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export const securityScripts: CheckDefinition<{ paths: string[]; maxFiles: number }> = {
  type: 'security.scripts',
  title: 'Scripts procedures call are not writable by others',
  description:
    'No file or folder below `paths` (the scripts and tools that procedures run) is writable by group or others, and none sits in a folder everyone can write to: whoever can change a script runs code in the next upgrade.',
  settings: z.strictObject({
    paths: z.array(z.string().min(1)).default([]),
    maxFiles: z.number().int().positive().default(20_000),
  }),
  pathSettings: ['paths'],
  usesPostgres: false,
  async run(_context, s) {
    if (s.paths.length === 0)
      return {
        status: 'warn',
        value: 'nothing configured',
        detail: 'list the folders of the scripts procedures call under paths',
      };
    const problems: string[] = [];
    let seen = 0;
    for (const root of s.paths) {
      let entries: string[];
      try {
        entries = lstatSync(root).isDirectory() ? [root, ...filesBelow(root, s.maxFiles)] : [root];
      } catch {
        throw new CheckCannotRun(`\`${root}\` does not exist; fix security.scripts.paths`);
      }
      const above = folderProblem(path.dirname(path.resolve(root)));
      if (above) problems.push(`${root}: ${above}`);
      for (const p of entries) {
        seen += 1;
        const mode = lstatSync(p).mode;
        if ((mode & 0o022) !== 0)
          problems.push(`${p}: writable by ${(mode & 0o002) !== 0 ? 'everyone' : 'its group'} (${octal(mode)})`);
      }
    }
    return problems.length === 0
      ? {
          status: 'pass',
          value: `${seen} file(s) and folder(s)`,
          metric: 0,
          unit: 'problems',
          detail: 'none writable by group or others',
        }
      : {
          status: 'fail',
          value: `${problems.length} of ${seen}`,
          metric: problems.length,
          unit: 'problems',
          detail: `${problems.slice(0, 10).join('; ')}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}; chmod go-w`,
        };
  },
};

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '']);

export const postgresTls: CheckDefinition<{ requireForLocal: boolean }> = {
  type: 'postgres.tls',
  title: 'Encrypted connection to a remote PostgreSQL',
  description:
    "The session's connection uses TLS (pg_stat_ssl) when the server is on another host; a loopback or Unix-socket connection passes unless requireForLocal is set.",
  settings: z.strictObject({ requireForLocal: z.boolean().default(false) }),
  usesPostgres: true,
  async run(context, s) {
    if (!context.postgres) throw new CheckCannotRun('no PostgreSQL target');
    let host = '';
    try {
      const url = new URL(context.postgres.url);
      host = url.searchParams.get('host')?.startsWith('/') ? '' : url.hostname.replace(/^\[|\]$/g, '');
    } catch {
      throw new CheckCannotRun('the connection string cannot be parsed');
    }
    const row = await withPostgres(
      context,
      async (c) =>
        (
          await c.query<{ ssl: boolean | null; version: string | null; cipher: string | null }>(
            'select ssl, version, cipher from pg_stat_ssl where pid = pg_backend_pid()',
          )
        ).rows[0],
    );
    const local = LOCAL_HOSTS.has(host);
    if (row?.ssl)
      return { status: 'pass', value: `${row.version} ${row.cipher}`, detail: `TLS to ${host || 'the local socket'}` };
    if (local && !s.requireForLocal)
      return {
        status: 'pass',
        value: 'not encrypted (local)',
        detail: `${host || 'Unix socket'} does not leave this machine; set requireForLocal to demand TLS here too`,
      };
    return {
      status: 'fail',
      value: 'not encrypted',
      detail: `the connection to ${host} is not encrypted: passwords and data cross the network in clear; add sslmode=verify-full (and sslrootcert) to the connection string, and hostssl lines in pg_hba.conf`,
    };
  },
};

const ATTRIBUTES = ['rolsuper', 'rolcreaterole', 'rolcreatedb', 'rolreplication', 'rolbypassrls'] as const;
/** pg_roles' column → the name in `allow` (and in CREATE ROLE, in upper case). */
const attributeName = (column: string) => (column === 'rolsuper' ? 'superuser' : column.slice(3));

export const postgresLeastPrivilege: CheckDefinition<{ role?: string | undefined; allow: string[] }> = {
  type: 'postgres.least-privilege',
  title: 'The role a procedure uses holds no power it does not need',
  description:
    'The role (default: the session user) is not a superuser and has none of CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS — directly or through a role it inherits — unless listed under allow (superuser, createrole, createdb, replication, bypassrls).',
  settings: z.strictObject({
    role: z.string().min(1).optional(),
    allow: z.array(z.enum(['superuser', 'createrole', 'createdb', 'replication', 'bypassrls'])).default([]),
  }),
  usesPostgres: true,
  async run(context, s) {
    const rows = await withPostgres(
      context,
      async (c) =>
        (
          await c.query<Record<(typeof ATTRIBUTES)[number], boolean> & { rolname: string }>(
            `select r.rolname, ${ATTRIBUTES.map((a) => `bool_or(r.${a}) as ${a}`).join(', ')}
             from pg_roles r
            where pg_has_role(coalesce($1, session_user), r.oid, 'USAGE')
            group by r.rolname`,
            [s.role ?? null],
          )
        ).rows,
    );
    if (rows.length === 0) throw new CheckCannotRun(`no role \`${s.role}\``);
    const held = new Map<string, string[]>();
    for (const row of rows)
      for (const a of ATTRIBUTES)
        if (row[a]) held.set(attributeName(a), [...(held.get(attributeName(a)) ?? []), row.rolname]);
    const excess = [...held.entries()].filter(([a]) => !s.allow.includes(a as never));
    const who = s.role ?? 'the session user';
    if (excess.length > 0 && context.postgres?.dataDir && s.role === undefined)
      return {
        status: 'warn',
        value: excess.map(([a]) => a).join(', '),
        metric: excess.length,
        unit: 'attributes',
        threshold: `none of ${ATTRIBUTES.map(attributeName)
          .filter((a) => !s.allow.includes(a as never))
          .join(', ')}`,
        detail: `the embedded rehearsal server is used as its superuser; on a real target this fails: run procedures as a role with only the grants they need (the security guide's migration role)`,
      };
    return excess.length === 0
      ? {
          status: 'pass',
          value: held.size ? `only allowed: ${[...held.keys()].join(', ')}` : 'no special attributes',
          metric: 0,
          unit: 'attributes',
          detail: `${who} holds no more than allowed`,
        }
      : {
          status: 'fail',
          threshold: `none of ${ATTRIBUTES.map(attributeName)
            .filter((a) => !s.allow.includes(a as never))
            .join(', ')}`,
          value: excess.map(([a]) => a).join(', '),
          metric: excess.length,
          unit: 'attributes',
          detail: `${who} holds ${excess.map(([a, via]) => `${a.toUpperCase()} (through ${via.join(', ')})`).join('; ')}: run the procedure as a role with only the grants it needs (see the security guide's migration role), or list the attribute under allow`,
        };
  },
};
