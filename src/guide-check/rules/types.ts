// The shapes shared by the guide checker and its rules.
import type { Severity } from '../../model/types.js';
import type { OutlineEntry } from '../../extract/extract.js';
import type { TagValue } from '../comments.js';

export interface LinkAt {
  url: string;
  line: number;
  column: number;
}

/** A document of the guide as the rules see it. */
export interface GuideDocument {
  file: string;
  absolutePath: string;
  outline: OutlineEntry[];
  tags: TagValue[];
  links: LinkAt[];
  /** The document's text. */
  source: string;
  /** How many executable sections (procedures) it holds. */
  runbooks: { sections: readonly unknown[] };
}

export interface GuideContext {
  docsRoot: string;
  displayRoot: string;
  staticDir: string;
  report(
    doc: { file: string },
    ruleId: string,
    message: string,
    line: number,
    column: number,
    severity?: Severity,
  ): void;
  /** Why `target` (relative to `base`) does not resolve to a document, a file or a heading, or undefined when it does. */
  unresolved(from: GuideDocument, target: string, base: string): string | undefined;
}

export interface GuideRule {
  /** The ids its findings carry (the first is the rule's own). */
  ids: string[];
  /** One line: what it catches. */
  summary: string;
  /** How to fix a finding. */
  fix: string;
  /** Checks the whole guide (some rules compare documents with each other). */
  check(documents: readonly GuideDocument[], ctx: GuideContext): void;
}
