// Every lint rule, with a statement it must flag (and where) and the safe pattern it must accept.
import { describe, expect, it } from 'vitest';
import { parse } from 'libpg-query';
import { lintMigrations, lintSql, LINT_RULES, RULES, runsOutsideTransaction } from '../../src/db/lint/index.js';

// The documented examples of each rule are its tests (as in remark-lint): `bad` is reported at
// `at` with a message and a safe pattern, `good` is not reported by that rule.
const EXAMPLES = RULES.flatMap((rule) =>
  rule.examples.map((example, i) => ({ rule: rule.id, n: i + 1, rollback: rule.rollbackOnly === true, ...example })),
);

describe('lint rules', () => {
  it('every rule documents why, the safe pattern, and at least one example', () => {
    for (const rule of RULES) {
      expect(rule.why.length, rule.id).toBeGreaterThan(40);
      expect(rule.safe.length, rule.id).toBeGreaterThan(10);
      expect(rule.examples.length, rule.id).toBeGreaterThan(0);
    }
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    expect(Object.keys(LINT_RULES)).toEqual(RULES.map((r) => r.id));
  });

  it.each(EXAMPLES)(
    '$rule (example $n): flags the dangerous form with a position and a hint',
    async ({ rule, bad, at, rollback }) => {
      // A rule about down migrations is checked in a down migration.
      const findings = await lintSql(bad, rollback ? 'm.down.sql' : 'm.sql', { rollback });
      const finding = findings.find((f) => f.ruleId === rule);
      expect(finding, JSON.stringify(findings)).toBeDefined();
      expect([finding!.line, finding!.column]).toEqual(at);
      expect(finding!.severity).toBe(LINT_RULES[rule]!.severity);
      expect(finding!.message).toMatch(/^Unexpected /);
      expect(finding!.fix.length).toBeGreaterThan(10);
    },
  );

  it.each(EXAMPLES)('$rule (example $n): accepts the safe pattern', async ({ rule, good, rollback }) => {
    expect((await lintSql(good, 'm.sql', { rollback })).filter((f) => f.ruleId === rule)).toEqual([]);
  });

  it('destructive-down: warns in down migrations about every way they lose rows, and nowhere else', async () => {
    const down = `drop table orders;\nalter table customers drop column email;\ntruncate audit;\ndelete from notes;\ndelete from notes where id > 3;\ndrop index orders_idx;`;
    const found = (await lintSql(down, 'm.down.sql', { rollback: true })).filter(
      (f) => f.ruleId === 'destructive-down',
    );
    expect(found.map((f) => [f.line, f.severity])).toEqual([
      [1, 'warning'],
      [2, 'warning'],
      [3, 'warning'],
      [4, 'warning'],
    ]);
    expect(found[0]!.message).toContain('DROP TABLE orders in a down migration');
    expect(found[1]!.message).toContain('DROP COLUMN email on customers');
    // In an up migration the other rules speak (drop-table, drop-column), not this one.
    expect((await lintSql(down, 'm.up.sql')).filter((f) => f.ruleId === 'destructive-down')).toEqual([]);
  });

  it('does not flag what cannot hurt: a table made earlier in the file, or dropped later in it; an empty file', async () => {
    const T = "SET lock_timeout = '2s';\n";
    expect(
      await lintSql(
        `${T}create table fresh (id bigint);\ncreate index fresh_id on fresh (id);\nalter table fresh add column n bigint not null;`,
        'm.sql',
      ),
    ).toEqual([]);
    expect(
      (await lintSql(`${T}create index old_id on old_orders (id);\ndrop table old_orders;`, 'm.sql')).map(
        (f) => f.ruleId,
      ),
    ).toEqual(['drop-table']);
    expect(await lintSql('-- nothing to do in this version\n\n', 'm.sql')).toEqual([]);
    expect(await lintSql('', 'm.sql')).toEqual([]);
  });

  it('judges a type change by the type earlier migrations gave the column: free changes pass, rewrites do not', async () => {
    const migrations = (...ups: string[]) =>
      ups.map((up, i) => ({ up: `SET lock_timeout = '2s';\n${up}`, files: { up: `${i + 1}.up.sql` } }));
    const ids = async (...ups: string[]) =>
      (await lintMigrations(migrations(...ups))).filter((f) => f.ruleId === 'column-type-change').map((f) => f.file);
    const create = 'create table notes (body varchar(20), price numeric(10, 2), n int4);';
    expect(await ids(create, 'alter table notes alter column body type text;')).toEqual([]);
    expect(await ids(create, 'alter table notes alter column body type varchar(40);')).toEqual([]);
    expect(await ids(create, 'alter table notes alter column body type varchar(20);')).toEqual([]);
    expect(await ids(create, 'alter table notes alter column price type numeric(12, 2);')).toEqual([]);
    expect(await ids(create, 'alter table notes alter column body type varchar(10);')).toEqual(['2.up.sql']);
    expect(await ids(create, 'alter table notes alter column price type numeric(12, 3);')).toEqual(['2.up.sql']);
    expect(await ids(create, 'alter table notes alter column n type int8;')).toEqual(['2.up.sql']);
    expect(await ids(create, 'alter table notes alter column body type text using upper(body);')).toEqual(['2.up.sql']);
    // Unknown column: reported, with the way to accept a change known to be free.
    const unknown = (await lintMigrations(migrations('alter table other alter column c type text;'))).find(
      (f) => f.ruleId === 'column-type-change',
    );
    expect(unknown?.fix).toContain('lint-ignore: column-type-change');
  });

  it('knows which files run outside a transaction: from the statements, not from words in comments', () => {
    const outside = async (sql: string) =>
      runsOutsideTransaction(
        sql,
        ((await parse(sql)).stmts ?? []).map((s, index) => {
          const [type, body] = Object.entries(s.stmt as object)[0] as [string, Record<string, unknown>];
          return { type, body, offset: 0, index };
        }),
      );
    return Promise.all([
      expect(outside('create index concurrently i on t (c);')).resolves.toBe(true),
      expect(outside('-- built concurrently later\ncreate table t (c int);')).resolves.toBe(false),
      expect(outside("select 'concurrently';")).resolves.toBe(false),
      expect(outside('reindex index concurrently i;')).resolves.toBe(true),
      expect(outside('vacuum t;')).resolves.toBe(true),
      expect(outside('-- exec-doc:no-transaction\nupdate t set c = 1;')).resolves.toBe(true),
      expect(outside('-- morph:nontransactional\nupdate t set c = 1;')).resolves.toBe(true),
    ]);
  });

  it('reports a syntax error where PostgreSQL sees it', async () => {
    expect(await lintSql('select 1;\nselect from where;', 'm.sql')).toEqual([
      {
        ruleId: 'syntax',
        severity: 'error',
        file: 'm.sql',
        line: 2,
        column: 13,
        message: 'Unexpected SQL: syntax error at or near "where"',
        fix: "Fix the statement; the linter uses PostgreSQL's own parser.",
      },
    ]);
  });
});

