// A parameter's value is data in every language: arbitrary strings (quotes, $( ), backticks,
// newlines, NUL, unicode, here-document delimiters, comment markers) are fed as values to real
// interpreters, and no marker file appears while the value arrives byte for byte.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Param, StepLanguage } from '../../src/model/types.js';
import { validateParamValue } from '../../src/model/param-value.js';
import { paramEnvironment, renderPlaceholders, sqlSettings } from '../../src/placeholders/index.js';
import { parseChecksBlock } from '../../src/checks/block.js';
import { SqlSession } from '../../src/languages/sql.js';
import { tempDir } from '../helpers.js';
import { useEmbeddedServer } from '../db/pg-helpers.js';

const DIR = tempDir('exec-doc-values-');
const MARKER = path.join(DIR, 'marker');
const OUT = path.join(DIR, 'out');
const param: Param = { name: 'v', type: 'string', required: true, secret: false };

// Pieces an attacker would try, each aimed at the marker file.
const ATTACKS = [
  `$(touch ${MARKER})`,
  `\`touch ${MARKER}\``,
  `"; touch ${MARKER}; echo "`,
  `'; touch ${MARKER}; echo '`,
  `;touch ${MARKER}`,
  `\ntouch ${MARKER}\n`,
  `\nEOF\ntouch ${MARKER}\nEOF\n`,
  `a[$(touch ${MARKER})]`,
  `"); import os; os.system("touch ${MARKER}"); print("`,
  `'); require('fs').writeFileSync('${MARKER}', ''); ('`,
  '`); require("fs").writeFileSync("' + MARKER + '", ""); (`',
  '${require("fs").writeFileSync("' + MARKER + '", "")}',
  '{__import__("os").system("touch ' + MARKER + '")}',
  `*/ require('fs').writeFileSync('${MARKER}', ''); /*`,
  `'); create table marker (); select ('`,
  `"; create table marker (); select "`,
  `$$; create table marker (); select $$`,
  '\\',
  "\\'",
  '\u2028',
  '\r\n',
  '\u0000',
  '😀',
  '\ud800',
];
const piece = fc.oneof(
  fc.constantFrom(...ATTACKS),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
const values = fc.array(piece, { maxLength: 4 }).map((parts) => parts.join(''));

/** Validates the value as the runner does; returns the rendered code, or undefined when refused. */
function render(lang: StepLanguage, code: string, value: string): string | undefined {
  const problem = validateParamValue(param, value);
  if (problem) {
    // Only what no program can receive is refused.
    expect(problem).toMatch(/NUL|Unicode/);
    return undefined;
  }
  const rendered = renderPlaceholders(lang, code, [param], { v: value });
  expect(rendered.problems).toEqual([]);
  return rendered.code;
}

function runProgram(file: string, args: string[], value: string): void {
  rmSync(OUT, { recursive: true, force: true });
  rmSync(MARKER, { force: true });
  mkdirSync(OUT, { recursive: true });
  const r = spawnSync(file, args, {
    env: { PATH: process.env.PATH ?? '', OUT, ...paramEnvironment({ v: value }) },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(existsSync(MARKER), `a value ran a command: ${JSON.stringify(value)}`).toBe(false);
  expect(r.status, `${file} failed: ${r.stderr}`).toBe(0);
}

const read = (name: string) => readFileSync(path.join(OUT, name), 'utf8');

const SHELL = `printf '%s' \${{ params.v }} > "$OUT/word"
printf '%s' "value: \${{ params.v }}" > "$OUT/double"
printf '%s' 'value: \${{ params.v }}' > "$OUT/single"
cat > "$OUT/heredoc" <<EOF
\${{ params.v }}
EOF
# a comment: \${{ params.v }}
x=$(printf '%s' \${{ params.v }}; echo .)
printf '%s' "\${x%.}" > "$OUT/command"
[[ -n \${{ params.v }} || -z "\${{ params.v }}" ]] && printf '%s' ok > "$OUT/test"
`;

function checkShell(shell: 'bash' | 'sh', value: string): void {
  const code = render(shell, shell === 'sh' ? SHELL.replace(/^\[\[.*$/m, 'printf ok > "$OUT/test"') : SHELL, value);
  if (code === undefined) return;
  runProgram(shell, ['-e', '-c', code], value);
  expect(read('word')).toBe(value);
  expect(read('double')).toBe(`value: ${value}`);
  expect(read('single')).toBe(`value: ${value}`);
  expect(read('heredoc')).toBe(`${value}\n`);
  expect(read('command')).toBe(value);
  expect(read('test')).toBe('ok');
}

const PYTHON = `import os
def out(name, text, mode="w"):
    with open(os.path.join(os.environ["OUT"], name), mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
        f.write(text)
out("code", \${{ params.v }})
out("double", "value: \${{ params.v }}")
out("single", 'value: \${{ params.v }}')
out("triple", """value: \${{ params.v }}""")
out("fstring", f"{'value'}: \${{ params.v }}")
out("bytes", b"value: \${{ params.v }}", "wb")
# a comment: \${{ params.v }}
`;

const JS = `const fs = require('fs'), path = require('path');
const out = (name, text) => fs.writeFileSync(path.join(process.env.OUT, name), text);
out('code', \${{ params.v }});
out('double', "value: \${{ params.v }}");
out('single', 'value: \${{ params.v }}');
out('template', \`\${'value'}: \${{ params.v }}\`);
out('regex', String(/^\${{ params.v }}$/.test(process.env.EXEC_DOC_PARAM_v)));
// a comment: \${{ params.v }}
/* a comment: \${{ params.v }} */
`;

function checkScript(lang: 'python' | 'js' | 'ts', value: string): void {
  const code = render(
    lang,
    lang === 'python' ? PYTHON : lang === 'ts' ? JS.replace(/require\('(\w+)'\)/g, "(await import('node:$1'))") : JS,
    value,
  );
  if (code === undefined) return;
  if (lang === 'python') runProgram('python3', ['-c', code], value);
  else if (lang === 'js') runProgram(process.execPath, ['-e', code], value);
  else
    runProgram(
      process.execPath,
      [createRequire(import.meta.url).resolve('tsx/cli'), '-e', `(async () => {${code}})()`],
      value,
    );
  if (lang === 'python') {
    expect(read('code')).toBe(value);
    for (const name of ['double', 'single', 'triple', 'fstring', 'bytes']) expect(read(name)).toBe(`value: ${value}`);
  } else {
    expect(read('code')).toBe(value);
    for (const name of ['double', 'single', 'template']) expect(read(name)).toBe(`value: ${value}`);
    // Every character escaped as \uXXXX is matched as itself in a regular expression too.
    expect(read('regex')).toBe('true');
  }
}

describe('parameter values are data', () => {
  it.each(['bash', 'sh'] as const)(
    'in %s: every quoting context, here-documents, command substitution, [[ ]]',
    (shell) => {
      fc.assert(
        fc.property(values, (value) => checkShell(shell, value)),
        { numRuns: 100 },
      );
    },
  );

  it('in Python: code, every string form, f-string text, bytes, comments', () => {
    fc.assert(
      fc.property(values, (value) => checkScript('python', value)),
      { numRuns: 60 },
    );
  });

  it('in JavaScript: code, strings, templates, regular expressions, comments', () => {
    fc.assert(
      fc.property(values, (value) => checkScript('js', value)),
      { numRuns: 50 },
    );
  });

  it('in TypeScript (tsx), the same rules', () => {
    fc.assert(
      fc.property(values, (value) => checkScript('ts', value)),
      { numRuns: 6 },
    );
  }, 120_000);

  it('in checks blocks: a value fills its scalar and adds no key', () => {
    fc.assert(
      fc.property(values, (value) => {
        const code = render(
          'checks',
          'checks:\n  http.health: { url: "http://127.0.0.1:${{ params.v }}/x", timeout: 5s }\n  app: { type: http.health, url: ${{ params.v }} }\n',
          value,
        );
        if (code === undefined) return;
        const { block, problems } = parseChecksBlock(code, { EXEC_DOC_PARAM_v: value });
        // The value may not be a URL the check accepts; whatever it is, it is the value, whole.
        const entries = block?.entries ?? [];
        if (block) {
          expect(entries.map((e) => e.name)).toEqual(['http.health', 'app']);
          expect(entries[0]!.raw).toEqual({ url: `http://127.0.0.1:${value}/x`, timeout: '5s' });
        } else expect(problems.length).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('parameter values are data in SQL', () => {
  const server = useEmbeddedServer('values');

  it('as a literal, inside strings and E-strings, a quoted identifier, a setting, a comment', async () => {
    const { url, query } = await server.database();
    const sql = `select \${{ params.v }}::text as code,
  'value: \${{ params.v }}' as string,
  E'value: \${{ params.v }}' as escape,
  current_setting('exec_doc.v') as setting,
  1 as "\${{ params.v }}" -- \${{ params.v }}
/* \${{ params.v }} /* nested */ */`;
    await fc.assert(
      fc.asyncProperty(values, async (value) => {
        const code = render('sql', sql, value);
        if (code === undefined) return;
        const session = new SqlSession(url);
        const r = await session.run(`${code};\nselect count(*) from pg_class where relname = 'marker'`, {
          timeoutMs: 10_000,
          settings: sqlSettings({ v: value }),
        });
        // An identifier cannot be empty or longer than 63 bytes: PostgreSQL refuses it, which is no way out.
        if (!r.ok) {
          expect(r.error).toMatch(/zero-length delimited identifier|invalid byte sequence|null character/);
          return;
        }
        const rows = await query(`select relname from pg_class where relname = 'marker'`);
        expect(rows.rowCount, `a value ran SQL: ${JSON.stringify(value)}`).toBe(0);
      }),
      { numRuns: 80 },
    );
  });

  it('round-trips byte for byte through every context', async () => {
    const { url } = await server.database();
    const pgClient = (await import('pg')).default;
    await fc.assert(
      fc.asyncProperty(values, async (value) => {
        const code = render(
          'sql',
          `create temp table t as select \${{ params.v }}::text as code, 'value: \${{ params.v }}'::text as string, E'value: \${{ params.v }}'::text as escape, current_setting('exec_doc.v') as setting`,
          value,
        );
        if (code === undefined) return;
        const client = new pgClient.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(
            `select set_config('exec_doc.v', $1, false), set_config('standard_conforming_strings', 'on', false)`,
            [value],
          );
          await client.query(code);
          const row = (await client.query('select * from t')).rows[0];
          expect(row).toEqual({ code: value, string: `value: ${value}`, escape: `value: ${value}`, setting: value });
        } finally {
          await client.end();
        }
      }),
      { numRuns: 120 },
    );
  });
});

describe('contexts no quoting can hold', () => {
  const refuse = (lang: StepLanguage, code: string, value: string) =>
    renderPlaceholders(lang, code, [param], { v: value }).problems;
  it('bash arithmetic, quoted here-documents, PL/pgSQL bodies and raw strings take plain values only', () => {
    expect(refuse('bash', 'echo $(( ${{ params.v }} + 1 ))', `a[$(touch ${MARKER})]`)[0]).toMatch(/shell arithmetic/);
    expect(refuse('bash', '[[ ${{ params.v }} -eq 1 ]]', 'a[1]')[0]).toMatch(/shell arithmetic/);
    expect(refuse('bash', "cat <<'EOF'\n${{ params.v }}\nEOF", 'x\nEOF\ntouch m')[0]).toMatch(/quoted here-document/);
    expect(refuse('sql', 'do $$ begin perform ${{ params.v }}; end $$', '1; drop table x')[0]).toMatch(
      /dollar-quoted body/,
    );
    expect(refuse('python', 'print(r"${{ params.v }}")', '" + __import__("os").name + "')[0]).toMatch(/raw string/);
    expect(refuse('python', 'print(f"{${{ params.v }}}")', 'x')).toEqual([]);
    // A plain value, an integer, an identifier or an enum value goes anywhere.
    expect(refuse('bash', 'echo $(( ${{ params.v }} + 1 ))', '41')).toEqual([]);
    const n: Param = { name: 'n', type: 'integer', required: true, secret: false };
    expect(renderPlaceholders('bash', 'echo $(( 1 -${{ params.n }} ))', [n], { n: '-007' }).code).toBe(
      'echo $(( 1 -(-7) ))',
    );
    const id: Param = { name: 't', type: 'identifier', required: true, secret: false };
    expect(renderPlaceholders('sql', 'create table ${{ params.t }}_old (x int)', [id], { t: 'orders' }).code).toBe(
      'create table orders_old (x int)',
    );
  });

  it('identifiers follow PostgreSQL: letters, digits, _ and $, at most 63 bytes, no reserved word', () => {
    const id: Param = { name: 't', type: 'identifier', required: true, secret: false };
    expect(validateParamValue(id, 'orders_2024')).toBeUndefined();
    expect(validateParamValue(id, 'orders; drop table x')).toMatch(/PostgreSQL name/);
    expect(validateParamValue(id, 'select')).toMatch(/reserved word/);
    expect(validateParamValue(id, 'a'.repeat(64))).toMatch(/63 bytes/);
    expect(validateParamValue(id, '1abc')).toMatch(/PostgreSQL name/);
  });
});
