// CLI tests spawn bin/exec-doc.js, which runs the compiled engine: make sure it is built.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build-engine.mjs'], { stdio: 'inherit' });
}
