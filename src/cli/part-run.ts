// Runs part of a section through the runner, under an address of its own (`<address>.preview`,
// `<address>.checks-pre`) so that the section's "last verified" record stays untouched: the
// blocks `exec-doc check <section>` and `plan --preview` run. --set is read, Ctrl-C stops it.
import path from 'node:path';
import type { Resolved } from '../documents/address.js';
import { ExecDocError } from '../errors/exec-doc-error.js';
import type { RunEvent } from '../events/types.js';
import type { Section, Step } from '../model/types.js';
import type { RunOutcome } from '../runner/run.js';
import type { CliOptions } from './parse.js';
import type { Io } from './main.js';

export async function runPart(
  resolved: Resolved,
  part: { suffix: string; steps: Step[]; what: string },
  options: CliOptions,
  io: Io,
  listeners: Array<(event: RunEvent) => void>,
): Promise<RunOutcome> {
  const { runSection } = await import('../runner/run.js');
  const { parseSets } = await import('../runner/params.js');
  const { sets, problems } = parseSets(options.set);
  if (problems.length > 0) throw new ExecDocError('E_USAGE', 'Malformed --set', { details: problems });
  const section: Section = {
    ...resolved.section,
    address: `${resolved.section.address}.${part.suffix}`,
    steps: part.steps,
  };
  const { watchStopSignals } = await import('./signals.js');
  const stop = watchStopSignals(io, { first: (signal) => `${signal}: stopping the ${part.what}` });
  try {
    return await runSection({
      section,
      documentPath: resolved.path,
      docsRoot: path.resolve(options.docs),
      stateDir: options.stateDir,
      sets,
      env: io.env,
      yes: true,
      keepDb: options.keepDb,
      signal: stop.interrupt,
      forceSignal: stop.force,
      listeners,
      notice: (line) => io.stderr.write(`exec-doc: ${line}\n`),
    });
  } finally {
    stop.dispose();
  }
}
