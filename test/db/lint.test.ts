// Every lint rule, with a statement it must flag (and where) and the safe pattern it must accept.
import { describe, expect, it } from 'vitest';
import { lintSql, LINT_RULES } from '../../src/db/lint.js';

const T = "SET lock_timeout = '2s';\n";
const CASES: Array<{ rule: string; bad: string; at: [number, number]; good: string }> = [
  { rule: 'index-not-concurrent', bad: `${T}create index orders_total on orders (total);`, at: [2, 1], good: `${T}create index concurrently orders_total on orders (total);` },
  { rule: 'drop-index-not-concurrent', bad: `${T}drop index orders_total;`, at: [2, 1], good: `${T}drop index concurrently orders_total;` },
  { rule: 'concurrently-in-transaction', bad: `${T}begin;\ncreate index concurrently i on orders (total);\ncommit;`, at: [3, 1], good: `${T}create index concurrently i on orders (total);` },
  { rule: 'volatile-default', bad: `${T}alter table orders add column token uuid default gen_random_uuid();`, at: [2, 31], good: `${T}alter table orders add column created timestamptz default now();` },
  { rule: 'set-not-null', bad: `${T}alter table orders alter column total set not null;`, at: [2, 1], good: `${T}alter table orders add constraint total_nn check (total is not null) not valid;` },
  { rule: 'not-null-without-default', bad: `${T}alter table orders add column status text not null;`, at: [2, 31], good: `${T}alter table orders add column status text not null default 'new';` },
  { rule: 'constraint-not-valid', bad: `${T}alter table orders add constraint fk foreign key (customer) references customers (id);`, at: [2, 24], good: `${T}alter table orders add constraint fk foreign key (customer) references customers (id) not valid;` },
  { rule: 'unique-constraint-index', bad: `${T}alter table orders add constraint u unique (code);`, at: [2, 24], good: `${T}alter table orders add constraint u unique using index orders_code;` },
  { rule: 'column-type-change', bad: `${T}alter table orders alter column total type bigint;`, at: [2, 1], good: `${T}alter table orders add column total_big bigint;` },
  { rule: 'drop-column', bad: `${T}alter table orders drop column legacy;`, at: [2, 1], good: `${T}alter table orders drop column legacy; -- lint-ignore: drop-column` },
  { rule: 'drop-table', bad: `${T}drop table old_orders;`, at: [2, 1], good: `${T}-- lint-ignore: drop-table\ndrop table old_orders;` },
  { rule: 'rename', bad: `${T}alter table orders rename column total to amount;`, at: [2, 1], good: `${T}create view orders_v as select total as amount from orders;` },
  { rule: 'missing-timeouts', bad: 'create index concurrently i on orders (total);', at: [1, 1], good: `${T}create index concurrently i on orders (total);` },
];

describe('lint rules', () => {
  it('has a test case for every rule but syntax', () => {
    expect(CASES.map((c) => c.rule).sort()).toEqual(Object.keys(LINT_RULES).filter((r) => r !== 'syntax').sort());
  });

  it.each(CASES)('$rule: flags the dangerous form with a position and a hint', async ({ rule, bad, at }) => {
    const findings = await lintSql(bad, 'm.sql');
    const finding = findings.find((f) => f.ruleId === rule);
    expect(finding, JSON.stringify(findings)).toBeDefined();
    expect([finding!.line, finding!.column]).toEqual(at);
    expect(finding!.severity).toBe(LINT_RULES[rule]!.severity);
    expect(finding!.message).toMatch(/^Unexpected /);
    expect(finding!.hint.length).toBeGreaterThan(20);
  });

  it.each(CASES)('$rule: accepts the safe pattern', async ({ rule, good }) => {
    expect((await lintSql(good, 'm.sql')).filter((f) => f.ruleId === rule)).toEqual([]);
  });

  it('allows a plain index on a table created in the same migration, and serial types are flagged as volatile', async () => {
    expect(await lintSql(`${T}create table fresh (id int);\ncreate index fresh_id on fresh (id);`, 'm.sql')).toEqual([]);
    expect((await lintSql(`${T}alter table orders add column n bigserial;`, 'm.sql')).map((f) => f.ruleId)).toEqual(['volatile-default']);
  });

  it('reports a syntax error where PostgreSQL sees it', async () => {
    expect(await lintSql('select 1;\nselect from where;', 'm.sql')).toEqual([{ ruleId: 'syntax', severity: 'error', file: 'm.sql', line: 2, column: 13, message: 'Unexpected SQL: syntax error at or near "where"', hint: "Fix the statement; the linter uses PostgreSQL's own parser." }]);
  });
});
