// Runbook validation over one document: unique ids, rollback references that exist and
// point at rollbacks, no cycles, fields that fit the kind, parameters used but not declared.
import type { Param, Severity } from '../model/types.js';
import type { Block } from './extract.js';
import { findPlaceholders, unsafeUses } from '../placeholders/index.js';

// Languages whose values are written into the program's text (a secret would show in the process list).
const INLINE_LANGUAGES = new Set(['python', 'js', 'ts']);

export interface ValidateInput {
  blocks: Block[];
  paramsFor: (block: Block) => Param[];
  report: (severity: Severity, ruleId: string, message: string, line: number, column: number) => void;
  lines: string[];
  /** Whether any block names a rollback: a plain runbook that declares none is not told about each step. */
  declaresRollbacks: boolean;
}

export function validateDocument({ blocks, paramsFor, report, lines, declaresRollbacks }: ValidateInput): void {
  const byId = new Map<string, Block>();
  for (const block of blocks) {
    const { id, position } = block.step;
    const first = byId.get(id);
    if (first) {
      report(
        'error',
        'duplicate-id',
        `Unexpected second block with id \`${id}\` (first at line ${first.step.position.start.line}), expected ids to be unique within the document`,
        position.start.line,
        position.start.column,
      );
      continue;
    }
    byId.set(id, block);
  }

  const referenced = new Set<string>();
  for (const block of blocks) {
    const { step } = block;
    const at = block.rollbackAt ?? step.position.start;
    if (step.phase !== undefined && step.kind !== 'check') {
      report(
        'error',
        'phase-not-check',
        `Unexpected \`phase\` on ${step.kind} \`${step.id}\`, expected it only on kind=check blocks`,
        step.position.start.line,
        step.position.start.column,
      );
    }
    if (step.fixture && step.kind !== 'setup' && step.kind !== 'check' && step.kind !== 'step') {
      report(
        'error',
        'fixture-not-setup',
        `Unexpected \`fixture\` on ${step.kind} \`${step.id}\`, expected it only on setup blocks (they make the rehearsal's sample schema and data), steps that show something on the sample, and checks (they check results that only the sample has); a ${step.kind} block runs with the steps it belongs to, so remove \`fixture\``,
        step.position.start.line,
        step.position.start.column,
      );
    }
    if (typeof step.rollback === 'string') {
      referenced.add(step.rollback);
      const partner = byId.get(step.rollback);
      if (step.kind === 'check' || step.kind === 'rollback' || step.kind === 'teardown' || step.kind === 'preview') {
        report(
          'error',
          'rollback-on-' + step.kind,
          `Unexpected \`rollback\` on ${step.kind} \`${step.id}\`, expected it only on steps and setup blocks (a ${step.kind} has nothing to undo)`,
          at.line,
          at.column,
        );
      } else if (step.rollback === step.id) {
        report(
          'error',
          'rollback-self',
          `Unexpected \`rollback=${step.id}\` on \`${step.id}\`: a block cannot undo itself; add a separate block such as {id=undo-${step.id} kind=rollback} that undoes it and name that, or write \`rollback=none\` if it changes nothing`,
          at.line,
          at.column,
        );
      } else if (!partner) {
        const ids = [...byId.keys()].filter((k) => byId.get(k)!.step.kind === 'rollback');
        report(
          'error',
          'unknown-rollback',
          `Unexpected \`rollback=${step.rollback}\` on \`${step.id}\`: no block has that id${ids.length ? `; rollback blocks here: ${ids.join(', ')}` : '; add a block with {id=' + step.rollback + ' kind=rollback}'}`,
          at.line,
          at.column,
        );
      } else if (partner.step.kind !== 'rollback') {
        report(
          'error',
          'rollback-not-rollback',
          `Unexpected \`rollback=${step.rollback}\` on \`${step.id}\`: \`${step.rollback}\` is a ${partner.step.kind}${partner.annotation.kind === undefined ? ' (no kind= given)' : ''}, so it would run as a ${partner.step.kind} too; expected a block marked kind=rollback: add \`kind=rollback\` to \`${step.rollback}\` at line ${partner.step.position.start.line}`,
          at.line,
          at.column,
        );
      }
    } else if (declaresRollbacks && step.rollback === undefined && (step.kind === 'step' || step.kind === 'setup')) {
      report(
        'warning',
        'missing-rollback',
        `Unexpected ${step.kind} \`${step.id}\` without \`rollback\`: a later failure cannot undo it; add \`rollback=<id>\`, or \`rollback=none\` if it changes nothing`,
        step.position.start.line,
        step.position.start.column,
      );
    }
  }
  reportCycles(blocks, byId, report);

  for (const block of blocks) {
    const { step } = block;
    if (step.kind === 'rollback' && !referenced.has(step.id)) {
      report(
        'warning',
        'unused-rollback',
        `Unexpected rollback \`${step.id}\` that no step names: it never runs; add \`rollback=${step.id}\` to the step it undoes`,
        step.position.start.line,
        step.position.start.column,
      );
    }
    checkPlaceholders(block, paramsFor(block), report, lines);
  }
}

