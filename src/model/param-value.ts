// Checks a parameter value against its declaration. Kept apart from the front matter reader
// (yaml, zod) so that running a section loads neither.
import type { Param } from './types.js';

/** Why `value` is not acceptable for `param`, or undefined when it is. */
export function validateParamValue(param: Param, value: string): string | undefined {
  // Values travel as environment variables and program arguments: neither can hold a NUL.
  if (value.includes('\0')) return 'cannot contain a NUL character (no program can receive one)';
  if (LONE_SURROGATE.test(value)) return 'is not valid Unicode (it holds a lone surrogate)';
  switch (param.type) {
    case 'integer':
      if (!/^-?\d+$/.test(value)) return `must be a whole number, got \`${display(param, value)}\``;
      break;
    case 'number':
      if (!NUMBER.test(value)) return `must be a number (e.g. 12, -0.5, 1e3), got \`${display(param, value)}\``;
      break;
    case 'identifier':
      if (!IDENTIFIER.test(value))
        return `must be a PostgreSQL name: a letter or _, then letters, digits, _ or $, got \`${display(param, value)}\``;
      if (Buffer.byteLength(value) > 63)
        return `must be at most 63 bytes long (PostgreSQL's limit for names), got ${Buffer.byteLength(value)}`;
      if (RESERVED.has(value.toLowerCase()))
        return `must not be a reserved word of PostgreSQL, got \`${value}\` (quote it in the block: "\${{ params.${param.name} }}")`;
      break;
    case 'boolean':
      if (value !== 'true' && value !== 'false') return `must be true or false, got \`${display(param, value)}\``;
      break;
    case 'enum':
      if (!param.values?.includes(value))
        return `must be one of ${(param.values ?? []).join(', ')}, got \`${display(param, value)}\``;
      break;
    case 'string':
      break;
  }
  if ((param.type === 'integer' || param.type === 'number') && (param.min !== undefined || param.max !== undefined)) {
    const n = Number(value);
    if (param.min !== undefined && n < param.min) return `must be at least ${param.min}, got ${display(param, value)}`;
    if (param.max !== undefined && n > param.max) return `must be at most ${param.max}, got ${display(param, value)}`;
  }
  if (param.pattern !== undefined && !new RegExp(`^(?:${param.pattern})$`).test(value))
    return `must match /${param.pattern}/, got \`${display(param, value)}\``;
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NUMBER = /^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;
// PostgreSQL's reserved key words (those that cannot be a table or column name unquoted).
const RESERVED = new Set(
  `all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation column
  concurrently constraint create cross current_catalog current_date current_role current_schema current_time
  current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign freeze from
  full grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit
  localtime localtimestamp natural not notnull null offset on only or order outer overlaps placing primary references
  returning right select session_user similar some symmetric system_user table tablesample then to trailing true union
  unique user using variadic verbose when where window with`.split(/\s+/),
);

const display = (param: Param, value: string): string => (param.secret ? '***' : value);
