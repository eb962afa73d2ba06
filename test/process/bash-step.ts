// The process tests' common ground: the options of a trivial bash step, as the runner gives them,
// and a wait for what a process does meanwhile.
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

/** Polls `condition` every 20 ms until it holds; fails after `ms`. */
export async function waitUntil(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
