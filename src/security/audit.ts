// The audit trail: one append-only JSON-lines file (SIEM-ready) in which every entry holds the
// hash of the one before it. `<file>.head` holds the last entry's number, hash and the file's
// size, so a truncated or extended log is noticed; `<file>.sig` holds checkpoints signed with an
// Ed25519 key (`exec-doc audit sign`), so a rewritten chain is noticed too by whoever holds the
// public key. Appends are serialised by a lock file; a writer that died between writing its entry
// and the head is recovered from on the next append.
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeSync,
  constants,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { CodedError } from '../util/coded-error.js';
import { releaseLockFile } from '../util/lock-file.js';
import { isSameProcessAlive, processStartTime } from '../util/process-identity.js';
import { stableStringify } from '../model/hash.js';
import { keyId, signStatement, verifyStatement } from './signing.js';
import { globMatch } from './policy.js';

export const GENESIS = '0'.repeat(64);
export const AUDIT_ACTIONS = ['run', 'resume', 'step', 'rollback', 'approve', 'refuse', 'sign'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditBody {
  identity: { name: string; via: 'os' | 'key'; keyId?: string };
  action: AuditAction;
  outcome: string;
  runId?: string | null;
  section?: string | null;
  contentHash?: string | null;
  /** Parameter values, secrets masked. */
  params?: Record<string, string>;
  target?: { name: string; host: string | null } | null;
  step?: string;
  phase?: string;
  detail?: string;
}

export interface AuditEntry extends AuditBody {
  seq: number;
  time: string;
  host: string;
  pid: number;
  prev: string;
  hash: string;
}

interface Head {
  seq: number;
  hash: string;
  size: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
export const entryHash = (entry: Omit<AuditEntry, 'hash'>) => sha256(stableStringify(entry));
const headPath = (file: string) => `${file}.head`;
const sigPath = (file: string) => `${file}.sig`;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The head is a journal too: one line per append, the last complete line is the head. Appending
 * costs a fraction of replacing a file (ext4 flushes a file renamed over another: 2.5 ms per
 * entry measured, against ~0.1 ms), and a writer killed mid-line leaves the previous head.
 */
function readHead(file: string): Head | null {
  let lines: string[];
  try {
    const size = statSync(headPath(file)).size;
    const length = Math.min(size, 4096);
    lines = readRange(headPath(file), size - length, length).split('\n');
  } catch {
    return null; // missing or unreadable: no head
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    if (i === lines.length - 1 && lines[i] !== '') continue; // torn last line
    if (!lines[i]) continue;
    try {
      const head = JSON.parse(lines[i]!) as Head;
      if (typeof head.seq === 'number' && typeof head.hash === 'string' && typeof head.size === 'number') return head;
    } catch {
      // The last complete line is not a head: none can be trusted (a torn one is the last, incomplete line).
    }
    return null;
  }
  return null;
}

let cachedLockOwner: string | undefined;

/** Refuses to write through a symbolic link: the log must be where it is said to be. */
function assertNoSymlink(file: string): void {
  for (const p of [file, headPath(file)]) {
    try {
      if (lstatSync(p).isSymbolicLink())
        throw new CodedError('E_AUDIT', `${p} is a symbolic link; the audit trail is not written through links`, {
          details: ["Remove the link, or point the policy's audit.file at the real file."],
        });
    } catch (error) {
      if (error instanceof CodedError) throw error;
    }
  }
}

/**
 * The append lock: a file created exclusively, naming its holder. A holder that is gone (its
 * process died) is removed only if the file still says the same thing when removed; a lock that
 * disappears while being read was released, and is simply tried again.
 */
function takeAppendLock(lock: string, file: string): void {
  const mine = (cachedLockOwner ??= JSON.stringify({
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? null,
  }));
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, mine);
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let text = '';
    try {
      text = readFileSync(lock, 'utf8');
    } catch {
      continue; // released in between
    }
    try {
      const holder = JSON.parse(text) as { pid: number; startTime: string | null };
      if (!isSameProcessAlive(holder.pid, holder.startTime ?? undefined) && readFileSync(lock, 'utf8') === text) {
        rmSync(lock, { force: true });
        continue;
      }
    } catch {
      // Being written this instant, or released: judged on the next round.
    }
    if (Date.now() > deadline)
      throw new CodedError(
        'E_AUDIT',
        `the audit log ${file} has been locked by another process for more than 10 s (${lock})`,
      );
    sleepSync(2);
  }
}

