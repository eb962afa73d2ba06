// The audit trail: every change to a sample log — each byte flipped, each truncation, each entry
// deleted, duplicated or swapped, the head removed, the whole chain rewritten — is detected, and
// appends from concurrent processes keep one intact chain.
import { describe, expect, it } from 'vitest';
import { tempDir } from '../temp.js';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, rmSync, symlinkSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import {
  AuditLog,
  entryHash,
  GENESIS,
  signAuditLog,
  syslogMessage,
  verifyAuditLog,
  type AuditEntry,
} from '../../src/security/audit.js';
import { generateKeyPair } from '../../src/security/signing.js';
import { stableStringify } from '../../src/model/hash.js';
import { ROOT } from '../helpers.js';

const tmp = () => tempDir('exec-doc-audit-');
const identity = { name: 'alice', via: 'os' as const };

function sampleLog(dir: string, n = 6): string {
  const file = path.join(dir, 'audit.jsonl');
  const log = new AuditLog(file);
  for (let i = 0; i < n; i++)
    log.append({
      identity,
      action: i % 2 ? 'step' : 'run',
      outcome: 'passed',
      section: 'db/demo',
      step: `s${i}`,
      params: { table: 'orders', password: '***' },
    });
  return file;
}

describe('audit trail', () => {
  it('appends hash-chained entries that verify, with private permissions', () => {
    const dir = tmp();
    const file = sampleLog(dir);
    const r = verifyAuditLog(file);
    expect(r).toMatchObject({ ok: true, entries: 6, firstBad: null });
    const first = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!) as AuditEntry;
    expect(first.prev).toBe(GENESIS);
    expect(first.seq).toBe(1);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(`${file}.head`).mode & 0o777).toBe(0o600);
    rmSync(dir, { recursive: true });
  });

  it('detects every single-byte change, at every position of the log', () => {
    const dir = tmp();
    const file = sampleLog(dir);
    const original = readFileSync(file);
    let tried = 0;
    for (let i = 0; i < original.length; i++) {
      for (const flip of [0x01, 0x20]) {
        const copy = Buffer.from(original);
        copy[i]! ^= flip;
        writeFileSync(file, copy);
        const r = verifyAuditLog(file);
        tried += 1;
        if (r.ok) throw new Error(`byte ${i} xor ${flip} went undetected`);
      }
    }
    writeFileSync(file, original);
    expect(verifyAuditLog(file).ok).toBe(true);
    expect(tried).toBe(original.length * 2);
    rmSync(dir, { recursive: true });
  });

  it('detects every truncation, deletion, insertion and reordering, and names the first bad line', () => {
    const dir = tmp();
    const file = sampleLog(dir);
    const original = readFileSync(file, 'utf8');
    for (let len = 0; len < Buffer.byteLength(original); len++) {
      writeFileSync(file, Buffer.from(original).subarray(0, len));
      expect(verifyAuditLog(file).ok, `truncated to ${len} bytes`).toBe(false);
    }
    const lines = original.trimEnd().split('\n');
    for (let i = 0; i < lines.length; i++) {
      writeFileSync(file, `${lines.filter((_, j) => j !== i).join('\n')}\n`);
      const r = verifyAuditLog(file);
      expect(r.ok, `line ${i + 1} deleted`).toBe(false);
      expect(r.firstBad!.line).toBe(Math.min(i + 1, lines.length));
      const dup = [...lines.slice(0, i + 1), lines[i]!, ...lines.slice(i + 1)];
      writeFileSync(file, `${dup.join('\n')}\n`);
      expect(verifyAuditLog(file).ok, `line ${i + 1} duplicated`).toBe(false);
      if (i + 1 < lines.length) {
        const swapped = [...lines];
        [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
        writeFileSync(file, `${swapped.join('\n')}\n`);
        expect(verifyAuditLog(file).firstBad!.line, `lines ${i + 1} and ${i + 2} swapped`).toBe(i + 1);
      }
    }
    writeFileSync(file, original);
    rmSync(`${file}.head`);
    expect(verifyAuditLog(file).firstBad!.reason).toMatch(/head file .* is missing/);
    rmSync(dir, { recursive: true });
  });

  it('a rewritten chain (hashes recomputed, head forged) passes without the key and fails against a signed checkpoint', () => {
    const dir = tmp();
    const file = sampleLog(dir);
    const { privatePem, publicPem } = generateKeyPair();
    const signed = signAuditLog(file, createPrivateKey(privatePem), 'auditor');
    expect(signed.seq).toBe(6);
    // The attacker edits entry 3 and recomputes every hash after it, and the head.
    const entries = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
    entries[2]!.outcome = 'failed';
    let prev = GENESIS;
    const forged = entries.map((e) => {
      const { hash: _h, ...rest } = { ...e, prev };
      const hash = entryHash(rest);
      prev = hash;
      return stableStringify({ ...rest, hash });
    });
    const text = `${forged.join('\n')}\n`;
    writeFileSync(file, text);
    writeFileSync(`${file}.head`, `${JSON.stringify({ seq: 6, hash: prev, size: Buffer.byteLength(text) })}\n`);
    expect(verifyAuditLog(file).ok).toBe(true);
    const r = verifyAuditLog(file, { publicKey: createPublicKey(publicPem) });
    expect(r.ok).toBe(false);
    expect(r.firstBad!.reason).toMatch(/entry 6 is not the one signed checkpoint 1 covers/);
    // A checkpoint signed with another key is refused too.
    const other = generateKeyPair();
    expect(verifyAuditLog(file, { publicKey: createPublicKey(other.publicPem) }).firstBad!.reason).toMatch(
      /signature does not match/,
    );
    rmSync(dir, { recursive: true });
  });

  it('refuses to append to a tampered log or through a symbolic link', () => {
    const dir = tmp();
    const file = sampleLog(dir, 3);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, text.length - 10));
    expect(() => new AuditLog(file).append({ identity, action: 'run', outcome: 'x' })).toThrow(
      /cannot be continued: .* truncated/,
    );
    const real = path.join(dir, 'real.jsonl');
    writeFileSync(real, '');
    const link = path.join(dir, 'link.jsonl');
    symlinkSync(real, link);
    expect(() => new AuditLog(link).append({ identity, action: 'run', outcome: 'x' })).toThrow(/symbolic link/);
    rmSync(dir, { recursive: true });
  });

  it('recovers from a writer that died after its entry and before the head', () => {
    const dir = tmp();
    const file = sampleLog(dir, 2);
    const headBefore = readFileSync(`${file}.head`, 'utf8');
    new AuditLog(file).append({ identity, action: 'run', outcome: 'third' });
    writeFileSync(`${file}.head`, headBefore); // as if the process died before updating it
    new AuditLog(file).append({ identity, action: 'run', outcome: 'fourth' });
    expect(verifyAuditLog(file)).toMatchObject({ ok: true, entries: 4 });
    rmSync(dir, { recursive: true });
  });

  it('keeps one chain when 4 processes append 25 entries each at the same time', async () => {
    const dir = tmp();
    const file = path.join(dir, 'audit.jsonl');
    const script = `import { AuditLog } from ${JSON.stringify(path.join(ROOT, 'dist/src/security/audit.js'))};
const log = new AuditLog(process.argv[1]);
for (let i = 0; i < 25; i++) log.append({ identity: { name: 'p' + process.pid, via: 'os' }, action: 'step', outcome: 'passed', step: 's' + i });`;
    await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script, file], { stdio: 'inherit' });
            child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
          }),
      ),
    );
    expect(verifyAuditLog(file)).toMatchObject({ ok: true, entries: 100 });
    rmSync(dir, { recursive: true });
  });

  it('forwards each entry to syslog over UDP (RFC 5424, facility authpriv)', async () => {
    const server = dgram.createSocket('udp4');
    const received: string[] = [];
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    server.on('message', (m) => received.push(m.toString()));
    const dir = tmp();
    const log = new AuditLog(path.join(dir, 'audit.jsonl'), { syslog: `udp://127.0.0.1:${server.address().port}` });
    log.append({ identity, action: 'run', outcome: 'authorized', section: 'db/demo' });
    log.append({ identity, action: 'refuse', outcome: 'refused', section: 'db/demo' });
    await log.close();
    const deadline = Date.now() + 5000;
    while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    server.close();
    expect(received).toHaveLength(2);
    expect(received[0]).toMatch(/^<86>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ exec-doc \d+ run - \{.*"section":"db\/demo".*\}$/);
    expect(received[1]).toMatch(/^<85>1 /);
    rmSync(dir, { recursive: true });
  });
});

