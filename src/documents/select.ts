// Runs of less than a section, as Runme users run blocks: one named block
// (`doc.md#<block>`, or `doc.md#<section>#<block>`), or the blocks that carry a tag
// (`--tag`, across the document or within a section). Each selection is a section of its own,
// with an address that names it (`<doc-id>/<slug>#<block>`, `<doc-id>/<slug>#tag=a,b`), so a
// run of it is resumed, recorded and locked like any other.
import type { DocumentRunbooks, Section, Step } from '../model/types.js';
import { sectionContentHash } from '../model/hash.js';

/** The sections that hold `id` as one of their own blocks (not only as a rollback partner), innermost first. */
function holders(document: DocumentRunbooks, id: string): Section[] {
  return document.sections
    .filter((s) => s.steps.some((step) => step.id === id))
    .sort((a, b) => b.depth - a.depth || a.position.start.line - b.position.start.line);
}

function derived(base: Section, selector: string, title: string, steps: Step[]): Section {
  const section: Omit<Section, 'contentHash'> = {
    ...base,
    address: `${base.address}#${selector}`,
    title,
    steps,
  };
  return { ...section, contentHash: sectionContentHash(section) };
}

/** With its rollback partner, if it has one in the document. */
function withPartner(steps: Step[], all: readonly Step[]): Step[] {
  const out = new Map(steps.map((s) => [s.id, s]));
  for (const step of steps) {
    const partner = typeof step.rollback === 'string' ? all.find((s) => s.id === step.rollback) : undefined;
    if (partner && !out.has(partner.id)) out.set(partner.id, partner);
  }
  const order = new Map(all.map((s, i) => [s.id, i]));
  return [...out.values()].sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
}

/**
 * One block as a section: it runs whatever its kind (a rollback or teardown block named on its
 * own runs as a step) and even when it is excluded from its section's runs.
 */
export function blockSelection(document: DocumentRunbooks, id: string, within?: Section): Section | undefined {
  const base = within?.steps.some((s) => s.id === id) ? within : holders(document, id)[0];
  const step = base?.steps.find((s) => s.id === id);
  if (!base || !step) return undefined;
  const { excludeFromRunAll: _excluded, ...plain } = step;
  const own: Step =
    plain.kind === 'rollback' || plain.kind === 'teardown' || plain.kind === 'setup'
      ? { ...plain, kind: 'step' }
      : plain;
  if (own.kind !== 'step') delete own.rollback;
  return derived(base, id, `${base.title} › ${id}`, withPartner([own], base.steps));
}

/**
 * The blocks carrying one of `tags`, in document order: within a section, or across the document
 * (then its parameters are the union of the sections'). Excluded blocks stay out, as in Runme.
 */
export function tagSelection(
  document: DocumentRunbooks,
  tags: readonly string[],
  within?: Section,
): Section | undefined {
  const sections = within ? [within] : document.sections;
  const seen = new Set<string>();
  const chosen: Step[] = [];
  for (const section of sections)
    for (const step of section.steps)
      if (!seen.has(step.id) && !step.excludeFromRunAll && step.tags?.some((t) => tags.includes(t))) {
        seen.add(step.id);
        chosen.push(step);
      }
  if (chosen.length === 0) return undefined;
  const all = sections.flatMap((s) => s.steps);
  const selector = `tag=${[...tags].sort().join(',')}`;
  if (within) return derived(within, selector, `${within.title} › tag ${tags.join(', ')}`, withPartner(chosen, all));
  const first = document.sections[0]!;
  const params = new Map(document.sections.flatMap((s) => s.params).map((p) => [p.name, p]));
  const base: Section = {
    ...first,
    address: `${document.docId}/`,
    // Names the run (its id holds the slug); the address keeps the empty slug `resume` reads back.
    slug: `tag-${[...tags].sort().join('-')}`.replace(/[^A-Za-z0-9_-]+/g, '-'),
    title: document.title,
    depth: 0,
    parents: [],
    params: [...params.values()].sort((a, b) => a.name.localeCompare(b.name)),
    position: { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } },
  };
  return derived(base, selector, `${document.title} › tag ${tags.join(', ')}`, withPartner(chosen, all));
}

/** Every tag the document's blocks carry, sorted. */
export function documentTags(document: DocumentRunbooks): string[] {
  return [...new Set(document.sections.flatMap((s) => s.steps.flatMap((step) => step.tags ?? [])))].sort();
}

/**
 * The fragment that finds a section's run again in its file (for `resume`): `slug`,
 * `slug#block`, `slug#tag=a,b`, or `#tag=a,b` for a selection across the document.
 */
export function fragmentOf(address: string): string {
  const hash = address.indexOf('#');
  const head = hash < 0 ? address : address.slice(0, hash);
  return address.slice(head.lastIndexOf('/') + 1);
}
