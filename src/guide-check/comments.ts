// The AI-discovery comments of a document: `<!-- TAG: value -->`, validated against the
// published schema (static/schemas/ai-discovery-comments.schema.json). Ordinary comments
// (anything not shaped `UPPER_CASE: …`) are left alone.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { findHtmlComments, UNTERMINATED_COMMENT } from '../markdown/html-comments.js';
import { projectRoot } from '../util/project-root.js';
import { closest } from '../util/edit-distance.js';
import type { Problem } from '../model/diagnostic.js';

export const commentSchemaPath = (): string =>
  path.join(projectRoot(), 'static', 'schemas', 'ai-discovery-comments.schema.json');

interface TagSchema {
  type: string;
  description: string;
  items?: unknown;
}

interface CommentSchema {
  properties: Record<string, TagSchema>;
  required: string[];
}

export interface TagValue {
  tag: string;
  raw: string;
  value: unknown;
  line: number;
  column: number;
}

let compiled: { schema: CommentSchema; validateTag: Map<string, (value: unknown) => string | undefined> } | undefined;

function loadSchema(): NonNullable<typeof compiled> {
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync(commentSchemaPath(), 'utf8')) as CommentSchema;
  // Ajv's defaults: the first error only (all a message shows), and strict (the schema is ours).
  const ajv = new Ajv2020();
  const validateTag = new Map<string, (value: unknown) => string | undefined>();
  for (const [tag, spec] of Object.entries(schema.properties)) {
    // Repeatable tags are arrays in the schema; each comment carries one item.
    const one =
      spec.type === 'array' && tag.endsWith('_REFERENCE') ? ajv.compile(spec.items as object) : ajv.compile(spec);
    validateTag.set(tag, (value) => (one(value) ? undefined : `${one.errors?.[0]?.message ?? 'is not valid'}`));
  }
  compiled = { schema, validateTag };
  return compiled;
}

const firstSentence = (text: string): string => {
  const sentence = text.split(/\.(\s|$)/)[0]!;
  return sentence.charAt(0).toLowerCase() + sentence.slice(1);
};

const TAG_LINE = /^([A-Z][A-Z0-9_]*)\s*:\s*([\s\S]*)$/;

/** Reads and validates the tags of one document; references are checked by the caller. */
export function readDiscoveryComments(source: string): { tags: TagValue[]; problems: Problem[] } {
  const { schema, validateTag } = loadSchema();
  const { comments, unterminated } = findHtmlComments(source);
  const tags: TagValue[] = [];
  const problems: Problem[] = [];
  if (unterminated)
    problems.push({
      ...unterminated,
      ruleId: 'comment-unterminated',
      message: UNTERMINATED_COMMENT,
    });
  const known = Object.keys(schema.properties);
  // Tags written at all (even with a bad value): those are not also reported as missing.
  const written = new Set<string>();
  for (const comment of comments) {
    const match = TAG_LINE.exec(comment.body);
    if (!match) continue;
    // The body is trimmed and the pattern takes the spaces after the colon: `raw` has none around it.
    const [, tag, raw] = match as unknown as [string, string, string];
    const at = { line: comment.bodyLine, column: comment.bodyColumn };
    if (!known.includes(tag)) {
      const near = closest(tag, known, 3, 1)[0];
      problems.push({
        ...at,
        ruleId: 'comment-unknown-tag',
        message: `Unexpected tag \`${tag}\`, expected one of ${known.join(', ')}${near ? ` (did you mean ${near}?)` : ''}`,
      });
      continue;
    }
    written.add(tag);
    const spec = schema.properties[tag]!;
    let value: unknown = raw;
    if (spec.type === 'integer' && /^-?\d+$/.test(raw)) value = Number(raw);
    if (tag === 'ROLE_PINS') {
      try {
        value = JSON.parse(raw);
      } catch {
        problems.push({
          ...at,
          ruleId: 'comment-bad-value',
          message: `Unexpected value for ROLE_PINS \`${raw}\`, expected a JSON list such as ["operator", "dba"]`,
        });
        continue;
      }
    }
    const problem = validateTag.get(tag)!(value);
    if (problem) {
      problems.push({
        ...at,
        ruleId: 'comment-bad-value',
        message: `Unexpected value for ${tag} \`${raw}\` (${problem}), expected ${firstSentence(spec.description)}`,
      });
      continue;
    }
    if (spec.type !== 'array' || tag === 'ROLE_PINS') {
      if (tags.some((t) => t.tag === tag)) {
        problems.push({
          ...at,
          ruleId: 'comment-duplicate-tag',
          message: `Unexpected second ${tag}, expected it once per document`,
        });
        continue;
      }
    }
    tags.push({ tag, raw, value, ...at });
  }
  for (const tag of schema.required) {
    if (!written.has(tag))
      problems.push({
        line: 1,
        column: 1,
        ruleId: 'comment-missing-tag',
        message: `Unexpected guide without the ${tag} comment, expected \`<!-- ${tag}: … -->\` (${firstSentence(schema.properties[tag]!.description)})`,
      });
  }
  return { tags, problems };
}
