// Compiles the engine (src/, plugins/, scripts/) into dist/ and marks dist/ as ES modules.
// The repository root has no "type" (Docusaurus needs its site root CommonJS); each engine
// folder carries its own package.json saying "module", and so does dist/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
mkdirSync(path.join(root, 'dist'), { recursive: true });
writeFileSync(path.join(root, 'dist', 'package.json'), '{ "type": "module" }\n');
