// The rollback proof proves something: the baseline is the state the procedure starts from (after
// its setup made the schema and the data), and a rollback that leaves one row changed is caught,
// naming the table; the setup is undone only after the comparison.
import { describe, expect, it } from 'vitest';
import { runDoc } from '../helpers.js';
import type { RunEvent } from '../../src/events/types.js';

const doc = (undo: string) => `# G

## Change {#change}

\`\`\`sql {id=make kind=setup rollback=unmake}
create table accounts (id int primary key, balance int not null);
insert into accounts select g, 100 from generate_series(1, 50) g;
\`\`\`

\`\`\`sql {id=raise rollback=lower}
update accounts set balance = balance + 10;
\`\`\`

\`\`\`sql {id=boom rollback=none}
select 1 / 0;
\`\`\`

\`\`\`sql {id=lower kind=rollback}
${undo}
\`\`\`

\`\`\`checks {id=same phase=rollback}
checks:
  snapshot.identical: {}
\`\`\`

\`\`\`sql {id=unmake kind=rollback}
drop table accounts;
\`\`\`
`;

const checkOf = (events: RunEvent[]) =>
  events.find((e) => e.type === 'check.result' && e.stepId === 'same') as
    Extract<RunEvent, { type: 'check.result' }> | undefined;

describe('the rollback is compared with the state after setup', () => {
  it('a complete rollback: identical, then the setup is undone (exit 1)', async () => {
    const run = await runDoc(doc('update accounts set balance = balance - 10;'), 'change');
    expect(run.exitCode).toBe(1);
    expect(checkOf(run.events)?.result.status).toBe('pass');
    // 50 rows were compared, not two empty databases.
    expect(checkOf(run.events)?.result.detail).toMatch(/1 table|accounts|50/);
    const order = run.events.filter((e) => e.type === 'step.start').map((e) => (e as { stepId: string }).stepId);
    expect(order).toEqual(['make', 'raise', 'boom', 'lower', 'same', 'unmake']);
  });

  it('a rollback that leaves one row changed fails the comparison, naming the table (exit 2)', async () => {
    const run = await runDoc(doc('update accounts set balance = balance - 10 where id <> 7;'), 'change');
    expect(run.exitCode).toBe(2);
    const result = checkOf(run.events)!.result;
    expect(result.status).toBe('fail');
    expect(result.detail).toContain('accounts');
  });
});
