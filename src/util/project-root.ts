import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The project's root folder, found upward from this module (it runs from src/ and from dist/src/). */
export function projectRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (dir !== path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'executable-migration-guide'
    )
      return (root = dir);
    dir = path.dirname(dir);
  }
  throw new Error(
    'exec-doc: cannot find the project root (package.json named executable-migration-guide) above ' +
      fileURLToPath(import.meta.url),
  );
}

export function projectVersion(): string {
  return (JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
