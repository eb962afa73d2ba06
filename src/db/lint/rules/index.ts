// The registry of SQL lint rules, in the order the rules page lists them. A rule is a module of
// its own with its id, why it matters, the safe pattern, and examples that are its tests.
import type { LintRule } from '../types.js';
import { indexNotConcurrent } from './index-not-concurrent.js';
import { dropIndexNotConcurrent } from './drop-index-not-concurrent.js';
import { concurrentlyInTransaction } from './concurrently-in-transaction.js';
import { volatileDefault } from './volatile-default.js';
import { setNotNull } from './set-not-null.js';
import { notNullWithoutDefault } from './not-null-without-default.js';
import { constraintNotValid } from './constraint-not-valid.js';
import { uniqueConstraintIndex } from './unique-constraint-index.js';
import { columnTypeChange } from './column-type-change.js';
import { domainConstraint } from './domain-constraint.js';
import { transactionNesting, uncommittedTransaction } from './transaction-nesting.js';
import { truncateCascade } from './truncate-cascade.js';
import { dropDatabase } from './drop-database.js';
import { dropColumn } from './drop-column.js';
import { dropTable } from './drop-table.js';
import { destructiveDown } from './destructive-down.js';
import { dropNotNull } from './drop-not-null.js';
import { rename } from './rename.js';
import { missingTimeouts } from './missing-timeouts.js';
import { preferRobustStmts } from './prefer-robust-stmts.js';
import { charField, preferBigint, preferIdentity, preferTextField, preferTimestamptz } from './new-column-types.js';

/** Not a rule of its own: a file PostgreSQL's parser rejects. */
export const syntax: LintRule = {
  id: 'syntax',
  severity: 'error',
  summary: 'the SQL does not parse',
  why: "The linter reads SQL with PostgreSQL's own parser; what it cannot parse, PostgreSQL will not run.",
  safe: "Fix the statement; the linter uses PostgreSQL's own parser.",
  examples: [{ bad: 'select 1;\nselect from where;', at: [2, 13], good: 'select 1;' }],
};

export const RULES: readonly LintRule[] = [
  syntax,
  indexNotConcurrent,
  dropIndexNotConcurrent,
  concurrentlyInTransaction,
  volatileDefault,
  setNotNull,
  notNullWithoutDefault,
  constraintNotValid,
  uniqueConstraintIndex,
  columnTypeChange,
  domainConstraint,
  transactionNesting,
  uncommittedTransaction,
  truncateCascade,
  dropDatabase,
  dropColumn,
  dropTable,
  destructiveDown,
  dropNotNull,
  rename,
  missingTimeouts,
  preferRobustStmts,
  preferBigint,
  preferIdentity,
  preferTextField,
  preferTimestamptz,
  charField,
];
