// The security controls through the real command line, as an operator and an attacker would use
// them: refusals before anything runs (exit 77), the two-person rule, replayed and self-made
// approvals, secrets kept out of `ps`, state and files; the audit trail verified and tampered with.
import { describe, expect, it, beforeAll } from 'vitest';
import { tempDir } from '../temp.js';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { cli, ROOT } from '../helpers.js';

const SECRET = 'Tr0ub4dor&3-not-in-ps';

const DOC = `---
tags: [database]
exec-doc:
  params:
    table: { type: identifier, default: orders }
    password: { secret: true }
---
# Demo

## Change the table

\`\`\`python {id=secret-not-in-ps}
import hashlib, subprocess
password = \${{ params.password }}
assert hashlib.sha256(password.encode()).hexdigest() == "${createHash('sha256').update(SECRET).digest('hex')}", "the secret arrived intact"
ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
assert password not in ps, "the secret is visible in ps"
print("secret length", len(password))
\`\`\`

\`\`\`bash {id=dangerous confirm="Change the table?" rollback=none}
touch "$EXEC_DOC_RUN_DIR/../../../changed-\${{ params.table }}"
\`\`\`
`;

const POLICY = `version: 1
identities:
  alice: { publicKey: keys/alice.pub }
  bob: { publicKey: keys/bob.pub }
  carol: { publicKey: keys/carol.pub }
targets:
  local: { protected: true }
roles:
  dba:
    - allow: [plan, run, confirm]
  operator:
    - name: operators-plan-and-run
      allow: [plan, run]
  approver:
    - allow: [approve]
      tags: [database]
members:
  alice: [dba]
  bob: [approver, dba]
  carol: [operator]
`;

