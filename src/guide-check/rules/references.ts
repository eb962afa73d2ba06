import type { GuideRule } from './types.js';

export const danglingReference: GuideRule = {
  ids: ['comment-dangling-reference'],
  summary: 'a CONTEXT_REFERENCE or MODULE_REFERENCE names a file or anchor that does not exist',
  fix: 'create the document or heading, or fix the reference (paths are relative to the docs folder)',
  check(documents, ctx) {
    for (const doc of documents) {
      for (const tag of doc.tags) {
        if (tag.tag !== 'CONTEXT_REFERENCE' && tag.tag !== 'MODULE_REFERENCE') continue;
        // References name documents relative to the docs folder.
        const problem = ctx.unresolved(doc, String(tag.value), ctx.docsRoot);
        if (problem)
          ctx.report(
            doc,
            this.ids[0]!,
            `Unexpected ${tag.tag} \`${tag.raw}\`: ${problem}; create it or fix the reference`,
            tag.line,
            tag.column,
          );
      }
    }
  },
};

export const duplicateAnchorKey: GuideRule = {
  ids: ['comment-duplicate-anchor-key'],
  summary: 'an ANCHOR_KEY is used by two documents',
  fix: 'give each document its own ANCHOR_KEY',
  check(documents, ctx) {
    const seen = new Map<string, string>();
    for (const doc of documents) {
      for (const tag of doc.tags) {
        if (tag.tag !== 'ANCHOR_KEY') continue;
        const other = seen.get(String(tag.value));
        if (other)
          ctx.report(
            doc,
            this.ids[0]!,
            `Unexpected ANCHOR_KEY \`${tag.raw}\`, already used by ${other}; expected keys unique in the guide`,
            tag.line,
            tag.column,
          );
        else seen.set(String(tag.value), doc.file);
      }
    }
  },
};
