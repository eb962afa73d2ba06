// Which process a pid names, for good: a pid with its start time (clock ticks since boot, from
// /proc) is never reused for another process while the machine runs.
import { readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** R, S, D, … ; Z (zombie) and X (dead) are gone for our purposes. */
  state: string;
  startTime: string;
}

export function readStat(pid: number): ProcInfo | undefined {
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
