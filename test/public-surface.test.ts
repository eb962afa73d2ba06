import { expect, it } from 'vitest';

it('pins the public surface of the engine', async () => {
  const mod = await import('../src/index.js');
  expect(Object.keys(mod).sort()).toEqual([
    'CHECKS',
    'CHECK_PHASES',
    'EXIT',
    'ExecDocError',
    'FIELDS',
    'STEP_KINDS',
    'STEP_LANGUAGES',
    'VALIDATION_PHASES',
    'buildPlan',
    'checksExitCode',
    'extractFromSource',
    'extractRunbooks',
    'findConfigFile',
    'formatChecksTable',
    'formatDiagnostic',
    'formatPrometheus',
    'latestRecordPath',
    'loadChecksConfig',
    'loadCorpus',
    'loadDocument',
    'phaseChecks',
    'remarkExecDoc',
    'resolveSection',
    'resumeRun',
    'runChecks',
    'runSection',
  ]);
});

it('the remark plugin works inside a plain unified pipeline and reports positioned messages', async () => {
  const { unified } = await import('unified');
  const { default: remarkParse } = await import('remark-parse');
  const { VFile } = await import('vfile');
  const { remarkExecDoc } = await import('../src/index.js');
  const file = new VFile({
    path: '/site/docs/guide.md',
    value: '# G\n\n## S\n\n```bash {id=a retries=many colour=red}\ntrue\n```\n',
  });
  const processor = unified().use(remarkParse).use(remarkExecDoc, { docsRoot: '/site/docs', displayRoot: '/site' });
  await processor.run(processor.parse(file), file);
  expect(file.data.execDoc?.sections.map((s) => s.address)).toEqual(['guide/s']);
  expect(file.messages.map((m) => [m.line, m.column, m.ruleId, m.fatal, m.source])).toEqual([
    [5, 23, 'invalid-field', true, 'exec-doc'],
    [5, 28, 'unknown-field', false, 'exec-doc'],
  ]);
});
