// Access control: exec-doc.policy.yaml says which identities hold which roles, and what each
// role may do (plan, run, confirm, approve) with which sections, tags and targets. Deny rules win
// over allow rules; nothing is allowed that no rule allows. Validated on load: every problem is
// reported as file:line:column and a bad policy allows nothing.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import * as z from 'zod';
import { CodedError } from '../util/coded-error.js';
import { pathLocator } from '../util/yaml-position.js';
import { findUp } from '../util/fs.js';
import { closest } from '../util/edit-distance.js';
import { parseDurationMs } from '../annotations/duration.js';
import { governingFileProblem } from './files.js';
import type { Identity } from './identity.js';

export const POLICY_FILE = 'exec-doc.policy.yaml';
/** A policy installed by the machine's administrator applies to everyone and cannot be replaced by a flag. */
export const SYSTEM_POLICY_FILE = '/etc/exec-doc/policy.yaml';

export const ACTIONS = ['plan', 'run', 'confirm', 'approve'] as const;
export type Action = (typeof ACTIONS)[number];
/** `local`: this machine and its embedded PostgreSQL; `unlisted`: a database host no target names. */
export const RESERVED_TARGETS = ['local', 'unlisted'] as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]*$/;

const ruleSchema = z
  .strictObject({
    name: z.string().regex(NAME, 'a rule name: letters, digits, _ . @ -').optional(),
    allow: z.array(z.enum(ACTIONS)).min(1).optional(),
    deny: z.array(z.enum(ACTIONS)).min(1).optional(),
    sections: z.array(z.string().min(1)).min(1).optional(),
    tags: z.array(z.string().min(1)).min(1).optional(),
    targets: z.array(z.string().min(1)).min(1).optional(),
  })
  .refine((r) => (r.allow === undefined) !== (r.deny === undefined), {
    message: 'a rule has either `allow` or `deny` (a list of plan, run, confirm, approve)',
  });

const fileSchema = z.strictObject({
  version: z.literal(1),
  identities: z
    .record(
      z.string().regex(NAME, 'an identity name: letters, digits, _ . @ -'),
      z.strictObject({ publicKey: z.string().min(1), osUser: z.boolean().default(false) }),
    )
    .default({}),
  targets: z
    .record(
      z.string().regex(NAME, 'a target name: letters, digits, _ . @ -'),
      z.strictObject({ hosts: z.array(z.string().min(1)).min(1).optional(), protected: z.boolean().default(false) }),
    )
    .default({}),
  roles: z.record(z.string().regex(NAME, 'a role name: letters, digits, _ . @ -'), z.array(ruleSchema)).default({}),
  members: z.record(z.string().min(1), z.array(z.string().min(1))).default({}),
  approvals: z
    .strictObject({
      /** The longest an approval may be valid for. */
      maxTtl: z.string().default('24h'),
    })
    .default({ maxTtl: '24h' }),
  audit: z
    .strictObject({
      file: z.string().min(1).optional(),
      syslog: z
        .string()
        .regex(/^udp:\/\/[^/:]+:\d+$/, 'udp://<host>:<port>')
        .optional(),
      signingKey: z.string().min(1).optional(),
      publicKey: z.string().min(1).optional(),
    })
    .default({}),
  secrets: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a parameter name'),
      z.union([
        z.strictObject({ file: z.string().min(1) }),
        z.strictObject({ command: z.array(z.string().min(1)).min(1), timeout: z.string().default('10s') }),
        z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) }),
      ]),
    )
    .default({}),
});

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

