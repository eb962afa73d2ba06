// Entry point of `npm run db` (bin/db.js loads the compiled form of this file).
import { dbMain } from '../src/cli/db/index.js';
import { dropWritesToClosedPipes } from '../src/cli/signals.js';

// `db compare a.json | head`: the rest of the output is dropped, not a crash.
dropWritesToClosedPipes();

process.exitCode = await dbMain(process.argv.slice(2));
