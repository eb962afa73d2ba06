// Finds the exec-doc annotation inside a fence's info string and where it sits on the line,
// so that every problem in it can name an exact column.

export interface SelectedAnnotation {
  text: string;
  /** Offset of `text` within the meta string. */
  offset: number;
}

/**
 * The part of `meta` that is ours: a `{…}` group of attributes or JSON (Docusaurus's own
 * `title="…"` or `{1,3-5}` line ranges stay outside it), or an unbraced `id=…`/`name=…` list.
 * Undefined when the block carries no exec-doc annotation (it is an example).
 */
export function selectAnnotation(meta: string): SelectedAnnotation | undefined {
  const open = meta.search(/\{\s*(?:[A-Za-z_"]|\})/);
  if (open >= 0) {
    const close = meta.lastIndexOf('}');
    const text = close > open ? meta.slice(open, close + 1) : meta.slice(open);
    return { text, offset: open };
  }
  if (/(^|\s)(id|name)=/.test(meta)) {
    const offset = meta.length - meta.trimStart().length;
    return { text: meta.trim(), offset };
  }
  return undefined;
}

/** 1-based column of `meta` on the fence line (falls back to just after the fence). */
export function locateMeta(lineText: string, meta: string, fenceColumn: number): number {
  if (meta === '') return fenceColumn;
  const fence = /(`{3,}|~{3,})/.exec(lineText.slice(Math.max(0, fenceColumn - 1)));
  const from = Math.max(0, fenceColumn - 1) + (fence ? fence.index + fence[0].length : 0);
  const index = lineText.indexOf(meta, from);
  return index >= 0 ? index + 1 : fenceColumn;
}