/** Reads and validates a policy; throws E_POLICY naming every problem with its position. */
export function loadPolicy(file: string): Policy {
  const unsafe = governingFileProblem(file);
  if (unsafe) throw new CodedError('E_POLICY', `${file}: the policy cannot be trusted: ${unsafe}`);
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text, { prettyErrors: false });
  const problems: string[] = [];
  const locator = pathLocator(doc, text);
  const report = (p: ReadonlyArray<string | number>, message: string, key = false) => {
    const at = key ? locator.keyAt(p) : locator.at(p);
    problems.push(`${file}:${at.line}:${at.column}: ${message}`);
  };
  for (const error of doc.errors) {
    const at = error.linePos?.[0];
    problems.push(`${file}:${at?.line ?? 1}:${at?.col ?? 1}: Unexpected YAML: ${error.message.split('\n')[0]}`);
  }
  if (problems.length > 0) throw policyError(file, problems);
  const parsed = fileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const extra = issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [];
      const where = [...(issue.path as Array<string | number>), ...extra];
      const message =
        issue.code === 'unrecognized_keys'
          ? `Unexpected key \`${issue.keys[0]}\`${expectedKeys(issue.path)}`
          : `Unexpected value at \`${issue.path.join('.') || '(top)'}\`: ${issue.message.replace(/^Invalid (input|option): /, '')}`;
      report(where, message, extra.length > 0);
    }
    throw policyError(file, problems);
  }
  const data = parsed.data;
  const dir = path.dirname(file);
  const policy: Policy = {
    file,
    identities: new Map(
      Object.entries(data.identities).map(([name, v]) => [
        name,
        { publicKeyFile: path.resolve(dir, v.publicKey), osUser: v.osUser },
      ]),
    ),
    targets: new Map(
      Object.entries(data.targets).map(([name, v]) => [name, { hosts: v.hosts ?? [], protected: v.protected }]),
    ),
    roles: new Map(),
    members: new Map(Object.entries(data.members)),
    maxApprovalTtlMs: 0,
    audit: {
      ...(data.audit.file ? { file: path.resolve(dir, data.audit.file) } : {}),
      ...(data.audit.syslog ? { syslog: data.audit.syslog } : {}),
      ...(data.audit.signingKey ? { signingKey: path.resolve(dir, data.audit.signingKey) } : {}),
      ...(data.audit.publicKey ? { publicKey: path.resolve(dir, data.audit.publicKey) } : {}),
    },
    secrets: new Map(),
  };
  const ttl = parseDurationMs(data.approvals.maxTtl);
  if (ttl === undefined || ttl <= 0)
    report(['approvals', 'maxTtl'], `Unexpected duration \`${data.approvals.maxTtl}\`, expected e.g. 2h or 30m`);
  else policy.maxApprovalTtlMs = ttl;
  for (const [name, target] of policy.targets) {
    if ((RESERVED_TARGETS as readonly string[]).includes(name) && target.hosts.length > 0)
      report(
        ['targets', name, 'hosts'],
        `\`${name}\` is a reserved target (${name === 'local' ? 'this machine and the embedded PostgreSQL' : 'any host no target lists'}); it takes \`protected\` only`,
      );
    if (!(RESERVED_TARGETS as readonly string[]).includes(name) && target.hosts.length === 0)
      report(['targets', name], `target \`${name}\` lists no hosts; add \`hosts: [db.example.com]\``, true);
  }
  const targetNames = [...policy.targets.keys(), ...RESERVED_TARGETS];
  for (const [role, rules] of Object.entries(data.roles)) {
    const list: Rule[] = [];
    rules.forEach((r, i) => {
      for (const [j, t] of (r.targets ?? []).entries())
        if (!targetNames.includes(t)) {
          const near = closest(t, targetNames, 3);
          report(
            ['roles', role, i, 'targets', j],
            `Unexpected target \`${t}\`, expected one of ${targetNames.join(', ')}${near.length ? ` (did you mean \`${near[0]}\`?)` : ''}`,
          );
        }
      const at = locator.at(['roles', role, i]);
      list.push({
        id: r.name ?? `${role}[${i}]`,
        role,
        effect: r.allow ? 'allow' : 'deny',
        actions: (r.allow ?? r.deny)!,
        sections: r.sections ?? null,
        tags: r.tags ?? null,
        targets: r.targets ?? null,
        at: `${path.basename(file)}:${at.line}:${at.column}`,
      });
    });
    policy.roles.set(role, list);
  }
  for (const [who, roles] of policy.members) {
    for (const [i, role] of roles.entries())
      if (!policy.roles.has(role)) {
        const near = closest(role, [...policy.roles.keys()], 3);
        report(
          ['members', who, i],
          `Unexpected role \`${role}\`: no such role under \`roles\`${near.length ? ` (did you mean \`${near[0]}\`?)` : ''}`,
        );
      }
    if (who.startsWith('group:') ? !NAME.test(who.slice(6)) : !NAME.test(who))
      report(['members', who], `Unexpected member \`${who}\`, expected an identity name or group:<os-group>`, true);
  }
  for (const [name, source] of Object.entries(data.secrets)) {
    if ('file' in source) policy.secrets.set(name, { file: path.resolve(dir, source.file) });
    else if ('env' in source) policy.secrets.set(name, { env: source.env });
    else {
      const ms = parseDurationMs(source.timeout);
      if (ms === undefined || ms <= 0)
        report(['secrets', name, 'timeout'], `Unexpected duration \`${source.timeout}\``);
      policy.secrets.set(name, { command: source.command, timeoutMs: ms ?? 10_000 });
    }
  }
  if (problems.length > 0) throw policyError(file, problems);
  return policy;
}

const TOP_KEYS = Object.keys(fileSchema.shape);
function expectedKeys(at: readonly PropertyKey[]): string {
  if (at.length === 0) return `, expected one of ${TOP_KEYS.join(', ')}`;
  if (at[0] === 'roles') return ', expected name, allow, deny, sections, tags, targets';
  if (at[0] === 'audit') return ', expected file, syslog, signingKey, publicKey';
  if (at[0] === 'identities') return ', expected publicKey, osUser';
  if (at[0] === 'targets') return ', expected hosts, protected';
  return '';
}

function policyError(file: string, problems: string[]): CodedError {
  return new CodedError(
    'E_POLICY',
    `${file}: the policy is not valid, so nothing is allowed (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
    {
      details: problems,
    },
  );
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
