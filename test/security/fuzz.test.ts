// Fuzzing the inputs an attacker controls: annotations and whole documents (never a crash, every
// problem placed at a line and column), secret parameter values (never in a command line), run
// ids and audit filters (never outside the state folder, never a broken pattern). Seeded, so a
// failure reproduces.
import { describe, expect, it } from 'vitest';
import { tempDir } from '../temp.js';
import path from 'node:path';
import { mkdirSync, symlinkSync } from 'node:fs';
import { parseMeta } from '../../src/annotations/parse-meta.js';
import { renderPlaceholders } from '../../src/placeholders/index.js';
import { RunStore } from '../../src/runner/state.js';
import { globMatch } from '../../src/security/policy.js';
import { readStatement } from '../../src/security/signing.js';
import { extract } from '../helpers.js';
import type { Param } from '../../src/model/types.js';

/** xorshift32: the same inputs on every run. */
function random(seed: number) {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const PIECES = [
  '{',
  '}',
  '=',
  '"',
  "'",
  ' ',
  'id',
  'rollback',
  'confirm',
  'kind',
  'step',
  'none',
  'x-1',
  '\\',
  ',',
  ':',
  '[',
  ']',
  'timeout',
  '5m',
  'requires',
  'cmd:',
  '${{',
  'params.a',
  '}}',
  '\u0000',
  '\u202e',
  'é',
  '\n',
  'expect',
  '-1',
  '1e9',
  'true',
  '#',
  '.',
  '/',
  '..',
  '$(id)',
  '`id`',
  ';',
];

function fuzzString(next: () => number, max = 24): string {
  let s = '';
  const n = Math.floor(next() * max);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(next() * PIECES.length)]!;
  return s;
}

const FUZZ_META = 3000;
const FUZZ_DOCS = 300;
const FUZZ_VALUES = 2000;
const FUZZ_RUN_IDS = 3000;

describe('fuzzing', () => {
  it(`annotations: ${FUZZ_META} random meta strings parse or are reported, never throw`, () => {
    const next = random(0x5eed);
    for (let i = 0; i < FUZZ_META; i++) {
      const meta = fuzzString(next);
      expect(() => parseMeta(meta), JSON.stringify(meta)).not.toThrow();
    }
  });

  it(`documents: ${FUZZ_DOCS} random documents extract without a crash, each problem at a line and column`, async () => {
    const next = random(0xd0c5);
    for (let i = 0; i < FUZZ_DOCS; i++) {
      const lang = ['bash', 'sql', 'python', 'js', 'checks', 'sh'][Math.floor(next() * 6)]!;
      const source = `---\nexec-doc:\n  params:\n    a: { type: string${next() < 0.5 ? ', secret: true' : ''} }\n---\n# T\n\n## S ${fuzzString(next, 4)}\n\n\`\`\`${lang} {${fuzzString(next)}}\n${fuzzString(next, 12)} \${{ params.a }}\n\`\`\`\n`;
      const doc = await extract(source, `fuzz-${i}.md`);
      for (const d of doc.diagnostics) {
        expect(d.line, d.message).toBeGreaterThanOrEqual(1);
        expect(d.column, d.message).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it(`secret values: ${FUZZ_VALUES} random values never enter the code (the command line) of Python or JavaScript blocks`, () => {
    const next = random(0x5ec7);
    const secret: Param = { name: 'pw', type: 'string', required: true, secret: true };
    for (let i = 0; i < FUZZ_VALUES; i++) {
      const value = `${fuzzString(next, 8)}S3cr3t${i}`;
      for (const [lang, code] of [
        ['python', 'x = ${{ params.pw }}\nprint(len(x))'],
        ['js', 'const x = ${{ params.pw }};'],
        ['ts', 'const x: string = ${{ params.pw }};'],
      ] as const) {
        const r = renderPlaceholders(lang, code, [secret], { pw: value });
        expect(r.problems).toEqual([]);
        expect(r.code).not.toContain(value);
        expect(r.code).toContain('EXEC_DOC_PARAM_pw');
      }
      // Inside a string it cannot be read from the environment: refused, never written.
      const inString = renderPlaceholders('python', 'print("${{ params.pw }}")', [secret], { pw: value });
      expect(inString.problems[0]).toMatch(/stands inside a string literal/);
      expect(inString.code).not.toContain(value);
    }
  });

  it(`run ids: ${FUZZ_RUN_IDS} random ids are refused or stay inside <state>/runs, and never follow a symlink`, () => {
    const next = random(0x1d5);
    const state = path.resolve('/tmp/exec-doc-fuzz-state');
    let accepted = 0;
    for (let i = 0; i < FUZZ_RUN_IDS; i++) {
      const id = fuzzString(next, 6);
      let store: RunStore | undefined;
      try {
        store = new RunStore(state, id);
      } catch (error) {
        expect((error as { code?: string }).code).toBe('E_RUN_NOT_FOUND');
        continue;
      }
      accepted += 1;
      const relative = path.relative(path.join(state, 'runs'), store.dir);
      expect(relative.startsWith('..') || path.isAbsolute(relative) || relative === '', id).toBe(false);
      expect(relative.includes(path.sep), id).toBe(false);
    }
    for (const id of ['..', '../x', 'a/../../b', '/etc', '', '.hidden', 'a\u0000b'])
      expect(() => new RunStore(state, id), id).toThrow();
    expect(accepted).toBeGreaterThan(0);
    // A run folder that is a symbolic link (to anywhere) is refused.
    const real = tempDir('exec-doc-elsewhere-');
    const linked = tempDir('exec-doc-state-');
    mkdirSync(path.join(linked, 'runs'));
    symlinkSync(real, path.join(linked, 'runs', 'r1'));
    expect(() => new RunStore(linked, 'r1')).toThrow(/is a symbolic link/);
  });

  it('audit filters and signed statements: random input never throws anything but a refusal', () => {
    const next = random(0x61ab);
    for (let i = 0; i < 2000; i++) {
      const pattern = fuzzString(next, 6);
      expect(() => globMatch(pattern, 'database-migrations/add-a-column')).not.toThrow();
      const token = `edsig1.${fuzzString(next, 4)}.${fuzzString(next, 4)}`;
      try {
        readStatement(token);
      } catch (error) {
        expect((error as { code?: string }).code, token).toBe('E_TOKEN');
      }
    }
  });
});
