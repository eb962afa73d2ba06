// The guide checker's rules, each a module of its own; the checker runs them in this order
// (findings are sorted by position after). The AI-discovery page's table of rules is tested
// against this list.
import type { GuideRule } from './types.js';
import { danglingReference, duplicateAnchorKey } from './references.js';
import { brokenLinks } from './links.js';
import { headingSkip, missingTldr } from './headings.js';
import { referenceOnly } from './procedures.js';

export type { GuideContext, GuideDocument, GuideRule, LinkAt } from './types.js';

export const GUIDE_RULES: readonly GuideRule[] = [
  danglingReference,
  duplicateAnchorKey,
  brokenLinks,
  headingSkip,
  missingTldr,
  referenceOnly,
];
