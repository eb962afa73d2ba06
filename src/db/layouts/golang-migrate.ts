// golang-migrate's layout (also morph's, and exec-doc's own): <version>_<name>.up.sql with an
// optional .down.sql (and exec-doc's .verify.sql). The version is digits; the name is anything.
import path from 'node:path';
import type { Layout, MigrationDraft } from './types.js';

const FILE = /^(\d+)_(.+)\.(up|down|verify)\.sql$/;

export const golangMigrate: Layout = {
  name: 'golang-migrate',
  detect: (_dir, names) => names.some((n) => FILE.test(n)),
  read(dir, names, problems) {
    const byVersion = new Map<string, { name: string; files: Partial<Record<'up' | 'down' | 'verify', string>> }>();
    for (const file of names) {
      if (!file.endsWith('.sql')) continue;
      const match = FILE.exec(file);
      if (!match) {
        problems.push(
          `${path.join(dir, file)}: unexpected file name, expected <digits>_<name>.up.sql (or .down.sql, .verify.sql)`,
        );
        continue;
      }
      const [, version, name, kind] = match as unknown as [string, string, string, 'up' | 'down' | 'verify'];
      const entry = byVersion.get(version) ?? { name, files: {} };
      if (entry.name !== name)
        problems.push(
          `${path.join(dir, file)}: version ${version} is already used by \`${entry.name}\`; give each migration its own version`,
        );
      entry.files[kind] = path.join(dir, file);
      byVersion.set(version, entry);
    }
    const drafts: MigrationDraft[] = [];
    for (const [version, entry] of byVersion) {
      if (!entry.files.up) {
        problems.push(`${path.join(dir, `${version}_${entry.name}`)}: no .up.sql; every migration needs one`);
        continue;
      }
      drafts.push({
        version,
        name: entry.name,
        files: {
          up: entry.files.up,
          ...(entry.files.down ? { down: entry.files.down } : {}),
          ...(entry.files.verify ? { verify: entry.files.verify } : {}),
        },
      });
    }
    return drafts;
  },
};
