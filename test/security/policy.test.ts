// The access policy: validation with positions, decisions (deny wins, nothing allowed unless a
// rule allows it, groups, tags, targets by host), which file applies; identity tokens and
// approvals: forged, tampered, replayed, expired, self-approved — each refused with its reason.
import { describe, expect, it } from 'vitest';
import { tempDir } from '../temp.js';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { choosePolicyFile, classifyTarget, decide, globMatch, type Policy } from '../../src/security/policy.js';
import { loadPolicy } from '../../src/security/policy-file.js';
import { generateKeyPair, signStatement } from '../../src/security/signing.js';
import { issueIdentityToken, verifyIdentityToken, type Identity } from '../../src/security/identity.js';
import {
  checkApproval,
  consumeApproval,
  issueApproval,
  paramsDigest,
  type ApprovalSubject,
} from '../../src/security/approvals.js';
import type { Param } from '../../src/model/types.js';

function workspace(policyText: string): {
  dir: string;
  policy: Policy;
  keys: Record<string, ReturnType<typeof createPrivateKey>>;
} {
  const dir = tempDir('exec-doc-policy-');
  mkdirSync(path.join(dir, 'keys'));
  const keys: Record<string, ReturnType<typeof createPrivateKey>> = {};
  for (const name of ['alice', 'bob', 'carol', 'ci-bot']) {
    const pair = generateKeyPair();
    writeFileSync(path.join(dir, 'keys', `${name}.pub`), pair.publicPem);
    keys[name] = createPrivateKey(pair.privatePem);
  }
  const file = path.join(dir, 'exec-doc.policy.yaml');
  writeFileSync(file, policyText, { mode: 0o644 });
  chmodSync(file, 0o644);
  return { dir, policy: loadPolicy(file), keys };
}

const POLICY = `version: 1
identities:
  alice: { publicKey: keys/alice.pub, osUser: true }
  bob: { publicKey: keys/bob.pub }
  carol: { publicKey: keys/carol.pub }
  ci-bot: { publicKey: keys/ci-bot.pub }
targets:
  production: { hosts: ["db.prod.example.com", "*.prod.internal"], protected: true }
roles:
  operator:
    - allow: [plan, run]
      sections: ["database/*", "quick-start/*"]
    - name: no-production-deletes
      deny: [run]
      sections: ["database/rolling-back-*"]
      targets: [production]
  dba:
    - allow: [plan, run, confirm]
  approver:
    - allow: [approve]
      tags: [database]
members:
  alice: [operator, dba]
  bob: [approver]
  carol: [operator]
  ci-bot: [operator]
  group:release: [operator]
approvals: { maxTtl: 2h }
`;

const os_ = (name: string, groups: string[] = []): Identity => ({ name, via: 'os', groups });
const key = (name: string): Identity => ({ name, via: 'key', groups: [] });

