// The plan of a section, from a real document: what runs forward and in which order, what undoes
// what, what verifies a rollback, what runs last, what the machine must have.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildPlan, requirementsOf } from '../../src/plan/plan.js';
import { extractFromSource } from '../../src/documents/load.js';
import type { Step } from '../../src/model/types.js';

const FILE = path.join(import.meta.dirname, 'plan-fixture.md');
const doc = await extractFromSource(FILE, readFileSync(FILE, 'utf8'), {
  docsRoot: import.meta.dirname,
  displayRoot: import.meta.dirname,
});
const section = (slug: string) => doc.sections.find((s) => s.slug === slug)!;
const ids = (steps: Array<{ id: string }>) => steps.map((s) => s.id);

describe('buildPlan', () => {
  it('has no document errors', () => {
    expect(doc.diagnostics).toEqual([]);
  });

  it('runs the setup first, then previews, steps and checks in document order', () => {
    const plan = buildPlan(section('everything'));
    expect(ids(plan.forward)).toEqual([
      'prepare',
      'show',
      'before',
      'change',
      'compute',
      'typed',
      'gate',
      'db-gate',
      'db-gate-declared',
    ]);
  });

  it('knows what undoes each forward step, and that some declared nothing to undo', () => {
    const plan = buildPlan(section('everything'));
    expect([...plan.rollbackOf.entries()].map(([id, step]) => [id, step?.id ?? null])).toEqual([
      ['prepare', 'unprepare'],
      ['change', 'unchange'],
      ['compute', null],
      ['typed', null],
    ]);
  });

  it('verifies a rollback with the pre checks and the rollback checks, and ends with the teardown', () => {
    const plan = buildPlan(section('everything'));
    expect(ids(plan.verify)).toEqual(['before', 'after-rollback']);
    expect(ids(plan.teardown)).toEqual(['cleanup']);
    expect(ids(plan.previews)).toEqual(['show']);
    expect(ids(plan.confirmations)).toEqual(['change']);
  });

  it('collects what every block needs, its language included, sorted and once', () => {
    const plan = buildPlan(section('everything'));
    expect(plan.requirements).toEqual(['cmd:bash', 'cmd:jq', 'cmd:psql', 'node', 'postgres', 'python']);
    expect(plan.needsPostgres).toBe(true);
    const shell = buildPlan(section('shell-only'));
    // An `sh` block runs under bash when there is one, else sh (as Runme runs it).
    expect(shell.requirements).toEqual(['cmd:bash|sh']);
    expect(shell.needsPostgres).toBe(false);
    expect(shell.verify).toEqual([]);
    expect(shell.teardown).toEqual([]);
    expect(shell.previews).toEqual([]);
    expect(shell.confirmations).toEqual([]);
  });

  it('names the interpreter of any other language, and the one a block names itself', () => {
    const step = (over: Partial<Step>): Step => ({ ...section('shell-only').steps[0]!, ...over });
    expect(requirementsOf(step({ lang: 'bash', languageId: 'zsh' }))).toEqual(['cmd:zsh']);
    expect(requirementsOf(step({ lang: 'program', languageId: 'ruby' }))).toEqual(['cmd:ruby']);
    expect(requirementsOf(step({ lang: 'program', languageId: 'ts', interpreter: 'deno run' }))).toEqual(['cmd:deno']);
    expect(requirementsOf(step({ lang: 'program', languageId: 'yaml' }))).toEqual(['cmd:cat']);
    expect(requirementsOf(step({ lang: 'python', interpreter: '/usr/bin/env python3' }))).toEqual(['cmd:/usr/bin/env']);
    expect(requirementsOf(step({ lang: 'js', interpreter: 'cat' }))).toEqual(['cmd:cat']);
  });

  it('derives a checks block’s needs from the checks it runs', () => {
    const steps = section('everything').steps;
    expect(requirementsOf(steps.find((s) => s.id === 'gate')!)).toEqual([]);
    expect(requirementsOf(steps.find((s) => s.id === 'db-gate')!)).toEqual(['postgres']);
    expect(requirementsOf(steps.find((s) => s.id === 'change')!)).toEqual(['cmd:bash', 'cmd:jq']);
    expect(requirementsOf(steps.find((s) => s.id === 'typed')!)).toEqual(['node']);
    expect(requirementsOf(steps.find((s) => s.id === 'before')!)).toEqual(['postgres']);
    expect(requirementsOf(steps.find((s) => s.id === 'compute')!)).toEqual(['python']);
    // A requirement a block declares and one its checks imply are listed once, sorted.
    expect(requirementsOf(steps.find((s) => s.id === 'db-gate-declared')!)).toEqual(['cmd:psql', 'postgres']);
  });
});
