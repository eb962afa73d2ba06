// Where a value sits in a YAML (or JSON) text: validators report paths (`checks.x.warnPercent`),
// people need line and column.
import { isNode, isPair, type Document, type Node } from 'yaml';
import { lineStarts, positionAt } from './text-position.js';

export interface PathLocator {
  /** Position of the value at `path`, or of the nearest enclosing value that exists. */
  at(path: ReadonlyArray<string | number>): { line: number; column: number };
  /** Position of the key of the pair at `path` (for "unexpected key" messages). */
  keyAt(path: ReadonlyArray<string | number>): { line: number; column: number };
}

export function pathLocator(doc: Document, text: string): PathLocator {
  const starts = lineStarts(text);
  const offsetOf = (node: unknown): number | undefined => (isNode(node) && node.range ? node.range[0] : undefined);
  const at = (path: ReadonlyArray<string | number>) => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : (doc.getIn(path.slice(0, n), true) as Node | undefined);
      const offset = offsetOf(node);
      if (offset !== undefined) return positionAt(starts, offset);
    }
    return { line: 1, column: 1 };
  };
  const keyAt = (path: ReadonlyArray<string | number>) => {
    const parent = path.length <= 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    const items = (parent as { items?: unknown[] } | null)?.items;
    const last = path[path.length - 1];
    const pair = items?.find(
      (item) => isPair(item) && (isNode(item.key) ? (item.key as { value?: unknown }).value : item.key) === last,
    );
    const offset = isPair(pair) ? offsetOf(pair.key) : undefined;
    return offset !== undefined ? positionAt(starts, offset) : at(path);
  };
  return { at, keyAt };
}