describe('audit trail edge cases', () => {
  it('a deleted log with its head left, invalid UTF-8, a checkpoint past the end, junk after the head', () => {
    const dir = tmp();
    const file = sampleLog(dir, 3);
    const original = readFileSync(file);
    rmSync(file);
    expect(verifyAuditLog(file).firstBad!.reason).toMatch(/the log is missing but its head file exists/);
    const bad = Buffer.from(original);
    bad[40] = 0xff;
    writeFileSync(file, bad);
    expect(verifyAuditLog(file).firstBad).toMatchObject({ line: 1, reason: 'the line is not valid UTF-8' });
    writeFileSync(file, original);
    const { privatePem, publicPem } = generateKeyPair();
    signAuditLog(file, createPrivateKey(privatePem), 'auditor');
    const lines = original.toString('utf8').trimEnd().split('\n');
    writeFileSync(file, `${lines.slice(0, 2).join('\n')}\n`);
    writeFileSync(
      `${file}.head`,
      readFileSync(`${file}.head`, 'utf8').split('\n').filter(Boolean).slice(0, 2).join('\n') + '\n',
    );
    expect(verifyAuditLog(file).ok).toBe(true);
    expect(verifyAuditLog(file, { publicKey: createPublicKey(publicPem) }).firstBad!.reason).toMatch(
      /covers entry 3, but the log has 2: it was truncated/,
    );
    writeFileSync(file, `${lines.slice(0, 2).join('\n')}\nnot an entry\n`);
    expect(() => new AuditLog(file).append({ identity, action: 'run', outcome: 'x' })).toThrow(
      /bytes after its last recorded entry are not one valid entry/,
    );
    rmSync(dir, { recursive: true });
  });

  it('takes over the append lock of a process that died, and refuses a log without a head', () => {
    const dir = tmp();
    const file = sampleLog(dir, 1);
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 2 ** 22 + 12345, startTime: '1' }));
    expect(new AuditLog(file).append({ identity, action: 'run', outcome: 'after a dead writer' }).seq).toBe(2);
    rmSync(`${file}.head`);
    expect(() => new AuditLog(file).append({ identity, action: 'run', outcome: 'x' })).toThrow(
      /its head file .* is missing or unreadable/,
    );
    expect(() =>
      signAuditLog(path.join(dir, 'empty.jsonl'), createPrivateKey(generateKeyPair().privatePem), 'a'),
    ).toThrow(/holds no entry to sign/);
    rmSync(dir, { recursive: true });
  });
});

