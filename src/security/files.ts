// What makes a file safe to trust: a secret (a private key, a token, a password file) is read
// only when nobody but its owner can read it; a file that decides what may run (a policy) only
// when nobody but its owner can change it. Symbolic links are followed (Kubernetes mounts
// secrets through them) and the file they reach is judged.
import { lstatSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';

/** `0644`: a mode's permission bits as `ls` and `chmod` write them. */
export const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

function statOrProblem(file: string): Stats | string {
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return 'not a regular file';
    return stat;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES'
        ? 'no permission to read it'
        : `cannot read it (${code})`;
  }
}

/** Why a secret file must not be used, or undefined: group or others may read or write it. */
export function secretFileProblem(file: string): string | undefined {
  const stat = statOrProblem(file);
  if (typeof stat === 'string') return stat;
  if ((stat.mode & 0o077) !== 0)
    return `its permissions are ${octal(stat.mode)}: group or others can read or change it; \`chmod 600 ${file}\``;
  if (process.getuid && stat.uid !== process.getuid() && process.getuid() !== 0)
    return `it belongs to another user (uid ${stat.uid}); a secret file must be yours`;
  return undefined;
}

/** Why a file that governs what runs must not be trusted, or undefined: others may change it. */
export function governingFileProblem(file: string): string | undefined {
  const stat = statOrProblem(file);
  if (typeof stat === 'string') return stat;
  if ((stat.mode & 0o022) !== 0)
    return `its permissions are ${octal(stat.mode)}: group or others can change it; \`chmod go-w ${file}\``;
  const dir = folderProblem(path.dirname(path.resolve(file)));
  return dir;
}

/** A folder anyone may write to without the sticky bit lets anyone replace the files in it. */
export function folderProblem(dir: string): string | undefined {
  let stat: Stats;
  try {
    stat = statSync(dir);
  } catch {
    return undefined;
  }
  if ((stat.mode & 0o002) !== 0 && (stat.mode & 0o1000) === 0)
    return `its folder ${dir} is writable by everyone (${octal(stat.mode)}) without the sticky bit: anyone can replace it`;
  return undefined;
}

/** Whether a path is a symbolic link (not followed). */
export function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
