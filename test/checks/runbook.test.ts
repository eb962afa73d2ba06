// `checks` blocks inside runbooks: run by the runner against the run's own PostgreSQL, their
// results in the event stream and the result record; post-rollback proves the rollback.
import path from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extract, freePort, runDoc, writeDoc } from '../helpers.js';
import { extractFromSource } from '../../src/documents/load.js';
import { runSection } from '../../src/runner/run.js';
import { ExecDocError } from '../../src/errors/exec-doc-error.js';

const procedure = (rollbackSql: string) => `# Guide

## Upgrade

\`\`\`checks {id=safe-to-start phase=pre}
checks:
  postgres.reachable: { minMajor: 15 }
  postgres.blocking-locks:
  snapshot.baseline:
\`\`\`

\`\`\`sql {id=add-table rollback=drop-table}
create table items (id int primary key, note text);
insert into items values (1, 'a'), (2, 'b');
\`\`\`

\`\`\`sql {id=fill rollback=none}
update items set note = upper(note);
\`\`\`

\`\`\`checks {id=it-worked phase=post}
checks:
  postgres.integrity:
\`\`\`

\`\`\`sql {id=drop-table kind=rollback}
${rollbackSql}
\`\`\`

\`\`\`checks {id=back-as-before phase=rollback}
phase: post-rollback
\`\`\`
`;

describe('checks blocks in a run', () => {
  it('run in-process against the run database; results are events and part of the record', async () => {
    const run = await runDoc(procedure('drop table items;'), 'upgrade');
    expect(run.exitCode).toBe(0);
    const results = run.events.filter((e) => e.type === 'check.result');
    expect(
      results.map((e) => (e.type === 'check.result' ? `${e.stepId}:${e.result.name}:${e.result.status}` : '')).sort(),
    ).toEqual([
      'it-worked:postgres.integrity:pass',
      'safe-to-start:postgres.blocking-locks:pass',
      'safe-to-start:postgres.reachable:pass',
      'safe-to-start:snapshot.baseline:pass',
    ]);
    const step = run.record.steps.find((s) => s.stepId === 'safe-to-start')!;
    expect(step).toMatchObject({ lang: 'checks', kind: 'check', status: 'passed' });
    expect(step.checks!.map((c) => c.name)).toEqual([
      'postgres.reachable',
      'postgres.blocking-locks',
      'snapshot.baseline',
    ]);
    expect(step.outputExcerpt).toMatch(/3 checks: 3 pass, 0 warn, 0 fail, 0 error/);
    expect(existsSync(path.join(run.runDir, 'baseline.snapshot.json'))).toBe(true);
  }, 60_000);

  it('after a rollback, post-rollback compares with the baseline taken at the start', async () => {
    const run = await runDoc(procedure('drop table items;'), 'upgrade', {
      env: { ...process.env, EXEC_DOC_FAIL_BEFORE: 'it-worked' },
    });
    expect(run.exitCode).toBe(1);
    const verify = run.record.steps.filter((s) => s.phase === 'verify');
    expect(verify.map((s) => `${s.stepId}:${s.status}`)).toEqual(['safe-to-start:passed', 'back-as-before:passed']);
    // The baseline is the one from the start, not one taken after the rollback.
    expect(verify[0]!.checks!.find((c) => c.name === 'snapshot.baseline')!.value).toBe('0 tables (kept)');
    const identical = verify[1]!.checks!.find((c) => c.name === 'snapshot.identical')!;
    expect(identical).toMatchObject({ status: 'pass', value: '0 differences' });
  }, 60_000);

  it('a rollback that leaves something behind is caught: the run is rollback-incomplete (exit 2)', async () => {
    const run = await runDoc(procedure('alter table items rename to items_old;'), 'upgrade', {
      env: { ...process.env, EXEC_DOC_FAIL_BEFORE: 'it-worked' },
    });
    expect(run.exitCode).toBe(2);
    expect(run.status).toBe('rollback-incomplete');
    const back = run.record.steps.find((s) => s.stepId === 'back-as-before')!;
    expect(back.status).toBe('failed');
    expect(back.reason).toMatch(/^1 of 5 checks did not pass: snapshot\.identical fail \(.*public\.items_old/);
  }, 60_000);

  it('a failing pre check stops the run before any step', async () => {
    const source = `# G\n\n## P\n\n\`\`\`checks {id=gate phase=pre}\nchecks:\n  http.health: { url: "http://127.0.0.1:${await freePort()}/healthz" }\n\`\`\`\n\n\`\`\`bash {id=change rollback=none}\necho changed > changed.txt\n\`\`\`\n`;
    const run = await runDoc(source, 'p');
    expect(run.exitCode).toBe(1);
    expect(run.record.failedStep).toBe('gate');
    expect(run.record.failureReason).toMatch(
      /^1 of 1 checks did not pass: http\.health fail \(GET http:\/\/127\.0\.0\.1:\d+\/healthz: ECONNREFUSED/,
    );
    expect(existsSync(path.join(run.dir, 'changed.txt'))).toBe(false);
    // Only HTTP: no database was started for it.
    expect(run.record.environment.postgres).toBeNull();
  }, 30_000);

  it('reports a bad checks block with document positions, and a bad configuration before anything runs', async () => {
    const doc = await extract(
      '# G\n\n## P\n\n```checks {id=gate kind=step}\nphase: during\nchecks:\n  http.helth: {}\n```\n',
    );
    expect(doc.diagnostics.map((d) => `${d.line}:${d.column} ${d.ruleId} ${d.message}`)).toEqual([
      '5:11 checks-kind Unexpected kind=step on the checks block `gate`, expected kind=check (a checks block only looks; leave kind out or write kind=check)',
      '6:8 checks-block Unexpected value for `phase` in the checks block: expected one of "pre-upgrade"|"post-upgrade"|"post-rollback"',
      expect.stringMatching(/^8:3 checks-block Unexpected check type `http\.helth`.*did you mean `http\.health`/),
    ]);

    const source = '# G\n\n## P\n\n```checks {id=gate}\nphase: pre-upgrade\n```\n';
    const { file, dir } = writeDoc(source);
    writeFileSync(path.join(dir, 'exec-doc.checks.yaml'), 'checks:\n  postgres.connections: { warnPercent: -1 }\n');
    const parsed = await extractFromSource(file, source, { docsRoot: dir, displayRoot: dir });
    const stateDir = path.join(dir, '.exec-doc');
    const error = await runSection({ section: parsed.sections[0]!, documentPath: file, docsRoot: dir, stateDir }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExecDocError);
    expect((error as ExecDocError).details).toEqual([
      `${path.join(dir, 'exec-doc.checks.yaml')}:2:40: error: Unexpected value for \`warnPercent\` in \`postgres.connections\`: Too small: expected number to be >=0 [checks-config]`,
    ]);
    expect(existsSync(path.join(stateDir, 'runs'))).toBe(false);
  });
});