/** A chain of `rollback=` references that comes back to where it started. */
function reportCycles(blocks: Block[], byId: Map<string, Block>, report: ValidateInput['report']): void {
  for (const block of blocks) {
    const seen = [block.step.id];
    let next = block.step.rollback;
    while (typeof next === 'string' && byId.has(next)) {
      if (next === block.step.id) {
        if (seen.length > 1) {
          const at = block.rollbackAt ?? block.step.position.start;
          report(
            'error',
            'rollback-cycle',
            `Unexpected rollback cycle ${[...seen, next].join(' → ')}, expected each rollback to end in a block without \`rollback\``,
            at.line,
            at.column,
          );
        }
        break;
      }
      if (seen.includes(next)) break;
      seen.push(next);
      next = byId.get(next)!.step.rollback;
    }
  }
}

function checkPlaceholders(block: Block, params: Param[], report: ValidateInput['report'], lines: string[]): void {
  const { step } = block;
  // Positions: the placeholder's line in the document, and its column there (the block may be indented).
  const at = (offset: number, raw: string) => {
    const index = step.code.slice(0, offset).split('\n').length - 1;
    const line = step.position.start.line + 1 + index;
    const found = (lines[line - 1] ?? '').indexOf(raw);
    const column = (found >= 0 ? found : offset - step.code.lastIndexOf('\n', offset - 1) - 1) + 1;
    return { line, column };
  };
  for (const use of findPlaceholders(step.lang, step.code)) {
    const { line, column } = at(use.offset, use.raw);
    if (use.name === null) {
      report(
        'error',
        'invalid-placeholder',
        `Unexpected placeholder \`${use.raw}\`, expected \`\${{ params.<name> }}\``,
        line,
        column,
      );
      continue;
    }
    const param = params.find((p) => p.name === use.name);
    if (!param) {
      const known = params.map((p) => p.name);
      report(
        'error',
        'undeclared-param',
        `Unexpected parameter \`${use.name}\` in \`${step.id}\`: it is not declared${known.length ? ` (declared: ${known.join(', ')})` : ''}; declare it under \`exec-doc.params\` in the front matter`,
        line,
        column,
      );
    } else if (param.secret && INLINE_LANGUAGES.has(step.lang) && use.context !== 'code') {
      // As an expression it is read from the environment (../placeholders/index.ts); in a string it would be in argv.
      report(
        'error',
        'secret-placeholder',
        `Unexpected secret parameter \`${use.name}\` inside a ${use.context === 'comment' ? 'comment' : 'string'} of a ${step.lang} block: its value would appear in the process's command line; use it as an expression (\`x = \${{ params.${use.name} }}\`), which reads the environment variable \`EXEC_DOC_PARAM_${use.name}\`, or read that variable yourself`,
        line,
        column,
      );
    }
  }
  for (const { use, message } of unsafeUses(step.lang, step.code, params)) {
    const { line, column } = at(use.offset, use.raw);
    report('warning', 'unsafe-placeholder', message, line, column);
  }
}
