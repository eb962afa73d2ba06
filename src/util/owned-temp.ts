// Temporary things exec-doc leaves outside its state folder (an embedded PostgreSQL's data
// directory, a run's hand-off folder) carry an owner file beside them: the process that made
// them, identified by pid and start time so that a reused pid is not mistaken for it. What a dead
// owner left behind is found and cleaned up by the next command that makes such a thing.
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { isSameProcessAlive, processStartTime } from './process-identity.js';
import path from 'node:path';

export interface Owner {
  pid: number;
  /** The process's start time (clock ticks since boot, from /proc), or null where unknown. */
  startTime: string | null;
  /** Kept on purpose (--keep-db): never swept. */
  kept?: boolean;
  /** The run state that may still need the thing (resume). */
  stateFile?: string;
  /** Swept once already: stopped, kept for the run that may resume. */
  stopped?: boolean;
}

const ownerPath = (thing: string) => `${thing}.owner.json`;

export function writeOwner(thing: string, extra: Partial<Owner> = {}): void {
  const owner: Owner = {
    ...extra,
    pid: extra.pid ?? process.pid,
    startTime: extra.startTime === undefined ? (processStartTime(process.pid) ?? null) : extra.startTime,
  };
  const temporary = `${ownerPath(thing)}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
  renameSync(temporary, ownerPath(thing));
}

export function removeOwner(thing: string): void {
  rmSync(ownerPath(thing), { force: true });
}

export function isAlive(owner: Owner): boolean {
  return isSameProcessAlive(owner.pid, owner.startTime ?? undefined);
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
      // Removed by its owner meanwhile, or half-written (by an owner killed while writing it,
      // or being written this instant): judged by age.
      let ageMs: number;
      try {
        ageMs = Date.now() - statSync(file).mtimeMs;
      } catch {
        continue;
      }
      if (ageMs < 60_000) continue;
      owner = { pid: -1, startTime: null };
    }
    if (owner.kept || (owner.pid > 0 && isAlive(owner))) continue;
    out.push({ path: file.slice(0, -'.owner.json'.length), owner });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
