// Reads exec-doc.policy.yaml: YAML validated with zod, every problem reported as
// file:line:column; a policy that is not valid allows nothing. Apart from ./policy.ts (decisions)
// so that a command run without a policy file loads neither parser.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import * as z from 'zod';
import { CodedError } from '../util/coded-error.js';
import { pathLocator } from '../util/yaml-position.js';
import { closest } from '../util/edit-distance.js';
import { parseDurationMs } from '../annotations/duration.js';
import { governingFileProblem } from './files.js';
import { ACTIONS, RESERVED_TARGETS, type Policy, type Rule, type SecretSource } from './policy.js';

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