describe('audit trail appends against a changed end', () => {
  it('refuses to continue when the last entry was edited in place, the head is a link, or two entries follow the head', () => {
    const dir = tmp();
    const file = sampleLog(dir, 3);
    const text = readFileSync(file, 'utf8');
    // Same length, other content: the size matches the head, the last entry does not.
    writeFileSync(file, text.replace(/"outcome":"passed"(?![\s\S]*"outcome":"passed")/, '"outcome":"faileD"'));
    expect(() => new AuditLog(file).append({ identity, action: 'run', outcome: 'x' })).toThrow(
      /its last entry is not the one its head records: it was changed/,
    );
    writeFileSync(file, text);
    expect(new AuditLog(file).append({ identity, action: 'run', outcome: 'fourth' }).seq).toBe(4);
    // Two entries written after the head (a second writer bypassing the lock): not recovered.
    const head = readFileSync(`${file}.head`, 'utf8');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    writeFileSync(`${file}.head`, head.split('\n').filter(Boolean).slice(0, 2).join('\n') + '\n');
    expect(lines).toHaveLength(4);
    expect(() => new AuditLog(file).append({ identity, action: 'run', outcome: 'x' })).toThrow(
      /bytes after its last recorded entry are not one valid entry/,
    );
    writeFileSync(`${file}.head`, head);
    // A torn last head line (a writer killed mid-line): the line before it is the head.
    writeFileSync(`${file}.head`, `${head}{"seq":5,"ha`);
    expect(new AuditLog(file).append({ identity, action: 'run', outcome: 'fifth' }).seq).toBe(5);
    expect(verifyAuditLog(file)).toMatchObject({ ok: true, entries: 5 });
    // A head line of the wrong shape is no head.
    writeFileSync(`${file}.head`, '{"seq":"5","hash":"x","size":1}\n');
    expect(verifyAuditLog(file).firstBad!.reason).toMatch(/head file .* is missing/);
    rmSync(dir, { recursive: true });
  });

  it('refuses a head file that is a symbolic link', () => {
    const dir = tmp();
    const file = sampleLog(dir, 1);
    const real = path.join(dir, 'elsewhere.head');
    writeFileSync(real, readFileSync(`${file}.head`));
    rmSync(`${file}.head`);
    symlinkSync(real, `${file}.head`);
    expect(() => new AuditLog(file).append({ identity, action: 'run', outcome: 'x' })).toThrow(
      /\.head is a symbolic link/,
    );
    rmSync(dir, { recursive: true });
  });

  it('forwards only to a udp:// address it can parse, and formats RFC 5424 with the entry as its message', () => {
    const entry = new AuditLog(path.join(tmp(), 'a.jsonl'), { syslog: 'tcp://127.0.0.1:514' }).append({
      identity,
      action: 'refuse',
      outcome: 'refused',
    });
    expect(syslogMessage(entry)).toBe(
      `<85>1 ${entry.time} ${entry.host} exec-doc ${entry.pid} refuse - ${stableStringify(entry)}`,
    );
    expect(syslogMessage({ ...entry, action: 'run', outcome: 'succeeded' })).toMatch(/^<86>1 /);
    expect(syslogMessage({ ...entry, action: 'run', outcome: 'rollback-incomplete' })).toMatch(/^<85>1 /);
  });
});
