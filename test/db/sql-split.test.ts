import { describe, expect, it } from 'vitest';
import { splitSql } from '../../src/db/sql-split.js';

describe('splitSql', () => {
  it('splits on semicolons outside quotes, dollar quotes and comments', () => {
    const sql = [
      "create table t (a text default 'x;y');",
      '-- a comment; with a semicolon',
      'create function f() returns int as $body$ begin return 1; end $body$ language plpgsql;',
      "select E'it\\'s; fine', \"odd;name\" from t /* block; /* nested; */ still */;",
      'create index concurrently i on t (a)',
    ].join('\n');
    expect(splitSql(sql).map((s) => s.text.split('\n').pop())).toEqual([
      "create table t (a text default 'x;y')",
      'create function f() returns int as $body$ begin return 1; end $body$ language plpgsql',
      "select E'it\\'s; fine', \"odd;name\" from t /* block; /* nested; */ still */",
      'create index concurrently i on t (a)',
    ]);
    expect(splitSql(sql)[0]!.offset).toBe(0);
  });

  it('drops empty and comment-only statements and keeps offsets', () => {
    expect(splitSql(';; -- nothing\n;  select 1 ;')).toEqual([{ text: 'select 1', offset: 17 }]);
  });
});
