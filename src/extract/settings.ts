// Section-level settings from a document's front matter:
//
//   exec-doc:
//     params:   { name: { type, default, secret, pattern, values, min, max, description } }
//     target:   { urlEnv: DATABASE_URL, database: app }
//     sections: { <heading-slug>: { params: …, target: … } }
//
// Document-level settings apply to every section; a section's own settings (and its
// ancestors') override them.
import { LineCounter, parseDocument, isMap } from 'yaml';
import * as z from 'zod';
import type { HostsSettings, Param, PostgresTarget } from '../model/types.js';
import { ENV_NAME_PATTERN } from '../annotations/fields.js';
import { validateParamValue } from '../model/param-value.js';
import { isTouchEntry } from '../model/table-name.js';

const paramSchema = z
  .object({
    type: z.enum(['string', 'identifier', 'integer', 'number', 'boolean', 'enum']).default('string'),
    description: z.string().optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    required: z.boolean().optional(),
    secret: z.boolean().default(false),
    pattern: z.string().optional(),
    values: z.array(z.union([z.string(), z.number()]).transform(String)).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .strict();

const targetSchema = z
  .object({
    urlEnv: z.string().regex(ENV_NAME_PATTERN).default('DATABASE_URL'),
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .default('postgres'),
  })
  .strict();

const levelSchema = z
  .object({
    params: z
      .record(
        z
          .string()
          .regex(ENV_NAME_PATTERN, 'parameter names are letters, digits and _ (they become environment variables)'),
        paramSchema,
      )
      .optional(),
    target: targetSchema.optional(),
    /** The section's steps need its fixtures: it runs only on a disposable target. */
    rehearsalOnly: z.boolean().optional(),
    /**
     * The tables the procedure changes (`table`, `schema.table`, or a parameter `${{ params.table }}`):
     * on a real server the rollback is proven over these, not the whole database.
     */
    touches: z.array(z.string().min(1)).optional(),
    /** `shared`: exported variables carry from block to block, as in Runme's session. Default `isolated`. */
    session: z.enum(['shared', 'isolated']).optional(),
    /** A document that declares no rollback still reports a failure as an incomplete rollback (exit 2). */
    strictRollback: z.boolean().optional(),
    /** The section's steps, checks and rollbacks run on many hosts through Ansible, in rolling batches (../hosts). */
    hosts: z
      .object({
        /** An Ansible inventory file or folder (relative to the document), or `${{ params.x }}`. */
        inventory: z.string().min(1),
        /** An Ansible host pattern (`all`, `web`, `web:!web-3`), or `${{ params.x }}`. */
        pattern: z.string().min(1).default('all'),
        /** Hosts per batch: a number, a percentage (`40%`), or `${{ params.x }}`. */
        serial: z.union([z.number().int().min(1), z.string().min(1)]).default(1),
        /** Failed hosts a batch may have, in percent of its hosts, before the upgrade stops and rolls back. */
        maxFailPercentage: z.number().min(0).max(100).default(0),
      })
      .strict()
      .optional(),
  })
  .strict();

const settingsSchema = levelSchema.extend({ sections: z.record(z.string(), levelSchema).optional() }).strict();

type Level = z.infer<typeof levelSchema>;

export interface RunmeFrontMatter {
  /** The document was saved by Runme (`runme: { id, version }`): it expects Runme's shared session. */
  declared: boolean;
  shell?: string;
  cwd?: string;
  skipPrompts?: boolean;
  tags?: string[];
}

export interface DocumentSettings {
  /** Front matter `id`, if any. */
  id?: string;
  title?: string;
  /** Front matter `tags`. */
  tags?: string[];
  /** Runme's front matter: `shell`, `cwd`, `skipPrompts`, `tag`/`category`, and whether `runme:` is there. */
  runme: RunmeFrontMatter;
  document: Level;
  sections: Record<string, Level>;
  problems: Problem[];
}

import type { Problem } from '../model/diagnostic.js';
export { DEFAULT_TARGET } from '../targets/url.js';
import { DEFAULT_TARGET } from '../targets/url.js';

/**
 * Reads settings from the raw YAML of the front matter (`yamlStartLine` is the line of its first
 * content line) or, inside a Docusaurus build where the YAML is gone, from the parsed object.
 */
export function readSettings(input: {
  yaml?: string;
  yamlStartLine?: number;
  data?: Record<string, unknown>;
}): DocumentSettings {
  const problems: Problem[] = [];
  let data: unknown = input.data ?? {};
  let locate = (_path: readonly PropertyKey[]): { line: number; column: number } => ({ line: 1, column: 1 });
  if (input.yaml !== undefined) {
    const lineCounter = new LineCounter();
    const doc = parseDocument(input.yaml, { lineCounter, prettyErrors: false });
    const startLine = input.yamlStartLine ?? 2;
    const at = (offset: number) => {
      const pos = lineCounter.linePos(offset);
      return { line: pos.line + startLine - 1, column: pos.col };
    };
    for (const error of doc.errors) {
      problems.push({
        ...at(error.pos[0]),
        ruleId: 'frontmatter-yaml',
        message: `Unexpected YAML in the front matter: ${error.message.split('\n')[0]}`,
      });
    }
    if (doc.errors.length > 0) return { runme: { declared: false }, document: {}, sections: {}, problems };
    data = doc.toJS() ?? {};
    locate = (path) => {
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
        const pair = n > 0 ? findKeyNode(doc.getIn(path.slice(0, n - 1) as unknown[], true), path[n - 1]) : undefined;
        const range = pair?.range ?? node?.range;
        if (range) return at(range[0]);
      }
      return { line: startLine, column: 1 };
    };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return {
      runme: { declared: false },
      document: {},
      sections: {},
      problems: [
        {
          line: input.yamlStartLine ?? 1,
          column: 1,
          ruleId: 'frontmatter-yaml',
          message: 'Unexpected front matter, expected a YAML mapping',
        },
      ],
    };
  }
  const record = data as Record<string, unknown>;
  const settings: DocumentSettings = {
    runme: readRunme(record, locate, problems),
    document: {},
    sections: {},
    problems,
  };
  if (typeof record.id === 'string') settings.id = record.id;
  if (typeof record.title === 'string') settings.title = record.title;
  // Docusaurus tags: names, or objects with a label; the access policy matches rules on them.
  if (Array.isArray(record.tags))
    settings.tags = record.tags
      .map((t: unknown) => (typeof t === 'string' ? t : (t as { label?: unknown } | null)?.label))
      .filter((t): t is string => typeof t === 'string' && t.length > 0);
  const raw = record['exec-doc'];
  if (raw === undefined) return settings;
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // Point at the offending key itself where zod names it.
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : issue.code === 'invalid_key' ? [] : [];
      const path = ['exec-doc', ...issue.path, ...keys.slice(0, 1)];
      const message =
        issue.code === 'invalid_key'
          ? 'parameter names are letters, digits and _ (they become environment variables)'
          : issue.message;
      problems.push({
        ...locate(path),
        ruleId: 'invalid-settings',
        message: `Unexpected value at \`${path.join('.')}\`: ${message}; see the annotation reference for the \`exec-doc\` front matter`,
      });
    }
    // Still check each parameter that is well-formed on its own, so every problem shows at once.
    for (const [where, params] of rawParamLevels(raw)) {
      for (const [name, spec] of Object.entries(params)) {
        const one = paramSchema.safeParse(spec);
        if (one.success) checkParam(name, one.data, [...where, name], locate, problems);
      }
    }
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    return settings;
  }
  const { sections, ...document } = parsed.data;
  settings.document = document;
  settings.sections = sections ?? {};
  for (const [slug, level] of Object.entries(settings.sections)) {
    for (const [name, param] of Object.entries(level.params ?? {}))
      checkParam(name, param, ['exec-doc', 'sections', slug, 'params', name], locate, problems);
  }
  for (const [name, param] of Object.entries(document.params ?? {}))
    checkParam(name, param, ['exec-doc', 'params', name], locate, problems);
  const touchLevels: Array<[string[], Level]> = [
    [['exec-doc'], document],
    ...Object.entries(settings.sections).map(([slug, level]): [string[], Level] => [
      ['exec-doc', 'sections', slug],
      level,
    ]),
  ];
  for (const [where, level] of touchLevels)
    for (const [i, entry] of (level.touches ?? []).entries())
      if (!isTouchEntry(entry))
        problems.push({
          ...locate([...where, 'touches', i]),
          ruleId: 'invalid-settings',
          message: `Unexpected \`${entry}\` in \`touches\`, expected a table (\`orders\`, \`billing.orders\`) or one parameter (\`\${{ params.table }}\`)`,
        });
  return settings;
}

