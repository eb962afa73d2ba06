// `npm run bench:db`: only the database figures of the bench.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseBench } from './bench-db.js';

await databaseBench(
  (line) => process.stdout.write(`${line}\n`),
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..'),
);
