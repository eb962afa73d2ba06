// A table as procedures name it: `table` or `schema.table`, unquoted PostgreSQL names. One
// pattern for `db snapshot --table`, a section's `touches` and the values its parameters give.
export const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

/** A `touches` entry that names a parameter (`${{ params.table }}`): the parameter's name. */
export const TOUCH_PARAM = /^\$\{\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/** A `touches` entry: a table, or one parameter placeholder. */
export function isTouchEntry(entry: string): boolean {
  return TABLE_NAME.test(entry) || TOUCH_PARAM.test(entry);
}
