// The result record, field by field, from a run's state: secrets masked, what is left to undo with
// its partner and line, a rehearsal or the real target, and where the latest record of a section lives.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRecord, latestRecordPath, recordPathIn, RESULT_SCHEMA_VERSION } from '../../src/results/record.js';
import type { RunState } from '../../src/runner/state.js';
import { extract, runStateFixture } from '../helpers.js';

const DOC = `# R

## Proc

\`\`\`bash {id=setup-table kind=setup fixture rollback=drop-table}
echo setup
\`\`\`

\`\`\`bash {id=change rollback=undo-change}
echo change
\`\`\`

\`\`\`bash {id=other rollback=none}
echo other
\`\`\`

\`\`\`bash {id=undo-change kind=rollback}
echo undo
\`\`\`

\`\`\`bash {id=drop-table kind=rollback}
echo drop
\`\`\`
`;

function state(overrides: Partial<RunState> = {}): RunState {
  return runStateFixture({
    runId: 'run-1',
    section: { address: 'doc/proc', file: 'doc.md', docsRoot: '.', contentHash: 'sha256:x' },
    phase: 'done',
    startedAt: '2026-11-24T12:00:00.000Z',
    params: { b: '2', a: '1', token: 'hunter2' },
    secretParams: ['token'],
    cursor: 2,
    completed: ['setup-table', 'change'],
    failure: { stepId: 'other', reason: 'exited with code 1' },
    lastSeq: 3,
    ...overrides,
  });
}

