// The annotation fields: one table that the interpreter, the validator and the
// reference page all read. Each field turns a raw value into a typed one or says why not.
import {
  CHECK_PHASES,
  STEP_KINDS,
  type CheckPhase,
  type PromptEnvMode,
  type Requirement,
  type StepKind,
} from '../model/types.js';
import { parseDurationMs } from './duration.js';
import type { MetaAttribute, MetaValue } from './parse-meta.js';
import { closest } from '../util/edit-distance.js';
import type { OffsetProblem } from '../model/diagnostic.js';

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const KNOWN_REQUIREMENTS = ['postgres', 'python', 'node', 'docker', 'podman', 'root', 'kubernetes'] as const;

/** What the annotation of one block says, before document-level defaults are applied. */
export interface StepAnnotation {
  id?: string;
  kind?: StepKind;
  phase?: CheckPhase;
  rollback?: string | null;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  expectExitCode?: number;
  output?: string;
  match?: string;
  requires?: Requirement[];
  confirm?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Runme's `excludeFromRunAll`: the block is an example here too. */
  excluded?: boolean;
  /** Running it twice does no harm: `resume` may run it again when a runner died during it. */
  idempotent?: boolean;
  /** A setup block that makes the rehearsal's sample schema and data: only on a disposable target. */
  fixture?: boolean;
  /** Runme's `interpreter`: the program that runs the block. */
  interpreter?: string;
  background?: boolean;
  interactive?: boolean;
  promptEnv?: PromptEnvMode;
  /** Runme's `skipPrompts`: `export` values are never asked for. */
  skipPrompts?: boolean;
  /** Runme's `tag` and `category` (both may be given; they add up). */
  tags?: string[];
  /** Runme's `ignore=true` (or `transform=false`): not a runnable block, whatever else it says. */
  ignore?: boolean;
  transform?: boolean;
  /** The id came from Runme's `name`, which may repeat (later ones get `-2`, `-3`) and hold any text. */
  idFromName?: boolean;
}

type FieldResult<T> = { value: T } | { error: string };

interface FieldSpec {
  name: keyof StepAnnotation;
  aliases: string[];
  /** One line for the reference page and `--help`. */
  doc: string;
  example: string;
  parse(value: MetaValue, isFlag: boolean): FieldResult<unknown>;
}

const asText = (value: MetaValue): string | undefined =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : undefined;

function text(expected: string, check?: (v: string) => string | undefined) {
  return (value: MetaValue, isFlag: boolean): FieldResult<string> => {
    const v = asText(value);
    if (isFlag || v === undefined) return { error: `expected ${expected}` };
    const problem = check?.(v);
    return problem ? { error: problem } : { value: v };
  };
}

function integer(min: number, max: number) {
  return (value: MetaValue): FieldResult<number> => {
    const v = asText(value);
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
      return { error: `expected a whole number from ${min} to ${max}` };
    return { value: Number(v) };
  };
}

function duration(value: MetaValue): FieldResult<number> {
  const v = asText(value);
  const ms = v === undefined ? undefined : parseDurationMs(v);
  if (ms === undefined || ms <= 0) return { error: 'expected a duration such as `500ms`, `30s`, `2m` or `1h`' };
  return { value: ms };
}

function boolean(value: MetaValue, isFlag: boolean): FieldResult<boolean> {
  if (isFlag || value === true || value === 'true') return { value: true };
  if (value === false || value === 'false') return { value: false };
  return { error: 'expected `true` or `false`' };
}

