// Entry point of `exec-doc` (bin/exec-doc.js loads the compiled form of this file).
import { main } from '../src/cli/main.js';
import { dropWritesToClosedPipes } from '../src/cli/signals.js';

dropWritesToClosedPipes();

process.exitCode = await main(process.argv.slice(2));
