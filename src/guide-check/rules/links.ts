import { existsSync } from 'node:fs';
import path from 'node:path';
import type { GuideRule } from './types.js';

export const brokenLinks: GuideRule = {
  ids: ['broken-link', 'broken-anchor'],
  summary:
    'a relative link (or `pathname://` link to a static file) that does not resolve, or an anchor no heading has',
  fix: 'fix the path or the anchor (the message names the closest anchors)',
  check(documents, ctx) {
    for (const doc of documents) {
      for (const link of doc.links) {
        // Other sites and site-absolute paths are not the guide's to check.
        if (/^[a-z][a-z0-9+.-]*:/i.test(link.url) && !link.url.startsWith('pathname://')) continue;
        if (link.url.startsWith('/')) continue;
        if (link.url.startsWith('pathname://')) {
          const target = path.join(ctx.staticDir, link.url.replace(/^pathname:\/\//, ''));
          if (!existsSync(target))
            ctx.report(
              doc,
              'broken-link',
              `Unexpected link to \`${link.url}\`: no such file in the static folder (${path.relative(ctx.displayRoot, target)})`,
              link.line,
              link.column,
            );
          continue;
        }
        const problem = ctx.unresolved(doc, link.url, path.dirname(doc.absolutePath));
        if (problem)
          ctx.report(
            doc,
            link.url.includes('#') && !problem.includes('does not exist') ? 'broken-anchor' : 'broken-link',
            `Unexpected link \`${link.url}\`: ${problem}`,
            link.line,
            link.column,
          );
      }
    }
  },
};