export class AuditLog {
  private socket: dgram.Socket | undefined;
  private prepared = false;
  private readonly pending: Promise<void>[] = [];

  constructor(
    readonly file: string,
    private readonly options: { syslog?: string; mask?: (text: string) => string } = {},
  ) {}

  /** Appends one entry and returns it; throws E_AUDIT when the log does not continue its head. */
  append(body: AuditBody): AuditEntry {
    if (!this.prepared) {
      mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      this.prepared = true;
    }
    // O_NOFOLLOW below refuses a link in place of the log; this names the problem clearly.
    assertNoSymlink(this.file);
    const lock = `${this.file}.lock`;
    takeAppendLock(lock, this.file);
    try {
      const head = this.headForAppend();
      const masked = this.options.mask ? (JSON.parse(this.options.mask(JSON.stringify(body))) as AuditBody) : body;
      const draft: Omit<AuditEntry, 'hash'> = {
        ...masked,
        seq: head.seq + 1,
        time: new Date().toISOString(),
        host: os.hostname(),
        pid: process.pid,
        prev: head.hash,
      };
      const entry: AuditEntry = { ...draft, hash: entryHash(draft) };
      const line = `${stableStringify(entry)}\n`;
      const fd = openSync(
        this.file,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
        0o600,
      );
      try {
        writeSync(fd, line);
      } finally {
        closeSync(fd);
      }
      // Each head line starts on a line of its own: after a writer killed mid-line, the torn
      // fragment stays a line by itself (and is skipped), never glued to the next head.
      appendLine(
        headPath(this.file),
        `\n${JSON.stringify({ seq: entry.seq, hash: entry.hash, size: head.size + Buffer.byteLength(line) })}`,
      );
      this.forward(entry);
      return entry;
    } finally {
      releaseLockFile(lock);
    }
  }

  /** Where the next entry goes; recovers from a writer that died after its entry and before the head. */
  private headForAppend(): Head {
    let size = 0;
    try {
      size = statSync(this.file).size;
    } catch {
      // no log yet
    }
    const head = readHead(this.file);
    if (!head) {
      if (size === 0) return { seq: 0, hash: GENESIS, size: 0 };
      throw broken(
        this.file,
        `it holds ${size} bytes but its head file ${headPath(this.file)} is missing or unreadable`,
      );
    }
    if (size === head.size) {
      // The last entry must be the one the head records (a full check is `audit verify`'s job).
      if (size > 0 && lastLineHash(this.file, size) !== head.hash)
        throw broken(this.file, 'its last entry is not the one its head records: it was changed');
      return head;
    }
    if (size > head.size) {
      const lines = readRange(this.file, head.size, size - head.size).split('\n');
      if (lines.length === 2 && lines[1] === '') {
        const entry = parseEntry(lines[0]!);
        if (entry && entry.seq === head.seq + 1 && entry.prev === head.hash)
          return { seq: entry.seq, hash: entry.hash, size };
      }
      throw broken(this.file, `${size - head.size} bytes after its last recorded entry are not one valid entry`);
    }
    throw broken(this.file, `it is ${size} bytes, shorter than the ${head.size} its head records: it was truncated`);
  }

  private forward(entry: AuditEntry): void {
    const target = this.options.syslog;
    if (!target) return;
    const m = /^udp:\/\/([^/:]+):(\d+)$/.exec(target);
    if (!m) return;
    this.socket ??= dgram.createSocket(m[1]!.includes(':') ? 'udp6' : 'udp4');
    const message = Buffer.from(syslogMessage(entry));
    this.pending.push(
      new Promise((resolve) => {
        this.socket!.send(message, Number(m[2]), m[1]!, () => resolve());
      }),
    );
  }

  /** Waits for forwarded entries to be sent. */
  async close(): Promise<void> {
    await Promise.all(this.pending);
    this.socket?.close();
    this.socket = undefined;
  }
}

/** The hash of the last entry, read from the end of the file. */
function lastLineHash(file: string, size: number): string | null {
  // Read back from the end in growing chunks until the line before the last one ends.
  for (let length = Math.min(size, 8192); ; length = Math.min(size, length * 8)) {
    const text = readRange(file, size - length, length);
    const start = text.lastIndexOf('\n', text.length - 2);
    if (start >= 0 || length === size) return parseEntry(text.slice(start + 1).replace(/\n$/, ''))?.hash ?? null;
  }
}

