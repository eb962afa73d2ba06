// The options of a trivial bash step, as the runner gives them: the process tests' common ground.
import type { ProcessOptions } from '../../src/process/process.js';

export const PATH = process.env.PATH ?? '/usr/bin:/bin';

export function bashStep(script: string, extra: Partial<ProcessOptions> = {}): ProcessOptions {
  return {
    file: 'bash',
    args: ['-e', '-o', 'pipefail', '-c', script],
    cwd: process.cwd(),
    env: { PATH },
    timeoutMs: 20_000,
    onOutput: () => undefined,
    ...extra,
  };
}
