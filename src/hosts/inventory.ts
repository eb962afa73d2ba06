// The hosts a rolling section runs on, as Ansible sees them (its own inventory parsing and host
// patterns, not a copy), and the batches they are upgraded in.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { HostsSettings, Param } from '../model/types.js';
import { CodedError } from '../util/coded-error.js';

const PARAM_ONLY = /^\$\{\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/** Bad settings or values (exit 64); with `missing`, something the machine lacks (exit 3). */
export class HostsError extends CodedError {
  constructor(message: string, details: string[] = [], missing = false) {
    super(missing ? 'E_REQUIREMENT' : 'E_HOSTS', message, { details });
  }
}

/** The settings with their parameters' values in place, the inventory made absolute. */
export interface ResolvedHosts {
  inventory: string;
  pattern: string;
  /** A number of hosts, or a percentage (`40%`). */
  serial: string;
  maxFailPercentage: number;
}

export function resolveHostsSettings(
  settings: HostsSettings,
  values: Readonly<Record<string, string>>,
  documentDir: string,
  params: readonly Param[] = [],
): ResolvedHosts {
  const valueOf = (field: string, text: string): string => {
    const m = PARAM_ONLY.exec(text.trim());
    if (!m) return text;
    const value = values[m[1]!];
    if (value === undefined || value === '')
      throw new HostsError(
        `hosts.${field} names parameter \`${m[1]}\`, which has no value${params.some((p) => p.name === m[1]) ? `: pass --set ${m[1]}=<value>` : ' (the section declares no such parameter)'}`,
      );
    return value;
  };
  const inventory = path.resolve(documentDir, valueOf('inventory', settings.inventory));
  const pattern = valueOf('pattern', settings.pattern);
  const serial = valueOf('serial', settings.serial);
  if (!/^[1-9][0-9]*%?$/.test(serial) || (serial.endsWith('%') && Number(serial.slice(0, -1)) > 100))
    throw new HostsError(
      `hosts.serial is \`${serial}\`, expected a number of hosts per batch (\`2\`) or a percentage of them (\`40%\`, at most 100%)`,
    );
  // A pattern is Ansible's syntax: names, groups, wildcards, `:`, `!`, `&`, `,`; no option or shell syntax.
  if (!/^[A-Za-z0-9_.*?:!&,[\]-]+$/.test(pattern) || pattern.startsWith('-'))
    throw new HostsError(
      `hosts.pattern is \`${pattern}\`, expected an Ansible host pattern (\`all\`, \`web\`, \`web:!web-3\`)`,
    );
  return { inventory, pattern, serial, maxFailPercentage: settings.maxFailPercentage };
}

/** The hosts the pattern selects, in inventory order (`ansible <pattern> --list-hosts`). */
export function listHosts(hosts: ResolvedHosts, env: NodeJS.ProcessEnv = process.env): string[] {
  if (!existsSync(hosts.inventory))
    throw new HostsError(
      `the inventory ${hosts.inventory} does not exist`,
      ['Give an Ansible inventory file or folder (--set inventory=<path>, if the section takes it as a parameter).'],
      true,
    );
  const r = spawnSync('ansible', [hosts.pattern, '-i', hosts.inventory, '--list-hosts'], {
    encoding: 'utf8',
    env: { ...env, ANSIBLE_NOCOLOR: '1', ANSIBLE_DEPRECATION_WARNINGS: 'False' },
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT')
    throw new HostsError(
      'ansible is not installed: a section with `hosts:` runs through Ansible',
      ['Install it: apt-get install ansible-core (Debian), or pip install ansible-core.'],
      true,
    );
  const lines = r.stdout.split('\n');
  const hostsStart = lines.findIndex((l) => /^\s*hosts \(\d+\):/.test(l));
  if (r.status !== 0 || hostsStart < 0) {
    const why = `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-4);
    throw new HostsError(`Ansible found no host for pattern \`${hosts.pattern}\` in ${hosts.inventory}`, why);
  }
  const names = lines
    .slice(hostsStart + 1)
    .map((l) => l.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new HostsError(`Ansible found no host for pattern \`${hosts.pattern}\` in ${hosts.inventory}`);
  return names;
}

/** Ansible's `serial`: batches of N hosts, or of N % of them (rounded down, at least one). */
export function batchesOf(hosts: readonly string[], serial: string): string[][] {
  const size = serial.endsWith('%')
    ? Math.max(1, Math.floor((hosts.length * Number(serial.slice(0, -1))) / 100))
    : Number(serial);
  const out: string[][] = [];
  for (let i = 0; i < hosts.length; i += size) out.push(hosts.slice(i, i + size));
  return out;
}
