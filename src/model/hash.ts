import { createHash } from 'node:crypto';
import type { Section } from './types.js';

/**
 * sha256 of what a section executes: steps (without positions, which move when prose above
 * them changes), parameters and target. Keys are sorted so the hash is stable.
 */
export function sectionContentHash(section: Omit<Section, 'contentHash'>): string {
  const content = {
    // usesPostgres is derived from the code (already hashed).
    steps: section.steps.map(({ position: _p, expectOutput, usesPostgres: _u, ...step }) => ({
      ...step,
      expectOutput: expectOutput ? { mode: expectOutput.mode, text: expectOutput.text } : null,
    })),
    params: section.params,
    target: section.target,
    ...(section.rehearsalOnly ? { rehearsalOnly: true } : {}),
    ...(section.touches ? { touches: section.touches } : {}),
    ...(section.noRollbacks ? { noRollbacks: true } : {}),
    ...(section.sharedSession ? { sharedSession: true } : {}),
    ...(section.hosts ? { hosts: section.hosts } : {}),
  };
  return `sha256:${createHash('sha256').update(stableStringify(content)).digest('hex')}`;
}

/** JSON with object keys sorted at every level. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return v;
  });
}
