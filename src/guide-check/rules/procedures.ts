import type { GuideRule } from './types.js';

/** What a page without procedures says, in bold, after the link back to the overview. */
export const REFERENCE_ONLY = '**Reference only:**';

/**
 * A sub-guide that holds no executable procedure says so plainly, so that neither a reader nor an
 * agent is promised a procedure with a rollback that does not exist; one that holds procedures
 * does not say it. The hub (the page with MODULE_REFERENCE comments) is an index, not a guide.
 */
export const referenceOnly: GuideRule = {
  ids: ['reference-only'],
  summary:
    'a sub-guide without executable procedures that does not say so, or one with procedures that says it has none',
  fix: 'on a page without procedures, add a line starting `**Reference only:**` that says where the executable procedures are; remove it once the page has its own',
  check(documents, ctx) {
    for (const doc of documents) {
      if (doc.tags.some((t) => t.tag === 'MODULE_REFERENCE')) continue;
      const says = doc.source.search(/^\*\*Reference only:\*\*/m);
      const procedures = doc.runbooks.sections.length;
      if (procedures === 0 && says < 0)
        ctx.report(
          doc,
          this.ids[0]!,
          `Unexpected guide without executable procedures that does not say so, expected a line starting \`${REFERENCE_ONLY}\` saying where the procedures are`,
          1,
          1,
        );
      if (procedures > 0 && says >= 0) {
        const line = doc.source.slice(0, says).split('\n').length;
        ctx.report(
          doc,
          this.ids[0]!,
          `Unexpected \`${REFERENCE_ONLY}\` on a page with ${procedures} executable procedure(s), expected it only on pages without any; remove the line`,
          line,
          1,
        );
      }
    }
  },
};