describe('security from the command line', () => {
  let dir = '';
  const run = (args: string[]) => cli(args, { cwd: dir, env: { EXEC_DOC_STATE_DIR: path.join(dir, 'state') } });
  /** The section run by a token's identity with the secret file and these extra options. */
  const runAs = (token: string, ...extra: string[]) =>
    run([
      'run',
      'doc.md#change-the-table',
      '--yes',
      '--identity-token',
      token,
      '--secret-file',
      'password=password',
      ...extra,
    ]);

  beforeAll(async () => {
    dir = tempDir('exec-doc-sec-');
    writeFileSync(path.join(dir, 'doc.md'), DOC);
    writeFileSync(path.join(dir, 'exec-doc.policy.yaml'), POLICY);
    for (const name of ['alice', 'bob', 'carol']) {
      expect((await run(['keygen', name, '--out', 'keys'])).exitCode).toBe(0);
      expect((await run(['token', name, '--key', `keys/${name}.key`, '--out', `${name}.token`])).exitCode).toBe(0);
    }
    writeFileSync(path.join(dir, 'password'), `${SECRET}\n`, { mode: 0o600 });
  }, 120_000);

  it('plan shows what the caller may do, and that an approval is needed', async () => {
    const r = await run(['plan', 'doc.md#change-the-table', '--identity-token', 'carol.token']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/identity: carol \(signed token, key [0-9a-f]{16}\)/);
    expect(r.stdout).toMatch(/target: {3}local \(this machine, the embedded PostgreSQL\), protected/);
    expect(r.stdout).toMatch(/run {7}allowed: rule `operators-plan-and-run`/);
    expect(r.stdout).toMatch(/confirm {3}refused: carol \(signed token\) may not confirm doc\/change-the-table/);
    expect(r.stdout).toMatch(/approval: needed — dangerous is marked confirm and the target is protected/);
  });

  it('refuses before anything runs: a role without confirm, no approval, a forged or readable token', async () => {
    const carol = await run([
      'run',
      'doc.md#change-the-table',
      '--yes',
      '--identity-token',
      'carol.token',
      '--secret-file',
      `password=password`,
    ]);
    expect(carol.exitCode).toBe(77);
    expect(carol.stderr).toMatch(
      /refused by the access policy: carol \(signed token\) may not confirm doc\/change-the-table on target local: no rule of the roles `operator` allows it/,
    );
    const alone = await runAs('alice.token');
    expect(alone.exitCode).toBe(77);
    expect(alone.stderr).toMatch(/needs an approval from another identity/);
    // alice's token with carol's name signed by alice's key: refused.
    writeFileSync(
      path.join(dir, 'mallory.token'),
      readFileSync(path.join(dir, 'alice.token'), 'utf8').replace(/^edsig1\.[^.]+/, (m) =>
        m.replace(/./g, (c, i) => (i === 10 ? (c === 'A' ? 'B' : 'A') : c)),
      ),
      { mode: 0o600 },
    );
    const forged = await run(['run', 'doc.md#change-the-table', '--yes', '--identity-token', 'mallory.token']);
    expect(forged.exitCode).toBe(77);
    expect(forged.stderr).toMatch(/identity token refused/);
    chmodSync(path.join(dir, 'carol.token'), 0o644);
    const readable = await run(['plan', 'doc.md#change-the-table', '--identity-token', 'carol.token']);
    expect(readable.exitCode).toBe(77);
    expect(readable.stderr).toMatch(/identity token refused: its permissions are 0644/);
    chmodSync(path.join(dir, 'carol.token'), 0o600);
    expect(readdirSync(dir).filter((f) => f.startsWith('changed-'))).toEqual([]);
    expect(existsSync(path.join(dir, 'state', 'runs'))).toBe(false);
  });

  it('runs with an approval from another identity, once, for the change it names', async () => {
    const approve = await run([
      'approve',
      'doc.md#change-the-table',
      '--key',
      'keys/bob.key',
      '--as',
      'bob',
      '--set',
      'table=orders',
      '--ttl',
      '30m',
      '--out',
      'approval.txt',
    ]);
    expect(approve.exitCode).toBe(0);
    expect(approve.stderr).toMatch(
      /bob approved doc\/change-the-table \(sha256:[0-9a-f]{12}…\) on target local for any other identity, valid 30m, once/,
    );
    const other = await runAs('alice.token', '--set', 'table=invoices', '--approval', 'approval.txt');
    expect(other.exitCode).toBe(77);
    expect(other.stderr).toMatch(/approval 1: it approves other parameter values/);
    const good = await runAs('alice.token', '--approval', 'approval.txt');
    expect(good.stderr + good.stdout).toMatch(/secret length 21/);
    expect(good.exitCode).toBe(0);
    expect(existsSync(path.join(dir, 'changed-orders'))).toBe(true);
    const replay = await runAs('alice.token', '--approval', 'approval.txt');
    expect(replay.exitCode).toBe(77);
    expect(replay.stderr).toMatch(/already used by run \d{8}T\d{6}Z-change-the-table-[0-9a-f]{6}/);
    // bob cannot approve his own run.
    const self = await run([
      'approve',
      'doc.md#change-the-table',
      '--key',
      'keys/bob.key',
      '--as',
      'bob',
      '--out',
      'self.txt',
    ]);
    expect(self.exitCode).toBe(0);
    const mine = await runAs('bob.token', '--approval', 'self.txt');
    expect(mine.exitCode).toBe(77);
    expect(mine.stderr).toMatch(/`bob` approved their own change/);
    // carol may not approve at all (and alice's key is not carol's).
    const carol = await run(['approve', 'doc.md#change-the-table', '--key', 'keys/carol.key', '--as', 'carol']);
    expect(carol.exitCode).toBe(77);
    const stolen = await run(['approve', 'doc.md#change-the-table', '--key', 'keys/alice.key', '--as', 'bob']);
    expect(stolen.exitCode).toBe(77);
    expect(stolen.stderr).toMatch(/is not the key the policy trusts for `bob`/);
  });

  it('keeps the secret out of every state file, and the state private', async () => {
    const state = path.join(dir, 'state');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) {
          walk(p);
          if (p.includes(`${path.sep}runs${path.sep}`) || p.endsWith(`${path.sep}runs`))
            expect(statSync(p).mode & 0o077, p).toBe(0);
        } else files.push(p);
      }
    };
    walk(state);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      expect(readFileSync(file, 'utf8'), file).not.toContain(SECRET);
      if (/runs|audit|results/.test(file)) expect(statSync(file).mode & 0o077, file).toBe(0);
    }
  });

  it('refuses a secret file others can read, and a run id that leads out of the state folder', async () => {
    chmodSync(path.join(dir, 'password'), 0o644);
    const r = await runAs('alice.token');
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toMatch(
      /secret `password` from password refused: its permissions are 0644: group or others can read or change it; `chmod 600 password`/,
    );
    chmodSync(path.join(dir, 'password'), 0o600);
    const traversal = await run(['resume', '../../etc']);
    expect(traversal.exitCode).toBe(64);
    expect(traversal.stderr).toMatch(/`\.\.\/\.\.\/etc` is not a run id/);
  });

  it('the audit trail holds every refusal, approval, run and step, verifies, and names a tampered line', async () => {
    const show = await run(['audit', 'show', '--json']);
    const entries = show.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; outcome: string; identity: { name: string } });
    const kinds = entries.map((e) => `${e.identity.name}:${e.action}:${e.outcome}`);
    expect(kinds).toContain('carol:refuse:refused');
    expect(kinds).toContain('bob:approve:granted');
    expect(kinds).toContain('alice:run:authorized');
    expect(kinds).toContain('alice:step:passed');
    expect(kinds).toContain('alice:run:succeeded');
    expect(kinds.filter((k) => k.endsWith(':refuse:refused')).length).toBeGreaterThanOrEqual(6);
    expect(show.stdout).not.toContain(SECRET);
    // Every entry is what the published schema says (SIEM ingestion relies on it).
    const schema = JSON.parse(
      readFileSync(path.join(ROOT, 'static', 'schemas', 'audit-entry.schema.json'), 'utf8'),
    ) as object;
    const validate = new Ajv2020({ strict: false }).compile(schema);
    for (const line of show.stdout.trim().split('\n'))
      expect(validate(JSON.parse(line)), JSON.stringify(validate.errors)).toBe(true);
    const filtered = await run(['audit', 'show', '--identity', 'bob', '--action', 'approve']);
    expect(filtered.stdout).toMatch(/^2 entries/m);
    const ok = await run(['audit', 'verify']);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/\d+ entries intact \(hash chain and head\)/);
    const file = path.join(dir, 'state', 'audit', 'audit.jsonl');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"outcome":"refused"', '"outcome":"passed!"'));
    const bad = await run(['audit', 'verify']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toMatch(/NOT INTACT at line 1 \(byte 0\): its hash does not match its content/);
    // Nothing more is appended to a log whose end was cut off or changed: runs are refused.
    writeFileSync(file, text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1));
    const refused = await runAs('alice.token');
    expect(refused.exitCode).toBe(77);
    expect(refused.stderr).toMatch(/audit log .* cannot be continued/);
    writeFileSync(file, text);
  });
});

