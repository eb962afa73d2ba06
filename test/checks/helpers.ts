// Runs one check the way the framework does (settings validated by its schema, its own timeout),
// against real subjects.
import { checkDefinition } from '../../src/checks/registry.js';
import { runOne, type SharedContext } from '../../src/checks/run.js';
import type { CheckResult } from '../../src/checks/types.js';
import { tempDir } from '../helpers.js';

export async function runCheck(
  type: string,
  settings: Record<string, unknown> = {},
  context: Partial<SharedContext> & { timeoutMs?: number } = {},
): Promise<CheckResult> {
  const definition = checkDefinition(type);
  if (!definition) throw new Error(`no check ${type}`);
  const { timeoutMs = 10_000, ...shared } = context;
  return runOne(
    {
      name: type,
      definition,
      settings: definition.settings.parse(settings) as Record<string, unknown>,
      raw: settings,
      timeoutMs,
    },
    { env: process.env, workDir: tempDir('exec-doc-checks-'), keepBaseline: false, ...shared },
  );
}

export const pgContext = (url: string) => ({ postgres: { url, description: 'test server' } });