function requirements(value: MetaValue): FieldResult<Requirement[]> {
  const items = Array.isArray(value) ? value.map((v) => asText(v) ?? '') : (asText(value) ?? '').split(/[\s,]+/);
  const names = items.map((s) => s.trim()).filter(Boolean);
  if (names.length === 0)
    return {
      error: `expected a list such as \`postgres,python\` (known: ${KNOWN_REQUIREMENTS.join(', ')}, or cmd:<program>)`,
    };
  for (const name of names) {
    const known = (KNOWN_REQUIREMENTS as readonly string[]).includes(name) || /^cmd:[A-Za-z0-9_./+-]+$/.test(name);
    if (!known)
      return {
        error: `unknown requirement \`${name}\`, expected one of ${KNOWN_REQUIREMENTS.join(', ')}, or cmd:<program>`,
      };
  }
  return { value: [...new Set(names)].sort() as Requirement[] };
}

function envPairs(value: MetaValue): FieldResult<Record<string, string>> {
  const env: Record<string, string> = {};
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (!ENV_NAME_PATTERN.test(k)) return { error: `\`${k}\` is not a valid environment variable name` };
      env[k] = asText(v) ?? '';
    }
    return { value: env };
  }
  const v = asText(value);
  if (v === undefined) return { error: 'expected `KEY=value` pairs such as `env="MODE=test RETRIES=3"`' };
  const words = shellWords(v);
  if (typeof words === 'string') return { error: words };
  for (const pair of words) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !ENV_NAME_PATTERN.test(name))
      return { error: `expected \`KEY=value\` pairs such as \`env="MODE=test RETRIES=3"\`, got \`${pair}\`` };
    env[name] = pair.slice(eq + 1);
  }
  return { value: env };
}