describe('the rules page', () => {
  it('lists every rule of the registry, with its severity, summary and safe pattern, in order', async () => {
    const { readFileSync } = await import('node:fs');
    const page = readFileSync(
      new URL('../../docs/400_migration-upgrade-guide_database-migrations.mdx', import.meta.url),
      'utf8',
    );
    const rows = page
      .slice(page.indexOf('## Lint rules'))
      .split('\n')
      .filter((l) => l.startsWith('| `'));
    expect(rows).toEqual(
      RULES.map(
        (r) => `| \`${r.id}\` | ${r.severity} | ${r.summary.replace(/\|/g, '\\|')} | ${r.safe.replace(/\|/g, '\\|')} |`,
      ),
    );
  });
});

describe('DO blocks', () => {
  it('checks the statements a DO block runs, at their place in the file, and EXECUTE of a literal', async () => {
    const sql =
      "SET lock_timeout = '2s';\nDO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'i') THEN\n    CREATE INDEX i ON orders (total);\n  END IF;\n  EXECUTE 'ALTER TABLE orders ADD COLUMN status text NOT NULL';\nEND $$;";
    const findings = await lintSql(sql, 'm.sql');
    expect(findings.map((f) => [f.ruleId, f.line, f.column])).toEqual([
      ['index-not-concurrent', 5, 5],
      ['not-null-without-default', 7, 42],
    ]);
  });

  it('a DO block over a table made earlier in the file is not reported; a function body (not run by the migration) is not read', async () => {
    const sql =
      "SET lock_timeout = '2s';\ncreate table fresh (id bigint);\nDO $$ BEGIN CREATE INDEX fresh_id ON fresh (id); END $$;\ncreate function f() returns void language plpgsql as $$ begin create index j on orders (total); end $$;";
    expect(await lintSql(sql, 'm.sql')).toEqual([]);
  });
});

describe('what db up lints', () => {
  it('a table an earlier pending migration of the same run creates is new and empty for the later ones; renames are followed', async () => {
    const migrations = [
      { up: "SET lock_timeout = '2s';\ncreate table tokens (id bigint, code varchar(20));", files: { up: '1.up.sql' } },
      {
        up: "SET lock_timeout = '2s';\ncreate index tokens_code on tokens (code);\nalter table tokens rename column code to secret;\nalter table tokens alter column secret type text;",
        files: { up: '2.up.sql' },
      },
    ];
    expect((await lintMigrations(migrations, { sameRun: true })).map((f) => f.ruleId)).toEqual(['prefer-text-field']);
    // Over the whole history (no run), the table may hold data by the time the second one runs.
    expect((await lintMigrations(migrations)).map((f) => f.ruleId)).toEqual([
      'prefer-text-field',
      'index-not-concurrent',
      'rename',
    ]);
  });
});
