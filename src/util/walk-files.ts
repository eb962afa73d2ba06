import { readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';

/**
 * Every file below `root` that `accept` takes, sorted by path. Folders for which `enter`
 * says false are skipped; an unreadable folder counts as empty.
 */
export function walkFiles(
  root: string,
  accept: (entry: Dirent) => boolean,
  enter: (entry: Dirent) => boolean = () => true,
): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (enter(entry)) walk(full);
      } else if (entry.isFile() && accept(entry)) out.push(full);
    }
  };
  walk(path.resolve(root));
  return out.sort();
}
