// Temporary things exec-doc leaves outside its state folder (an embedded PostgreSQL's data
// directory, a run's hand-off folder) carry an owner file beside them: the process that made
// them, identified by pid and start time so that a reused pid is not mistaken for it. What a dead
// owner left behind is found and cleaned up by the next command that makes such a thing.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Owner {
  pid: number;
  /** The process's start time (clock ticks since boot, from /proc), or null where unknown. */
  startTicks: number | null;
  /** Kept on purpose (--keep-db): never swept. */
  kept?: boolean;
  /** The run state that may still need the thing (resume). */
  stateFile?: string;
  /** Swept once already: stopped, kept for the run that may resume. */
  stopped?: boolean;
}

const ownerPath = (thing: string) => `${thing}.owner.json`;

export function startTicks(pid: number): number | null {
  try {
    // Field 22 of /proc/<pid>/stat, counted after the command name (which may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return null;
  }
}

function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

export function writeOwner(thing: string, extra: Partial<Owner> = {}): void {
  const owner: Owner = { ...extra, pid: extra.pid ?? process.pid, startTicks: extra.startTicks === undefined ? startTicks(process.pid) : extra.startTicks };
  writeFileSync(ownerPath(thing), `${JSON.stringify(owner)}\n`, { mode: 0o600 });
}

export function removeOwner(thing: string): void {
  rmSync(ownerPath(thing), { force: true });
}

export function isAlive(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: it exists, as another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A zombie (killed, not yet reaped by its parent) still answers signal 0: it is gone all the same.
  if (processState(owner.pid) === 'Z') return false;
  const ticks = startTicks(owner.pid);
  return owner.startTicks === null || ticks === null || ticks === owner.startTicks;
}

/** Things named `<prefix>*` in the temporary folder whose owner is dead (kept ones excluded). */
export function abandoned(prefix: string, dir = os.tmpdir()): Array<{ path: string; owner: Owner }> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: Array<{ path: string; owner: Owner }> = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.owner.json')) continue;
    const file = path.join(dir, name);
    let owner: Owner;
    try {
      owner = JSON.parse(readFileSync(file, 'utf8')) as Owner;
    } catch {
      // Half-written by an owner killed while writing it: judge by age.
      if (Date.now() - statSync(file).mtimeMs < 60_000) continue;
      owner = { pid: -1, startTicks: null };
    }
    if (owner.kept || (owner.pid > 0 && isAlive(owner))) continue;
    out.push({ path: file.slice(0, -'.owner.json'.length), owner });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
