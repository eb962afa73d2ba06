// sqitch's layout: sqitch.plan lists the changes in order; deploy/<change>.sql applies one,
// revert/<change>.sql undoes it, verify/<change>.sql checks it (it fails by raising an error).
// A change's version here is its place in the plan (a plan only grows at its end). Its scripts
// conventionally hold BEGIN … COMMIT: `db up` runs them in its own transaction instead, so that
// the ledger row is written with the change.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Layout, MigrationDraft } from './types.js';

export const sqitch: Layout = {
  name: 'sqitch',
  detect: (_dir, names) => names.includes('sqitch.plan'),
  read(dir, _names, problems) {
    const planFile = path.join(dir, 'sqitch.plan');
    let plan: string;
    try {
      plan = readFileSync(planFile, 'utf8');
    } catch (error) {
      problems.push(
        `${planFile}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
      return [];
    }
    const drafts: MigrationDraft[] = [];
    const seen = new Set<string>();
    plan.split(/\r?\n/).forEach((text, index) => {
      const line = text.trim();
      // Pragmas (%project=…), tags (@v1.0 …), comments and blank lines say nothing about order.
      if (line === '' || line.startsWith('%') || line.startsWith('@') || line.startsWith('#')) return;
      const name = line.split(/\s+/)[0]!;
      const where = `${planFile}:${index + 1}:1`;
      if (!/^[^@:#\s][^\s:@#]*$/.test(name)) {
        problems.push(`${where}: unexpected change name \`${name}\`, expected a name such as add_users`);
        return;
      }
      if (seen.has(name)) {
        problems.push(
          `${where}: \`${name}\` is reworked (planned twice); reworked changes are not supported: give the new version its own name`,
        );
        return;
      }
      seen.add(name);
      const script = (folder: string) => path.join(dir, folder, `${name}.sql`);
      if (!existsSync(script('deploy'))) {
        problems.push(`${where}: change \`${name}\` has no ${path.join('deploy', `${name}.sql`)}`);
        return;
      }
      drafts.push({
        version: String(drafts.length + 1).padStart(4, '0'),
        name,
        files: {
          up: script('deploy'),
          ...(existsSync(script('revert')) ? { down: script('revert') } : {}),
          ...(existsSync(script('verify')) ? { verify: script('verify') } : {}),
        },
        ownTransaction: true,
      });
    });
    return drafts;
  },
};