/** Runme's document-level options, with its types: `shell`, `cwd` (text), `skipPrompts` (boolean), `tag`/`category`. */
function readRunme(
  record: Record<string, unknown>,
  locate: (path: readonly PropertyKey[]) => { line: number; column: number },
  problems: Problem[],
): RunmeFrontMatter {
  const out: RunmeFrontMatter = { declared: record.runme !== undefined && record.runme !== null };
  const wrong = (key: string, expected: string) =>
    problems.push({
      ...locate([key]),
      ruleId: 'invalid-settings',
      message: `Unexpected value at \`${key}\`: expected ${expected} (Runme's document option)`,
    });
  for (const key of ['shell', 'cwd'] as const) {
    const v = record[key];
    if (v === undefined || v === null) continue;
    if (typeof v === 'string' && v.trim() !== '') out[key] = v.trim();
    else wrong(key, key === 'shell' ? 'a shell such as `bash` or `/bin/zsh`' : 'a folder, relative to the document');
  }
  const skip = record.skipPrompts;
  if (skip !== undefined && skip !== null) {
    if (typeof skip === 'boolean' || skip === 'true' || skip === 'false')
      out.skipPrompts = skip === true || skip === 'true';
    else wrong('skipPrompts', '`true` or `false`');
  }
  const tags: string[] = [];
  for (const key of ['tag', 'category'] as const) {
    const v = record[key];
    if (v === undefined || v === null) continue;
    if (typeof v === 'string')
      tags.push(
        ...v
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      );
    else wrong(key, 'comma-separated names');
  }
  if (tags.length > 0) out.tags = [...new Set(tags)];
  return out;
}

