// The attacks of issue 9, through the real command line: a parameter value given with --set or
// EXEC_DOC_PARAM_<name> never runs a command, in shell or SQL, and arrives as written.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, writeDoc } from '../helpers.js';

const DOC = `---
exec-doc:
  params:
    svc: { type: string, default: billing }
    table: { type: identifier, default: orders }
---
# Guide

## Shell {#shell}

\`\`\`bash {id=greet rollback=none}
echo "service: \${{ params.svc }}" > "$EXEC_DOC_RUN_DIR/../../../said"
printf '%s' \${{ params.svc }} >> "$EXEC_DOC_RUN_DIR/../../../said"
\`\`\`

## SQL {#sql}

\`\`\`sql {id=make rollback=unmake}
create table \${{ params.table }} (note text);
insert into \${{ params.table }} values ('\${{ params.svc }}'), (\${{ params.svc }});
\`\`\`

\`\`\`sql {id=verify kind=check}
select count(*) as n from \${{ params.table }} where note = current_setting('exec_doc.svc');
\`\`\`

\`\`\`output
 n
---
 2
(1 row)
\`\`\`

\`\`\`sql {id=unmake kind=rollback}
drop table \${{ params.table }};
\`\`\`
`;

describe('parameter values cannot run commands', () => {
  const attacks = [
    '$(touch marker)',
    '`touch marker`',
    '"; touch marker; echo "',
    "'; touch marker; echo '",
    ';touch marker',
    'x\ntouch marker',
  ];

  it.each(attacks)('shell via --set and EXEC_DOC_PARAM_: %j', async (value) => {
    const { dir } = writeDoc(DOC, 'guide.md');
    const viaSet = await cli(['run', 'guide/shell', '--docs', '.', '--set', `svc=${value}`], { cwd: dir });
    expect(viaSet.exitCode, viaSet.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'marker'))).toBe(false);
    expect(readFileSync(path.join(dir, 'said'), 'utf8')).toBe(`service: ${value}\n${value}`);
    const viaEnv = await cli(['run', 'guide/shell', '--docs', '.'], { cwd: dir, env: { EXEC_DOC_PARAM_svc: value } });
    expect(viaEnv.exitCode, viaEnv.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'marker'))).toBe(false);
  });

  it('SQL: a value is a literal, an identifier must be a name, nothing else runs', async () => {
    const { dir } = writeDoc(DOC, 'guide.md');
    const value = "x'); create table marker (); select ('";
    const ok = await cli(['run', 'guide/sql', '--docs', '.', '--set', `svc=${value}`, '--json'], { cwd: dir });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).not.toContain('CREATE TABLE\\nCREATE TABLE');
    const bad = await cli(['run', 'guide/sql', '--docs', '.', '--set', 'table=orders; drop table x'], { cwd: dir });
    expect(bad.exitCode).toBe(64);
    expect(bad.stderr).toContain('parameter `table` must be a PostgreSQL name');
  });

  it('validate warns where a value could not be made safe, and a run refuses such a value before anything runs', async () => {
    const { dir } = writeDoc(
      '---\nexec-doc:\n  params:\n    n: { type: string, default: "1" }\n---\n# G\n\n## A\n\n```bash {id=first rollback=none}\ntouch first-ran\n```\n\n```bash {id=count rollback=none}\necho $(( ${{ params.n }} + 1 ))\n```\n',
      'guide.md',
    );
    const validate = await cli(['validate', 'guide.md'], { cwd: dir });
    expect(validate.stdout + validate.stderr).toContain(
      'guide.md:15:10: warning: Unexpected string parameter `n` in shell arithmetic',
    );
    const run = await cli(['run', 'guide/a', '--docs', '.', '--set', 'n=a[$(touch marker)]'], { cwd: dir });
    expect(run.exitCode).toBe(64);
    expect(run.stderr).toContain('count: parameter `n` stands in shell arithmetic');
    expect(existsSync(path.join(dir, 'first-ran'))).toBe(false);
    expect(existsSync(path.join(dir, 'marker'))).toBe(false);
    const plain = await cli(['run', 'guide/a', '--docs', '.', '--set', 'n=41'], { cwd: dir });
    expect(plain.exitCode, plain.stderr).toBe(0);
  });

  it('control characters arrive as written', async () => {
    const { dir } = writeDoc(DOC, 'guide.md');
    const r = await cli(['run', 'guide/shell', '--docs', '.'], { cwd: dir, env: { EXEC_DOC_PARAM_svc: 'a\u0001b' } });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(path.join(dir, 'said'), 'utf8')).toBe('service: a\u0001b\na\u0001b');
  });
});
