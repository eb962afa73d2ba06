// A rolling section made ready to run: its settings resolved with the run's parameter values, its
// hosts listed by Ansible (or, for a run that goes on, the batches it started with), and the
// section expanded into batch steps.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Section } from '../model/types.js';
import { expandRolling } from './expand.js';
import { hostsSummary } from './batch.js';
import { batchesOf, HostsError, listHosts, resolveHostsSettings, type ResolvedHosts } from './inventory.js';

export interface RollingPlan {
  hosts: ResolvedHosts;
  batches: string[][];
}

export const ROLLING_PLAN_FILE = (runDir: string) => path.join(runDir, 'hosts', 'plan.json');

/** The batches this run upgrades, from the inventory now or from the run's folder. */
export function rollingPlan(
  section: Section,
  values: Readonly<Record<string, string>>,
  documentPath: string,
  env: NodeJS.ProcessEnv,
  runDir?: string,
): RollingPlan {
  const hosts = resolveHostsSettings(section.hosts!, values, path.dirname(path.resolve(documentPath)), section.params);
  if (runDir && existsSync(ROLLING_PLAN_FILE(runDir))) {
    // A run that goes on keeps the batches it started with, whatever the inventory says now.
    const stored = JSON.parse(readFileSync(ROLLING_PLAN_FILE(runDir), 'utf8')) as RollingPlan;
    return { hosts: stored.hosts, batches: stored.batches };
  }
  return { hosts, batches: batchesOf(listHosts(hosts, env), hosts.serial) };
}

export function saveRollingPlan(runDir: string, plan: RollingPlan): void {
  mkdirSync(path.dirname(ROLLING_PLAN_FILE(runDir)), { recursive: true, mode: 0o700 });
  writeFileSync(ROLLING_PLAN_FILE(runDir), `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o600 });
}

export function expandForRun(section: Section, plan: RollingPlan, values: Readonly<Record<string, string>>): Section {
  try {
    return expandRolling(section, plan.hosts, plan.batches, values);
  } catch (error) {
    throw new HostsError(`${section.address} cannot run on hosts: ${(error as Error).message}`);
  }
}

/** The hosts of a rolling run and their states, for its record. */
export function rollingHosts(runDir: string): ReturnType<typeof hostsSummary> {
  if (!existsSync(ROLLING_PLAN_FILE(runDir))) return [];
  const plan = JSON.parse(readFileSync(ROLLING_PLAN_FILE(runDir), 'utf8')) as RollingPlan;
  return hostsSummary(runDir, plan.batches);
}
