// How each process language is started. SQL is not a process: see ./sql.ts.
import { createRequire } from 'node:module';
import type { StepLanguage } from '../model/types.js';

export interface Command {
  file: string;
  args: string[];
}

const require = createRequire(import.meta.url);

/** The command that runs `code` as a block of `lang`; shells stop at the first failing command. */
export function commandFor(lang: Exclude<StepLanguage, 'sql' | 'checks'>, code: string): Command {
  switch (lang) {
    case 'sh':
      return { file: 'sh', args: ['-e', '-c', code] };
    case 'bash':
      return { file: 'bash', args: ['-e', '-o', 'pipefail', '-c', code] };
    case 'python':
      return { file: 'python3', args: ['-c', code] };
    case 'js':
      return { file: process.execPath, args: ['--input-type=module', '-e', code] };
    case 'ts':
      return { file: process.execPath, args: [require.resolve('tsx/cli'), '-e', code] };
  }
}
