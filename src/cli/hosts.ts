// `exec-doc hosts batch|undo -`: what a rolling section's batch steps run (../hosts/expand.ts). The
// batch's description comes on standard input; the run's folder is the step's $EXEC_DOC_RUN_DIR.
import type { Io } from './main.js';
import type { BatchSpec } from '../hosts/expand.js';
import { EXIT } from '../util/coded-error.js';

const USAGE =
  'usage: exec-doc hosts batch|undo -   (internal: run by the steps of a section with `hosts:`; the batch comes on standard input)\n';

export async function hostsCommand(args: string[], io: Io): Promise<number> {
  const [action, source] = args;
  const runDir = io.env.EXEC_DOC_RUN_DIR;
  if ((action !== 'batch' && action !== 'undo') || source !== '-' || args.length !== 2) {
    io.stderr.write(USAGE);
    return EXIT.usage;
  }
  if (!runDir) {
    io.stderr.write(`exec-doc hosts: EXEC_DOC_RUN_DIR is not set; this command runs as a step of a run\n${USAGE}`);
    return EXIT.usage;
  }
  let text = '';
  for await (const chunk of io.stdin) text += String(chunk);
  let spec: BatchSpec;
  try {
    spec = JSON.parse(text) as BatchSpec;
  } catch (error) {
    io.stderr.write(`exec-doc hosts: the batch on standard input is not JSON (${(error as Error).message})\n`);
    return EXIT.usage;
  }
  const { runBatch, undoBatch } = await import('../hosts/batch.js');
  return action === 'batch' ? runBatch(spec, runDir) : undoBatch(spec, runDir);
}
