// A JUnit XML report of a run, for CI: one test case per executed block.
import type { RunRecord } from '../results/record.js';

const escape = (text: string): string =>
  text
    .replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');

export function formatJunit(record: RunRecord): string {
  const failures = record.steps.filter((s) => s.status !== 'passed').length;
  const cases = record.steps.map((s) => {
    const name = `${s.phase === 'forward' ? '' : `${s.phase}: `}${s.stepId}`;
    const open = `    <testcase classname="${escape(record.section.address)}" name="${escape(name)}" time="${(s.durationMs / 1000).toFixed(3)}"`;
    if (s.status === 'passed') return `${open}/>`;
    const tag = s.status === 'skipped' ? 'skipped' : 'failure';
    return `${open}>\n      <${tag} message="${escape((s.reason ?? s.status).split('\n')[0]!)}" type="${s.status}">${escape(`${s.reason ?? ''}\n${s.outputExcerpt}`)}</${tag}>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="exec-doc" tests="${record.steps.length}" failures="${failures}" time="${(record.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="${escape(record.section.address)}" tests="${record.steps.length}" failures="${failures}" errors="0" skipped="0" timestamp="${record.startedAt}" time="${(record.durationMs / 1000).toFixed(3)}">`,
    `    <properties><property name="status" value="${record.status}"/><property name="exitCode" value="${record.exitCode}"/><property name="runId" value="${escape(record.runId)}"/></properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
