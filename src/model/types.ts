// The one runbook model. The remark plugin produces it, the CLI plans and runs it,
// the site build and the validators read it. Everything here is plain JSON data.

/** A point in a source document (1-based line and column, as in unist). */
export interface Point {
  line: number;
  column: number;
}

/** A span in a source document. */
export interface Position {
  start: Point;
  end: Point;
}

/**
 * `preview`: a read-only block that shows what the procedure would change (a diff, a dry run);
 * `exec-doc plan --preview` runs only these, and a run shows them first.
 */
export type StepKind = 'step' | 'check' | 'rollback' | 'setup' | 'teardown' | 'preview';
export const STEP_KINDS: readonly StepKind[] = ['step', 'check', 'rollback', 'setup', 'teardown', 'preview'];

/** When a check runs: before the steps, after them, or only after a rollback. */
export type CheckPhase = 'pre' | 'post' | 'rollback';
export const CHECK_PHASES: readonly CheckPhase[] = ['pre', 'post', 'rollback'];

/**
 * `checks`: checks of the validation framework (YAML naming a phase and/or checks), run in-process.
 * `program`: any other language, run as a file by its interpreter (Runme's table, or `interpreter=`).
 */
export type StepLanguage = 'sh' | 'bash' | 'sql' | 'js' | 'ts' | 'python' | 'checks' | 'program';
export const STEP_LANGUAGES: readonly StepLanguage[] = ['sh', 'bash', 'sql', 'js', 'ts', 'python', 'checks', 'program'];

/**
 * Runme's `promptEnv`: how a top-level `export NAME=value` of a shell block gets its value.
 * `auto`: the environment's value when set, else asked (in a terminal) or the value as written;
 * `always`: asked in a terminal even when set; `never`: the line runs as written;
 * `skip`: never asked (the environment's value, else the one written).
 */
export type PromptEnvMode = 'auto' | 'always' | 'never' | 'skip';

/** A capability a step needs from the machine; checked before anything runs. */
export type Requirement =
  'postgres' | 'python' | 'node' | 'docker' | 'podman' | 'root' | 'kubernetes' | `cmd:${string}`;

/** What a step's output must look like. */
export interface ExpectedOutput {
  /** `exact`: equal after trimming trailing space, `...` on a line matches anything; `regex`: a JavaScript regular expression searched in stdout. */
  mode: 'exact' | 'regex';
  text: string;
  /** Where the expectation was written (the attribute or the ```output block). */
  position: Position;
}

export interface Step {
  id: string;
  kind: StepKind;
  lang: StepLanguage;
  /** The block's code exactly as written (placeholders not yet substituted). */
  code: string;
  /** Only for checks: when the check runs. */
  phase?: CheckPhase;
  /** Id of the block that undoes this one; `null` when declared `rollback=none` (nothing to undo). */
  rollback?: string | null;
  timeoutMs: number;
  retries: number;
  /** First retry delay; doubles on each further attempt. */
  backoffMs: number;
  expectExitCode: number;
  expectOutput?: ExpectedOutput;
  requires: Requirement[];
  /**
   * A `checks` block that looks at the database (a PostgreSQL check, or a phase): the run opens
   * the target. Derived by the extractor from the block's code, so not part of the content hash.
   */
  usesPostgres?: true;
  /** A question to confirm before the step runs, or undefined when it needs none. */
  confirm?: string;
  /** Declared safe to run twice: resume re-runs it after a runner died during it. */
  idempotent?: true;
  /**
   * A setup block that makes the rehearsal's starting point (sample schema and data): it runs
   * only on a disposable target and is skipped, with a notice, on a real one.
   */
  fixture?: true;
  cwd?: string;
  env: Record<string, string>;
  /** The fence's language as written, when it is not the name of `lang` (`zsh`, `ruby`, `yaml`, or `` for none). */
  languageId?: string;
  /** The program that runs the block (`interpreter=`, or front matter `shell:` for shell blocks), with its arguments. */
  interpreter?: string;
  /** Started and left running while the later blocks run (a server, a watcher); stopped when the run ends. */
  background?: true;
  /** Reads exec-doc's standard input (a terminal, or what was piped in); other blocks get none. */
  interactive?: true;
  /** How `export NAME=value` lines get their values (Runme's promptEnv); absent: they run as written. */
  promptEnv?: PromptEnvMode;
  /** Runme's `tag`/`category`: `run --tag` runs the blocks that carry one of the tags. */
  tags?: string[];
  /** Runme's `excludeFromRunAll`: not run with its section, only when named (`doc.md#<id>`). */
  excludeFromRunAll?: true;
  /** The annotation as written, for display. */
  meta: string;
  position: Position;
}

/** `identifier`: a PostgreSQL name usable unquoted (letters, digits, _ and $, not a reserved word). */
export type ParamType = 'string' | 'identifier' | 'integer' | 'number' | 'boolean' | 'enum';

export interface Param {
  name: string;
  type: ParamType;
  description?: string;
  default?: string | number | boolean;
  /** A value is needed (no default and not optional). */
  required: boolean;
  secret: boolean;
  /** For `string`: a regular expression the whole value must match. */
  pattern?: string;
  /** For `enum`: the allowed values. */
  values?: string[];
  min?: number;
  max?: number;
}

export interface PostgresTarget {
  kind: 'postgres';
  /** Environment variable holding the connection string; when unset, an embedded server is started. */
  urlEnv: string;
  /** Database to use on the embedded server. */
  database: string;
}

export interface Section {
  /** `<doc-id>/<slug>`: how `exec-doc` addresses it. */
  address: string;
  docId: string;
  file: string;
  slug: string;
  title: string;
  depth: number;
  /** Slugs of enclosing sections, outermost first. */
  parents: string[];
  /** Steps in document order, including rollback partners pulled in from elsewhere in the document. */
  steps: Step[];
  params: Param[];
  target: PostgresTarget;
  position: Position;
  /** sha256 over the section's executable content (no timestamps, no positions). */
  contentHash: string;
  /** The document's front matter `tags` (access rules match on them). */
  tags?: string[];
  /** Runs only on a disposable target (its steps need its fixtures); refused on a real one. */
  rehearsalOnly?: true;
  /** Tables the procedure changes (names, or `${{ params.x }}`): on a real server the rollback is proven over these. */
  touches?: string[];
  /**
   * The document declares no rollback at all (a plain runbook, such as a Runme document): after a
   * failure its completed steps are reported as not undoable (exit 1), not as a failed rollback.
   */
  noRollbacks?: true;
  /** Exported variables carry from block to block, as in Runme's session (front matter `session: shared`). */
  sharedSession?: true;
  /** Its steps run on many hosts through Ansible, in rolling batches (front matter `hosts:`). */
  hosts?: HostsSettings;
}

/** Where a rolling section runs: an Ansible inventory, a host pattern, batch size and failure threshold. */
export interface HostsSettings {
  /** Inventory file or folder (relative to the document), or `${{ params.x }}`. */
  inventory: string;
  /** Ansible host pattern, or `${{ params.x }}`. */
  pattern: string;
  /** Hosts per batch: `2`, `40%`, or `${{ params.x }}`. */
  serial: string;
  /** Failed hosts a batch may have, in percent, before the upgrade stops. */
  maxFailPercentage: number;
}

export type { Diagnostic, Severity } from './diagnostic.js';
import type { Diagnostic } from './diagnostic.js';

export interface DocumentRunbooks {
  file: string;
  docId: string;
  title: string;
  sections: Section[];
  diagnostics: Diagnostic[];
}
