import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Whether `name` is an executable on PATH (looked up in-process: no shell is started). */
export function commandExists(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (name.includes('/')) return isExecutable(name);
  return (env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && isExecutable(path.join(dir, name)));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
