// Rehearsal or the real change: fixtures only on a disposable target, rehearsal-only sections
// refused on a real one, `touches` resolved from parameters, and what `plan` says about it.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/plan.js';
import { planForTarget, resolveTouches, targetUse } from '../../src/plan/rehearsal.js';
import { main } from '../../src/cli/main.js';
import { captureIo, extract, ROOT } from '../helpers.js';

const DOC = `---
exec-doc:
  sections:
    change:
      touches: ["\${{ params.table }}", audit.entries]
      params:
        table: { type: string, default: orders }
    sample-only:
      rehearsalOnly: true
---

# Doc

## Change

\`\`\`sql {id=make-sample kind=setup fixture rollback=drop-sample}
create table orders (id bigint);
\`\`\`

\`\`\`sql {id=snap kind=setup rollback=none}
select 1;
\`\`\`

\`\`\`sql {id=alter rollback=unalter}
alter table \${{ params.table }} add column x bigint;
\`\`\`

\`\`\`sql {id=sample-count kind=check fixture}
select count(*) from orders;
\`\`\`

\`\`\`sql {id=unalter kind=rollback}
select 1;
\`\`\`

\`\`\`sql {id=drop-sample kind=rollback}
drop table orders;
\`\`\`

## Sample only

\`\`\`sql {id=only rollback=none}
select 1;
\`\`\`
`;

const REAL = { DATABASE_URL: 'postgresql://app:pw@db.example:5432/app' };

describe('rehearsal and real targets', async () => {
  const doc = await extract(DOC);
  const [change, sampleOnly] = doc.sections;

  it('reads fixture, rehearsalOnly and touches from the document', () => {
    expect(doc.diagnostics).toEqual([]);
    expect(change!.steps.filter((s) => s.fixture).map((s) => s.id)).toEqual(['make-sample', 'sample-count']);
    expect(change!.touches).toEqual(['${{ params.table }}', 'audit.entries']);
    expect(sampleOnly!.rehearsalOnly).toBe(true);
  });

  it('the embedded default is disposable; a configured server is not unless declared', () => {
    expect(targetUse(change!, true, {}, false)).toMatchObject({ disposable: true });
    expect(targetUse(change!, true, REAL, false)).toEqual({
      disposable: false,
      detail: 'postgresql://app:***@db.example:5432/app from DATABASE_URL (a real server)',
    });
    expect(targetUse(change!, true, REAL, true).disposable).toBe(true);
    expect(targetUse(change!, false, REAL, false).disposable).toBe(true);
  });

  it('leaves fixtures (setup and checks) and the rollbacks only they need out on a real server, with a notice', () => {
    const notices: string[] = [];
    const { plan } = planForTarget(change!, REAL, false, (l) => notices.push(l));
    expect(plan.forward.map((s) => s.id)).toEqual(['snap', 'alter']);
    expect([...plan.rollbackOf.keys()]).toEqual(['snap', 'alter']);
    expect(plan.skippedFixtures.map((s) => s.id)).toEqual(['make-sample', 'sample-count']);
    expect(notices).toEqual([expect.stringContaining('2 fixture block(s) skipped (make-sample, sample-count)')]);
    expect(notices[0]).not.toContain('pw');
    expect(buildPlan(change!).forward.map((s) => s.id)).toEqual(['make-sample', 'snap', 'alter', 'sample-count']);
  });

  it('refuses a rehearsal-only section on a real server, and runs it on a disposable one', () => {
    expect(() => planForTarget(sampleOnly!, REAL, false)).toThrow(
      expect.objectContaining({
        code: 'E_REHEARSAL_ONLY',
        message: expect.stringMatching(/runs only on a disposable target/),
      }),
    );
    expect(planForTarget(sampleOnly!, REAL, true).plan.forward.map((s) => s.id)).toEqual(['only']);
  });

  it('resolves touches from parameter values, and refuses a value that is not a table name', () => {
    expect(resolveTouches(change!, { table: 'invoices' })).toEqual(['invoices', 'audit.entries']);
    expect(() => resolveTouches(change!, { table: 'a b' })).toThrow(/not named right/);
    expect(() => resolveTouches(change!, {})).toThrow(/not named right/);
    expect(resolveTouches(sampleOnly!, {})).toBeUndefined();
  });

  it('refuses fixture on a teardown, and a touches entry that is neither a table nor one parameter, with positions', async () => {
    const bad = await extract(
      '---\nexec-doc:\n  touches: ["orders; drop table x"]\n---\n\n# D\n\n## S\n\n```bash {id=a kind=teardown fixture}\ntrue\n```\n',
    );
    expect(bad.diagnostics.map((d) => [d.line, d.ruleId])).toEqual([
      [3, 'invalid-settings'],
      [10, 'fixture-not-setup'],
    ]);
  });
});

describe('plan on a real target', () => {
  const plan = async (args: string[], env: Record<string, string>) => {
    const io = captureIo({ ...process.env, NO_COLOR: '1', ...env });
    const code = await main(['plan', ...args, '--docs', path.join(ROOT, 'docs')], io);
    return { code, out: io.out(), err: io.err() };
  };

  it('shows the fixtures it would skip, the values and what a rollback is proven over', async () => {
    const r = await plan(['database-migrations/zero-downtime', '--set', 'table=invoices', '--json'], REAL);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(r.out) as { targetUse: unknown; values: Record<string, string> };
    expect(json.targetUse).toEqual({
      disposable: false,
      detail: 'postgresql://app:***@db.example:5432/app from DATABASE_URL (a real server)',
      skippedFixtures: ['zd-schema', 'zd-seed'],
      provenOver: ['invoices'],
    });
    expect(json.values).toMatchObject({ table: 'invoices', column: 'amount_cents', type: 'bigint' });
    const text = await plan(['database-migrations/zero-downtime', '--set', 'table=invoices'], REAL);
    expect(text.out).toContain('not a rehearsal: fixtures skipped (zd-schema, zd-seed)');
    expect(text.out).toContain('a rollback is proven over invoices (the tables it changes)');
    expect(text.out).toContain('  table = invoices  (identifier, default orders)');
    expect(text.out).toContain('  column  (identifier, default amount_cents)');
  });

  it('checks the values given before anything runs: a type outside the list, a table that is not a name', async () => {
    const r = await plan(['database-migrations/zero-downtime', '--set', 'type=text;drop', '--set', 'table=1x'], {});
    expect(r.code).toBe(64);
    expect(r.err).toContain('parameter `table` must be a PostgreSQL name');
    expect(r.err).toContain('parameter `type` must be a PostgreSQL name');
  });

  it('refuses a rehearsal-only section on a real target, and plans it with --disposable', async () => {
    const refused = await plan(['security/rotate-a-database-password'], REAL);
    expect(refused.code).toBe(64);
    expect(refused.err).toContain('is a rehearsal');
    const ok = await plan(['security/rotate-a-database-password', '--disposable'], REAL);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain('declared disposable (--disposable)');
  });
});
