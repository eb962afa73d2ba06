// For the site: puts the runbook metadata into the page. After each runbook heading a
// <RunbookSection> (run command, last verified run, flow of steps and rollbacks); before each
// executable block a <RunbookStep> (id, kind, timeout, requirements, rollback partner).
// Attributes are plain strings so that any MDX compiler takes them.
import type { Code, Heading, Parent, Root, RootContent } from 'mdast';
import type { MdxJsxFlowElement } from 'mdast-util-mdx-jsx';
import type { DocumentRunbooks, Section, Step } from '../../src/model/types.js';
import { formatDurationMs } from '../../src/annotations/duration.js';
import { buildPlan, requirementsOf } from '../../src/plan/plan.js';

const element = (name: string, attributes: Record<string, string>): MdxJsxFlowElement => ({
  type: 'mdxJsxFlowElement',
  name,
  attributes: Object.entries(attributes).map(([key, value]) => ({ type: 'mdxJsxAttribute', name: key, value })),
  children: [],
});

export function stepAttributes(step: Step, section: Section): Record<string, string> {
  return {
    id: step.id,
    kind: step.kind,
    lang: step.lang,
    phase: step.phase ?? '',
    timeout: formatDurationMs(step.timeoutMs),
    retries: String(step.retries),
    requires: requirementsOf(step)
      .filter((r) => !r.startsWith('cmd:'))
      .join(','),
    rollback: step.rollback === null ? 'none' : (step.rollback ?? ''),
    confirm: step.confirm ?? '',
    section: section.address,
  };
}

export function sectionAttributes(section: Section): Record<string, string> {
  const plan = buildPlan(section);
  const flow = {
    forward: plan.forward.map((s) => ({
      id: s.id,
      kind: s.kind,
      rollback: plan.rollbackOf.has(s.id) ? (plan.rollbackOf.get(s.id)?.id ?? null) : undefined,
    })),
    verify: plan.verify.map((s) => s.id),
    teardown: plan.teardown.map((s) => s.id),
  };
  return {
    address: section.address,
    contentHash: section.contentHash,
    command: `npm run exec-doc -- ${section.address}`,
    requires: plan.requirements.filter((r) => !r.startsWith('cmd:')).join(','),
    flow: JSON.stringify(flow),
  };
}

export function annotateTree(tree: Root, runbooks: DocumentRunbooks): void {
  // The innermost section that holds a step is the one whose page section shows it.
  const sectionByLine = new Map<number, Section>();
  for (const section of runbooks.sections) sectionByLine.set(section.position.start.line, section);
  const stepByLine = new Map<number, { step: Step; section: Section }>();
  for (const section of [...runbooks.sections].sort((a, b) => a.depth - b.depth)) {
    for (const step of section.steps) stepByLine.set(step.position.start.line, { step, section });
  }
  const visit = (parent: Parent): void => {
    const out: RootContent[] = [];
    for (const child of parent.children as RootContent[]) {
      const line = child.position?.start.line ?? -1;
      if (child.type === 'code' && stepByLine.has(line)) {
        const { step, section } = stepByLine.get(line)!;
        out.push(element('RunbookStep', stepAttributes(step, section)) as unknown as RootContent, child as Code);
        continue;
      }
      out.push(child);
      if (child.type === 'heading' && sectionByLine.has(line)) {
        out.push(element('RunbookSection', sectionAttributes(sectionByLine.get(line)!)) as unknown as RootContent);
        continue;
      }
      if ('children' in child && child.type !== 'heading' && child.type !== 'paragraph') visit(child as Parent);
    }
    parent.children = out as Parent['children'];
  };
  visit(tree as unknown as Parent);
}

export type { Heading };
