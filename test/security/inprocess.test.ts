// The security commands run in this process (the CLI's own main(), with captured output), so
// that their code is measured by coverage: keys, tokens, plan's access summary, approvals, runs
// with secrets from every source, and the audit commands, with their refusals.
import { describe, expect, it } from 'vitest';
import { tempDir } from '../temp.js';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../helpers.js';

const DOC = `---
tags: [database]
exec-doc:
  params:
    table: { type: identifier, default: orders }
    token: { secret: true }
    extra: { secret: true, required: false }
---
# D

## Change

\`\`\`bash {id=change confirm="Go?" rollback=none}
test "$EXEC_DOC_PARAM_token" = "from-the-command-77"
echo "changed $EXEC_DOC_PARAM_table"
\`\`\`
`;

async function exec(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo({ ...process.env, NO_COLOR: '1', ...env });
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('security commands in process', () => {
  const dir = tempDir('exec-doc-inproc-');
  const at = (...p: string[]) => path.join(dir, ...p);
  const doc = `${at('doc.md')}#change`;
  const state = ['--state-dir', at('state')];

  it('runs the whole flow and refuses what it must', async () => {
    writeFileSync(at('doc.md'), DOC);
    for (const name of ['alice', 'bob', 'audit'])
      expect((await exec(['keygen', name, '--out', at('keys')])).code).toBe(0);
    expect((await exec(['keygen', 'alice', '--out', at('keys')])).err).toMatch(/exists; keys are never overwritten/);
    expect((await exec(['keygen', '../evil', '--out', at('keys')])).err).toMatch(/is not a key name/);
    writeFileSync(
      at('exec-doc.policy.yaml'),
      `version: 1
identities:
  alice: { publicKey: keys/alice.pub }
  bob: { publicKey: keys/bob.pub }
targets:
  local: { protected: true }
roles:
  dba:
    - allow: [plan, run, confirm]
  approver:
    - allow: [approve]
members:
  alice: [dba]
  bob: [approver]
approvals: { maxTtl: 2h }
audit: { publicKey: keys/audit.pub }
secrets:
  token: { command: ["printf", "%s", "from-the-command-77"] }
`,
    );
    const policy = ['--policy', at('exec-doc.policy.yaml')];
    expect(
      (await exec(['token', 'alice', '--key', at('keys', 'alice.key'), '--out', at('alice.token'), ...policy])).code,
    ).toBe(0);
    const warn = await exec(['token', 'nobody', '--key', at('keys', 'alice.key'), ...policy]);
    expect(warn.err).toMatch(/trusts no key for `nobody`/);
    expect((await exec(['token', 'bob', '--key', at('keys', 'alice.key'), ...policy])).err).toMatch(
      /is not the key the policy trusts for `bob`/,
    );
    const tokenEnv = { EXEC_DOC_IDENTITY_TOKEN: at('alice.token') };

    const plan = await exec(['plan', doc, ...state, '--json'], tokenEnv);
    expect(plan.code).toBe(0);
    const access = (
      JSON.parse(plan.out) as {
        access: { identity: { name: string }; needsApproval: boolean; actions: Record<string, { allowed: boolean }> };
      }
    ).access;
    expect(access).toMatchObject({
      identity: { name: 'alice' },
      needsApproval: true,
      actions: { run: { allowed: true }, approve: { allowed: false } },
    });

    // The OS user holds no role here: even plan is refused, before anything is shown.
    const osUser = await exec(['plan', doc, ...state]);
    expect(osUser.code).toBe(77);
    expect(osUser.err).toMatch(/\(OS user\) may not plan \S*doc\/change on target local: no rule of any role/);
    const alone = await exec(['run', doc, '--yes', ...state], tokenEnv);
    expect(alone.code).toBe(77);
    expect((await exec(['approve', doc, '--as', 'bob', ...state])).err).toMatch(/approve needs --key/);
    expect(
      (await exec(['approve', doc, '--key', at('keys', 'bob.key'), '--as', 'bob', '--ttl', '3h', ...state])).err,
    ).toMatch(/longer than the policy allows/);
    expect((await exec(['approve', doc, '--key', at('keys', 'alice.key'), '--as', 'alice', ...state])).code).toBe(77);
    expect((await exec(['approve', doc, '--key', at('keys', 'bob.key'), '--as', 'carol', ...state])).err).toMatch(
      /trusts no key for `carol`/,
    );
    const approved = await exec([
      'approve',
      doc,
      '--key',
      at('keys', 'bob.key'),
      '--as',
      'bob',
      '--for',
      'alice',
      ...state,
    ]);
    expect(approved.code).toBe(0);
    writeFileSync(at('approval.txt'), approved.out);
    const remote = await exec([
      'approve',
      doc,
      '--key',
      at('keys', 'bob.key'),
      '--as',
      'bob',
      '--target-host',
      'db.example.com',
      ...state,
    ]);
    expect(remote.err).toMatch(/on target unlisted \(db\.example\.com\)/);

    const ok = await exec(
      ['run', doc, '--yes', '--approval', at('approval.txt'), ...state, '--set', 'extra=given-on-the-command-line'],
      tokenEnv,
    );
    expect(ok.code, ok.out + ok.err).toBe(0);
    expect(ok.out).toContain('changed orders');
    expect(ok.err + ok.out).toMatch(/secret `extra` was given with --set: other users can read it in `ps`/);

    const verify = await exec(['audit', 'verify', ...state, ...policy]);
    expect(verify.out).toMatch(
      /entries intact \(hash chain and head\); 0 signed checkpoint\(s\), signed through entry 0 \(\d+ later entries not yet signed\)/,
    );
    expect((await exec(['audit', 'sign', ...state, ...policy])).err).toMatch(/audit sign needs --key/);
    const signed = await exec(['audit', 'sign', '--key', at('keys', 'audit.key'), ...state, ...policy]);
    expect(signed.out).toMatch(/signed through entry \d+ with key [0-9a-f]{16}/);
    expect((await exec(['audit', 'verify', ...state, ...policy])).out).toMatch(/1 signed checkpoint\(s\)/);
    const json = JSON.parse((await exec(['audit', 'verify', '--json', ...state, ...policy])).out) as {
      ok: boolean;
      checkpoints: number;
    };
    expect(json).toMatchObject({ ok: true, checkpoints: 1 });
    const show = await exec([
      'audit',
      'show',
      '--section',
      '*doc/change',
      '--identity',
      'alice',
      '--since',
      '1h',
      '--until',
      new Date(Date.now() + 60_000).toISOString(),
      ...state,
      ...policy,
    ]);
    expect(show.out).toMatch(/#\d+ \S+ alice\(key\) refuse refused \S*doc\/change @local/);
    expect(show.out).toMatch(/alice\(key\) run succeeded \S*doc\/change/);
    expect((await exec(['audit', 'show', '--since', 'yesterday', ...state, ...policy])).err).toMatch(
      /--since takes an ISO-8601 time/,
    );
    expect(
      (await exec(['audit', 'show', '--action', 'approve', '--json', ...state, ...policy])).out.trim().split('\n'),
    ).toHaveLength(2);

    // A tampered log: verify names it; sign refuses; runs are refused.
    const file = at('state', 'audit', 'audit.jsonl');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, -5));
    expect((await exec(['audit', 'verify', ...state, ...policy])).code).toBe(1);
    expect((await exec(['audit', 'sign', '--key', at('keys', 'audit.key'), ...state, ...policy])).code).toBe(77);
    writeFileSync(file, text);
  }, 120_000);

  it('refuses bad secret files and sources with their reasons', async () => {
    writeFileSync(at('loose'), 'x', { mode: 0o644 });
    const tokenEnv = { EXEC_DOC_IDENTITY_TOKEN: at('alice.token') };
    const loose = await exec(['run', doc, '--yes', '--secret-file', `token=${at('loose')}`, ...state], tokenEnv);
    expect(loose.err).toMatch(/refused: its permissions are 0644/);
    expect((await exec(['run', doc, '--yes', '--secret-file', `nope=${at('loose')}`, ...state], tokenEnv)).err).toMatch(
      /the section has no secret parameter `nope`/,
    );
    expect((await exec(['run', doc, '--yes', '--secret-file', 'token', ...state], tokenEnv)).err).toMatch(
      /expected <parameter>=<file>/,
    );
    expect(
      (await exec(['run', doc, '--yes', '--secret-file', `token=${at('missing')}`, ...state], tokenEnv)).err,
    ).toMatch(/no such file/);
  });
});