export const FIELDS: readonly FieldSpec[] = [
  {
    name: 'id',
    aliases: ['name'],
    doc: "Makes the block executable; unique within the document (Runme's `name` is accepted too).",
    example: 'id=create-table',
    parse: text('an id of letters, digits, `-`, `_` or `.`', (v) =>
      ID_PATTERN.test(v)
        ? undefined
        : `\`${v}\` is not a valid id: use letters, digits, \`-\`, \`_\` or \`.\`, starting with a letter or digit`,
    ),
  },
  {
    name: 'kind',
    aliases: [],
    doc: 'step (default), check (verifies only), rollback (undoes a step), setup (runs first), teardown (always runs last).',
    example: 'kind=check',
    parse: text(`one of ${STEP_KINDS.join(', ')}`, (v) =>
      (STEP_KINDS as readonly string[]).includes(v)
        ? undefined
        : `unknown kind \`${v}\`, expected one of ${STEP_KINDS.join(', ')}`,
    ),
  },
  {
    name: 'phase',
    aliases: [],
    doc: 'For checks: pre (before the steps, and again after a rollback), post (after the steps), rollback (only after a rollback). Defaults by position.',
    example: 'phase=post',
    parse: text(`one of ${CHECK_PHASES.join(', ')}`, (v) =>
      (CHECK_PHASES as readonly string[]).includes(v)
        ? undefined
        : `unknown phase \`${v}\`, expected one of ${CHECK_PHASES.join(', ')}`,
    ),
  },
  {
    name: 'rollback',
    aliases: [],
    doc: 'Id of the block that undoes this one, or `none` when the step changes nothing that needs undoing.',
    example: 'rollback=drop-table',
    parse: text('a block id or `none`', (v) =>
      v === 'none' || ID_PATTERN.test(v) ? undefined : `\`${v}\` is not a valid block id`,
    ),
  },
  {
    name: 'timeoutMs',
    aliases: ['timeout'],
    doc: 'Longest the step may run; on expiry its whole process tree is killed. Default 10m.',
    example: 'timeout=60s',
    parse: duration,
  },
  {
    name: 'retries',
    aliases: [],
    doc: 'Further attempts after a failure, with exponential backoff. Default 0.',
    example: 'retries=3',
    parse: integer(0, 100),
  },
  {
    name: 'backoffMs',
    aliases: ['backoff'],
    doc: 'Delay before the first retry; doubles each time (capped at 30s). Default 500ms.',
    example: 'backoff=1s',
    parse: duration,
  },
  {
    name: 'expectExitCode',
    aliases: ['exit', 'exit-code', 'expect-exit'],
    doc: 'Expected exit code. Default 0.',
    example: 'exit=3',
    parse: integer(0, 255),
  },
  {
    name: 'output',
    aliases: ['expect-output'],
    doc: 'Expected stdout, exact after trimming trailing spaces; `...` matches any text. A following ```output block says the same.',
    example: 'output="count: ..."',
    parse: text('the expected output text'),
  },
  {
    name: 'match',
    aliases: ['expect-match'],
    doc: 'A regular expression that stdout must contain.',
    example: 'match="^ready$"',
    parse: text('a regular expression', (v) => {
      try {
        new RegExp(v, 'm');
        return undefined;
      } catch (e) {
        return `invalid regular expression: ${(e as Error).message}`;
      }
    }),
  },
  {
    name: 'requires',
    aliases: [],
    doc: `Capabilities checked before anything runs: ${KNOWN_REQUIREMENTS.join(', ')}, cmd:<program>.`,
    example: 'requires=postgres,root',
    parse: requirements,
  },
  {
    name: 'confirm',
    aliases: [],
    doc: 'A dangerous step: needs `--yes` or an interactive confirmation. The value is the question shown.',
    example: 'confirm="Drop the old table?"',
    parse: (value, isFlag) =>
      isFlag || value === true || value === 'true'
        ? { value: 'Run this step?' }
        : text('a question, or the flag alone')(value, false),
  },
  {
    name: 'cwd',
    aliases: [],
    doc: "Working directory, relative to the document's folder.",
    example: 'cwd=../scripts',
    parse: text('a directory path'),
  },
  {
    name: 'env',
    aliases: [],
    doc: 'Extra environment variables for this step.',
    example: 'env="MODE=test"',
    parse: envPairs,
  },
  {
    name: 'idempotent',
    aliases: [],
    doc: 'Running the step twice does no harm: `resume` runs it again when the runner died while it ran (otherwise resume stops and asks).',
    example: 'idempotent',
    parse: boolean,
  },
  {
    name: 'fixture',
    aliases: [],
    doc: 'Part of the rehearsal: a setup block that makes the sample schema and data, a step that shows something on the sample (damaging a row to show it is caught), or a check of what only the sample has. Runs only on a disposable target (the embedded default, or `--disposable`); skipped, with a notice, on a real one.',
    example: 'kind=setup fixture',
    parse: boolean,
  },
  {
    name: 'excluded',
    aliases: ['excludeFromRunAll'],
    doc: "Runme's flag: the block does not run with its section, only when named (`exec-doc run doc.md#<id>`).",
    example: 'excludeFromRunAll=true',
    parse: boolean,
  },
  {
    name: 'interpreter',
    aliases: [],
    doc: "Runme's: the program (and arguments) that runs the block, e.g. `zsh`, `perl`, `cat`, `/usr/bin/env python3`. A shell runs the code with `-c` and stops at the first failure; any other program gets the code as a file.",
    example: 'interpreter=perl',
    parse: text('a program such as `perl` or `/usr/bin/env python3`', (v) =>
      v.trim() === '' ? 'expected a program name' : undefined,
    ),
  },
  {
    name: 'background',
    aliases: [],
    doc: "Runme's: the block is started and left running (a server, a watcher) while the later blocks run; it is stopped when the run ends. It fails only if it exits with an error within its first 250 ms.",
    example: 'background',
    parse: boolean,
  },
  {
    name: 'interactive',
    aliases: [],
    doc: "Runme's: the block reads exec-doc's standard input (the terminal, or what was piped in). Other blocks get none.",
    example: 'interactive=true',
    parse: boolean,
  },
  {
    name: 'promptEnv',
    aliases: [],
    doc: "Runme's: how a top-level `export NAME=value` line gets its value. `auto` (the default in a shared session): the environment's value when set, else asked in a terminal, else the value as written; `always`/`yes`: asked in a terminal even when set; `never`/`no`: the line runs as written.",
    example: 'promptEnv=never',
    parse: (value, isFlag) => {
      const v = isFlag ? 'true' : asText(value)?.toLowerCase();
      if (v === 'auto') return { value: 'auto' };
      if (v === 'always' || v === 'yes' || v === 'true' || v === '1') return { value: 'always' };
      if (v === 'never' || v === 'no' || v === 'false' || v === '0') return { value: 'never' };
      return { error: 'expected `auto`, `always` (or `yes`) or `never` (or `no`)' };
    },
  },
  {
    name: 'skipPrompts',
    aliases: [],
    doc: "Runme's: never ask for `export` values; the environment's value is used when set, else the one written.",
    example: 'skipPrompts=true',
    parse: boolean,
  },
  {
    name: 'tags',
    aliases: ['tag', 'category'],
    doc: "Runme's `tag` (and the older `category`): comma-separated names; `exec-doc run <doc> --tag <name>` runs the blocks that carry it.",
    example: 'tag=setup,db',
    parse: (value) => {
      const items = (Array.isArray(value) ? value.map((v) => asText(v) ?? '') : (asText(value) ?? '').split(','))
        .map((s) => s.trim())
        .filter(Boolean);
      return items.length === 0 ? { error: 'expected names such as `setup,db`' } : { value: items };
    },
  },
  {
    name: 'ignore',
    aliases: [],
    doc: "Runme's: `ignore=true` makes the block plain text, never run, whatever else it says.",
    example: 'ignore=true',
    parse: boolean,
  },
  {
    name: 'transform',
    aliases: [],
    doc: "Runme's inverse of `ignore`: `transform=false` makes the block plain text.",
    example: 'transform=false',
    parse: boolean,
  },
];

