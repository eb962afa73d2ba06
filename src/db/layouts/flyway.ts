// Flyway's layout: V<version>__<description>.sql (the version's `_` are dots: V1_1 is 1.1),
// U<version>__<description>.sql to undo it, R__<description>.sql repeatable (applied after the
// versioned ones, again whenever its checksum changes, never undone).
import path from 'node:path';
import type { Layout, MigrationDraft } from './types.js';

const FILE = /^([VUR])((?:\d+(?:[._]\d+)*)?)__(.+)\.sql$/;

export const flyway: Layout = {
  name: 'flyway',
  detect: (_dir, names) => names.some((n) => /^[VR]\d*[._\d]*__.+\.sql$/.test(n)),
  read(dir, names, problems) {
    const versioned = new Map<string, MigrationDraft>();
    const undo = new Map<string, string>();
    const drafts: MigrationDraft[] = [];
    for (const file of names) {
      if (!file.endsWith('.sql')) continue;
      const match = FILE.exec(file);
      if (!match) {
        problems.push(
          `${path.join(dir, file)}: unexpected file name, expected V<version>__<description>.sql, U<version>__<description>.sql or R__<description>.sql`,
        );
        continue;
      }
      const [, prefix, rawVersion, description] = match as unknown as [string, 'V' | 'U' | 'R', string, string];
      const version = rawVersion.replace(/_/g, '.');
      const name = description;
      if (prefix === 'R') {
        if (rawVersion)
          problems.push(
            `${path.join(dir, file)}: a repeatable migration has no version, expected R__<description>.sql`,
          );
        else drafts.push({ version: `R:${name}`, name, files: { up: path.join(dir, file) }, repeatable: true });
        continue;
      }
      if (!version) {
        problems.push(`${path.join(dir, file)}: no version, expected ${prefix}<version>__<description>.sql`);
        continue;
      }
      if (prefix === 'U') {
        undo.set(version, path.join(dir, file));
        continue;
      }
      const earlier = versioned.get(version);
      if (earlier)
        problems.push(
          `${path.join(dir, file)}: version ${version} is already used by \`${earlier.name}\`; give each migration its own version`,
        );
      versioned.set(version, { version, name, files: { up: path.join(dir, file) } });
    }
    for (const [version, file] of undo) {
      const draft = versioned.get(version);
      if (draft) draft.files.down = file;
      else problems.push(`${file}: undoes version ${version}, which no V${version.replace(/\./g, '_')}__….sql applies`);
    }
    return [...versioned.values(), ...drafts];
  },
};
