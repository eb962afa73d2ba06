// A lock held by a file that names its holder (pid and start time, and whatever else it says).
// Created atomically; a holder that died is detected and its lock taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { isSameProcessAlive, processStartTime } from './process-identity.js';

export interface LockHolder {
  pid: number;
  startTime: string | null;
  [key: string]: unknown;
}

/** Takes the lock, or returns who holds it. */
export function tryLockFile(
  file: string,
  info: Record<string, unknown> = {},
): { acquired: true } | { acquired: false; holder: LockHolder } {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const mine = JSON.stringify({ ...info, pid: process.pid, startTime: processStartTime(process.pid) ?? null });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, mine);
      closeSync(fd);
      return { acquired: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: Partial<LockHolder> = {};
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    } catch {
      // Unreadable, or being written this instant: judged again on the next attempt, then taken over.
      if (attempt === 0) continue;
    }
    if (holder.pid && isSameProcessAlive(holder.pid, holder.startTime ?? undefined))
      return { acquired: false, holder: holder as LockHolder };
    rmSync(file, { force: true });
  }
  return { acquired: false, holder: { pid: -1, startTime: null } };
}

export function releaseLockFile(file: string): void {
  rmSync(file, { force: true });
}