/** Runme attributes about its notebook's display: accepted, with no meaning for a run. */
export const IGNORED_FIELDS = new Set([
  'closeTerminalOnSuccess',
  'terminalRows',
  'mimeType',
  'mimetype',
  'id.runme',
  'runme.dev/id',
]);

// A Runme `name` may hold any text; it becomes an id by keeping letters, digits, `.`, `_` and `-`.
function nameAsId(name: string): string {
  return name
    .trim()
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+|-+$/g, '');
}

const BY_KEY = new Map<string, FieldSpec>();
for (const field of FIELDS) for (const key of [field.name as string, ...field.aliases]) BY_KEY.set(key, field);

export interface InterpretedAnnotation {
  annotation: StepAnnotation;
  problems: OffsetProblem[];
}

/** The field names a user may write, for "did you mean" hints. */
export const FIELD_KEYS: readonly string[] = [...BY_KEY.keys()].filter(
  (k) => !/[A-Z]/.test(k) || ['excludeFromRunAll', 'promptEnv', 'skipPrompts'].includes(k),
);

// Runme gives every cell a generated ULID `id` besides its human `name`; the name is the id here.
export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * The name Runme gives a block that has none (`runme run echo-hello`): from its first line that
 * is not a comment, the part before an `=`, at most 32 characters, its first two words, lower
 * case, letters and digits, joined by `-`.
 */
export function generatedName(code: string): string {
  const line =
    code
      .split('\n')
      .map((l) => l.replace(/^\$+/, '').trim())
      .find((l) => l !== '' && !l.startsWith('#')) ?? '';
  const eq = line.indexOf('=');
  const words = (eq > 0 ? line.slice(0, eq) : line).slice(0, 32).split(' ').slice(0, 2).join(' ').toLowerCase();
  let out = '';
  for (const c of words) {
    if (c === ' ' && out !== '') out += '-';
    else if (/[a-z0-9]/.test(c)) out += c;
  }
  return out;
}

