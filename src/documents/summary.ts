// One line of the guide's index per section: what `list` shows and what the warm cache keeps,
// so that listing a large guide never has to load the full runbooks.
import type { DocumentRunbooks } from '../model/types.js';
import { buildPlan } from '../plan/plan.js';

export interface SectionSummary {
  address: string;
  title: string;
  file: string;
  line: number;
  steps: number;
  checks: number;
  rollbacks: number;
  requirements: string[];
  params: string[];
  contentHash: string;
}

export interface DocumentSummary {
  sections: SectionSummary[];
  errors: number;
  warnings: number;
}

export function summarize(doc: DocumentRunbooks): DocumentSummary {
  return {
    sections: doc.sections.map((section) => ({
      address: section.address,
      title: section.title,
      file: section.file,
      line: section.position.start.line,
      steps: section.steps.filter((s) => s.kind === 'step' || s.kind === 'setup').length,
      checks: section.steps.filter((s) => s.kind === 'check').length,
      rollbacks: section.steps.filter((s) => s.kind === 'rollback').length,
      requirements: buildPlan(section).requirements,
      params: section.params.map((p) => p.name),
      contentHash: section.contentHash,
    })),
    errors: doc.diagnostics.filter((d) => d.severity === 'error').length,
    warnings: doc.diagnostics.filter((d) => d.severity === 'warning').length,
  };
}
