// The shapes shared by the SQL linter and its rules.
import type { Diagnostic, Severity } from '../../model/diagnostic.js';

export type Node = Record<string, unknown>;

/** A linter finding is a diagnostic whose fix is always given: the safe pattern. */
export type LintFinding = Diagnostic & { fix: string };

/** One statement of a file, as PostgreSQL's parser sees it. */
export interface Statement {
  /** The node type: `AlterTableStmt`, `IndexStmt`, … */
  type: string;
  body: Node;
  /** Offset of its first character (comments and blanks skipped). */
  offset: number;
  index: number;
}

/** What is known about the file around the statement being checked. */
export interface FileFacts {
  readonly statements: readonly Statement[];
  /** Tables created by an earlier statement of the file (new, empty: locks cost nothing). */
  readonly createdBefore: ReadonlySet<string>;
  /** Tables dropped by a later statement of the file. */
  readonly droppedAfter: ReadonlySet<string>;
  /** Inside an explicit BEGIN … COMMIT of the file. */
  readonly inExplicitTransaction: boolean;
  /** `db up` runs the file outside a transaction (CONCURRENTLY, VACUUM, or the marker). */
  readonly outsideTransaction: boolean;
  /** A column's type, where earlier migrations (or this file) say what it is. */
  columnType(table: string, column: string): ColumnType | undefined;
}

/** A column type as the parser gives it: `varchar` with [20]. */
export interface ColumnType {
  name: string;
  mods: number[];
}

/** Tables and their columns' types, built up while the migrations of a set are linted in order. */
export type SchemaModel = Map<string, Map<string, ColumnType>>;

export interface RuleContext {
  readonly sql: string;
  readonly facts: FileFacts;
  /** Reports at an offset of the file (a node's `location`, or the statement's start). */
  report(offset: number, message: string, fix?: string): void;
  /** The offset of a node, or of the statement when the node has none. */
  at(node: unknown): number;
}

export interface LintRule {
  id: string;
  severity: Severity;
  /** One line: what the rule catches. */
  summary: string;
  /** Why it matters (a paragraph for the rules page). */
  why: string;
  /** The safe pattern, also the default fix of a finding. */
  safe: string;
  /** Loses data on purpose in a rollback script: not checked there. */
  destructive?: boolean;
  /** Checked only in rollback scripts (down migrations). */
  rollbackOnly?: boolean;
  /** The documented examples, which are the rule's tests: `bad` is flagged at `at`, `good` is not. */
  examples: Array<{ bad: string; at: [number, number]; good: string }>;
  /** Called for every statement. */
  statement?(stmt: Statement, ctx: RuleContext): void;
  /** Called once after the last statement. */
  end?(ctx: RuleContext): void;
}