export function interpretAttributes(all: MetaAttribute[]): InterpretedAnnotation {
  const hasName = all.some((a) => a.key === 'name');
  const attributes = hasName
    ? all.filter((a) => !(a.key === 'id' && typeof a.value === 'string' && ULID.test(a.value)))
    : all;
  const annotation: StepAnnotation = {};
  const problems: OffsetProblem[] = [];
  const seen = new Map<string, string>();
  for (const attribute of attributes) {
    if (IGNORED_FIELDS.has(attribute.key)) continue;
    const field = BY_KEY.get(attribute.key);
    if (!field) {
      // Another tool's attribute (or a typo): said, never a reason to refuse the document.
      const hint = closestKey(attribute.key);
      problems.push({
        offset: attribute.keyOffset,
        ruleId: 'unknown-field',
        severity: 'warning',
        message: `Unexpected field \`${attribute.key}\`, ignored; expected one of ${FIELD_KEYS.filter((k) => k !== 'name' && !k.includes('-') && !/[A-Z]/.test(k) && k !== 'category' && k !== 'tag').join(', ')}${hint ? ` (did you mean \`${hint}\`?)` : ''}`,
      });
      continue;
    }
    if (field.name === 'tags' && annotation.tags !== undefined) {
      // Runme adds `tag` and `category` up.
      const more = field.parse(attribute.value, attribute.isFlag);
      if ('value' in more) annotation.tags = [...new Set([...annotation.tags, ...(more.value as string[])])];
      continue;
    }
    if (attribute.key === 'name' && !seen.has('id')) {
      const raw = asText(attribute.value) ?? '';
      const id = nameAsId(raw);
      if (id === '') {
        problems.push({
          offset: attribute.valueOffset,
          ruleId: 'invalid-field',
          message: `Unexpected value for \`name\`: \`${raw}\` has no letter or digit (e.g. \`name=create-table\`)`,
        });
        continue;
      }
      if (id !== raw)
        problems.push({
          offset: attribute.valueOffset,
          ruleId: 'name-as-id',
          severity: 'warning',
          message: `Unexpected characters in the name \`${raw}\`: it runs as \`${id}\` (ids hold letters, digits, \`.\`, \`_\` and \`-\`); run it with \`#${id}\``,
        });
      seen.set('id', 'name');
      annotation.id = id;
      annotation.idFromName = true;
      continue;
    }
    const earlier = seen.get(field.name);
    if (earlier !== undefined) {
      problems.push({
        offset: attribute.keyOffset,
        ruleId: 'duplicate-field',
        message: `Unexpected second \`${attribute.key}\` (already set by \`${earlier}\`), expected each field once`,
      });
      continue;
    }
    seen.set(field.name, attribute.key);
    const result = field.parse(attribute.value, attribute.isFlag);
    if ('error' in result) {
      problems.push({
        offset: attribute.valueOffset,
        ruleId: 'invalid-field',
        message: `Unexpected value for \`${attribute.key}\`: ${result.error} (e.g. \`${field.example}\`)`,
      });
      continue;
    }
    const value = field.name === 'rollback' && result.value === 'none' ? null : result.value;
    (annotation as Record<string, unknown>)[field.name] = value;
  }
  return { annotation, problems };
}

function closestKey(key: string): string | undefined {
  return closest(key, FIELD_KEYS, 2)[0];
}

/**
 * `KEY=value` pairs split as a shell splits words: 'single' and "double" quotes keep spaces
 * (`GREETING='hello world'`) and are taken literally inside; a backslash outside them escapes
 * the next character.
 */
function shellWords(text: string): string[] | string {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
      i += 1;
      continue;
    }
    word ??= '';
    if (c === "'" || c === '"') {
      const close = text.indexOf(c, i + 1);
      if (close < 0) return `expected a closing ${c} in \`${text}\``;
      const inner = text.slice(i + 1, close);
      word += inner;
      i = close + 1;
      continue;
    }
    if (c === '\\' && i + 1 < text.length) {
      word += text[i + 1];
      i += 2;
      continue;
    }
    word += c;
    i += 1;
  }
  if (word !== null) words.push(word);
  return words;
}
