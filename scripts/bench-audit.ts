// The audit trail's cost, measured side by side in one run: an append (lock, head check,
// hash chain, the log line and the head line) against the floor, a bare O_APPEND write of the same
// line; and `audit verify` per entry. Rounds alternate so that drift on a shared machine hits both.
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditLog, verifyAuditLog } from '../src/security/audit.js';
import { stableStringify } from '../src/model/hash.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function auditBench(say: (line: string) => void, rounds = 7, perRound = 500): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'exec-doc-bench-audit-'));
  const body = {
    identity: { name: 'alice', via: 'os' as const },
    action: 'step' as const,
    outcome: 'passed',
    section: 'database-migrations/zero-downtime',
    step: 'zd-backfill',
    phase: 'forward',
    runId: '20261124T000000Z-zero-downtime-abcdef',
    contentHash: `sha256:${'a'.repeat(64)}`,
    target: { name: 'local', host: null },
  };
  const log = new AuditLog(path.join(dir, 'audit.jsonl'));
  const line = `${stableStringify({ ...body, seq: 1, hash: 'h'.repeat(64), prev: 'p'.repeat(64), time: new Date().toISOString(), host: os.hostname(), pid: 1 })}\n`;
  const plainFile = path.join(dir, 'plain.jsonl');
  for (let i = 0; i < 100; i++) log.append(body);
  const audit: number[] = [];
  const plain: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    for (let i = 0; i < perRound; i++) log.append(body);
    audit.push(((performance.now() - t) * 1000) / perRound);
    t = performance.now();
    for (let i = 0; i < perRound; i++) {
      const fd = openSync(plainFile, 'a', 0o600);
      writeSync(fd, line);
      closeSync(fd);
    }
    plain.push(((performance.now() - t) * 1000) / perRound);
  }
  const t = performance.now();
  const report = verifyAuditLog(log.file);
  const verifyUs = ((performance.now() - t) * 1000) / report.entries;
  say(
    `audit trail, median of ${rounds} rounds of ${perRound}: append ${median(audit).toFixed(0)} µs/entry vs a bare append of the same line ${median(plain).toFixed(0)} µs (${(median(audit) / median(plain)).toFixed(1)}x: the lock file, the head check, the hash chain); verify ${verifyUs.toFixed(1)} µs/entry (${report.entries} entries, ${report.ok ? 'intact' : 'NOT INTACT'})`,
  );
  rmSync(dir, { recursive: true, force: true });
}
