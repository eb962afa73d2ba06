// The gate in front of every run: the caller's identity, what the policy lets it do with this
// section on this target, and — for `confirm` steps on a protected target — an approval from
// someone else. A refusal is written to the audit trail and stops everything before any step.
import path from 'node:path';
import type { Section } from '../model/types.js';
import { CodedError } from '../util/coded-error.js';
import type { EventListener } from '../events/types.js';
import { classifyTarget, decide, type Action, type Decision, type Policy, type TargetInfo } from './policy.js';
import type { Identity } from './identity.js';
import {
  consumeApproval,
  paramsDigest,
  requireApproval,
  type AcceptedApproval,
  type ApprovalSubject,
} from './approvals.js';
import type { AuditBody, AuditLog } from './audit.js';

export interface AccessContext {
  policy: Policy | null;
  identity: Identity;
  /** Approval statements given to this run (--approval files' contents). */
  approvals: string[];
  audit: AuditLog;
  /** Where used approvals are remembered (<state-dir>/security/approvals-used). */
  usedApprovalsDir: string;
}

export interface Grant {
  target: TargetInfo;
  approval: AcceptedApproval | null;
}

export const usedApprovalsDir = (stateDir: string) => path.resolve(stateDir, 'security', 'approvals-used');

export const auditIdentity = (identity: Identity): AuditBody['identity'] => ({
  name: identity.name,
  via: identity.via,
  ...(identity.keyId ? { keyId: identity.keyId } : {}),
});

/** The identity and action of a refusal, in the audit trail, then the error the caller sees. */
function refuse(
  access: AccessContext,
  body: Omit<AuditBody, 'identity' | 'action' | 'outcome'>,
  error: CodedError,
): never {
  access.audit.append({
    identity: auditIdentity(access.identity),
    action: 'refuse',
    outcome: 'refused',
    ...body,
    detail: error.message,
  });
  throw error;
}

export function denied(decision: Extract<Decision, { allowed: false }>): CodedError {
  return new CodedError('E_DENIED', `refused by the access policy: ${decision.reason}`, {
    details: ['`exec-doc plan <section>` shows what you may do; an administrator changes exec-doc.policy.yaml.'],
  });
}

/**
 * May `access.identity` run `section` (its confirm steps included) with these values against
 * `url`'s host? Consumes the approval it needs; throws E_DENIED / E_APPROVAL after auditing.
 */
export function authorizeRun(input: {
  access: AccessContext;
  section: Section;
  /** Ids of the steps marked `confirm`. */
  confirmSteps: readonly string[];
  /** The connection string of the run's database, or undefined for this machine (the embedded default). */
  url: string | undefined;
  values: Readonly<Record<string, string>>;
  /** Parameter values as they may be shown (secrets masked). */
  shownParams: Record<string, string>;
  runId: string;
  resume: boolean;
}): Grant {
  const { access, section } = input;
  const target = classifyTarget(access.policy, input.url);
  const tags = section.tags ?? [];
  const about = {
    runId: input.runId,
    section: section.address,
    contentHash: section.contentHash,
    params: input.shownParams,
    target: { name: target.name, host: target.host },
  };
  const check = (action: Action) => {
    const d = decide(access.policy, access.identity, { action, section: section.address, tags, target });
    if (!d.allowed) refuse(access, about, denied(d));
  };
  check('run');
  let approval: AcceptedApproval | null = null;
  if (input.confirmSteps.length > 0) {
    check('confirm');
    if (target.protected && access.policy) {
      const subject: ApprovalSubject = {
        section: section.address,
        contentHash: section.contentHash,
        params: paramsDigest(section.params, input.values),
        target,
        tags,
      };
      try {
        approval = requireApproval(access.approvals, {
          policy: access.policy,
          runner: access.identity,
          subject,
          usedDir: access.usedApprovalsDir,
          runId: input.runId,
        });
        consumeApproval(access.usedApprovalsDir, approval, input.runId);
      } catch (error) {
        if (error instanceof CodedError) refuse(access, about, error);
        throw error;
      }
    }
  }
  access.audit.append({
    identity: auditIdentity(access.identity),
    action: input.resume ? 'resume' : 'run',
    outcome: 'authorized',
    ...about,
    detail: [
      access.policy ? `policy ${access.policy.file}` : 'no policy (everything allowed)',
      approval
        ? `approved by ${approval.approver} (approval ${approval.nonce.slice(0, 8)}, expires ${approval.expiresAt})`
        : null,
    ]
      .filter(Boolean)
      .join('; '),
  });
  return { target, approval };
}

/** Writes a run's steps, rollback and end to the audit trail (never its output). */
export function auditListener(
  access: AccessContext,
  about: { runId: string; section: string; contentHash: string; target: TargetInfo },
  notice?: (line: string) => void,
): EventListener {
  const base = {
    identity: auditIdentity(access.identity),
    runId: about.runId,
    section: about.section,
    contentHash: about.contentHash,
    target: { name: about.target.name, host: about.target.host },
  };
  let warned = false;
  const append = (body: Omit<AuditBody, 'identity'>) => {
    try {
      access.audit.append({ ...base, ...body });
    } catch (error) {
      if (!warned) notice?.(`audit trail: ${(error as Error).message}`);
      warned = true;
    }
  };
  return (event) => {
    switch (event.type) {
      case 'step.end':
        append({
          action: 'step',
          step: event.stepId,
          phase: event.phase,
          outcome: event.status,
          ...(event.reason ? { detail: event.reason } : {}),
        });
        break;
      case 'rollback.start':
        append({ action: 'rollback', outcome: 'started', detail: event.reason });
        break;
      case 'rollback.end':
        append({
          action: 'rollback',
          outcome: event.status,
          detail: `undone: ${event.undone.join(', ') || '-'}; not undone: ${event.notUndone.join(', ') || '-'}`,
        });
        break;
      case 'run.end':
        append({
          action: 'run',
          outcome: event.status,
          detail: `exit ${event.exitCode}${event.failedStep ? `, failed at ${event.failedStep}` : ''}`,
        });
        break;
      default:
        break;
    }
  };
}
