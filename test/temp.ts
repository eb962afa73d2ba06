// Temporary folders for tests, removed when the test file's tests are done (each test file gets
// its own copy of this module). Without it every `npm test` left ~1,500 folders in the
// temporary directory, and a machine that ran the suite a few hundred times had 158,000 of them
// (21 GB), which made every run's scan of that directory for abandoned hand-off folders cost
// 100 ms. EXEC_DOC_KEEP_TEST_TMP=1 keeps them, to look at after a failure.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

export function tempDir(prefix = 'exec-doc-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterAll(() => {
  if (process.env.EXEC_DOC_KEEP_TEST_TMP === '1') return;
  for (const dir of made.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // A folder a still-running process writes into: left for the machine's own cleaning.
    }
  }
});
