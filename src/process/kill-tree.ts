// Kills a step's whole process tree: its process group (steps run detached, in a group of
// their own) and every descendant found through /proc, which also catches children that
// moved to a new session or group.
import { readdirSync, readFileSync } from 'node:fs';
import { readStat } from '../util/process-identity.js';

export { isSameProcessAlive, processStartTime } from '../util/process-identity.js';

/**
 * Whether `pid` is alive and was started by run `runId` (steps get EXEC_DOC_RUN_ID in their
 * environment): a pid alone could by now belong to an unrelated process.
 */
export function isProcessOfRun(pid: number, runId: string): boolean {
  // A process that is gone has no environment to read; a zombie's reads as empty.
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`EXEC_DOC_RUN_ID=${runId}`);
  } catch {
    return false;
  }
}

export function descendants(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    // `self`, `sys`, …: not a process.
    if (!/^\d+$/.test(entry)) continue;
    const info = readStat(Number(entry));
    if (!info) continue;
    const list = children.get(info.ppid) ?? [];
    list.push(info.pid);
    children.set(info.ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Sends `signal` to the group led by `pid`, to `pid` and to every descendant. Returns the pids signalled. */
export function killTree(pid: number, signal: NodeJS.Signals, known: number[] = []): number[] {
  const targets = [...new Set([pid, ...descendants(pid), ...known])];
  try {
    process.kill(-pid, signal);
  } catch {
    // No such group (already gone, or not a group leader).
  }
  for (const target of targets) {
    try {
      process.kill(target, signal);
    } catch {
      // Already exited.
    }
  }
  return targets;
}
