// Keys, statements and identities at their edges: files that are not keys, keys of another kind,
// keys others can read; statements that are not statements; the OS identity and token files.
import { describe, expect, it } from 'vitest';
import { tempDir } from '../temp.js';
import { generateKeyPairSync, createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  generateKeyPair,
  keyId,
  loadPrivateKey,
  loadPublicKey,
  readStatement,
  signStatement,
  verifyStatement,
} from '../../src/security/signing.js';
import {
  currentIdentity,
  issueIdentityToken,
  osIdentity,
  readTokenFile,
  verifyIdentityToken,
} from '../../src/security/identity.js';
import { execFileSync } from 'node:child_process';
import { checkApproval, issueApproval, paramsDigest, requireApproval } from '../../src/security/approvals.js';
import { classifyTarget, type Policy } from '../../src/security/policy.js';

const dir = tempDir('exec-doc-signing-');
const file = (name: string, content: string, mode = 0o600) => {
  const p = path.join(dir, name);
  writeFileSync(p, content, { mode });
  chmodSync(p, mode);
  return p;
};

describe('keys', () => {
  const pair = generateKeyPair();
  it('loads an Ed25519 pair; both halves have the same key id', () => {
    const priv = loadPrivateKey(file('a.key', pair.privatePem));
    const pub = loadPublicKey(file('a.pub', pair.publicPem, 0o644));
    expect(keyId(priv)).toBe(keyId(pub));
    expect(keyId(priv)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyId(createPublicKey(generateKeyPair().publicPem))).not.toBe(keyId(pub));
  });
  it('refuses a private key others can read, a file that is not a key, a key of another kind', () => {
    expect(() => loadPrivateKey(file('open.key', pair.privatePem, 0o644))).toThrow(/its permissions are 0644/);
    expect(() => loadPrivateKey(file('junk.key', 'not a key'))).toThrow(/not a private key in PEM form/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() =>
      loadPrivateKey(file('rsa.key', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())),
    ).toThrow(/an rsa key, expected an Ed25519 key/);
    expect(() =>
      loadPublicKey(file('rsa.pub', rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644)),
    ).toThrow(/an rsa key, expected an Ed25519 key/);
    expect(() => loadPublicKey(file('junk.pub', 'nope', 0o644))).toThrow(/not a public key in PEM form/);
    expect(() => loadPublicKey(path.join(dir, 'missing.pub'))).toThrow(/cannot read the public key \(ENOENT\)/);
  });
});

