// Writing files so that a reader never sees half of one: write beside it, then rename over it.
// Folders it creates are private (0700); the file gets `mode` (default: 0666 less the umask).
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function writeAtomic(file: string, content: string, mode?: number): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content, mode === undefined ? {} : { mode });
  renameSync(temporary, file);
}

/** The nearest file called `name` in `startDir` or a folder above it, or null. */
export function findUp(startDir: string, name: string): string | null {
  let dir = path.resolve(startDir);
  for (;;) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
