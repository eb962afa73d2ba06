// The access side of plan and run on the command line: what the caller may do with a section
// (shown by plan), and the identity, policy, audit trail and secret values a run starts with.
import path from 'node:path';
import { CodedError, ExecDocError } from '../errors/exec-doc-error.js';
import type { Section } from '../model/types.js';
import type { Plan } from '../plan/plan.js';
import type { CliOptions } from './parse.js';
import type { Io } from './main.js';
import { accessFor } from './access.js';
import { classifyTarget, decide, type Action } from '../security/policy.js';
import { describeIdentity } from '../security/identity.js';
import { secretValues } from '../security/secret-sources.js';
import { configuredUrl } from '../targets/url.js';
import { PARAM_ENV_PREFIX } from '../placeholders/index.js';
import { auditIdentity, type AccessContext } from '../security/access.js';

export interface AccessSummary {
  text: string;
  json: {
    policy: string | null;
    identity: { name: string; via: 'os' | 'key' };
    target: { name: string; host: string | null; protected: boolean };
    actions: Record<Action, { allowed: boolean; reason: string | null }>;
    needsApproval: boolean;
  };
}

/** What the caller may do with the plan's section; refuses (E_DENIED) when it may not even plan it. */
export async function accessSummary(
  plan: Plan,
  documentPath: string,
  options: CliOptions,
  env: NodeJS.ProcessEnv,
): Promise<AccessSummary> {
  const access = await accessFor(options, path.dirname(documentPath), env);
  const section = plan.section;
  const target = classifyTarget(access.policy, plan.needsPostgres ? configuredUrl(section.target, env) : undefined);
  const request = (action: Action) => ({ action, section: section.address, tags: section.tags ?? [], target });
  const actions = Object.fromEntries(
    (['plan', 'run', 'confirm', 'approve'] as const).map((a) => {
      const d = decide(access.policy, access.identity, request(a));
      return [
        a,
        { allowed: d.allowed, reason: d.allowed ? (d.rule ? `rule \`${d.rule.id}\` (${d.rule.at})` : null) : d.reason },
      ];
    }),
  ) as AccessSummary['json']['actions'];
  if (!actions.plan.allowed) {
    // plan writes nothing else: on a read-only checkout the refusal is still a refusal.
    try {
      access.audit.append({
        identity: auditIdentity(access.identity),
        action: 'refuse',
        outcome: 'refused',
        section: section.address,
        target: { name: target.name, host: target.host },
        detail: `plan: ${actions.plan.reason}`,
      });
    } catch {
      // the audit trail cannot be written here
    }
    throw new CodedError('E_DENIED', `refused by the access policy: ${actions.plan.reason!}`);
  }
  const needsApproval = Boolean(access.policy) && target.protected && plan.confirmations.length > 0;
  const lines = [
    '',
    `Access: ${access.policy ? `policy ${access.policy.file}` : 'no policy applies (everything is allowed; see the security guide)'}`,
    `  identity: ${describeIdentity(access.identity)}`,
    `  target:   ${target.name}${target.host ? ` (${target.host})` : ' (this machine, the embedded PostgreSQL)'}${target.protected ? ', protected' : ''}`,
    ...(['plan', 'run', 'confirm', 'approve'] as const).map(
      (a) =>
        `  ${a.padEnd(8)}  ${actions[a].allowed ? 'allowed' : 'refused'}${actions[a].reason ? `: ${actions[a].reason}` : ''}`,
    ),
    ...(needsApproval
      ? [
          `  approval: needed — ${plan.confirmations.map((s) => s.id).join(', ')} ${plan.confirmations.length === 1 ? 'is' : 'are'} marked confirm and the target is protected; another identity signs one with \`exec-doc approve ${section.address}\``,
        ]
      : []),
    '',
  ];
  return {
    text: lines.join('\n'),
    json: {
      policy: access.policy?.file ?? null,
      identity: { name: access.identity.name, via: access.identity.via },
      target: { name: target.name, host: target.host, protected: target.protected },
      actions,
      needsApproval,
    },
  };
}

/** The access context of a run and its parameter values with the secrets read from their sources. */
export async function prepareAccess(
  section: Section,
  startDir: string,
  input: {
    options: CliOptions;
    io: Io;
    sets: Record<string, string>;
    secretFiles: Record<string, string>;
    notice: (line: string) => void;
  },
): Promise<{ access: AccessContext; sets: Record<string, string> }> {
  const { options, io } = input;
  const access = await accessFor(options, startDir, io.env);
  for (const p of section.params)
    if (p.secret && input.sets[p.name] !== undefined)
      input.notice(
        `warning: secret \`${p.name}\` was given with --set: other users can read it in \`ps\`; use ${PARAM_ENV_PREFIX}${p.name}, --secret-file ${p.name}=<file> or the policy's secrets`,
      );
  const given: Record<string, string> = { ...input.sets };
  for (const p of section.params)
    if (io.env[PARAM_ENV_PREFIX + p.name] !== undefined) given[p.name] ??= io.env[PARAM_ENV_PREFIX + p.name]!;
  let secrets: Record<string, string>;
  try {
    secrets = secretValues({
      params: section.params,
      files: input.secretFiles,
      sources: access.policy?.secrets ?? new Map(),
      given,
      env: io.env,
    });
  } catch (error) {
    if (error instanceof CodedError) throw error;
    throw new ExecDocError('E_SECRET', (error as Error).message);
  }
  return { access, sets: { ...input.sets, ...secrets } };
}
