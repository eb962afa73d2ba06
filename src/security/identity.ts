// Who is asking: the OS user (and its groups) by default; in CI and for agents, a name asserted
// by a token signed with a key the policy trusts for that name. An environment variable can name
// the token's file, but the name is believed only when the signature and the expiry hold.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { CodedError } from '../util/coded-error.js';
import { keyId, loadPublicKey, readStatement, signStatement, verifyStatement } from './signing.js';
import { secretFileProblem } from './files.js';
import type { Policy } from './policy.js';
import type { KeyObject } from 'node:crypto';

export interface Identity {
  name: string;
  via: 'os' | 'key';
  /** OS groups (empty for a key identity). */
  groups: string[];
  /** For a key identity: the id of the key that proved it. */
  keyId?: string;
}

export const IDENTITY_TOKEN_ENV = 'EXEC_DOC_IDENTITY_TOKEN';
/** Identity tokens are short-lived: at most a day. */
export const MAX_TOKEN_TTL_MS = 24 * 3_600_000;
/** Clocks of CI runners and the machine that issued a token may differ this much. */
const CLOCK_SKEW_MS = 60_000;

/** The OS user running exec-doc and the names of its groups (from /etc/group; numbers when unnamed). */
export function osIdentity(): Identity {
  const user = os.userInfo();
  const gids = new Set(process.getgroups?.() ?? [user.gid]);
  gids.add(user.gid);
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [name, , gid] = line.split(':');
      if (name && gid !== undefined) names.set(Number(gid), name);
    }
  } catch {
    // No /etc/group: groups are known by number only.
  }
  return {
    name: user.username,
    via: 'os',
    groups: [...gids].sort((a, b) => a - b).map((g) => names.get(g) ?? String(g)),
  };
}

export function issueIdentityToken(input: { name: string; key: KeyObject; ttlMs: number; now?: Date }): string {
  if (input.ttlMs <= 0 || input.ttlMs > MAX_TOKEN_TTL_MS)
    throw new CodedError('E_USAGE', `an identity token lives between 1 ms and 24 h, not ${input.ttlMs} ms`);
  const now = (input.now ?? new Date()).getTime();
  return signStatement(
    {
      typ: 'exec-doc/identity',
      sub: input.name,
      iat: new Date(now).toISOString(),
      exp: new Date(now + input.ttlMs).toISOString(),
      kid: keyId(input.key),
    },
    input.key,
  );
}

/** The identity a token proves, checked against the key the policy trusts for its name. */
export function verifyIdentityToken(token: string, policy: Policy | null, now = new Date()): Identity {
  const refuse = (why: string) =>
    new CodedError('E_TOKEN', `identity token refused: ${why}`, {
      details: [
        'Issue a new one with `exec-doc token <name> --key <private-key>`; the policy must list the name under `identities` with its public key.',
      ],
    });
  let claimed: Record<string, unknown>;
  try {
    claimed = readStatement(token);
  } catch (error) {
    throw refuse((error as Error).message);
  }
  if (claimed.typ !== 'exec-doc/identity')
    throw refuse(`it is a ${String(claimed.typ)} statement, not an identity token`);
  const name = claimed.sub;
  if (typeof name !== 'string') throw refuse('it names nobody');
  if (!policy) throw refuse('no policy applies, so no key is trusted for any name');
  const trusted = policy.identities.get(name);
  if (!trusted) throw refuse(`the policy (${policy.file}) trusts no key for \`${name}\``);
  try {
    verifyStatement(token, loadPublicKey(trusted.publicKeyFile));
  } catch (error) {
    throw refuse(`for \`${name}\`: ${(error as Error).message}`);
  }
  const iat = Date.parse(String(claimed.iat));
  const exp = Date.parse(String(claimed.exp));
  if (!Number.isFinite(iat) || !Number.isFinite(exp)) throw refuse('its times are not ISO-8601');
  if (iat - CLOCK_SKEW_MS > now.getTime()) throw refuse(`it was issued in the future (${String(claimed.iat)})`);
  if (exp <= now.getTime()) throw refuse(`it expired at ${String(claimed.exp)}`);
  if (exp - iat > MAX_TOKEN_TTL_MS) throw refuse('it is valid for more than 24 hours');
  return { name, via: 'key', groups: [], keyId: String(claimed.kid ?? '') };
}

/** Reads a token file (it is a credential: refused when others can read it). */
export function readTokenFile(file: string): string {
  const problem = secretFileProblem(file);
  if (problem) throw new CodedError('E_TOKEN', `${file}: identity token refused: ${problem}`);
  return readFileSync(file, 'utf8').trim();
}

/** The identity of this invocation: the token's when one is given, else the OS user's. */
export function currentIdentity(input: {
  tokenFile?: string | undefined;
  policy: Policy | null;
  now?: Date;
}): Identity {
  if (input.tokenFile) return verifyIdentityToken(readTokenFile(input.tokenFile), input.policy, input.now);
  return osIdentity();
}

export const describeIdentity = (identity: Identity) =>
  `${identity.name} (${identity.via === 'key' ? `signed token, key ${identity.keyId}` : `OS user, groups ${identity.groups.join(',') || '-'}`})`;