describe('a policy with an audit signing key', () => {
  it('signs the audit trail at the end of every run; verify checks the checkpoint with the public key', async () => {
    const dir = tempDir('exec-doc-sign-');
    writeFileSync(path.join(dir, 'doc.md'), '# D\n\n## Hello\n\n```bash {id=hello}\necho hello\n```\n');
    const env = { EXEC_DOC_STATE_DIR: path.join(dir, 'state') };
    expect((await cli(['keygen', 'audit', '--out', 'keys'], { cwd: dir, env })).exitCode).toBe(0);
    writeFileSync(
      path.join(dir, 'exec-doc.policy.yaml'),
      `version: 1\nroles:\n  everyone:\n    - allow: [plan, run]\nmembers:\n  ${os.userInfo().username}: [everyone]\naudit:\n  signingKey: keys/audit.key\n  publicKey: keys/audit.pub\n`,
    );
    for (let i = 0; i < 2; i++) expect((await cli(['run', 'doc.md#hello'], { cwd: dir, env })).exitCode).toBe(0);
    const verify = await cli(['audit', 'verify'], { cwd: dir, env });
    expect(verify.stdout).toMatch(
      /6 entries intact \(hash chain and head\); 2 signed checkpoint\(s\), signed through entry 6/,
    );
  });
});

describe('secrets from the sources a policy names', () => {
  it('a command (no shell), a file, another variable; a failing command stops the run before anything runs', async () => {
    const dir = tempDir('exec-doc-sources-');
    const doc = `---
exec-doc:
  params:
    a: { secret: true }
    b: { secret: true }
    c: { secret: true }
---
# D

## Use them

\`\`\`bash {id=use}
test "$EXEC_DOC_PARAM_a" = "from-a-command-0001"
test "$EXEC_DOC_PARAM_b" = "from-a-file-0002"
test "$EXEC_DOC_PARAM_c" = "from-a-variable-0003"
touch "$EXEC_DOC_RUN_DIR/../../../ran"
echo "all three arrived: $EXEC_DOC_PARAM_a"
\`\`\`
`;
    writeFileSync(path.join(dir, 'doc.md'), doc);
    writeFileSync(path.join(dir, 'b.secret'), 'from-a-file-0002\n', { mode: 0o600 });
    const policy = (command: string) =>
      `version: 1\nroles:\n  all:\n    - allow: [plan, run]\nmembers:\n  ${os.userInfo().username}: [all]\nsecrets:\n  a: { command: ${command}, timeout: 5s }\n  b: { file: b.secret }\n  c: { env: MY_VAULT_VALUE }\n`;
    writeFileSync(path.join(dir, 'exec-doc.policy.yaml'), policy('["printf", "%s", "from-a-command-0001"]'));
    const env = { EXEC_DOC_STATE_DIR: path.join(dir, 'state'), MY_VAULT_VALUE: 'from-a-variable-0003' };
    const ok = await cli(['run', 'doc.md#use-them'], { cwd: dir, env });
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('all three arrived: ***');
    expect(ok.stdout + ok.stderr).not.toContain('from-a-command-0001');
    writeFileSync(path.join(dir, 'exec-doc.policy.yaml'), policy('["sh", "-c", "echo vault sealed >&2; exit 2"]'));
    rmSync(path.join(dir, 'ran'));
    const failed = await cli(['run', 'doc.md#use-them'], { cwd: dir, env });
    expect(failed.exitCode).toBe(64);
    expect(failed.stderr).toMatch(/secret `a`: sh exited 2\n {2}its stderr: vault sealed/);
    expect(existsSync(path.join(dir, 'ran'))).toBe(false);
  });
});
