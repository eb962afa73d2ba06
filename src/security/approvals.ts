// The two-person rule: a step marked `confirm` on a protected target runs only with an approval
// signed by a different identity that may approve it. The approval names the section, its content
// hash, a digest of the parameters, the target and an expiry, and is used once: an approval for
// one change cannot be replayed for another, nor for the same change twice.
import { randomBytes, createHash } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { CodedError } from '../util/coded-error.js';
import { stableStringify } from '../model/hash.js';
import type { Param } from '../model/types.js';
import { keyId, loadPublicKey, readStatement, signStatement, verifyStatement } from './signing.js';
import { decide, type Policy, type TargetInfo } from './policy.js';
import type { Identity } from './identity.js';

export interface ApprovalSubject {
  section: string;
  contentHash: string;
  /** paramsDigest() of the run's values. */
  params: string;
  target: TargetInfo;
  tags: readonly string[];
}

/**
 * sha256 over the non-secret parameter values (defaults included) and the names of the secret
 * ones: an approver need not know a secret, and a changed table name or batch size is another change.
 */
export function paramsDigest(params: readonly Param[], values: Readonly<Record<string, string>>): string {
  const shown: Record<string, string> = {};
  for (const p of params) if (values[p.name] !== undefined) shown[p.name] = p.secret ? '(secret)' : values[p.name]!;
  return `sha256:${createHash('sha256').update(stableStringify(shown)).digest('hex')}`;
}

export function issueApproval(input: {
  approver: string;
  key: KeyObject;
  subject: ApprovalSubject;
  ttlMs: number;
  /** Only this identity may use it. */
  forIdentity?: string;
  now?: Date;
}): string {
  const now = (input.now ?? new Date()).getTime();
  return signStatement(
    {
      typ: 'exec-doc/approval',
      approver: input.approver,
      kid: keyId(input.key),
      section: input.subject.section,
      contentHash: input.subject.contentHash,
      params: input.subject.params,
      target: input.subject.target.name,
      host: input.subject.target.host,
      ...(input.forIdentity ? { for: input.forIdentity } : {}),
      iat: new Date(now).toISOString(),
      exp: new Date(now + input.ttlMs).toISOString(),
      nonce: randomBytes(16).toString('hex'),
    },
    input.key,
  );
}

export interface AcceptedApproval {
  approver: string;
  nonce: string;
  expiresAt: string;
}

/** Why one approval does not hold for this run, or its content when it does. */
export function checkApproval(
  token: string,
  context: { policy: Policy; runner: Identity; subject: ApprovalSubject; now?: Date; usedDir: string; runId: string },
): AcceptedApproval | string {
  const now = (context.now ?? new Date()).getTime();
  let claimed: Record<string, unknown>;
  try {
    claimed = readStatement(token);
  } catch (error) {
    return (error as Error).message;
  }
  if (claimed.typ !== 'exec-doc/approval') return `it is a ${String(claimed.typ)} statement, not an approval`;
  const approver = String(claimed.approver);
  const trusted = context.policy.identities.get(approver);
  if (!trusted) return `the policy trusts no key for the approver \`${approver}\``;
  try {
    verifyStatement(token, loadPublicKey(trusted.publicKeyFile));
  } catch (error) {
    return `signed as \`${approver}\`, but ${(error as Error).message}`;
  }
  const s = context.subject;
  if (approver === context.runner.name)
    return `\`${approver}\` approved their own change; a different identity must approve it`;
  if (claimed.for !== undefined && claimed.for !== context.runner.name)
    return `it is for \`${String(claimed.for)}\`, not \`${context.runner.name}\``;
  if (claimed.section !== s.section) return `it approves ${String(claimed.section)}, not ${s.section}`;
  if (claimed.contentHash !== s.contentHash)
    return `it approves another version of ${s.section} (${String(claimed.contentHash).slice(0, 19)}…, the section is now ${s.contentHash.slice(0, 19)}…)`;
  if (claimed.params !== s.params) return 'it approves other parameter values';
  if (claimed.target !== s.target.name || claimed.host !== s.target.host)
    return `it approves target ${String(claimed.target)}${claimed.host ? ` (${String(claimed.host)})` : ''}, not ${s.target.name}${s.target.host ? ` (${s.target.host})` : ''}`;
  const iat = Date.parse(String(claimed.iat));
  const exp = Date.parse(String(claimed.exp));
  if (!Number.isFinite(iat) || !Number.isFinite(exp)) return 'its times are not ISO-8601';
  if (exp <= now) return `it expired at ${String(claimed.exp)}`;
  if (iat - 60_000 > now) return `it was issued in the future (${String(claimed.iat)})`;
  if (exp - iat > context.policy.maxApprovalTtlMs)
    return `it is valid for longer than the policy allows (approvals.maxTtl)`;
  const may = decide(
    context.policy,
    { name: approver, via: 'key', groups: [] },
    { action: 'approve', section: s.section, tags: s.tags, target: s.target },
  );
  if (!may.allowed) return `\`${approver}\` may not approve it: ${may.reason}`;
  const nonce = String(claimed.nonce);
  if (!/^[0-9a-f]{32}$/.test(nonce)) return 'its nonce is malformed';
  const usedBy = usedByRun(context.usedDir, nonce);
  if (usedBy !== null && usedBy !== context.runId)
    return `it was already used by run ${usedBy}; an approval is good for one run`;
  return { approver, nonce, expiresAt: new Date(exp).toISOString() };
}

function usedByRun(dir: string, nonce: string): string | null {
  try {
    return (JSON.parse(readFileSync(path.join(dir, `${nonce}.json`), 'utf8')) as { runId: string }).runId;
  } catch {
    return null;
  }
}

/** Marks an approval used by a run (atomically: of two runs racing for it, one wins). */
export function consumeApproval(dir: string, approval: AcceptedApproval, runId: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${approval.nonce}.json`);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const by = usedByRun(dir, approval.nonce);
    if (by === runId) return;
    throw new CodedError(
      'E_APPROVAL',
      `the approval by ${approval.approver} was just used by run ${by ?? '?'}; an approval is good for one run`,
    );
  }
  writeSync(fd, `${JSON.stringify({ runId, approver: approval.approver, usedAt: new Date().toISOString() })}\n`);
  closeSync(fd);
}

/** The first approval among `tokens` that holds, or E_APPROVAL listing why each one does not. */
export function requireApproval(
  tokens: readonly string[],
  context: Parameters<typeof checkApproval>[1],
): AcceptedApproval {
  const reasons: string[] = [];
  for (const [i, token] of tokens.entries()) {
    const r = checkApproval(token, context);
    if (typeof r !== 'string') return r;
    reasons.push(`approval ${i + 1}: ${r}`);
  }
  const s = context.subject;
  throw new CodedError(
    'E_APPROVAL',
    `${s.section} has steps marked \`confirm\` and target ${s.target.name}${s.target.host ? ` (${s.target.host})` : ''} is protected: it needs an approval from another identity`,
    {
      details: [
        ...(reasons.length ? reasons : ['no approval was given (--approval <file>)']),
        `Ask an approver to run: exec-doc approve ${s.section} [--set …] --key <their-key> --as <their-name> --out approval.txt`,
        'then pass --approval approval.txt to this run.',
      ],
    },
  );
}