describe('buildRecord', async () => {
  const section = (await extract(DOC)).sections[0]!;
  const at = new Date('2026-11-24T12:00:02.500Z');
  /** The record of a run in `state(overrides)`; a success finished at `at` unless `input` says otherwise. */
  const record = (overrides: Partial<RunState> = {}, input: Partial<Parameters<typeof buildRecord>[0]> = {}) =>
    buildRecord({
      state: state(overrides),
      section,
      status: 'succeeded',
      exitCode: 0,
      finishedAt: at,
      postgres: null,
      ...input,
    });
  const incomplete = { status: 'rollback-incomplete', exitCode: 2 } as const;

  it('names the section by its content hash, masks secret parameters and sorts them, and times the run', () => {
    const r = record();
    expect(r.schemaVersion).toBe(RESULT_SCHEMA_VERSION);
    expect(r.section).toEqual({
      address: section.address,
      docId: section.docId,
      file: section.file,
      title: section.title,
      contentHash: section.contentHash,
    });
    expect(Object.entries(r.params)).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['token', '***'],
    ]);
    expect(r.durationMs).toBe(2500);
    expect(r.finishedAt).toBe('2026-11-24T12:00:02.500Z');
    expect(r.failedStep).toBe('other');
    expect(r.failureReason).toBe('exited with code 1');
    expect(r.environment.node).toBe(process.version);
    expect(r.environment.postgres).toBeNull();
    // Nothing optional appears unless given.
    expect('hosts' in r || 'samples' in r || 'requirements' in r).toBe(false);
    // A clock that went back gives 0, never a negative duration.
    expect(record({}, { finishedAt: new Date(0) }).durationMs).toBe(0);
  });

  it('says what is left to undo, in order, with the block that undoes it and its line', () => {
    const r = record(
      {
        rollbackStartedAt: '2026-11-24T12:00:01.000Z',
        undone: [],
        notUndone: ['change'],
        rollbackPending: ['setup-table'],
      },
      { ...incomplete, postgres: 'embedded 18.4' },
    );
    expect(r.rollback.ran).toBe(true);
    expect(r.rollback.complete).toBe(false);
    expect(r.rollback.notUndone).toEqual(['change', 'setup-table']);
    const undo = section.steps.find((s) => s.id === 'undo-change')!;
    const drop = section.steps.find((s) => s.id === 'drop-table')!;
    expect(r.rollback.remaining).toEqual([
      { step: 'change', rollback: 'undo-change', line: undo.position.start.line },
      { step: 'setup-table', rollback: 'drop-table', line: drop.position.start.line },
    ]);
    expect(r.environment.postgres).toBe('embedded 18.4');
  });

  it('is complete only when nothing is left undone and nothing is pending; keeps what a document could not undo', () => {
    expect(record({ notUndone: [], rollbackPending: ['change'] }, incomplete).rollback.complete).toBe(false);
    expect(record({ notUndone: ['change'], rollbackPending: [] }, incomplete).rollback.complete).toBe(false);
    expect(record({ notUndone: [], rollbackPending: [] }, incomplete).rollback.complete).toBe(true);
    expect(record({ notUndoable: ['other'] }, incomplete).rollback.notUndoable).toEqual(['other']);
    expect(record({}, incomplete).rollback.notUndoable).toEqual([]);
    const hosts = [{ host: 'web-1', batch: 1, state: 'upgraded' }] as unknown as NonNullable<
      Parameters<typeof buildRecord>[0]['hosts']
    >;
    expect(record({}, { ...incomplete, hosts }).hosts).toEqual(hosts);
  });

  it('a step with rollback=none has no partner; a complete rollback leaves nothing', () => {
    const rollingBack = { rollbackStartedAt: '2026-11-24T12:00:01.000Z' };
    expect(record({ ...rollingBack, notUndone: ['other'] }, incomplete).rollback.remaining).toEqual([
      { step: 'other', rollback: null, line: null },
    ]);
    const complete = record(
      { ...rollingBack, undone: ['change', 'setup-table'] },
      { status: 'rolled-back', exitCode: 1 },
    );
    expect(complete.rollback).toMatchObject({
      ran: true,
      complete: true,
      undone: ['change', 'setup-table'],
      remaining: [],
    });
    expect(record({ rollbackStartedAt: null }).rollback.ran).toBe(false);
  });

  it('tells a rehearsal from the real target: skipped fixtures, what the proof covers', () => {
    expect(record().target).toEqual({ disposable: true, skippedFixtures: [], provenOver: 'database' });
    const real = record({ fixturesSkipped: true, disposable: false, provenTables: ['public.invoices'] });
    expect(real.target).toEqual({
      disposable: false,
      skippedFixtures: ['setup-table'],
      provenOver: ['public.invoices'],
    });
    // Fixtures skipped and nothing said about disposability: not disposable.
    expect(record({ fixturesSkipped: true }).target.disposable).toBe(false);
  });

  it('keeps the requirements and samples it is given', () => {
    const r = record(
      {},
      {
        status: 'requirements-missing',
        exitCode: 3,
        requirements: [{ requirement: 'docker', ok: false, detail: 'not installed' }],
        samples: { startedAt: '2026-11-24T12:00:00.100Z', points: [] },
      },
    );
    expect(r.requirements).toEqual([{ requirement: 'docker', ok: false, detail: 'not installed' }]);
    expect(r.samples).toEqual({ startedAt: '2026-11-24T12:00:00.100Z', points: [] });
  });
});

describe('where records live', () => {
  it('results/<doc-id>/<slug>.json below the state folder; the published ones below theirs', () => {
    expect(latestRecordPath('/s', 'quick-start/demo')).toBe(path.join('/s', 'results', 'quick-start', 'demo.json'));
    expect(recordPathIn('/v', 'quick-start/demo')).toBe(path.join('/v', 'quick-start', 'demo.json'));
  });

  it('keeps `..`, `.`, empty segments, `\\` and `:` as names, inside the folder', () => {
    expect(recordPathIn('/v', '../x/s')).toBe(path.join('/v', '%2E%2E', 'x', 's.json'));
    expect(recordPathIn('/v', './x/s')).toBe(path.join('/v', '%2E', 'x', 's.json'));
    expect(recordPathIn('/v', 'a//s')).toBe(path.join('/v', 'a', '%', 's.json'));
    expect(recordPathIn('/v', 'c:\\x/s')).toBe(path.join('/v', 'c%3a%5cx', 's.json'));
  });
});