function rawParamLevels(raw: unknown): Array<[string[], Record<string, unknown>]> {
  const out: Array<[string[], Record<string, unknown>]> = [];
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isRecord(raw)) return out;
  if (isRecord(raw.params)) out.push([['exec-doc', 'params'], raw.params]);
  if (isRecord(raw.sections)) {
    for (const [slug, level] of Object.entries(raw.sections))
      if (isRecord(level) && isRecord(level.params)) out.push([['exec-doc', 'sections', slug, 'params'], level.params]);
  }
  return out;
}

function findKeyNode(parent: unknown, key: PropertyKey | undefined): { range?: [number, number, number] } | undefined {
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((item) => (item.key as { value?: unknown } | null)?.value === key);
  return pair?.key as { range?: [number, number, number] } | undefined;
}

function checkParam(
  name: string,
  param: z.infer<typeof paramSchema>,
  path: string[],
  locate: (path: readonly PropertyKey[]) => { line: number; column: number },
  problems: Problem[],
): void {
  const fail = (message: string) =>
    problems.push({
      ...locate(path),
      ruleId: 'invalid-param',
      message: `Unexpected declaration of parameter \`${name}\`: ${message}`,
    });
  if (param.type === 'enum' && (!param.values || param.values.length === 0))
    fail('an enum needs `values`, e.g. `values: [blue, green]`');
  if (param.pattern !== undefined) {
    try {
      new RegExp(param.pattern);
    } catch (error) {
      fail(`\`pattern\` is not a valid regular expression (${(error as Error).message})`);
    }
  }
  if (param.secret && param.default !== undefined)
    fail(
      'a secret parameter cannot have a default (it would be written in the document); pass it with --set or the environment',
    );
  if (param.default !== undefined) {
    const problem = validateParamValue(toParam(name, param), String(param.default));
    if (problem) fail(`its default ${problem}`);
  }
}

export function toParam(name: string, spec: z.infer<typeof paramSchema>): Param {
  const param: Param = {
    name,
    type: spec.type,
    required: spec.required ?? spec.default === undefined,
    secret: spec.secret,
  };
  if (spec.description !== undefined) param.description = spec.description;
  if (spec.default !== undefined) param.default = spec.default;
  if (spec.pattern !== undefined) param.pattern = spec.pattern;
  if (spec.values !== undefined) param.values = spec.values;
  if (spec.min !== undefined) param.min = spec.min;
  if (spec.max !== undefined) param.max = spec.max;
  return param;
}

/** The parameters and target of a section: document level, then each enclosing section's, then its own. */
export function resolveSectionSettings(
  settings: DocumentSettings,
  slugs: string[],
): {
  params: Param[];
  target: PostgresTarget;
  rehearsalOnly: boolean;
  touches: string[];
  session?: 'shared' | 'isolated';
  strictRollback: boolean;
  hosts?: HostsSettings;
} {
  const levels = [
    settings.document,
    ...slugs.map((slug) => settings.sections[slug]).filter((l): l is Level => l !== undefined),
  ];
  const params = new Map<string, Param>();
  let target: PostgresTarget = DEFAULT_TARGET;
  let rehearsalOnly = false;
  let touches: string[] = [];
  let session: 'shared' | 'isolated' | undefined;
  let strictRollback = false;
  let hosts: HostsSettings | undefined;
  for (const level of levels) {
    if (level.hosts) hosts = { ...level.hosts, serial: String(level.hosts.serial) };
    if (level.touches) touches = level.touches;
    if (level.session) session = level.session;
    if (level.strictRollback !== undefined) strictRollback = level.strictRollback;
    for (const [name, spec] of Object.entries(level.params ?? {})) params.set(name, toParam(name, spec));
    if (level.target) target = { kind: 'postgres', ...level.target };
    if (level.rehearsalOnly !== undefined) rehearsalOnly = level.rehearsalOnly;
  }
  return {
    params: [...params.values()].sort((a, b) => a.name.localeCompare(b.name)),
    target,
    rehearsalOnly,
    touches,
    ...(session ? { session } : {}),
    strictRollback,
    ...(hosts ? { hosts } : {}),
  };
}