describe('access policy', () => {
  const { policy, keys } = workspace(POLICY);
  const local = classifyTarget(policy, undefined);
  const prod = classifyTarget(policy, 'postgresql://u:pw@db.prod.example.com:5432/app');

  it('classifies targets by the host of the connection string; an unlisted host is protected', () => {
    expect(local).toEqual({ name: 'local', host: null, protected: false });
    expect(prod).toEqual({ name: 'production', host: 'db.prod.example.com', protected: true });
    expect(classifyTarget(policy, 'postgresql://x@replica-2.prod.internal/app').name).toBe('production');
    expect(classifyTarget(policy, 'postgresql://x@10.0.0.7/app')).toEqual({
      name: 'unlisted',
      host: '10.0.0.7',
      protected: true,
    });
  });

  it('allows by rule, denies by a deny rule that applies, and refuses what no rule allows', () => {
    const req = (
      action: 'plan' | 'run' | 'confirm' | 'approve',
      section: string,
      target = local,
      tags: string[] = [],
    ) => ({ action, section, tags, target });
    expect(decide(policy, key('carol'), req('run', 'database/add-a-column'))).toMatchObject({
      allowed: true,
      rule: { id: 'operator[0]' },
    });
    const denied = decide(policy, key('carol'), req('run', 'database/rolling-back-a-release', prod));
    expect(denied).toMatchObject({ allowed: false, rule: { id: 'no-production-deletes' } });
    expect(!denied.allowed && denied.reason).toMatch(
      /carol \(signed token\) may not run database\/rolling-back-a-release on target production \(db\.prod\.example\.com\): denied by rule `no-production-deletes` of role `operator` \(exec-doc\.policy\.yaml:13:7\)/,
    );
    // alice is operator and dba: the deny rule of operator still wins.
    expect(decide(policy, os_('alice'), req('run', 'database/rolling-back-a-release', prod)).allowed).toBe(false);
    expect(decide(policy, os_('alice'), req('confirm', 'infrastructure/x')).allowed).toBe(true);
    const none = decide(policy, os_('mallory'), req('plan', 'database/add-a-column'));
    expect(!none.allowed && none.reason).toMatch(
      /mallory \(OS user\) may not plan database\/add-a-column on target local: no rule of any role \(it holds none\) allows it/,
    );
    expect(decide(policy, os_('dave', ['staff', 'release']), req('run', 'quick-start/demo')).allowed).toBe(true);
    expect(decide(policy, key('bob'), req('approve', 'database/x', prod, ['database'])).allowed).toBe(true);
    expect(decide(policy, key('bob'), req('approve', 'database/x', prod, ['security'])).allowed).toBe(false);
  });

  it('a name proven by a key is not taken from an OS user of that name, unless osUser says so', () => {
    const req = { action: 'plan' as const, section: 'database/x', tags: [], target: local };
    expect(decide(policy, os_('ci-bot'), req).allowed).toBe(false);
    expect(decide(policy, key('ci-bot'), req).allowed).toBe(true);
    expect(decide(policy, os_('alice'), req).allowed).toBe(true);
  });

  it('each condition of a rule counts: action, section, every tag it names is enough, target; hosts any case, IPv6', () => {
    const withReleaseManager = POLICY.replace(
      'roles:\n',
      'roles:\n  release-manager:\n    - allow: [run]\n      tags: [database, security]\n',
    ).replace('members:\n', 'members:\n  rm: [release-manager]\n');
    const { policy: p } = workspace(withReleaseManager);
    const localT = classifyTarget(p, undefined);
    const prodT = classifyTarget(p, 'postgresql://u@DB.Prod.Example.com:5432/app');
    expect(prodT).toEqual({ name: 'production', host: 'DB.Prod.Example.com', protected: true });
    expect(classifyTarget(p, 'postgresql://u@[::1]:5432/app')).toEqual({
      name: 'unlisted',
      host: '::1',
      protected: true,
    });
    expect(localT).toEqual({ name: 'local', host: null, protected: false });
    const req = (
      action: 'plan' | 'run' | 'confirm' | 'approve',
      section: string,
      target = localT,
      tags: string[] = [],
    ) => ({ action, section, tags, target });
    // carol (operator: plan and run on database/* and quick-start/*)
    expect(decide(p, key('carol'), req('confirm', 'database/x')).allowed).toBe(false);
    expect(decide(p, key('carol'), req('run', 'infrastructure-upgrades/x')).allowed).toBe(false);
    expect(decide(p, key('carol'), req('run', 'database/x')).allowed).toBe(true);
    // The deny rule is for production only: the same section on this machine is allowed.
    expect(decide(p, key('carol'), req('run', 'database/rolling-back-a-release', localT)).allowed).toBe(true);
    expect(decide(p, key('carol'), req('run', 'database/rolling-back-a-release', prodT)).allowed).toBe(false);
    // A rule's tags: one of them is enough.
    expect(decide(p, key('rm'), req('run', 'x/y', localT, ['database'])).allowed).toBe(true);
    expect(decide(p, key('rm'), req('run', 'x/y', localT, ['other'])).allowed).toBe(false);
    expect(decide(null, key('anyone'), req('run', 'x/y'))).toEqual({ allowed: true, rule: null, roles: [] });
    const none = decide(p, key('rm'), req('plan', 'x/y'));
    expect(!none.allowed && none.reason).toBe(
      'rm (signed token) may not plan x/y on target local: no rule of the roles `release-manager` allows it (exec-doc.policy.yaml)',
    );
    expect(globMatch('db-?.prod', 'db-1.prod')).toBe(true);
    expect(globMatch('db-?.prod', 'db-12.prod')).toBe(false);
    expect(globMatch('DB.*', 'db.x')).toBe(false);
    expect(globMatch('DB.*', 'db.x', true)).toBe(true);
    expect(globMatch('a.b', 'axb')).toBe(false);
  });

  it('no policy: everything is allowed (and plan says so)', () => {
    expect(decide(null, os_('anyone'), { action: 'run', section: 'x/y', tags: [], target: local }).allowed).toBe(true);
  });

  it('reports every problem of a bad policy at its line and column, and allows nothing', () => {
    const bad = `version: 1
roles:
  operator:
    - allow: [plan, launch]
    - allow: [run]
      deny: [run]
    - allow: [run]
      targets: [prod]
      colour: red
members:
  alice: [operater]
`;
    const dir = tempDir('exec-doc-policy-');
    const file = path.join(dir, 'exec-doc.policy.yaml');
    writeFileSync(file, bad);
    let error: Error & { details?: string[] } = new Error();
    try {
      loadPolicy(file);
    } catch (e) {
      error = e as Error & { details?: string[] };
    }
    expect(error.message).toMatch(/the policy is not valid, so nothing is allowed \(\d+ problems?\)/);
    const text = error.details!.join('\n');
    expect(text).toMatch(/exec-doc\.policy\.yaml:4:21: Unexpected value at `roles\.operator\.0\.allow\.1`/);
    expect(text).toMatch(/exec-doc\.policy\.yaml:5:7: .*either `allow` or `deny`/);
    expect(text).toMatch(
      /exec-doc\.policy\.yaml:9:7: Unexpected key `colour`, expected name, allow, deny, sections, tags, targets/,
    );
  });

  it('finds semantic problems: unknown roles and targets, with suggestions', () => {
    const dir = tempDir('exec-doc-policy-');
    const file = path.join(dir, 'exec-doc.policy.yaml');
    writeFileSync(
      file,
      'version: 1\nroles:\n  operator:\n    - allow: [run]\n      targets: [prod]\nmembers:\n  alice: [operater]\n',
    );
    expect(() => loadPolicy(file)).toThrow(
      expect.objectContaining({
        details: [
          expect.stringMatching(/:5:17: Unexpected target `prod`, expected one of local, unlisted/),
          expect.stringMatching(
            /:7:11: Unexpected role `operater`: no such role under `roles` \(did you mean `operator`\?\)/,
          ),
        ],
      }),
    );
  });

  it('refuses a policy that group or others can change', () => {
    const dir = tempDir('exec-doc-policy-');
    const file = path.join(dir, 'exec-doc.policy.yaml');
    writeFileSync(file, 'version: 1\n');
    chmodSync(file, 0o666);
    expect(() => loadPolicy(file)).toThrow(/cannot be trusted: its permissions are 0666/);
  });

  it('the system policy applies over --policy and $EXEC_DOC_POLICY, which cannot replace it', () => {
    const { dir } = workspace('version: 1\n');
    const system = path.join(dir, 'exec-doc.policy.yaml');
    expect(choosePolicyFile({ startDir: dir, systemFile: system })).toBe(system);
    expect(() => choosePolicyFile({ flag: '/tmp/mine.yaml', startDir: dir, systemFile: system })).toThrow(
      /cannot replace it/,
    );
    expect(choosePolicyFile({ flag: 'x.yaml', startDir: dir, systemFile: '/nonexistent/p.yaml' })).toBe(
      path.resolve('x.yaml'),
    );
    expect(choosePolicyFile({ startDir: path.join(dir, 'keys'), systemFile: '/nonexistent/p.yaml' })).toBe(system);
  });

  describe('identity tokens', () => {
    it('proves a name with the key the policy trusts for it, within its lifetime', () => {
      const token = issueIdentityToken({ name: 'ci-bot', key: keys['ci-bot']!, ttlMs: 60_000 });
      expect(verifyIdentityToken(token, policy)).toMatchObject({ name: 'ci-bot', via: 'key' });
    });
    it('refuses forged, tampered, expired, future, over-long and untrusted tokens', () => {
      const now = new Date();
      const forged = issueIdentityToken({ name: 'ci-bot', key: keys.carol!, ttlMs: 60_000 });
      expect(() => verifyIdentityToken(forged, policy)).toThrow(/signature does not match/);
      const good = issueIdentityToken({ name: 'ci-bot', key: keys['ci-bot']!, ttlMs: 60_000 });
      // Every single-character change of the token is refused.
      let refused = 0;
      for (let i = 0; i < good.length; i++) {
        const c = good[i] === 'A' ? 'B' : 'A';
        const tampered = good.slice(0, i) + c + good.slice(i + 1);
        if (tampered === good) continue;
        expect(() => verifyIdentityToken(tampered, policy), `position ${i}`).toThrow();
        refused += 1;
      }
      expect(refused).toBeGreaterThan(150);
      expect(() => verifyIdentityToken(good, policy, new Date(now.getTime() + 61_000))).toThrow(/expired/);
      expect(() => verifyIdentityToken(good, policy, new Date(now.getTime() - 120_000))).toThrow(
        /issued in the future/,
      );
      const long = signStatement(
        {
          typ: 'exec-doc/identity',
          sub: 'ci-bot',
          iat: now.toISOString(),
          exp: new Date(now.getTime() + 48 * 3_600_000).toISOString(),
        },
        keys['ci-bot']!,
      );
      expect(() => verifyIdentityToken(long, policy)).toThrow(/more than 24 hours/);
      const stranger = issueIdentityToken({ name: 'mallory', key: keys.carol!, ttlMs: 60_000 });
      expect(() => verifyIdentityToken(stranger, policy)).toThrow(/trusts no key for `mallory`/);
      expect(() => verifyIdentityToken(good, null)).toThrow(/no policy applies/);
      const approvalAsToken = signStatement({ typ: 'exec-doc/approval', sub: 'ci-bot' }, keys['ci-bot']!);
      expect(() => verifyIdentityToken(approvalAsToken, policy)).toThrow(/not an identity token/);
    });
  });

  describe('approvals (two-person rule)', () => {
    const params: Param[] = [
      { name: 'table', type: 'identifier', required: false, secret: false },
      { name: 'password', type: 'string', required: true, secret: true },
    ];
    const subject: ApprovalSubject = {
      section: 'database/add-a-column',
      contentHash: 'sha256:aaaa',
      params: paramsDigest(params, { table: 'orders', password: 'one' }),
      target: prod,
      tags: ['database'],
    };
    const usedDir = tempDir('exec-doc-used-');
    const context = { policy, runner: os_('alice'), subject, usedDir, runId: 'run-1' };
    const approve = (over: Partial<Parameters<typeof issueApproval>[0]> = {}) =>
      issueApproval({ approver: 'bob', key: keys.bob!, subject, ttlMs: 3_600_000, ...over });

    it('binds the parameters but not the secrets, which the approver need not know', () => {
      expect(paramsDigest(params, { table: 'orders', password: 'one' })).toBe(
        paramsDigest(params, { table: 'orders', password: 'two' }),
      );
      expect(paramsDigest(params, { table: 'orders', password: 'one' })).not.toBe(
        paramsDigest(params, { table: 'invoices', password: 'one' }),
      );
    });

    it('accepts an approval by another identity that may approve, once', () => {
      const token = approve();
      const ok = checkApproval(token, context);
      expect(ok).toMatchObject({ approver: 'bob' });
      consumeApproval(usedDir, ok as Exclude<typeof ok, string>, 'run-1');
      // The same run (resumed) may use it again; another run may not.
      expect(checkApproval(token, context)).toMatchObject({ approver: 'bob' });
      expect(checkApproval(token, { ...context, runId: 'run-2' })).toMatch(/already used by run run-1/);
    });

    it('refuses replay for another change, forgery, self-approval and the rest', () => {
      const cases: Array<[string, string, RegExp]> = [
        [
          'other section',
          approve({ subject: { ...subject, section: 'database/drop-everything' } }),
          /approves database\/drop-everything, not database\/add-a-column/,
        ],
        [
          'other content',
          approve({ subject: { ...subject, contentHash: 'sha256:bbbb' } }),
          /another version of database\/add-a-column/,
        ],
        [
          'other parameters',
          approve({ subject: { ...subject, params: paramsDigest(params, { table: 'invoices' }) } }),
          /other parameter values/,
        ],
        [
          'other target',
          approve({ subject: { ...subject, target: classifyTarget(policy, 'postgresql://x@db2.prod.internal/') } }),
          /approves target production \(db2\.prod\.internal\)/,
        ],
        ['expired', approve({ ttlMs: 1000, now: new Date(Date.now() - 5000) }), /expired at/],
        ['too long', approve({ ttlMs: 3 * 3_600_000 }), /longer than the policy allows/],
        [
          'self-approved',
          issueApproval({ approver: 'alice', key: keys.alice!, subject, ttlMs: 60_000 }),
          /approved their own change/,
        ],
        [
          "forged (signed with carol's key as bob)",
          issueApproval({ approver: 'bob', key: keys.carol!, subject, ttlMs: 60_000 }),
          /signed as `bob`, but the signature does not match/,
        ],
        [
          'approver without the role',
          issueApproval({ approver: 'carol', key: keys.carol!, subject, ttlMs: 60_000 }),
          /`carol` may not approve it/,
        ],
        ['for someone else', approve({ forIdentity: 'carol' }), /it is for `carol`, not `alice`/],
        ['an identity token', issueIdentityToken({ name: 'bob', key: keys.bob!, ttlMs: 60_000 }), /not an approval/],
        ['an unsigned empty statement', 'edsig1.e30.AAAA', /it is a undefined statement, not an approval/],
      ];
      for (const [what, token, reason] of cases)
        expect(checkApproval(token, { ...context, runId: `run-${what}` }), what).toMatch(reason);
    });
  });
});
