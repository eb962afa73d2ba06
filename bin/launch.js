// Shared by the command-line entry points: runs the compiled entry, rebuilding first when a
// source file is newer than the last build (a developer edited src/ and did not rebuild).
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', '.tsbuildinfo');

function newest(dir) {
  let latest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(full));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(full).mtimeMs);
  }
  return latest;
}

export async function launch(entry) {
  let built = 0;
  try {
    built = statSync(stamp).mtimeMs;
  } catch {
    built = 0;
  }
  const sources = Math.max(...['src', 'plugins', 'scripts'].map((d) => newest(path.join(root, d))));
  if (sources > built) {
    process.stderr.write('exec-doc: compiling (sources changed since the last build)…\n');
    try {
      execFileSync(process.execPath, [path.join(root, 'scripts', 'build-engine.mjs')], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
    } catch {
      process.stderr.write('exec-doc: the build failed; fix the errors above (or run `npm run build:engine`)\n');
      process.exit(70);
    }
    const now = new Date();
    utimesSync(stamp, now, now);
  }
  await import(pathToFileURL(path.join(root, 'dist', 'scripts', entry)).href);
}
