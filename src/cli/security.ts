// The security commands: approve (the two-person rule), audit verify|show|sign, keygen, token.
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { CodedError, ExecDocError, EXIT } from '../errors/exec-doc-error.js';
import { formatDurationMs, parseDurationMs } from '../annotations/duration.js';
import type { CliOptions } from './parse.js';
import type { Io } from './main.js';
import { accessFor, auditFileFor, policyFor } from './access.js';
import { generateKeyPair, keyId, loadPrivateKey, loadPublicKey } from '../security/signing.js';
import { classifyTarget, decide } from '../security/policy.js';
import { issueApproval, paramsDigest } from '../security/approvals.js';
import { auditIdentity, denied } from '../security/access.js';
import { issueIdentityToken, describeIdentity } from '../security/identity.js';
import { readAuditEntries, signAuditLog, verifyAuditLog, type AuditEntry } from '../security/audit.js';

const HOUR_MS = 3_600_000;

/** Writes a file that did not exist (never over another), with `mode`. */
function writeNew(file: string, content: string, mode: number): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(file, 'wx', mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new ExecDocError('E_USAGE', `${file} exists; it is not overwritten (remove it, or choose another name)`);
    throw error;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

export async function approveCommand(address: string, options: CliOptions, io: Io): Promise<number> {
  if (!options.key || !options.as)
    throw new ExecDocError('E_USAGE', 'approve needs --key <your-private-key> and --as <your-name>');
  const { resolveSection } = await import('../documents/address.js');
  const { buildPlan } = await import('../plan/plan.js');
  const { resolveParams, parseSets, shownValues } = await import('../runner/params.js');
  const { configuredUrl } = await import('../targets/url.js');
  const resolved = await resolveSection(address, { docsRoot: path.resolve(options.docs) });
  const section = resolved.section;
  const access = await accessFor(options, path.dirname(resolved.path), io.env);
  const policy = access.policy;
  if (!policy)
    throw new CodedError(
      'E_POLICY',
      'no access policy applies here, so nothing needs an approval and no key is trusted',
      {
        details: ['Write exec-doc.policy.yaml (see the security guide), or pass --policy <file>.'],
      },
    );
  const key = loadPrivateKey(options.key);
  const trusted = policy.identities.get(options.as);
  if (!trusted)
    throw new CodedError('E_DENIED', `the policy (${policy.file}) trusts no key for \`${options.as}\``, {
      details: [`Add identities.${options.as}.publicKey to the policy.`],
    });
  if (keyId(loadPublicKey(trusted.publicKeyFile)) !== keyId(key))
    throw new CodedError(
      'E_DENIED',
      `${options.key} is not the key the policy trusts for \`${options.as}\` (${trusted.publicKeyFile})`,
    );
  const { sets, problems } = parseSets(options.set);
  if (problems.length > 0) throw new ExecDocError('E_USAGE', 'Malformed --set', { details: problems });
  // An approver need not know the secrets: they are bound by name only.
  const placeholders = Object.fromEntries(
    section.params.filter((p) => p.secret).map((p) => [p.name, 'approval-placeholder']),
  );
  const params = resolveParams(section.params, { ...placeholders, ...sets }, io.env);
  if (params.problems.length > 0)
    throw new ExecDocError('E_PARAM', `Cannot approve ${section.address}: parameters are not right`, {
      details: params.problems,
    });
  const plan = buildPlan(section);
  const url =
    options.targetHost !== undefined
      ? options.targetHost === 'local'
        ? undefined
        : `postgresql://approver@${options.targetHost}/`
      : plan.needsPostgres
        ? configuredUrl(section.target, io.env)
        : undefined;
  const target = classifyTarget(policy, url);
  const tags = section.tags ?? [];
  const approver = { name: options.as, via: 'key' as const, groups: [], keyId: keyId(key) };
  const about = {
    section: section.address,
    contentHash: section.contentHash,
    params: shownValues(section.params, params.values),
    target: { name: target.name, host: target.host },
  };
  const may = decide(policy, approver, { action: 'approve', section: section.address, tags, target });
  if (!may.allowed) {
    const error = denied(may);
    access.audit.append({
      identity: auditIdentity(approver),
      action: 'refuse',
      outcome: 'refused',
      ...about,
      detail: error.message,
    });
    throw error;
  }
  const ttlMs = options.ttlMs ?? HOUR_MS;
  if (ttlMs > policy.maxApprovalTtlMs)
    throw new ExecDocError(
      'E_USAGE',
      `--ttl ${formatDurationMs(ttlMs)} is longer than the policy allows (approvals.maxTtl: ${formatDurationMs(policy.maxApprovalTtlMs)})`,
    );
  const token = issueApproval({
    approver: options.as,
    key,
    subject: {
      section: section.address,
      contentHash: section.contentHash,
      params: paramsDigest(section.params, params.values),
      target,
      tags,
    },
    ttlMs,
    ...(options.for ? { forIdentity: options.for } : {}),
  });
  access.audit.append({
    identity: auditIdentity(approver),
    action: 'approve',
    outcome: 'granted',
    ...about,
    detail: `for ${options.for ?? 'any other identity'}, valid ${formatDurationMs(ttlMs)}`,
  });
  await access.audit.close();
  if (options.out) writeNew(options.out, `${token}\n`, 0o644);
  else io.stdout.write(`${token}\n`);
  io.stderr.write(
    `exec-doc: ${options.as} approved ${section.address} (${section.contentHash.slice(0, 19)}…) on target ${target.name}${target.host ? ` (${target.host})` : ''} for ${options.for ?? 'any other identity'}, valid ${formatDurationMs(ttlMs)}, once${options.out ? `; written to ${options.out}` : ''}\n`,
  );
  return 0;
}

export async function auditCommand(sub: string, options: CliOptions, io: Io): Promise<number> {
  const policy = await policyFor(options, process.cwd(), io.env);
  const file = auditFileFor(options, policy);
  if (sub === 'verify') {
    const keyFile = options.key ?? policy?.audit.publicKey;
    const report = verifyAuditLog(file, keyFile ? { publicKey: loadPublicKey(keyFile) } : {});
    if (options.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else if (report.ok)
      io.stdout.write(
        `audit: ${file}: ${report.entries} entr${report.entries === 1 ? 'y' : 'ies'} intact (hash chain and head)${keyFile ? `; ${report.checkpoints} signed checkpoint(s), signed through entry ${report.signedThrough}${report.entries > report.signedThrough ? ` (${report.entries - report.signedThrough} later entr${report.entries - report.signedThrough === 1 ? 'y' : 'ies'} not yet signed)` : ''}` : '; no public key given, signed checkpoints not checked'}\n`,
      );
    else
      io.stdout.write(
        `audit: ${file}: NOT INTACT at line ${report.firstBad!.line} (byte ${report.firstBad!.offset}): ${report.firstBad!.reason}\n` +
          `audit: ${report.entries === 1 ? 'the entry before it is' : `the ${report.entries} entries before it are`} intact\n`,
      );
    return report.ok ? 0 : EXIT.rolledBack;
  }
  if (sub === 'sign') {
    if (!options.key) throw new ExecDocError('E_USAGE', 'audit sign needs --key <private-key>');
    const key = loadPrivateKey(options.key);
    const access = await accessFor(options, process.cwd(), io.env, policy);
    access.audit.append({
      identity: auditIdentity(access.identity),
      action: 'sign',
      outcome: 'signed',
      detail: `checkpoint with key ${keyId(key)}`,
    });
    const signed = signAuditLog(file, key, access.identity.name);
    await access.audit.close();
    io.stdout.write(`audit: ${file}: signed through entry ${signed.seq} with key ${keyId(key)}\n`);
    return 0;
  }
  const since = options.since === undefined ? undefined : timeOption(options.since, '--since');
  const until = options.until === undefined ? undefined : timeOption(options.until, '--until');
  const entries = readAuditEntries(file, {
    ...(options.section ? { section: options.section } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.action ? { action: options.action } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  });
  if (options.json) for (const e of entries) io.stdout.write(`${JSON.stringify(e)}\n`);
  else {
    for (const e of entries) io.stdout.write(`${formatEntry(e)}\n`);
    io.stdout.write(
      `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} (${file}); \`exec-doc audit verify\` says whether they can be trusted\n`,
    );
  }
  return 0;
}

function formatEntry(e: AuditEntry): string {
  const what = [e.section, e.step ? `${e.step}${e.phase ? `/${e.phase}` : ''}` : null].filter(Boolean).join(' ');
  const where = e.target ? ` @${e.target.name}${e.target.host ? `(${e.target.host})` : ''}` : '';
  return `#${e.seq} ${e.time} ${e.identity.name}${e.identity.via === 'key' ? '(key)' : ''} ${e.action} ${e.outcome}${what ? ` ${what}` : ''}${where}${e.detail ? ` — ${e.detail}` : ''}`;
}

function timeOption(text: string, flag: string): Date {
  const ago = parseDurationMs(text);
  if (ago !== undefined && !/^\d{4}-/.test(text)) return new Date(Date.now() - ago);
  const t = Date.parse(text);
  if (!Number.isFinite(t))
    throw new ExecDocError(
      'E_USAGE',
      `${flag} takes an ISO-8601 time (2026-11-24T10:00:00Z) or a duration ago (2h), not '${text}'`,
    );
  return new Date(t);
}

export function keygenCommand(name: string, options: CliOptions, io: Io): number {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.@-]*$/.test(name))
    throw new ExecDocError('E_USAGE', `keygen: \`${name}\` is not a key name (letters, digits, _ . @ -)`);
  const dir = options.out ?? '.';
  const pair = generateKeyPair();
  const keyFile = path.join(dir, `${name}.key`);
  const pubFile = path.join(dir, `${name}.pub`);
  if (existsSync(keyFile) || existsSync(pubFile))
    throw new ExecDocError('E_USAGE', `${existsSync(keyFile) ? keyFile : pubFile} exists; keys are never overwritten`);
  writeNew(keyFile, pair.privatePem, 0o600);
  writeNew(pubFile, pair.publicPem, 0o644);
  io.stdout.write(`${keyFile} (private, 0600) and ${pubFile} (public), key id ${keyId(loadPublicKey(pubFile))}\n`);
  return 0;
}

export async function tokenCommand(name: string, options: CliOptions, io: Io): Promise<number> {
  if (!options.key) throw new ExecDocError('E_USAGE', 'token needs --key <private-key>');
  const key = loadPrivateKey(options.key);
  const policy = await policyFor(options, process.cwd(), io.env);
  const trusted = policy?.identities.get(name);
  if (policy && !trusted)
    io.stderr.write(
      `exec-doc: warning: the policy (${policy.file}) trusts no key for \`${name}\`; the token will be refused until it does\n`,
    );
  if (trusted && keyId(loadPublicKey(trusted.publicKeyFile)) !== keyId(key))
    throw new CodedError('E_KEY', `${options.key} is not the key the policy trusts for \`${name}\``);
  const token = issueIdentityToken({ name, key, ttlMs: options.ttlMs ?? HOUR_MS });
  if (options.out) writeNew(options.out, `${token}\n`, 0o600);
  else io.stdout.write(`${token}\n`);
  return 0;
}

export { describeIdentity };
