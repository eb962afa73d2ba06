import { appendFileSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RunStore, type RunState, type StepResult } from '../../src/runner/state.js';
import { tempDir } from '../helpers.js';

const result = (stepId: string): StepResult => ({
  stepId,
  kind: 'step',
  lang: 'bash',
  phase: 'forward',
  status: 'passed',
  attempts: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 1,
  exitCode: 0,
  signal: null,
  timedOut: false,
  reason: null,
  outputExcerpt: '',
});

function state(): RunState {
  return {
    version: 1,
    runId: 'r1',
    section: { address: 'd/s', file: '/x/d.md', docsRoot: '/x', contentHash: 'sha256:0' },
    phase: 'forward',
    startedAt: '2026-01-01T00:00:00.000Z',
    params: {},
    secretParams: [],
    handoff: {},
    cursor: 0,
    completed: [],
    failure: null,
    rollbackPending: [],
    undone: [],
    notUndone: [],
    rollbackStartedAt: null,
    verifyCursor: 0,
    teardownCursor: 0,
    current: null,
    results: [],
    postgres: null,
    keepDb: false,
    lastSeq: 0,
    final: null,
  };
}

describe('the state journal', () => {
  it('appends one line per checkpoint with only the new results, and folds them back', () => {
    const store = new RunStore(tempDir(), 'r1');
    store.create();
    const s = state();
    store.save(s);
    s.results.push(result('a'));
    s.cursor = 1;
    store.save(s);
    s.results.push(result('b'));
    s.cursor = 2;
    store.save(s);
    store.close();
    const lines = readFileSync(store.statePath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.newResults.map((r: StepResult) => r.stepId))).toEqual([[], ['a'], ['b']]);
    expect(new RunStore(store.stateDir, 'r1').load()).toEqual(s);
  });

  it('ignores a torn last line left by a killed runner, and a resumed store continues the journal', () => {
    const store = new RunStore(tempDir(), 'r1');
    store.create();
    const s = state();
    s.results.push(result('a'));
    s.cursor = 1;
    store.save(s);
    store.close();
    appendFileSync(store.statePath, '{"version":1,"cursor":2,"newResu');
    const again = new RunStore(store.stateDir, 'r1');
    const loaded = again.load();
    expect(loaded).toEqual(s);
    loaded.results.push(result('b'));
    again.save(loaded);
    again.close();
    expect(new RunStore(store.stateDir, 'r1').load().results.map((r) => r.stepId)).toEqual(['a', 'b']);
  });

  it('explains a missing run', () => {
    expect(() => new RunStore(tempDir(), 'nope').load()).toThrow(/^No run `nope` in /);
  });
});
