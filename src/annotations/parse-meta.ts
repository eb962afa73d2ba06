// Tokenises the info string after a fence's language: `{id=x timeout=60s}`, `id=x`,
// Runme's `{ name=x }` or the JSON form `{"id":"x"}`. Never throws: every problem comes
// back with the offset (0-based, in the meta string) where it was found.

import { jsonErrorOffset } from '../util/json-error-offset.js';
import type { OffsetProblem } from '../model/diagnostic.js';

export type MetaValue = string | number | boolean | null | MetaValue[] | { [key: string]: MetaValue };

export interface MetaAttribute {
  key: string;
  value: MetaValue;
  /** True when the key was written without `=value` (a flag such as `confirm`). */
  isFlag: boolean;
  keyOffset: number;
  valueOffset: number;
}

export interface ParsedMeta {
  attributes: MetaAttribute[];
  problems: OffsetProblem[];
}

/** Every problem of an annotation's syntax has this rule id. */
const SYNTAX = 'annotation-syntax';

const KEY_START = /[A-Za-z_]/;
const KEY_CHAR = /[A-Za-z0-9_.-]/;

export function parseMeta(meta: string): ParsedMeta {
  const trimmedStart = meta.length - meta.trimStart().length;
  const body = meta.trim();
  if (body.startsWith('{') && /^\{\s*["}]/.test(body) && body !== '{}') {
    return parseJsonMeta(body, trimmedStart);
  }
  return parseAttributeMeta(meta);
}

function parseJsonMeta(body: string, base: number): ParsedMeta {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    const offset = jsonErrorOffset(body);
    const found = offset < body.length ? `\`${body[offset]}\`` : 'the end';
    return {
      attributes: [],
      problems: [
        {
          ruleId: SYNTAX,
          offset: base + offset,
          message: `Unexpected ${found} in the JSON annotation at character ${offset + 1}, expected a JSON object such as {"id":"my-step"}`,
        },
      ],
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      attributes: [],
      problems: [
        {
          ruleId: SYNTAX,
          offset: base,
          message: 'Unexpected JSON value in the annotation, expected a JSON object such as {"id":"my-step"}',
        },
      ],
    };
  }
  const attributes: MetaAttribute[] = [];
  for (const [key, v] of Object.entries(value as Record<string, MetaValue>)) {
    const found = body.indexOf(JSON.stringify(key));
    const offset = base + (found < 0 ? 0 : found);
    attributes.push({ key, value: v, isFlag: false, keyOffset: offset, valueOffset: offset });
  }
  return { attributes, problems: [] };
}

function parseAttributeMeta(meta: string): ParsedMeta {
  const attributes: MetaAttribute[] = [];
  const problems: OffsetProblem[] = [];
  let i = 0;
  let end = meta.length;
  const skipSpace = (): void => {
    while (i < end && /[\s,]/.test(meta[i]!)) i++;
  };
  skipSpace();
  let braced = false;
  if (meta[i] === '{') {
    braced = true;
    const close = meta.lastIndexOf('}');
    if (close < i) {
      problems.push({ ruleId: SYNTAX, offset: i, message: 'Unexpected end of annotation, expected a closing `}`' });
    } else {
      const after = meta.slice(close + 1).trim();
      if (after !== '')
        problems.push({
          ruleId: SYNTAX,
          offset: close + 1 + meta.slice(close + 1).indexOf(after),
          message: `Unexpected \`${after}\` after the closing \`}\`, expected nothing`,
        });
      end = close;
    }
    i++;
  }
  while (true) {
    skipSpace();
    if (i >= end) break;
    const keyOffset = i;
    if (!KEY_START.test(meta[i]!)) {
      const bad = meta.slice(i).split(/\s/)[0]!.slice(0, 20);
      problems.push({
        ruleId: SYNTAX,
        offset: i,
        message: `Unexpected \`${bad}\` in the annotation, expected an attribute such as \`id=my-step\``,
      });
      while (i < end && !/\s/.test(meta[i]!)) i++;
      continue;
    }
    while (i < end && KEY_CHAR.test(meta[i]!)) i++;
    const key = meta.slice(keyOffset, i);
    if (meta[i] !== '=') {
      if (i < end && !/[\s,]/.test(meta[i]!)) {
        problems.push({
          ruleId: SYNTAX,
          offset: i,
          message: `Unexpected \`${meta[i]}\` after \`${key}\`, expected \`=\` and a value, or a space`,
        });
        while (i < end && !/\s/.test(meta[i]!)) i++;
        continue;
      }
      attributes.push({ key, value: true, isFlag: true, keyOffset, valueOffset: keyOffset });
      continue;
    }
    i++;
    const valueOffset = i;
    const quote = meta[i];
    if (quote === '"' || quote === "'") {
      i++;
      let value = '';
      let closed = false;
      while (i < end) {
        const c = meta[i]!;
        // Only the quote and the backslash itself are escaped; `\d` in a regex stays `\d`.
        if (c === '\\' && (meta[i + 1] === quote || meta[i + 1] === '\\')) {
          value += meta[i + 1];
          i += 2;
          continue;
        }
        if (c === quote) {
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (!closed) {
        problems.push({
          ruleId: SYNTAX,
          offset: valueOffset,
          message: `Unexpected end of annotation, expected a closing ${quote} for the value of \`${key}\``,
        });
        break;
      }
      attributes.push({ key, value, isFlag: false, keyOffset, valueOffset });
      continue;
    }
    while (i < end && !/\s/.test(meta[i]!) && !(braced && meta[i] === '}')) {
      // A quoted run inside a bare value keeps its spaces: env=GREETING='hello world'.
      const q = meta[i];
      const close = q === '"' || q === "'" ? meta.indexOf(q, i + 1) : -1;
      i = close > 0 && close < end ? close + 1 : i + 1;
    }
    const value = meta.slice(valueOffset, i).replace(/,$/, '');
    if (value === '') {
      problems.push({
        ruleId: SYNTAX,
        offset: valueOffset,
        message: `Unexpected empty value for \`${key}\`, expected a value after \`=\``,
      });
      continue;
    }
    attributes.push({ key, value, isFlag: false, keyOffset, valueOffset });
  }
  return { attributes, problems };
}
