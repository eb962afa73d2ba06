// Access control: exec-doc.policy.yaml says which identities hold which roles, and what each
// role may do (plan, run, confirm, approve) with which sections, tags and targets. Deny rules win
// over allow rules; nothing is allowed that no rule allows. Validated on load: every problem is
// reported as file:line:column and a bad policy allows nothing (./policy-file.ts reads the file:
// it needs zod and YAML, which a command without a policy file never loads).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CodedError } from '../util/coded-error.js';
import { findUp } from '../util/fs.js';
import type { Identity } from './identity.js';

export const POLICY_FILE = 'exec-doc.policy.yaml';
/** A policy installed by the machine's administrator applies to everyone and cannot be replaced by a flag. */
export const SYSTEM_POLICY_FILE = '/etc/exec-doc/policy.yaml';

export const ACTIONS = ['plan', 'run', 'confirm', 'approve'] as const;
export type Action = (typeof ACTIONS)[number];
/** `local`: this machine and its embedded PostgreSQL; `unlisted`: a database host no target names. */
export const RESERVED_TARGETS = ['local', 'unlisted'] as const;

export interface Rule {
  /** `name`, or `<role>[<index>]`. */
  id: string;
  role: string;
  effect: 'allow' | 'deny';
  actions: Action[];
  sections: string[] | null;
  tags: string[] | null;
  targets: string[] | null;
  /** Where the rule is written. */
  at: string;
}

export type SecretSource = { file: string } | { command: string[]; timeoutMs: number } | { env: string };

export interface Policy {
  file: string;
  identities: Map<string, { publicKeyFile: string; osUser: boolean }>;
  targets: Map<string, { hosts: string[]; protected: boolean }>;
  roles: Map<string, Rule[]>;
  /** `alice` → roles, `group:dba` → roles. */
  members: Map<string, string[]>;
  maxApprovalTtlMs: number;
  audit: { file?: string; syslog?: string; signingKey?: string; publicKey?: string };
  secrets: Map<string, SecretSource>;
}

/** The policy file that applies: the system's, else --policy, else $EXEC_DOC_POLICY, else the nearest one. */
export function choosePolicyFile(input: {
  flag?: string | undefined;
  env?: string | undefined;
  startDir: string;
  systemFile?: string;
}): string | null {
  const system = input.systemFile ?? SYSTEM_POLICY_FILE;
  if (existsSync(system)) {
    const asked = input.flag ?? input.env;
    if (asked !== undefined && path.resolve(asked) !== system)
      throw new CodedError('E_POLICY', `${system} is this machine's policy; another one (${asked}) cannot replace it`, {
        details: ["Ask the machine's administrator to change the system policy, or drop --policy / EXEC_DOC_POLICY."],
      });
    return system;
  }
  if (input.flag !== undefined) return path.resolve(input.flag);
  if (input.env) return path.resolve(input.env);
  return findUp(input.startDir, POLICY_FILE);
}

/** `*` matches any characters (including `/`), `?` one; case-insensitive for hosts. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

export interface TargetInfo {
  /** The policy's name for it: a named target, `local` or `unlisted`. */
  name: string;
  /** The database host, or null for this machine. */
  host: string | null;
  protected: boolean;
}

/** Which of the policy's targets a run goes to: the database host of its connection string, or this machine. */
export function classifyTarget(policy: Policy | null, url: string | undefined): TargetInfo {
  let host: string | null = null;
  if (url) {
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, '') || 'localhost';
    } catch {
      host = '(unparseable connection string)';
    }
  }
  if (host === null) return { name: 'local', host: null, protected: policy?.targets.get('local')?.protected ?? false };
  for (const [name, t] of policy?.targets ?? [])
    if (t.hosts.some((h) => globMatch(h, host!, true))) return { name, host, protected: t.protected };
  return { name: 'unlisted', host, protected: policy?.targets.get('unlisted')?.protected ?? true };
}

/** The roles an identity holds: by its name (as proven) and by its OS groups. */
export function rolesOf(policy: Policy, identity: Identity): string[] {
  const roles = new Set<string>();
  const keyed = policy.identities.get(identity.name);
  // A name that proves itself with a key is not taken from the OS user of that name, unless the policy says so.
  const nameCounts = identity.via === 'key' || !keyed || keyed.osUser;
  if (nameCounts) for (const r of policy.members.get(identity.name) ?? []) roles.add(r);
  if (identity.via === 'os')
    for (const g of identity.groups) for (const r of policy.members.get(`group:${g}`) ?? []) roles.add(r);
  return [...roles].sort();
}

export interface Request {
  action: Action;
  section: string;
  tags: readonly string[];
  target: TargetInfo;
}

export type Decision =
  | { allowed: true; rule: Rule | null; roles: string[] }
  | { allowed: false; rule: Rule | null; roles: string[]; reason: string };

const applies = (rule: Rule, request: Request) =>
  rule.actions.includes(request.action) &&
  (rule.sections === null || rule.sections.some((s) => globMatch(s, request.section))) &&
  (rule.tags === null || rule.tags.some((t) => request.tags.includes(t))) &&
  (rule.targets === null || rule.targets.includes(request.target.name));

/** Whether `identity` may do `request`: a deny rule that applies wins, else the first allow rule, else refused. */
export function decide(policy: Policy | null, identity: Identity, request: Request): Decision {
  if (!policy) return { allowed: true, rule: null, roles: [] };
  const roles = rolesOf(policy, identity);
  const rules = roles.flatMap((r) => policy.roles.get(r) ?? []);
  const who = `${identity.name} (${identity.via === 'key' ? 'signed token' : 'OS user'})`;
  const what = `${request.action} ${request.section} on target ${request.target.name}${request.target.host ? ` (${request.target.host})` : ''}`;
  const deny = rules.find((r) => r.effect === 'deny' && applies(r, request));
  if (deny)
    return {
      allowed: false,
      rule: deny,
      roles,
      reason: `${who} may not ${what}: denied by rule \`${deny.id}\` of role \`${deny.role}\` (${deny.at})`,
    };
  const allow = rules.find((r) => r.effect === 'allow' && applies(r, request));
  if (allow) return { allowed: true, rule: allow, roles };
  return {
    allowed: false,
    rule: null,
    roles,
    reason: `${who} may not ${what}: no rule of ${roles.length ? `the roles ${roles.map((r) => `\`${r}\``).join(', ')}` : 'any role (it holds none)'} allows it (${path.basename(policy.file)})`,
  };
}