/** `length` bytes of `file` from `position`, as text. */
function readRange(file: string, position: number, length: number): string {
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSyncFully(fd, buffer, position);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8');
}

function readSyncFully(fd: number, buffer: Buffer, position: number): void {
  let done = 0;
  while (done < buffer.length) {
    const n = readSync(fd, buffer, done, buffer.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
}

const broken = (file: string, why: string) =>
  new CodedError('E_AUDIT', `the audit log ${file} cannot be continued: ${why}`, {
    details: [
      `Run \`exec-doc audit verify --audit-file ${file}\` to see where; nothing is appended to a log that was tampered with.`,
    ],
  });

function appendLine(file: string, line: string): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${line}\n`);
  } finally {
    closeSync(fd);
  }
}

/** RFC 5424, facility authpriv (10): notice for refusals and failures, info otherwise. */
export function syslogMessage(entry: AuditEntry): string {
  const bad = entry.action === 'refuse' || /fail|refus|incomplete|denied/.test(entry.outcome);
  const pri = 10 * 8 + (bad ? 5 : 6);
  return `<${pri}>1 ${entry.time} ${entry.host} exec-doc ${entry.pid} ${entry.action} - ${stableStringify(entry)}`;
}

function parseEntry(line: string): AuditEntry | null {
  try {
    const entry = JSON.parse(line) as AuditEntry;
    if (!entry || typeof entry !== 'object' || typeof entry.seq !== 'number' || typeof entry.hash !== 'string')
      return null;
    const { hash, ...rest } = entry;
    if (stableStringify(entry) !== line || entryHash(rest) !== hash) return null;
    return entry;
  } catch {
    return null;
  }
}

export interface VerifyReport {
  ok: boolean;
  file: string;
  entries: number;
  /** The first problem: 1-based line, byte offset of that line, and what is wrong. */
  firstBad: { line: number; offset: number; reason: string } | null;
  checkpoints: number;
  /** The last entry covered by a valid signed checkpoint (0 when none). */
  signedThrough: number;
}

/** Checks every entry's form, hash and link, the head, and (with a key) the signed checkpoints. */
export function verifyAuditLog(file: string, options: { publicKey?: KeyObject } = {}): VerifyReport {
  const report: VerifyReport = { ok: true, file, entries: 0, firstBad: null, checkpoints: 0, signedThrough: 0 };
  const fail = (line: number, offset: number, reason: string): VerifyReport => {
    report.ok = false;
    report.firstBad = { line, offset, reason };
    return report;
  };
  if (!existsSync(file)) {
    if (readHead(file)) return fail(1, 0, 'the log is missing but its head file exists: it was deleted');
    return report;
  }
  const bytes = readFileSync(file);
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    // Invalid UTF-8 somewhere: find the line.
    let offset = 0;
    let line = 1;
    for (const chunk of bytes.toString('latin1').split('\n')) {
      const raw = Buffer.from(chunk, 'latin1');
      if (!Buffer.from(raw.toString('utf8'), 'utf8').equals(raw))
        return fail(line, offset, 'the line is not valid UTF-8');
      offset += raw.length + 1;
      line += 1;
    }
  }
  let prev = GENESIS;
  let offset = 0;
  const hashes: string[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '')
    return fail(
      lines.length,
      bytes.length - Buffer.byteLength(lines[lines.length - 1]!),
      'the last line is incomplete (the log was cut in the middle of an entry)',
    );
  lines.pop();
  for (const [i, line] of lines.entries()) {
    let entry: AuditEntry;
    try {
      entry = JSON.parse(line) as AuditEntry;
    } catch {
      return fail(i + 1, offset, 'not a JSON entry');
    }
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return fail(i + 1, offset, 'not a JSON object');
    if (stableStringify(entry) !== line) return fail(i + 1, offset, 'not in canonical form (the entry was edited)');
    if (entry.seq !== i + 1)
      return fail(
        i + 1,
        offset,
        `entry number ${String(entry.seq)} where ${i + 1} belongs (an entry was deleted, inserted or moved)`,
      );
    if (entry.prev !== prev)
      return fail(
        i + 1,
        offset,
        'it does not link to the entry before it (an entry was deleted, inserted, moved or changed)',
      );
    const { hash, ...rest } = entry;
    if (entryHash(rest) !== hash)
      return fail(i + 1, offset, 'its hash does not match its content (the entry was changed)');
    prev = hash;
    hashes.push(hash);
    offset += Buffer.byteLength(line) + 1;
    report.entries += 1;
  }
  const head = readHead(file);
  if (report.entries > 0 && !head)
    return fail(
      report.entries,
      offset,
      `the head file ${headPath(file)} is missing: a truncation could not be detected`,
    );
  if (head) {
    if (head.seq > report.entries || head.size > bytes.length)
      return fail(
        report.entries + 1,
        bytes.length,
        `the log ends at entry ${report.entries} (${bytes.length} bytes) but its head records entry ${head.seq} (${head.size} bytes): it was truncated`,
      );
    if (head.seq < report.entries || head.size < bytes.length)
      return fail(
        head.seq + 1,
        head.size,
        `entries after entry ${head.seq} were appended without the head (added by hand, or a writer died mid-append)`,
      );
    if (head.hash !== prev) return fail(report.entries, offset, 'the last entry is not the one the head records');
  }
  if (existsSync(sigPath(file))) {
    const sigLines = readFileSync(sigPath(file), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    for (const [i, statement] of sigLines.entries()) {
      let payload: Record<string, unknown>;
      try {
        payload = options.publicKey ? verifyStatement(statement, options.publicKey) : {};
      } catch (error) {
        return fail(0, 0, `signed checkpoint ${i + 1} (${sigPath(file)}:${i + 1}): ${(error as Error).message}`);
      }
      if (!options.publicKey) continue;
      const seq = Number(payload.seq);
      if (!Number.isInteger(seq) || seq < 1 || seq > hashes.length)
        return fail(
          hashes.length + 1,
          bytes.length,
          `signed checkpoint ${i + 1} covers entry ${String(payload.seq)}, but the log has ${hashes.length}: it was truncated`,
        );
      if (hashes[seq - 1] !== payload.hash)
        return fail(seq, 0, `entry ${seq} is not the one signed checkpoint ${i + 1} covers: the chain was rewritten`);
      report.checkpoints += 1;
      report.signedThrough = Math.max(report.signedThrough, seq);
    }
  }
  return report;
}

/** Signs the log's current end: a checkpoint line in `<file>.sig`. */
export function signAuditLog(file: string, key: KeyObject, signer: string): { seq: number; hash: string } {
  const report = verifyAuditLog(file);
  if (!report.ok)
    throw new CodedError(
      'E_AUDIT',
      `the audit log ${file} is not intact, so it is not signed: line ${report.firstBad!.line}: ${report.firstBad!.reason}`,
    );
  const head = readHead(file);
  if (!head) throw new CodedError('E_AUDIT', `the audit log ${file} holds no entry to sign`);
  const statement = signStatement(
    {
      typ: 'exec-doc/audit-checkpoint',
      seq: head.seq,
      hash: head.hash,
      signer,
      kid: keyId(key),
      signedAt: new Date().toISOString(),
    },
    key,
  );
  const fd = openSync(
    sigPath(file),
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    writeSync(fd, `${statement}\n`);
  } finally {
    closeSync(fd);
  }
  return { seq: head.seq, hash: head.hash };
}

export interface AuditFilter {
  section?: string;
  identity?: string;
  action?: string;
  since?: Date;
  until?: Date;
}

/** The entries that match (unverified: `audit verify` says whether to trust them). */
export function readAuditEntries(file: string, filter: AuditFilter = {}): AuditEntry[] {
  if (!existsSync(file)) return [];
  const out: AuditEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    let entry: AuditEntry;
    try {
      entry = JSON.parse(line) as AuditEntry;
    } catch {
      continue;
    }
    if (filter.section && !(entry.section && globMatch(filter.section, entry.section))) continue;
    if (filter.identity && entry.identity?.name !== filter.identity) continue;
    if (filter.action && entry.action !== filter.action) continue;
    const t = Date.parse(entry.time);
    if (filter.since && !(t >= filter.since.getTime())) continue;
    if (filter.until && !(t <= filter.until.getTime())) continue;
    out.push(entry);
  }
  return out;
}
