// Checks a parameter value against its declaration. Kept apart from the front matter reader
// (yaml, zod) so that running a section loads neither.
import type { Param } from './types.js';

/** Why `value` is not acceptable for `param`, or undefined when it is. */
export function validateParamValue(param: Param, value: string): string | undefined {
  switch (param.type) {
    case 'integer':
      if (!/^-?\d+$/.test(value)) return `must be a whole number, got \`${display(param, value)}\``;
      break;
    case 'number':
      if (value.trim() === '' || !Number.isFinite(Number(value))) return `must be a number, got \`${display(param, value)}\``;
      break;
    case 'boolean':
      if (value !== 'true' && value !== 'false') return `must be true or false, got \`${display(param, value)}\``;
      break;
    case 'enum':
      if (!param.values?.includes(value)) return `must be one of ${(param.values ?? []).join(', ')}, got \`${display(param, value)}\``;
      break;
    case 'string':
      break;
  }
  if ((param.type === 'integer' || param.type === 'number') && (param.min !== undefined || param.max !== undefined)) {
    const n = Number(value);
    if (param.min !== undefined && n < param.min) return `must be at least ${param.min}, got ${display(param, value)}`;
    if (param.max !== undefined && n > param.max) return `must be at most ${param.max}, got ${display(param, value)}`;
  }
  if (param.pattern !== undefined && !new RegExp(`^(?:${param.pattern})$`).test(value)) return `must match /${param.pattern}/, got \`${display(param, value)}\``;
  return undefined;
}

const display = (param: Param, value: string): string => (param.secret ? '***' : value);
