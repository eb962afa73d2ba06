// What the command line knows about who is asking: the policy that applies, the identity
// (a signed token, else the OS user), the audit trail and the approvals given. Built once per
// command, the same way for plan, run, resume and approve.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ExecDocError } from '../errors/exec-doc-error.js';
import { choosePolicyFile, type Policy } from '../security/policy.js';
import { currentIdentity, IDENTITY_TOKEN_ENV } from '../security/identity.js';
import { AuditLog } from '../security/audit.js';
import { usedApprovalsDir, type AccessContext } from '../security/access.js';
import type { CliOptions } from './parse.js';

/** The policy that applies, read only when there is one (its reader loads zod and YAML). */
export async function policyFor(options: CliOptions, startDir: string, env: NodeJS.ProcessEnv): Promise<Policy | null> {
  const file = choosePolicyFile({ flag: options.policy, env: env.EXEC_DOC_POLICY, startDir });
  if (!file) return null;
  const { loadPolicy } = await import('../security/policy-file.js');
  return loadPolicy(file);
}

export function auditFileFor(options: CliOptions, policy: Policy | null): string {
  return path.resolve(options.auditFile ?? policy?.audit.file ?? path.join(options.stateDir, 'audit', 'audit.jsonl'));
}

/** `policy`: the one the caller already loaded (else it is found from `startDir`). */
export async function accessFor(
  options: CliOptions,
  startDir: string,
  env: NodeJS.ProcessEnv,
  given?: Policy | null,
): Promise<AccessContext> {
  const policy = given === undefined ? await policyFor(options, startDir, env) : given;
  const identity = currentIdentity({ tokenFile: options.identityToken ?? env[IDENTITY_TOKEN_ENV], policy });
  const approvals = options.approval.map((file) => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new ExecDocError(
        'E_USAGE',
        `--approval ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  });
  return {
    policy,
    identity,
    approvals,
    audit: new AuditLog(auditFileFor(options, policy), policy?.audit.syslog ? { syslog: policy.audit.syslog } : {}),
    usedApprovalsDir: usedApprovalsDir(options.stateDir),
  };
}
