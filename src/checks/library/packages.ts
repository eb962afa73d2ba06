// System packages (dpkg): the versions a procedure expects are installed, and only the packages
// meant to be held are held (a forgotten hold blocks an upgrade; a missing one lets apt move a
// pinned package).
import * as z from 'zod';
import type { CheckDefinition } from '../types.js';
import { runProgram } from '../support.js';

const Package = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'a Debian package name (lower case, digits, + - .)'),
  version: z.string().min(1).optional(),
  minVersion: z.string().min(1).optional(),
  held: z.boolean().optional(),
});

type Settings = {
  packages: Array<z.infer<typeof Package>>;
  admindir?: string | undefined;
  unexpectedHolds: 'ignore' | 'warn' | 'fail';
};

export const packageVersions: CheckDefinition<Settings> = {
  type: 'packages.versions',
  title: 'System package versions and holds',
  description:
    'Reads the dpkg database: each listed package is installed, at `version` exactly or at least `minVersion`, held or not as `held` says; holds on packages not listed are reported as unexpectedHolds says (default warn).',
  settings: z.strictObject({
    packages: z.array(Package).default([]),
    admindir: z.string().min(1).optional(),
    unexpectedHolds: z.enum(['ignore', 'warn', 'fail']).default('warn'),
  }),
  pathSettings: ['admindir'],
  usesPostgres: false,
  async run(context, s) {
    const args = [
      ...(s.admindir ? [`--admindir=${s.admindir}`] : []),
      '-W',
      '-f',
      '${Package}\\t${Version}\\t${Status}\\n',
    ];
    const r = await runProgram(context, 'dpkg-query', args);
    if (r.exitCode !== 0 && r.stdout.trim() === '')
      return {
        status: 'error',
        detail: `dpkg-query failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n')[0] ?? ''}`,
      };
    const installed = new Map<string, { version: string; held: boolean }>();
    for (const line of r.stdout.split('\n')) {
      const [name, version, status] = line.split('\t');
      if (!name || !status || !/ installed$/.test(status)) continue;
      installed.set(name.replace(/:.*$/, ''), { version: version ?? '', held: status.startsWith('hold ') });
    }
    const threshold = [
      s.packages.length ? `${s.packages.length} expected packages` : '',
      `unexpected holds: ${s.unexpectedHolds}`,
    ]
      .filter(Boolean)
      .join(', ');
    const failures: string[] = [];
    const off = new Set<string>();
    for (const p of s.packages) {
      const have = installed.get(p.name);
      const before = failures.length;
      if (!have) {
        off.add(p.name);
        failures.push(`${p.name} is not installed; apt-get install ${p.name}${p.version ? `=${p.version}` : ''}`);
        continue;
      }
      if (p.version && have.version !== p.version)
        failures.push(
          `${p.name} ${have.version} is installed, expected ${p.version} (apt-get install ${p.name}=${p.version})`,
        );
      if (p.minVersion) {
        const cmp = await runProgram(context, 'dpkg', ['--compare-versions', have.version, 'lt', p.minVersion]);
        if (cmp.exitCode === 0)
          failures.push(`${p.name} ${have.version} is older than ${p.minVersion}; upgrade it first`);
      }
      if (p.held === true && !have.held)
        failures.push(`${p.name} is not held; hold it so apt leaves it alone: apt-mark hold ${p.name}`);
      if (p.held === false && have.held)
        failures.push(`${p.name} is held, so it will not be upgraded: apt-mark unhold ${p.name}`);
      if (failures.length > before) off.add(p.name);
    }
    const listed = new Set(s.packages.map((p) => p.name));
    const strayHolds = [...installed]
      .filter(([name, p]) => p.held && !listed.has(name))
      .map(([name]) => name)
      .sort();
    const holds = [...installed.values()].filter((p) => p.held).length;
    const value = `${installed.size} installed, ${holds} held${s.packages.length ? `, ${s.packages.length - off.size} of ${s.packages.length} as expected` : ''}`;
    const strayText = strayHolds.length
      ? `held but not listed: ${strayHolds.join(', ')} (apt-mark unhold, or list them with held: true)`
      : '';
    const status =
      failures.length > 0 || (strayHolds.length > 0 && s.unexpectedHolds === 'fail')
        ? 'fail'
        : strayHolds.length > 0 && s.unexpectedHolds === 'warn'
          ? 'warn'
          : 'pass';
    const detail =
      [...failures, strayText].filter(Boolean).join('; ') ||
      `${s.packages.map((p) => `${p.name} ${installed.get(p.name)!.version}`).join(', ') || 'no package is held'}`;
    return { status, value, metric: failures.length + strayHolds.length, unit: 'count', threshold, detail };
  },
};
