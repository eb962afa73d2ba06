// Entry point of `npm run db` (bin/db.js loads the compiled form of this file).
import { dbMain } from '../src/cli/db.js';

process.exitCode = await dbMain(process.argv.slice(2));