describe('statements', () => {
  const key = createPrivateKey(generateKeyPair().privatePem);
  const good = signStatement({ typ: 't', n: 1 }, key);
  it('round-trips, and refuses every malformed shape', () => {
    expect(verifyStatement(good, createPublicKey(key))).toEqual({ n: 1, typ: 't' });
    const [prefix, body, sig] = good.split('.') as [string, string, string];
    for (const bad of [
      `${prefix}.${body}`,
      `${prefix}.${body}.${sig}.x`,
      `edsig2.${body}.${sig}`,
      `${prefix}.${body}!.${sig}`,
      `${prefix}.!${body}.${sig}`,
      `${prefix}.${body}.${sig}=`,
      `${prefix}..${sig}`,
    ])
      expect(() => readStatement(bad), bad).toThrow(/not a signed statement|canonical/);
    expect(() => readStatement(`${prefix}.${Buffer.from('[1]').toString('base64url')}.${sig}`)).toThrow(
      /not an object/,
    );
    expect(() => readStatement(`${prefix}.${Buffer.from('{').toString('base64url')}.${sig}`)).toThrow(/not JSON/);
    expect(() => readStatement(`${prefix}.${Buffer.from('{"typ":"t","n":1}').toString('base64url')}.${sig}`)).toThrow(
      /not in canonical form/,
    );
    expect(readStatement(`  ${good}\n`)).toEqual({ n: 1, typ: 't' });
    for (const json of ['null', '1', '"x"'])
      expect(() => readStatement(`${prefix}.${Buffer.from(json).toString('base64url')}.${sig}`), json).toThrow(
        /not an object/,
      );
  });
  it('refuses a signature whose spare bits differ (one signature has one encoding)', () => {
    const [prefix, body, sig] = good.split('.') as [string, string, string];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 64 bytes in 86 characters: the last one carries 2 bits of the signature and 4 spare bits.
    const last = alphabet.indexOf(sig[sig.length - 1]!);
    const spare = `${sig.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(spare, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
    expect(() => verifyStatement(`${prefix}.${body}.${spare}`, createPublicKey(key))).toThrow(
      /signature is not in canonical form/,
    );
  });
});

describe('identities', () => {
  it('the OS identity is this process user, with its groups by name', () => {
    const me = osIdentity();
    expect(me).toMatchObject({ name: os.userInfo().username, via: 'os' });
    expect(me.groups.length).toBeGreaterThan(0);
    expect(currentIdentity({ policy: null })).toEqual(me);
  });
  it('names groups from /etc/group', () => {
    const primary = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
    expect(osIdentity().groups).toContain(primary);
  });
  it('issues tokens for 1 ms to 24 h only, and holds them to the second and to the minute of skew', () => {
    const key = createPrivateKey(generateKeyPair().privatePem);
    expect(() => issueIdentityToken({ name: 'ci', key, ttlMs: 0 })).toThrow(/between 1 ms and 24 h/);
    expect(() => issueIdentityToken({ name: 'ci', key, ttlMs: 24 * 3_600_000 + 1 })).toThrow(/between 1 ms and 24 h/);
    const pubFile = file('ci.pub', createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(), 0o644);
    const policy = {
      file: 'p',
      identities: new Map([['ci', { publicKeyFile: pubFile, osUser: false }]]),
    } as unknown as Policy;
    const now = new Date('2026-11-24T10:00:00.000Z');
    const day = issueIdentityToken({ name: 'ci', key, ttlMs: 24 * 3_600_000, now });
    expect(verifyIdentityToken(day, policy, now)).toMatchObject({ name: 'ci', via: 'key', keyId: keyId(key) });
    const short = issueIdentityToken({ name: 'ci', key, ttlMs: 1000, now });
    expect(verifyIdentityToken(short, policy, new Date(now.getTime() + 999)).name).toBe('ci');
    expect(() => verifyIdentityToken(short, policy, new Date(now.getTime() + 1000))).toThrow(/expired/);
    expect(verifyIdentityToken(short, policy, new Date(now.getTime() - 60_000)).name).toBe('ci');
    expect(() => verifyIdentityToken(short, policy, new Date(now.getTime() - 60_001))).toThrow(/issued in the future/);
    const badTimes = signStatement({ typ: 'exec-doc/identity', sub: 'ci', iat: now.toISOString(), exp: 'soon' }, key);
    expect(() => verifyIdentityToken(badTimes, policy, now)).toThrow(/times are not ISO-8601/);
    const nobody = signStatement({ typ: 'exec-doc/identity', iat: now.toISOString(), exp: now.toISOString() }, key);
    expect(() => verifyIdentityToken(nobody, policy, now)).toThrow(/identity token refused: it names nobody/);
  });
  it('a token file others can read is refused; its content is read trimmed', () => {
    expect(() => readTokenFile(file('t.token', 'x', 0o644))).toThrow(
      /identity token refused: its permissions are 0644/,
    );
    expect(readTokenFile(file('t2.token', '  edsig1.a.b \n'))).toBe('edsig1.a.b');
  });
});

describe('approvals at their boundaries', () => {
  const approverKey = createPrivateKey(generateKeyPair().privatePem);
  const pub = file('bob.pub', createPublicKey(approverKey).export({ type: 'spki', format: 'pem' }).toString(), 0o644);
  const policy: Policy = {
    file: path.join(dir, 'exec-doc.policy.yaml'),
    identities: new Map([['bob', { publicKeyFile: pub, osUser: false }]]),
    targets: new Map(),
    roles: new Map([
      [
        'approver',
        [
          {
            id: 'approver[0]',
            role: 'approver',
            effect: 'allow',
            actions: ['approve'],
            sections: null,
            tags: null,
            targets: null,
            at: 'p:1:1',
          },
        ],
      ],
    ]),
    members: new Map([['bob', ['approver']]]),
    maxApprovalTtlMs: 3_600_000,
    audit: {},
    secrets: new Map(),
  };
  const subject = {
    section: 'db/x',
    contentHash: 'sha256:1',
    params: paramsDigest([], {}),
    target: classifyTarget(policy, undefined),
    tags: [],
  };
  const now = new Date('2026-11-24T10:00:00.000Z');
  const context = {
    policy,
    runner: { name: 'alice', via: 'os' as const, groups: [] },
    subject,
    now,
    usedDir: path.join(dir, 'used'),
    runId: 'r',
  };
  const issue = (ttlMs: number, at = now) =>
    issueApproval({ approver: 'bob', key: approverKey, subject, ttlMs, now: at });

  it('holds until the second it expires, and for exactly the longest TTL the policy allows', () => {
    expect(checkApproval(issue(1000), { ...context, now: new Date(now.getTime() + 999) })).toMatchObject({
      approver: 'bob',
    });
    expect(checkApproval(issue(1000), { ...context, now: new Date(now.getTime() + 1000) })).toMatch(/expired at/);
    expect(checkApproval(issue(3_600_000), context)).toMatchObject({ approver: 'bob' });
    expect(checkApproval(issue(3_600_001), context)).toMatch(/longer than the policy allows/);
    // Clocks may differ by a minute: issued 60 s ahead is accepted, 61 s is not.
    expect(checkApproval(issue(120_000, new Date(now.getTime() + 60_000)), context)).toMatchObject({ approver: 'bob' });
    expect(checkApproval(issue(120_000, new Date(now.getTime() + 61_000)), context)).toMatch(/issued in the future/);
  });

  it('an approval for the runner by name holds; one for a target of another name does not', () => {
    expect(
      checkApproval(
        issueApproval({ approver: 'bob', key: approverKey, subject, ttlMs: 1000, now, forIdentity: 'alice' }),
        context,
      ),
    ).toMatchObject({ approver: 'bob' });
    const other = issueApproval({
      approver: 'bob',
      key: approverKey,
      subject: { ...subject, target: { name: 'production', host: null, protected: true } },
      ttlMs: 1000,
      now,
    });
    expect(checkApproval(other, context)).toBe('it approves target production, not local');
  });

  it('names an unknown approver, bad times and a malformed nonce', () => {
    const stranger = issueApproval({ approver: 'eve', key: approverKey, subject, ttlMs: 1000, now });
    expect(checkApproval(stranger, context)).toBe('the policy trusts no key for the approver `eve`');
    const payload = {
      typ: 'exec-doc/approval',
      approver: 'bob',
      section: 'db/x',
      contentHash: 'sha256:1',
      params: subject.params,
      target: 'local',
      host: null,
    };
    expect(
      checkApproval(
        signStatement({ ...payload, iat: 'then', exp: 'later', nonce: 'a'.repeat(32) }, approverKey),
        context,
      ),
    ).toBe('its times are not ISO-8601');
    const times = { iat: now.toISOString(), exp: new Date(now.getTime() + 1000).toISOString() };
    expect(
      checkApproval(signStatement({ ...payload, ...times, nonce: '../../etc/passwd' }, approverKey), context),
    ).toBe('its nonce is malformed');
    expect(
      checkApproval(signStatement({ ...payload, ...times, nonce: `x${'a'.repeat(32)}` }, approverKey), context),
    ).toBe('its nonce is malformed');
    expect(
      checkApproval(signStatement({ ...payload, ...times, nonce: `${'a'.repeat(32)}x` }, approverKey), context),
    ).toBe('its nonce is malformed');
  });

  it('requireApproval lists why each approval given does not hold, or that none was given', () => {
    expect(() => requireApproval([], context)).toThrow(
      expect.objectContaining({
        code: 'E_APPROVAL',
        details: expect.arrayContaining(['no approval was given (--approval <file>)']),
      }),
    );
    expect(() => requireApproval(['garbage', issue(1000, new Date(now.getTime() - 5000))], context)).toThrow(
      expect.objectContaining({
        details: expect.arrayContaining([
          expect.stringMatching(/^approval 1: not a signed statement/),
          expect.stringMatching(/^approval 2: it expired at/),
        ]),
      }),
    );
    expect(requireApproval(['garbage', issue(1000)], context)).toMatchObject({ approver: 'bob' });
  });
});
