// Kills a step's whole process tree: its process group (steps run detached, in a group of
// their own) and every descendant found through /proc, which also catches children that
// moved to a new session or group.
import { readdirSync, readFileSync } from 'node:fs';

interface ProcInfo {
  pid: number;
  ppid: number;
  /** R, S, D, … ; Z (zombie) and X (dead) are gone for our purposes. */
  state: string;
  startTime: string;
}

function readStat(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0] ?? '', ppid: Number(fields[1]), startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** The process's start time in clock ticks since boot: with the pid, it names one process for good. */
export function processStartTime(pid: number): string | undefined {
  return readStat(pid)?.startTime;
}

/** Whether `pid` is alive and is still the process that started at `startTime`. */
export function isSameProcessAlive(pid: number, startTime: string | undefined): boolean {
  const info = readStat(pid);
  if (!info || info.state === 'Z' || info.state === 'X') return false;
  return startTime === undefined || info.startTime === startTime;
}

/**
 * Whether `pid` is alive and was started by run `runId` (steps get EXEC_DOC_RUN_ID in their
 * environment): a pid alone could by now belong to an unrelated process.
 */
export function isProcessOfRun(pid: number, runId: string): boolean {
  if (!isSameProcessAlive(pid, undefined)) return false;
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
