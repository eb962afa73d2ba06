import type { GuideRule } from './types.js';

export const headingSkip: GuideRule = {
  ids: ['heading-skip'],
  summary: 'a heading level is skipped (an h4 right after an h2)',
  fix: 'use the next level down (the table of contents and the outline for agents follow the levels)',
  check(documents, ctx) {
    for (const doc of documents) {
      let previous = 0;
      for (const heading of doc.outline) {
        if (previous > 0 && heading.depth > previous + 1)
          ctx.report(
            doc,
            this.ids[0]!,
            `Unexpected h${heading.depth} after h${previous}, expected at most h${previous + 1} (heading levels must not skip)`,
            heading.line,
            heading.column,
          );
        previous = heading.depth;
      }
    }
  },
};

export const missingTldr: GuideRule = {
  ids: ['missing-tldr'],
  summary: 'a guide without a TL;DR section',
  fix: 'add `## TL;DR` near the top: the few lines a reader on a bad day, or an agent, reads first',
  check(documents, ctx) {
    for (const doc of documents) {
      if (!doc.outline.some((h) => h.slug === 'tldr'))
        ctx.report(
          doc,
          this.ids[0]!,
          'Unexpected guide without a TL;DR section, expected a heading `## TL;DR` (anchor #tldr) near the top',
          1,
          1,
        );
    }
  },
};
